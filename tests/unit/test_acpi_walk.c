// sources: hv/acpi.c
/* Unit tests for ACPI discovery in hv/acpi.c: RSDP validation, the BIOS
 * area scan and the RSDP -> XSDT/RSDT walk. Physical memory is a fake 1 MiB
 * buffer read through a phys_map_fn that refuses anything outside it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "hv/acpi.h"

#define FAKE_SIZE 0x100000u
static uint8_t fake[FAKE_SIZE];

static const void *fake_map(uint64_t phys, size_t len, void *ctx)
{
    (void)ctx;
    if (phys > FAKE_SIZE || len > FAKE_SIZE - phys)
        return NULL;
    return fake + phys;
}

static int setup(void **state)
{
    (void)state;
    memset(fake, 0, sizeof(fake));
    return 0;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

/* Writes an RSDP at `p`: revision 0 (20 bytes, RSDT only) or 2 (36 bytes,
 * with XSDT), both checksums fixed. */
static void make_rsdp(uint8_t *p, uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
    memset(p, 0, revision >= 2 ? 36 : 20);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "TESTER", 6);
    p[15] = revision;
    put32(p + 16, rsdt);
    p[8] = (uint8_t)(0 - sum(p, 20));
    if (revision >= 2) {
        put32(p + 20, 36);
        put64(p + 24, xsdt);
        p[32] = (uint8_t)(0 - sum(p, 36));
    }
}

/* Writes a table header with `length` bytes (body already in place or
 * zero) at physical `phys` and fixes its checksum. */
static void make_table(uint32_t phys, const char *sig, uint32_t length)
{
    uint8_t *t = fake + phys;
    memcpy(t, sig, 4);
    put32(t + 4, length);
    t[8] = 1;
    t[9] = 0;
    t[9] = (uint8_t)(0 - sum(t, length));
}

static void test_rsdp_valid(void **state)
{
    (void)state;
    uint8_t r[64];
    make_rsdp(r, 0, 0x1000, 0);
    assert_true(acpi_rsdp_valid(r, 20));
    assert_false(acpi_rsdp_valid(r, 19));
    assert_false(acpi_rsdp_valid(NULL, 20));
    r[16] ^= 1; /* corrupt the RSDT address: first checksum fails */
    assert_false(acpi_rsdp_valid(r, 20));

    make_rsdp(r, 2, 0x1000, 0x2000);
    assert_true(acpi_rsdp_valid(r, 36));
    /* A v2 RSDP's length must be readable. */
    assert_false(acpi_rsdp_valid(r, 35));
    r[24] ^= 1; /* XSDT address covered only by the extended checksum */
    assert_false(acpi_rsdp_valid(r, 36));

    make_rsdp(r, 2, 0x1000, 0x2000);
    put32(r + 20, 20); /* a v2 length shorter than the v2 structure */
    r[8] = 0, r[8] = (uint8_t)(0 - sum(r, 20));
    r[32] = 0, r[32] = (uint8_t)(0 - sum(r, 36));
    assert_false(acpi_rsdp_valid(r, 36));

    make_rsdp(r, 0, 0x1000, 0);
    r[0] = 'r';
    r[8] = 0, r[8] = (uint8_t)(0 - sum(r, 20)); /* checksum fine, name wrong */
    assert_false(acpi_rsdp_valid(r, 20));
}

static void test_find_rsdp_in_bios_area(void **state)
{
    (void)state;
    /* Every 16-byte slot of 0xE0000-0xFFFFF in which a 20-byte RSDP fits,
     * including the last one at 0xFFFE0. */
    static const uint32_t slots[] = { 0xe0000, 0xe0010, 0xe1000, 0xf0000,
                                      0xfffd0, 0xfffe0 };
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        memset(fake, 0, sizeof(fake));
        uint32_t phys = slots[i];
        make_rsdp(fake + phys, 0, 0x1000, 0);
        assert_int_equal(acpi_find_rsdp_bios(fake_map, NULL), phys);
    }
    /* A v2 RSDP in the last slot where its 36 bytes fit. */
    memset(fake, 0, sizeof(fake));
    make_rsdp(fake + 0xfffd0, 2, 0x1000, 0x2000);
    assert_int_equal(acpi_find_rsdp_bios(fake_map, NULL), 0xfffd0);
}

