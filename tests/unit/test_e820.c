// sources: guest-tools/vmm/e820.c
/* Unit tests for the VM memory map (guest-tools/vmm/e820.c): the entries
 * for small and large VMs, that they ascend without overlapping, and the
 * byte layout of QEMU's etc/e820 fw_cfg file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest-tools/vmm/e820.h"

#define MIB (1ull << 20)

static void expect_entry(const struct e820_entry *e, uint64_t address, uint64_t length,
                         uint32_t type)
{
    assert_int_equal(e->address, address);
    assert_int_equal(e->length, length);
    assert_int_equal(e->type, type);
}

static void test_small_vm(void **state)
{
    struct e820_entry map[E820_MAX_ENTRIES];
    (void)state;
    assert_int_equal(e820_build(16 * MIB, 0, map), 3);
    expect_entry(&map[0], 0, 0xa0000, E820_RAM);
    expect_entry(&map[1], 0xe0000, 0x20000, E820_RESERVED);
    expect_entry(&map[2], MIB, 15 * MIB, E820_RAM);
}

static void test_ram_above_4g(void **state)
{
    struct e820_entry map[E820_MAX_ENTRIES];
    (void)state;
    assert_int_equal(e820_build(0xc0000000ull, 1024 * MIB, map), 4);
    expect_entry(&map[2], MIB, 0xc0000000ull - MIB, E820_RAM);
    expect_entry(&map[3], 0x100000000ull, 1024 * MIB, E820_RAM);
}

/* Exactly 1 MiB: no RAM entry above it, and never an empty entry. */
static void test_one_mib(void **state)
{
    struct e820_entry map[E820_MAX_ENTRIES];
    (void)state;
    assert_int_equal(e820_build(MIB, 0, map), 2);
    for (unsigned i = 0; i < 2; i++)
        assert_true(map[i].length > 0);
}

static void test_entries_ascend(void **state)
{
    struct e820_entry map[E820_MAX_ENTRIES];
    (void)state;
    for (uint64_t below = MIB; below <= 0xc0000000ull; below += 7 * MIB + 4096) {
        unsigned n = e820_build(below, below / 3, map);
        assert_true(n >= 2 && n <= E820_MAX_ENTRIES);
        for (unsigned i = 1; i < n; i++)
            assert_true(map[i].address >= map[i - 1].address + map[i - 1].length);
    }
}

static void test_fw_cfg_layout(void **state)
{
    struct e820_entry map[E820_MAX_ENTRIES];
    uint8_t bytes[E820_MAX_ENTRIES * E820_FW_CFG_ENTRY_SIZE];
    (void)state;
    unsigned n = e820_build(32 * MIB, 0x123456789000ull, map);
    assert_int_equal(e820_to_fw_cfg(map, n, bytes), n * 20);
    /* Entry 2: 1 MiB, 31 MiB, RAM. */
    const uint8_t entry2[20] = { 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0xf0, 1, 0, 0, 0, 0, 1, 0, 0, 0 };
    assert_memory_equal(bytes + 40, entry2, 20);
    /* Entry 3's length, little endian. */
    const uint8_t length3[8] = { 0, 0x90, 0x78, 0x56, 0x34, 0x12, 0, 0 };
    assert_memory_equal(bytes + 60 + 8, length3, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_vm),
        cmocka_unit_test(test_ram_above_4g),
        cmocka_unit_test(test_one_mib),
        cmocka_unit_test(test_entries_ascend),
        cmocka_unit_test(test_fw_cfg_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
