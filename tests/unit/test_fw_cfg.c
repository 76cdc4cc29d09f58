// sources: guest-tools/vmm/devices/fw_cfg.c
/* Unit tests for the fw_cfg model (guest-tools/vmm/devices/fw_cfg.c), read
 * the way firmware and Linux's qemu_fw_cfg driver read it: a 16-bit write
 * of the key to 0x510, then bytes from 0x511. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "guest-tools/vmm/devices/fw_cfg.h"

static struct fw_cfg fw_cfg;

static int setup(void **state)
{
    (void)state;
    memset(&fw_cfg, 0xa5, sizeof(fw_cfg)); /* init must not rely on zeroed memory */
    fw_cfg_init(&fw_cfg, 0x12345678abull, 4, 8);
    return 0;
}

static void select_item(uint16_t key)
{
    fw_cfg_write(&fw_cfg, FW_CFG_PORT_SELECTOR, 2, key, 0);
}

static void read_bytes(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)fw_cfg_read(&fw_cfg, FW_CFG_PORT_DATA, 1, 0);
}

static uint64_t read_le(uint16_t key, unsigned size)
{
    uint8_t bytes[8];
    select_item(key);
    read_bytes(bytes, size);
    uint64_t value = 0;
    for (unsigned i = 0; i < size; i++)
        value |= (uint64_t)bytes[i] << (8 * i);
    return value;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_signature_and_id(void **state)
{
    (void)state;
    uint8_t bytes[8];
    select_item(FW_CFG_SIGNATURE);
    read_bytes(bytes, 6);
    assert_memory_equal(bytes, "QEMU\0\0", 6); /* reads past the end give 0 */
    /* Each selector write rewinds, even to the same item. */
    select_item(FW_CFG_SIGNATURE);
    read_bytes(bytes, 2);
    assert_memory_equal(bytes, "QE", 2);
    /* Traditional interface only: no DMA. */
    assert_int_equal(read_le(FW_CFG_ID, 4), FW_CFG_ID_TRADITIONAL);
    /* The write-channel bit selects the same item. */
    select_item(FW_CFG_SIGNATURE | FW_CFG_WRITE_CHANNEL);
    read_bytes(bytes, 4);
    assert_memory_equal(bytes, "QEMU", 4);
}

static void test_ram_size_and_cpus(void **state)
{
    (void)state;
    assert_int_equal(read_le(FW_CFG_RAM_SIZE, 8), 0x12345678abull);
    assert_int_equal(read_le(FW_CFG_NB_CPUS, 2), 4);
    assert_int_equal(read_le(FW_CFG_MAX_CPUS, 2), 8);
    /* Past an item's end: zeros. */
    select_item(FW_CFG_NB_CPUS);
    uint8_t bytes[4];
    read_bytes(bytes, 4);
    assert_memory_equal(bytes, "\x04\x00\x00\x00", 4);
}

static void test_absent_items_and_ports(void **state)
{
    (void)state;
    /* Items nobody added read as zeros, arch-local ones included. */
    assert_int_equal(read_le(0x0002, 8), 0);
    assert_int_equal(read_le(0x8003, 8), 0);
    assert_int_equal(read_le(0x3fff, 8), 0);
    /* Only 16-bit writes to 0x510 select; byte or dword writes, and
     * writes to the data port, leave the selection and offset alone. */
    select_item(FW_CFG_SIGNATURE);
    fw_cfg_write(&fw_cfg, FW_CFG_PORT_SELECTOR, 1, FW_CFG_RAM_SIZE, 0);
    fw_cfg_write(&fw_cfg, FW_CFG_PORT_SELECTOR, 4, FW_CFG_RAM_SIZE, 0);
    fw_cfg_write(&fw_cfg, FW_CFG_PORT_DATA, 1, 0x55, 0);
    fw_cfg_write(&fw_cfg, FW_CFG_PORT_DATA, 2, FW_CFG_RAM_SIZE, 0);
    assert_int_equal(fw_cfg_read(&fw_cfg, FW_CFG_PORT_DATA, 1, 0), 'Q');
    /* The selector is write-only; the data port is 8 bits wide; neither
     * advances the offset when read otherwise. */
    assert_int_equal(fw_cfg_read(&fw_cfg, FW_CFG_PORT_SELECTOR, 2, 0), 0xffff);
    assert_int_equal(fw_cfg_read(&fw_cfg, FW_CFG_PORT_DATA, 2, 0), 0xffff);
    assert_int_equal(fw_cfg_read(&fw_cfg, FW_CFG_PORT_DATA, 4, 0), 0xffffffff);
    assert_int_equal(fw_cfg_read(&fw_cfg, 0x512, 1, 0), 0xff);
    assert_int_equal(fw_cfg_read(&fw_cfg, FW_CFG_PORT_DATA, 1, 0), 'E');
}

static void test_file_directory(void **state)
{
    (void)state;
    /* Empty: a count of zero and nothing else. */
    uint8_t dir[4 + 3 * FW_CFG_FILE_ENTRY_SIZE + 4];
    select_item(FW_CFG_FILE_DIR);
    read_bytes(dir, 8);
    assert_memory_equal(dir, "\0\0\0\0\0\0\0\0", 8);

    static const uint8_t e820[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
    static const char order[] = "-c 2";
    char long_name[FW_CFG_FILE_NAME_SIZE];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0'; /* 55 characters: the longest that fits */
    assert_int_equal(fw_cfg_add_file(&fw_cfg, "etc/e820", e820, sizeof(e820)), 0x20);
    assert_int_equal(fw_cfg_add_file(&fw_cfg, "bootorder", order, 4), 0x21);
    assert_int_equal(fw_cfg_add_file(&fw_cfg, long_name, NULL, 0), 0x22);

    select_item(FW_CFG_FILE_DIR);
    read_bytes(dir, sizeof(dir));
    assert_int_equal(be32(dir), 3);
    const uint8_t *entry = dir + 4;
    assert_int_equal(be32(entry), sizeof(e820));
    assert_int_equal(entry[4] << 8 | entry[5], 0x20);
    assert_int_equal(entry[6] << 8 | entry[7], 0);
    assert_string_equal((const char *)entry + 8, "etc/e820");
    for (unsigned i = 8 + 8; i < FW_CFG_FILE_ENTRY_SIZE; i++)
        assert_int_equal(entry[i], 0);
    entry += FW_CFG_FILE_ENTRY_SIZE;
    assert_int_equal(be32(entry), 4);
    assert_int_equal(entry[4] << 8 | entry[5], 0x21);
    assert_string_equal((const char *)entry + 8, "bootorder");
    entry += FW_CFG_FILE_ENTRY_SIZE;
    assert_int_equal(be32(entry), 0);
    assert_int_equal(entry[4] << 8 | entry[5], 0x22);
    assert_string_equal((const char *)entry + 8, long_name);
    /* The directory ends after its last entry. */
    assert_memory_equal(dir + 4 + 3 * FW_CFG_FILE_ENTRY_SIZE, "\0\0\0\0", 4);

    /* A file reads through its key. */
    uint8_t content[sizeof(e820) + 2];
    select_item(0x20);
    read_bytes(content, sizeof(content));
    assert_memory_equal(content, e820, sizeof(e820));
    assert_int_equal(content[sizeof(e820)], 0);
    assert_int_equal(read_le(0x21, 4), 0x3220632d); /* "-c 2" */
}

static void test_add_refusals(void **state)
{
    (void)state;
    static const uint8_t byte = 1;
    char too_long[FW_CFG_FILE_NAME_SIZE + 1];
    memset(too_long, 'x', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    assert_int_equal(fw_cfg_add_file(&fw_cfg, "", &byte, 1), -HV_EINVAL);
    assert_int_equal(fw_cfg_add_file(&fw_cfg, too_long, &byte, 1), -HV_EINVAL);
    too_long[FW_CFG_FILE_NAME_SIZE] = '\0'; /* exactly 56: no room for the NUL */
    assert_int_equal(fw_cfg_add_file(&fw_cfg, too_long, &byte, 1), -HV_EINVAL);
    assert_int_equal(fw_cfg_add_file(&fw_cfg, NULL, &byte, 1), -HV_EINVAL);
    assert_int_equal(fw_cfg_add_file(&fw_cfg, "etc/x", NULL, 1), -HV_EINVAL);
    assert_int_equal(fw_cfg_add_file(&fw_cfg, "etc/x", &byte, 1), 0x20);
    assert_int_equal(fw_cfg_add_file(&fw_cfg, "etc/x", &byte, 1), -HV_EEXIST);
    /* A prefix of a listed name is a different name. */
    assert_int_equal(fw_cfg_add_file(&fw_cfg, "etc/", &byte, 1), 0x21);

    assert_int_equal(fw_cfg_add_item(&fw_cfg, FW_CFG_RAM_SIZE, &byte, 1), -HV_EEXIST);
    assert_int_equal(fw_cfg_add_item(&fw_cfg, 0x20, &byte, 1), -HV_EINVAL);
    assert_int_equal(fw_cfg_add_item(&fw_cfg, 0x4002, &byte, 1), -HV_EINVAL);
    assert_int_equal(fw_cfg_add_item(&fw_cfg, 0x0002, NULL, 1), -HV_EINVAL);
    assert_int_equal(fw_cfg_add_item(&fw_cfg, 0x8003, &byte, 1), 0);
    assert_int_equal(read_le(0x8003, 2), 1);
    assert_int_equal(read_le(FW_CFG_NB_CPUS | FW_CFG_ARCH_LOCAL, 2), 0); /* arch-local is its own key space */

    /* Fill the directory; the next file finds no room. */
    char name[8] = "f/0";
    int added = 2;
    for (; added < FW_CFG_MAX_FILES; added++) {
        name[2] = (char)('a' + added);
        assert_int_equal(fw_cfg_add_file(&fw_cfg, name, &byte, 1), 0x20 + added);
    }
    assert_int_equal(fw_cfg_add_file(&fw_cfg, "one/more", &byte, 1), -HV_ENOSPC);
    assert_int_equal(read_le(FW_CFG_FILE_DIR, 4), (uint64_t)FW_CFG_MAX_FILES << 24);
}

static void test_items_table_full(void **state)
{
    (void)state;
    static const uint8_t byte = 7;
    int result = 0;
    uint16_t key = 0x8000;
    while ((result = fw_cfg_add_item(&fw_cfg, key, &byte, 1)) == 0)
        key++;
    assert_int_equal(result, -HV_ENOSPC);
    assert_int_equal(key - 0x8000, FW_CFG_MAX_ITEMS - 6);
    assert_int_equal(fw_cfg_add_file(&fw_cfg, "etc/late", &byte, 1), -HV_ENOSPC);
    assert_int_equal(read_le(FW_CFG_FILE_DIR, 4), 0);
    assert_int_equal(read_le((uint16_t)(key - 1), 1), 7);
}

static uint64_t rng_state;
static uint32_t next_random(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static void test_garbage(void **state)
{
    (void)state;
    static const uint8_t blob[3] = { 9, 8, 7 };
    assert_int_equal(fw_cfg_add_file(&fw_cfg, "etc/blob", blob, sizeof(blob)), 0x20);
    rng_state = 0xf00dull;
    for (unsigned step = 0; step < 200000; step++) {
        uint16_t port = (uint16_t)(0x50e + next_random() % 6);
        unsigned size = next_random() % 6;
        uint32_t value = next_random();
        if (next_random() & 1)
            fw_cfg_write(&fw_cfg, port, size, value, 0);
        else
            (void)fw_cfg_read(&fw_cfg, port, size, 0);
    }
    assert_int_equal(read_le(FW_CFG_NB_CPUS, 2), 4);
    assert_int_equal(read_le(0x20, 3), 0x070809);
    assert_int_equal(read_le(FW_CFG_FILE_DIR, 4), 1u << 24);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_signature_and_id, setup),
        cmocka_unit_test_setup(test_ram_size_and_cpus, setup),
        cmocka_unit_test_setup(test_absent_items_and_ports, setup),
        cmocka_unit_test_setup(test_file_directory, setup),
        cmocka_unit_test_setup(test_add_refusals, setup),
        cmocka_unit_test_setup(test_items_table_full, setup),
        cmocka_unit_test_setup(test_garbage, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