static void test_find_rsdp_skips_fakes(void **state)
{
    (void)state;
    /* Nothing there. */
    assert_int_equal(acpi_find_rsdp_bios(fake_map, NULL), 0);
    /* The signature alone, with a wrong checksum, is not an RSDP... */
    make_rsdp(fake + 0xe4000, 0, 0x1000, 0);
    fake[0xe4000 + 8]++;
    /* ...nor is a valid one off the 16-byte grid. */
    make_rsdp(fake + 0xe5008, 0, 0x1000, 0);
    assert_int_equal(acpi_find_rsdp_bios(fake_map, NULL), 0);
    /* The first valid one on the grid is found. */
    make_rsdp(fake + 0xf0000, 0, 0x1000, 0);
    assert_int_equal(acpi_find_rsdp_bios(fake_map, NULL), 0xf0000);
}

static void test_find_rsdp_in_ebda(void **state)
{
    (void)state;
    /* The EBDA segment (0x9fc0) is read from the BIOS data area at 0x40e;
     * its first KiB is searched before the ROM area. */
    fake[0x40e] = 0xc0;
    fake[0x40f] = 0x9f;
    make_rsdp(fake + 0x9fc00 + 0x40, 0, 0x1000, 0);
    make_rsdp(fake + 0xf0000, 0, 0x2000, 0);
    assert_int_equal(acpi_find_rsdp_bios(fake_map, NULL), 0x9fc40);
    /* The last slot of that KiB that holds 20 bytes. */
    memset(fake + 0x9fc00, 0, 1024);
    make_rsdp(fake + 0x9fc00 + 1024 - 32, 0, 0x1000, 0);
    assert_int_equal(acpi_find_rsdp_bios(fake_map, NULL), 0x9fc00 + 1024 - 32);
    /* An EBDA pointer outside 0x80000-0x9ffff is ignored. */
    fake[0x40e] = 0x00;
    fake[0x40f] = 0x10;
    make_rsdp(fake + 0x10000, 0, 0x1000, 0);
    assert_int_equal(acpi_find_rsdp_bios(fake_map, NULL), 0xf0000);
}

/* Physical layout of the walked tables. */
#define XSDT 0x10000u
#define RSDT 0x10800u
#define MADT 0x11000u
#define FACP 0x12000u
#define SSDT 0x13000u
#define HPET 0x14000u

/* RSDP v2 -> XSDT -> {MADT, FACP, SSDT (bad checksum), an address outside
 * memory, HPET}; the RSDT lists MADT and FACP only. */
static void build_tables(uint8_t *rsdp, uint8_t revision)
{
    make_rsdp(rsdp, revision, RSDT, revision >= 2 ? XSDT : 0);
    static const uint64_t xsdt_entries[] = { MADT, FACP, SSDT, 0x7fff0000, HPET };
    for (unsigned i = 0; i < 5; i++)
        put64(fake + XSDT + 36 + 8 * i, xsdt_entries[i]);
    make_table(XSDT, "XSDT", 36 + 8 * 5);
    put32(fake + RSDT + 36, MADT);
    put32(fake + RSDT + 40, FACP);
    make_table(RSDT, "RSDT", 36 + 4 * 2);
    put32(fake + MADT + 36, 0xfee00000);
    make_table(MADT, "APIC", 44);
    make_table(FACP, "FACP", 276);
    make_table(SSDT, "SSDT", 100);
    fake[SSDT + 50] ^= 0x40;
    make_table(HPET, "HPET", 56);
}

static void test_walk_xsdt(void **state)
{
    (void)state;
    uint8_t rsdp[36];
    build_tables(rsdp, 2);
    struct acpi_tables t;
    memset(&t, 0xa5, sizeof(t));
    assert_int_equal(acpi_walk(rsdp, fake_map, NULL, &t), 0);
    assert_int_equal(t.revision, 2);
    assert_int_equal(t.count, 4); /* XSDT, APIC, FACP, HPET */
    assert_string_equal(t.tables[0].signature, "XSDT");
    assert_int_equal(t.tables[0].phys, XSDT);
    assert_int_equal(t.tables[0].length, 36 + 8 * 5);

    const struct acpi_table_ref *madt = acpi_find(&t, "APIC");
    assert_non_null(madt);
    assert_int_equal(madt->phys, MADT);
    assert_int_equal(madt->length, 44);
    assert_string_equal(madt->signature, "APIC");
    assert_int_equal(acpi_find(&t, "FACP")->phys, FACP);
    assert_int_equal(acpi_find(&t, "HPET")->length, 56);
    /* The corrupted table is skipped, not recorded. */
    assert_null(acpi_find(&t, "SSDT"));
    assert_null(acpi_find(&t, "DSDT"));
}

