// sources: hv/multiboot.c
/* Unit tests for multiboot1_parse (hv/multiboot.c). Multiboot1 hands over
 * physical addresses, so the parser reads through a phys_map_fn; here that
 * maps a fake physical memory buffer and refuses anything outside it, so a
 * pointer the parser fails to check shows up as a refused map or an
 * AddressSanitizer report. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "hv/multiboot.h"

/* Fake physical memory: addresses [0, FAKE_SIZE). */
#define FAKE_SIZE 0x10000u
static uint8_t fake[FAKE_SIZE];

/* Fixed layout of the structures in fake memory. */
#define INFO     0x1000u
#define CMDLINE  0x2000u
#define MODS     0x3000u
#define STRINGS  0x3800u
#define MMAP     0x5000u
#define LOADER   0x6000u

static const void *fake_map(uint64_t phys, size_t len, void *ctx)
{
    (void)ctx;
    if (phys > FAKE_SIZE || len > FAKE_SIZE - phys)
        return NULL;
    return fake + phys;
}

static void put32(uint32_t phys, uint32_t v) { memcpy(fake + phys, &v, 4); }
static void put64(uint32_t phys, uint64_t v) { memcpy(fake + phys, &v, 8); }

static void put_string(uint32_t phys, const char *s)
{
    memcpy(fake + phys, s, strlen(s) + 1);
}

static int setup(void **state)
{
    (void)state;
    memset(fake, 0, sizeof(fake));
    return 0;
}

/* Module entry i: {start, end, string, reserved}. */
static void put_module(unsigned i, uint32_t start, uint32_t end, uint32_t string)
{
    put32(MODS + 16 * i, start);
    put32(MODS + 16 * i + 4, end);
    put32(MODS + 16 * i + 8, string);
}

/* mmap entry at `phys`: {u32 size (not counting itself), u64 base,
 * u64 length, u32 type}; returns the next entry's address. */
static uint32_t put_mmap(uint32_t phys, uint32_t size, uint64_t base,
                         uint64_t length, uint32_t type)
{
    put32(phys, size);
    put64(phys + 4, base);
    put64(phys + 12, length);
    put32(phys + 20, type);
    return phys + 4 + size;
}

static void test_good_structure(void **state)
{
    (void)state;
    put32(INFO, (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
    put32(INFO + 16, CMDLINE);
    put_string(CMDLINE, "/boot/hv.elf loglevel=debug");
    put32(INFO + 20, 2);
    put32(INFO + 24, MODS);
    put_module(0, 0x200000, 0x280000, STRINGS);
    put_module(1, 0x300000, 0x301000, STRINGS + 0x100);
    put_string(STRINGS, "ctl.elf quiet");
    put_string(STRINGS + 0x100, "initrd");
    uint32_t p = MMAP;
    p = put_mmap(p, 20, 0, 0x9fc00, 1);
    p = put_mmap(p, 20, 0x9fc00, 0x400, 2);
    /* An entry larger than 20 bytes: the size field sets the stride. */
    p = put_mmap(p, 28, 0x100000, 0x7ff00000, 1);
    p = put_mmap(p, 20, 0xfffc0000, 0x40000, 2);
    put32(INFO + 44, p - MMAP);
    put32(INFO + 48, MMAP);
    put32(INFO + 64, LOADER);
    put_string(LOADER, "QEMU");

    struct boot_info bi;
    memset(&bi, 0xa5, sizeof(bi));
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), 0);
    assert_int_equal(bi.loader_version, 1);
    assert_int_equal(bi.info_start, INFO);
    assert_int_equal(bi.info_end, INFO + 88);
    assert_string_equal(bi.cmdline, "/boot/hv.elf loglevel=debug");
    assert_ptr_equal(bi.cmdline, fake + CMDLINE);
    assert_string_equal(bi.loader_name, "QEMU");

    assert_int_equal(bi.module_count, 2);
    assert_int_equal(bi.modules[0].start, 0x200000);
    assert_int_equal(bi.modules[0].end, 0x280000);
    assert_string_equal(bi.modules[0].cmdline, "ctl.elf quiet");
    assert_int_equal(bi.modules[1].start, 0x300000);
    assert_int_equal(bi.modules[1].end, 0x301000);
    assert_string_equal(bi.modules[1].cmdline, "initrd");

    assert_int_equal(bi.memory_count, 4);
    assert_int_equal(bi.memory[0].base, 0);
    assert_int_equal(bi.memory[0].length, 0x9fc00);
    assert_int_equal(bi.memory[1].type, MEMORY_RESERVED);
    assert_int_equal(bi.memory[2].base, 0x100000);
    assert_int_equal(bi.memory[2].length, 0x7ff00000);
    assert_int_equal(bi.memory[2].type, MEMORY_USABLE);
    assert_int_equal(bi.memory[3].base, 0xfffc0000);
    assert_null(bi.rsdp); /* multiboot1 does not pass ACPI */
}

static void test_no_flags(void **state)
{
    (void)state;
    /* Fields whose flag is clear are garbage and must be ignored. */
    memset(fake + INFO, 0xff, 88);
    put32(INFO, 0);
    struct boot_info bi;
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), 0);
    assert_string_equal(bi.cmdline, "");
    assert_string_equal(bi.loader_name, "");
    assert_int_equal(bi.module_count, 0);
    assert_int_equal(bi.memory_count, 0);
}

