// sources: guest-tools/vmm/multiboot_info.c guest-tools/vmm/e820.c
/* Unit tests for the multiboot1 information block the VMM's loader
 * writes (guest-tools/vmm/multiboot_info.c), read back the way a kernel
 * reads it: the flags, memory sizes, command line, the memory map walked
 * by `size + 4`, the module list and the modules' bytes; and the range
 * checks that keep it inside the VM's RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "guest-tools/vmm/multiboot.h"
#include "guest-tools/vmm/multiboot_info.h"

#define MIB (1ull << 20)
#define RAM (4 * MIB)
#define INFO 0x200000ull

static uint8_t *ram;

static int setup(void **state)
{
    (void)state;
    ram = calloc(1, RAM);
    return ram ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(ram);
    return 0;
}

static uint32_t u32_at(uint64_t address)
{
    uint32_t v;
    memcpy(&v, ram + address, 4);
    return v;
}

static uint64_t u64_at(uint64_t address)
{
    uint64_t v;
    memcpy(&v, ram + address, 8);
    return v;
}

static void test_info_without_modules(void **state)
{
    struct multiboot_info info;
    struct multiboot_info_result result;
    (void)state;
    memset(ram + INFO, 0xa5, 8192); /* stale bytes must not show through */
    assert_int_equal(multiboot_info_write(ram, RAM, 0, INFO, "hello mem=4", NULL, 0, &result), 0);
    memcpy(&info, ram + INFO, sizeof(info));
    assert_int_equal(info.flags, MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE |
                                 MULTIBOOT_INFO_MODS | MULTIBOOT_INFO_MEM_MAP);
    assert_int_equal(info.mem_lower, 640);
    assert_int_equal(info.mem_upper, 3 * 1024);
    assert_string_equal((const char *)ram + info.cmdline, "hello mem=4");
    assert_int_equal(info.mods_count, 0);
    assert_int_equal(info.boot_device, 0);
    assert_int_equal(info.syms[0], 0);
    assert_int_equal(result.modules_start, result.end);
    assert_true(result.end > INFO && result.end % 4096 == 0);

    /* The map as a kernel walks it: entries of size + 4 bytes. */
    uint64_t at = info.mmap_addr, end = at + info.mmap_length;
    uint64_t expect[][3] = { { 0, 0xa0000, 1 }, { 0xe0000, 0x20000, 2 }, { MIB, 3 * MIB, 1 } };
    unsigned n = 0;
    while (at < end) {
        assert_true(n < 3);
        assert_int_equal(u32_at(at), 20);
        assert_int_equal(u64_at(at + 4), expect[n][0]);
        assert_int_equal(u64_at(at + 12), expect[n][1]);
        assert_int_equal(u32_at(at + 20), expect[n][2]);
        at += u32_at(at) + 4;
        n++;
    }
    assert_int_equal(n, 3);
}

static void test_modules_page_aligned_with_cmdlines(void **state)
{
    static const uint8_t first[5000] = { 1, 2, 3 };
    static const uint8_t second[3] = { 0xaa, 0xbb, 0xcc };
    struct multiboot_module_image mods[2] = {
        { first, sizeof(first), "initrd one" },
        { second, sizeof(second), "data" },
    };
    struct multiboot_info info;
    struct multiboot_module mod[2];
    struct multiboot_info_result result;
    (void)state;
    assert_int_equal(multiboot_info_write(ram, RAM, 0, INFO, "k", mods, 2, &result), 0);
    memcpy(&info, ram + INFO, sizeof(info));
    assert_int_equal(info.mods_count, 2);
    memcpy(mod, ram + info.mods_addr, sizeof(mod));
    assert_int_equal(mod[0].mod_start % 4096, 0);
    assert_int_equal(mod[0].mod_start, result.modules_start);
    assert_int_equal(mod[0].mod_end - mod[0].mod_start, sizeof(first));
    assert_int_equal(mod[1].mod_start, mod[0].mod_start + 8192);
    assert_int_equal(mod[1].mod_end, mod[1].mod_start + 3);
    assert_int_equal(mod[1].reserved, 0);
    assert_memory_equal(ram + mod[0].mod_start, first, sizeof(first));
    assert_memory_equal(ram + mod[1].mod_start, second, sizeof(second));
    assert_string_equal((const char *)ram + mod[0].cmdline, "initrd one");
    assert_string_equal((const char *)ram + mod[1].cmdline, "data");
    assert_int_equal(result.end, mod[1].mod_start + 4096);
    /* The list and strings end before the first module. */
    assert_true(mod[1].cmdline + 5 <= mod[0].mod_start);
}