static void test_walk_rsdt(void **state)
{
    (void)state;
    uint8_t rsdp[36];
    build_tables(rsdp, 0);
    struct acpi_tables t;
    assert_int_equal(acpi_walk(rsdp, fake_map, NULL, &t), 0);
    assert_int_equal(t.revision, 0);
    assert_int_equal(t.count, 3);
    assert_string_equal(t.tables[0].signature, "RSDT");
    assert_int_equal(acpi_find(&t, "APIC")->phys, MADT);
    assert_null(acpi_find(&t, "HPET")); /* only listed in the XSDT */

    /* A v2 RSDP whose XSDT address is 0 falls back to the RSDT. */
    build_tables(rsdp, 2);
    put64(rsdp + 24, 0);
    rsdp[32] = 0, rsdp[32] = (uint8_t)(0 - sum(rsdp, 36));
    assert_int_equal(acpi_walk(rsdp, fake_map, NULL, &t), 0);
    assert_string_equal(t.tables[0].signature, "RSDT");
}

static void test_walk_refuses_bad_roots(void **state)
{
    (void)state;
    uint8_t rsdp[36];
    struct acpi_tables t;

    build_tables(rsdp, 2);
    rsdp[0] = 'X'; /* not an RSDP */
    assert_int_equal(acpi_walk(rsdp, fake_map, NULL, &t), -HV_EINVAL);
    assert_int_equal(t.count, 0);
    assert_int_equal(acpi_walk(NULL, fake_map, NULL, &t), -HV_EINVAL);

    /* XSDT with a bad checksum. */
    build_tables(rsdp, 2);
    fake[XSDT + 40] ^= 1;
    assert_int_equal(acpi_walk(rsdp, fake_map, NULL, &t), -HV_EINVAL);

    /* XSDT pointer aimed at another table: the signature must match. */
    build_tables(rsdp, 2);
    make_rsdp(rsdp, 2, RSDT, MADT);
    assert_int_equal(acpi_walk(rsdp, fake_map, NULL, &t), -HV_EINVAL);

    /* XSDT outside memory. */
    make_rsdp(rsdp, 2, RSDT, 0x7fff0000);
    assert_int_equal(acpi_walk(rsdp, fake_map, NULL, &t), -HV_EINVAL);

    /* XSDT whose length runs past the end of memory. */
    build_tables(rsdp, 2);
    memcpy(fake + FAKE_SIZE - 36, "XSDT", 4);
    put32(fake + FAKE_SIZE - 32, 100);
    make_rsdp(rsdp, 2, RSDT, FAKE_SIZE - 36);
    assert_int_equal(acpi_walk(rsdp, fake_map, NULL, &t), -HV_EINVAL);
}

static void test_walk_table_too_short(void **state)
{
    (void)state;
    uint8_t rsdp[36];
    build_tables(rsdp, 2);
    /* A table claiming fewer bytes than its own header is skipped. */
    make_table(HPET, "HPET", 20);
    struct acpi_tables t;
    assert_int_equal(acpi_walk(rsdp, fake_map, NULL, &t), 0);
    assert_null(acpi_find(&t, "HPET"));
    assert_non_null(acpi_find(&t, "APIC"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_rsdp_valid, setup),
        cmocka_unit_test_setup(test_find_rsdp_in_bios_area, setup),
        cmocka_unit_test_setup(test_find_rsdp_skips_fakes, setup),
        cmocka_unit_test_setup(test_find_rsdp_in_ebda, setup),
        cmocka_unit_test_setup(test_walk_xsdt, setup),
        cmocka_unit_test_setup(test_walk_rsdt, setup),
        cmocka_unit_test_setup(test_walk_refuses_bad_roots, setup),
        cmocka_unit_test_setup(test_walk_table_too_short, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