static void test_info_not_readable(void **state)
{
    (void)state;
    struct boot_info bi;
    assert_int_equal(multiboot1_parse(FAKE_SIZE - 40, fake_map, NULL, &bi),
                     -HV_EINVAL);
    assert_non_null(bi.cmdline);
    assert_non_null(bi.loader_name);
}

static void test_bad_cmdline(void **state)
{
    (void)state;
    struct boot_info bi;
    put32(INFO, 1u << 2);
    /* Pointer outside memory. */
    put32(INFO + 16, FAKE_SIZE + 0x1000);
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), -HV_EINVAL);
    /* No NUL within the 4 KiB the parser allows. */
    memset(fake + CMDLINE, 'a', 4096);
    put32(INFO + 16, CMDLINE);
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), -HV_EINVAL);
    assert_non_null(bi.cmdline);
}

static void test_bad_module_table(void **state)
{
    (void)state;
    struct boot_info bi;
    put32(INFO, 1u << 3);
    /* A table that does not fit in memory. */
    put32(INFO + 20, 2);
    put32(INFO + 24, FAKE_SIZE - 16);
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), -HV_EINVAL);
    /* An absurd count is refused before anything is mapped. */
    put32(INFO + 20, 0x10000000);
    put32(INFO + 24, MODS);
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), -HV_EINVAL);
    /* A module that ends before it starts. */
    put32(INFO + 20, 1);
    put_module(0, 0x300000, 0x200000, 0);
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), -HV_EINVAL);
}

static void test_module_strings_degrade_to_empty(void **state)
{
    (void)state;
    /* Module strings are informational: a bad one becomes "" rather than
     * failing the boot. */
    put32(INFO, 1u << 3);
    put32(INFO + 20, 2);
    put32(INFO + 24, MODS);
    put_module(0, 0x200000, 0x201000, FAKE_SIZE + 0x100); /* unreadable */
    put_module(1, 0x300000, 0x301000, STRINGS);
    memset(fake + STRINGS, 'x', 1024);                     /* no NUL */
    struct boot_info bi;
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), 0);
    assert_int_equal(bi.module_count, 2);
    assert_string_equal(bi.modules[0].cmdline, "");
    assert_string_equal(bi.modules[1].cmdline, "");
}

static void test_too_many_modules(void **state)
{
    (void)state;
    put32(INFO, 1u << 3);
    put32(INFO + 20, BOOT_MAX_MODULES + 3);
    put32(INFO + 24, MODS);
    put_string(STRINGS, "m");
    for (unsigned i = 0; i < BOOT_MAX_MODULES + 3; i++)
        put_module(i, 0x100000 * (i + 1), 0x100000 * (i + 1) + 0x1000, STRINGS);
    struct boot_info bi;
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), 0);
    assert_int_equal(bi.module_count, BOOT_MAX_MODULES);
    assert_int_equal(bi.modules_dropped, 3);
}

static void test_mmap_entry_past_length(void **state)
{
    (void)state;
    put32(INFO, 1u << 6);
    put32(INFO + 48, MMAP);
    uint32_t p = put_mmap(MMAP, 20, 0x100000, 0x100000, 1);
    /* The second entry claims 40 bytes but mmap_length ends after 20. */
    put_mmap(p, 40, 0x200000, 0x100000, 1);
    put32(INFO + 44, 48);
    struct boot_info bi;
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), -HV_EINVAL);

    /* A size below the 20 bytes of fields is refused too. */
    put_mmap(p, 16, 0x200000, 0x100000, 1);
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), -HV_EINVAL);

    /* The same map with a correct size parses. */
    put_mmap(p, 20, 0x200000, 0x100000, 1);
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), 0);
    assert_int_equal(bi.memory_count, 2);
    assert_int_equal(bi.memory[1].base, 0x200000);
}

static void test_mmap_not_readable(void **state)
{
    (void)state;
    put32(INFO, 1u << 6);
    put32(INFO + 44, 0x100);
    put32(INFO + 48, FAKE_SIZE - 0x80);
    struct boot_info bi;
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), -HV_EINVAL);
}

static void test_too_many_memory_ranges(void **state)
{
    (void)state;
    enum { N = BOOT_MAX_MEMORY_RANGES + 5 };
    put32(INFO, 1u << 6);
    put32(INFO + 48, MMAP);
    uint32_t p = MMAP;
    for (unsigned i = 0; i < N; i++)
        p = put_mmap(p, 20, 0x100000ull * i, 0x1000, 1);
    put32(INFO + 44, p - MMAP);
    struct boot_info bi;
    assert_int_equal(multiboot1_parse(INFO, fake_map, NULL, &bi), 0);
    assert_int_equal(bi.memory_count, BOOT_MAX_MEMORY_RANGES);
    assert_int_equal(bi.memory_dropped, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_good_structure, setup),
        cmocka_unit_test_setup(test_no_flags, setup),
        cmocka_unit_test_setup(test_info_not_readable, setup),
        cmocka_unit_test_setup(test_bad_cmdline, setup),
        cmocka_unit_test_setup(test_bad_module_table, setup),
        cmocka_unit_test_setup(test_module_strings_degrade_to_empty, setup),
        cmocka_unit_test_setup(test_too_many_modules, setup),
        cmocka_unit_test_setup(test_mmap_entry_past_length, setup),
        cmocka_unit_test_setup(test_mmap_not_readable, setup),
        cmocka_unit_test_setup(test_too_many_memory_ranges, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