static void test_ram_above_4g_is_mapped_not_counted(void **state)
{
    struct multiboot_info info;
    struct multiboot_info_result result;
    (void)state;
    assert_int_equal(multiboot_info_write(ram, RAM, 512 * MIB, INFO, "", NULL, 0, &result), 0);
    memcpy(&info, ram + INFO, sizeof(info));
    assert_int_equal(info.mem_upper, 3 * 1024); /* up to the first hole only */
    assert_int_equal(info.mmap_length, 4 * 24);
    assert_int_equal(u64_at(info.mmap_addr + 3 * 24 + 4), 0x100000000ull);
}

static void test_refuses_what_does_not_fit(void **state)
{
    static uint8_t big[2 * MIB];
    struct multiboot_module_image mods[1] = { { big, sizeof(big), "big" } };
    struct multiboot_info_result result;
    (void)state;
    memset(ram + RAM - 4096, 0x5a, 4096);
    /* The module would end past RAM: nothing is written. */
    assert_int_equal(multiboot_info_write(ram, RAM, 0, RAM - 2 * MIB, "x", mods, 1, &result),
                     -HV_ERANGE);
    assert_int_equal(ram[RAM - 2 * MIB], 0);
    assert_int_equal(multiboot_info_write(ram, RAM, 0, RAM, "x", NULL, 0, &result), -HV_ERANGE);
    assert_int_equal(multiboot_info_write(ram, RAM, 0, INFO + 8, "x", NULL, 0, &result),
                     -HV_ERANGE);
    /* A module as large as RAM is refused before any sum can wrap. */
    mods[0].size = UINT64_MAX - 100;
    assert_int_equal(multiboot_info_write(ram, RAM, 0, INFO, "x", mods, 1, &result), -HV_ERANGE);
    /* Just fitting: the block's page and the module's pages end at RAM. */
    mods[0].size = MIB;
    assert_int_equal(multiboot_info_write(ram, RAM, 0, RAM - MIB - 4096, "x", mods, 1, &result), 0);
    assert_int_equal(result.end, RAM);
}

/* A kernel that ends below 640 KiB: the block and modules stay in
 * conventional memory while they fit below 640 KiB, else all of it
 * moves to 1 MiB; never into 640 KiB-1 MiB, which the map gives no RAM
 * (a `pc` VM's firmware tables are there). */
static void test_never_in_the_640k_to_1m_hole(void **state)
{
    static uint8_t small[8192], large[256 * 1024];
    struct multiboot_module_image mods[1] = { { small, sizeof(small), "m" } };
    struct multiboot_info_result result;
    (void)state;
    assert_int_equal(multiboot_info_write(ram, RAM, 0, 0x90000, "k", mods, 1, &result), 0);
    assert_int_equal(result.info_address, 0x90000);
    assert_true(result.end <= 0xa0000);
    assert_int_equal(u32_at(0x90000 + 20), 1);                   /* mods_count */
    memset(ram + 0xa0000, 0x5a, 0x60000);
    mods[0] = (struct multiboot_module_image){ large, sizeof(large), "m" };
    assert_int_equal(multiboot_info_write(ram, RAM, 0, 0x90000, "k", mods, 1, &result), 0);
    assert_int_equal(result.info_address, MIB);
    assert_true(result.modules_start >= MIB);
    assert_int_equal(u32_at(MIB + 20), 1);
    assert_true(u32_at(MIB + 24) >= MIB);                         /* mods_addr */
    for (uint64_t a = 0xa0000; a < MIB; a++)
        assert_int_equal(ram[a], 0x5a);
    /* Asked for inside the hole (a kernel ending there): from 1 MiB. */
    assert_int_equal(multiboot_info_write(ram, RAM, 0, 0xb0000, "k", NULL, 0, &result), 0);
    assert_int_equal(result.info_address, MIB);
    for (uint64_t a = 0xa0000; a < MIB; a++)
        assert_int_equal(ram[a], 0x5a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_info_without_modules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modules_page_aligned_with_cmdlines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ram_above_4g_is_mapped_not_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_what_does_not_fit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_in_the_640k_to_1m_hole, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
