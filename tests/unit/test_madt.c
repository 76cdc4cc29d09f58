// sources: hv/acpi.c
/* Unit tests for madt_parse (hv/acpi.c): real MADTs captured from QEMU and
 * Bochs (tests/unit/data, read relative to the repository root, where the
 * tests run) and synthetic tables for the corner cases firmware gets wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "hv/acpi.h"

static size_t load_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run from the repository root)", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    assert_true(n > 0 && n < cap);
    return n;
}

static void check_capture(const char *path, unsigned cpus)
{
    uint8_t table[1024];
    size_t n = load_file(path, table, sizeof(table));
    struct madt_info *info = malloc(sizeof(*info));
    assert_non_null(info);
    memset(info, 0xa5, sizeof(*info));
    assert_int_equal(madt_parse(table, n, info), 0);
    assert_int_equal(info->cpu_count, cpus);
    assert_int_equal(info->cpus_dropped, 0);
    assert_int_equal(info->lapic_address, 0xfee00000);
    assert_true(info->has_legacy_pics);
    /* One IOAPIC at the PC's address; COM1's IRQ 4 is not overridden. */
    assert_int_equal(info->ioapic_address, 0xfec00000);
    assert_int_equal(info->ioapic_gsi_base, 0);
    assert_int_equal(info->com1_gsi, 4);
    assert_int_equal(info->com1_flags, 0);
    /* QEMU and Bochs number APIC IDs and processor UIDs 0..n-1 in order. */
    for (unsigned i = 0; i < cpus; i++) {
        assert_int_equal(info->cpus[i].apic_id, i);
        assert_int_equal(info->cpus[i].acpi_uid, i);
    }
    free(info);
}

static void test_capture_qemu_q35(void **state)
{
    (void)state;
    check_capture("tests/unit/data/madt_q35.bin", 4);
}

static void test_capture_qemu_pc(void **state)
{
    (void)state;
    check_capture("tests/unit/data/madt_pc.bin", 8);
}

static void test_capture_bochs(void **state)
{
    (void)state;
    check_capture("tests/unit/data/madt_bochs.bin", 4);
}

static void test_capture_truncated(void **state)
{
    (void)state;
    uint8_t table[1024];
    size_t n = load_file("tests/unit/data/madt_q35.bin", table, sizeof(table));
    struct madt_info *info = malloc(sizeof(*info));
    assert_non_null(info);
    /* Fewer bytes readable than the header's length: refused unread. */
    assert_int_equal(madt_parse(table, n - 1, info), -HV_EINVAL);
    assert_int_equal(madt_parse(table, 43, info), -HV_EINVAL);
    assert_int_equal(madt_parse(NULL, n, info), -HV_EINVAL);
    /* One flipped bit breaks the checksum. */
    table[n - 1] ^= 1;
    assert_int_equal(madt_parse(table, n, info), -HV_EINVAL);
    free(info);
}

/* Builder for synthetic MADTs. */
struct madt {
    uint8_t *buf;
    size_t len, cap;
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void madt_begin(struct madt *m, size_t cap, uint32_t flags)
{
    m->buf = calloc(1, cap);
    assert_non_null(m->buf);
    m->cap = cap;
    memcpy(m->buf, "APIC", 4);
    m->buf[8] = 5; /* revision */
    memcpy(m->buf + 10, "TESTER", 6);
    put32(m->buf + 36, 0xfee00000);
    put32(m->buf + 40, flags);
    m->len = 44;
}

static uint8_t *madt_entry(struct madt *m, uint8_t type, uint8_t length)
{
    assert_true(m->len + length <= m->cap);
    uint8_t *e = m->buf + m->len;
    e[0] = type;
    e[1] = length;
    m->len += length;
    return e;
}

static void madt_lapic(struct madt *m, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
    uint8_t *e = madt_entry(m, 0, 8);
    e[2] = uid;
    e[3] = apic_id;
    put32(e + 4, flags);
}

static void madt_x2apic(struct madt *m, uint32_t apic_id, uint32_t flags,
                        uint32_t uid)
{
    uint8_t *e = madt_entry(m, 9, 16);
    put32(e + 4, apic_id);
    put32(e + 8, flags);
    put32(e + 12, uid);
}

/* Stores the length and makes all bytes sum to 0 mod 256. */
static void madt_finish(struct madt *m)
{
    put32(m->buf + 4, (uint32_t)m->len);
    m->buf[9] = 0;
    uint8_t sum = 0;
    for (size_t i = 0; i < m->len; i++)
        sum += m->buf[i];
    m->buf[9] = (uint8_t)(0 - sum);
}

static int parse(struct madt *m, struct madt_info **info)
{
    *info = malloc(sizeof(**info));
    assert_non_null(*info);
    memset(*info, 0xa5, sizeof(**info));
    return madt_parse(m->buf, m->len, *info);
}

static void test_no_cpus(void **state)
{
    (void)state;
    struct madt m;
    struct madt_info *info;
    madt_begin(&m, 256, 0);
    uint8_t *ioapic = madt_entry(&m, 1, 12);
    put32(ioapic + 4, 0xfec00000);
    madt_lapic(&m, 0, 0, 0); /* present but disabled: not usable */
    madt_finish(&m);
    assert_int_equal(parse(&m, &info), -HV_ENODEV);
    assert_int_equal(info->cpu_count, 0);
    assert_false(info->has_legacy_pics);
    free(info);
    free(m.buf);
}

static void test_more_cpus_than_max(void **state)
{
    (void)state;
    struct madt m;
    struct madt_info *info;
    madt_begin(&m, 44 + 300 * 16, 1);
    for (uint32_t i = 0; i < 300; i++)
        madt_x2apic(&m, 0x100 + i, 1, 1000 + i);
    madt_finish(&m);
    assert_int_equal(parse(&m, &info), 0);
    assert_int_equal(info->cpu_count, MAX_CPUS);
    assert_int_equal(info->cpus_dropped, 300 - MAX_CPUS);
    /* The first MAX_CPUS are kept, in table order, with their UIDs. */
    assert_int_equal(info->cpus[0].apic_id, 0x100);
    assert_int_equal(info->cpus[0].acpi_uid, 1000);
    assert_int_equal(info->cpus[MAX_CPUS - 1].apic_id, 0x100 + MAX_CPUS - 1);
    assert_int_equal(info->cpus[MAX_CPUS - 1].acpi_uid, 1000 + MAX_CPUS - 1);
    free(info);
    free(m.buf);
}

static void test_disabled_and_online_capable(void **state)
{
    (void)state;
    struct madt m;
    struct madt_info *info;
    madt_begin(&m, 256, 1);
    madt_lapic(&m, 0, 0, 1);      /* enabled */
    madt_lapic(&m, 1, 1, 0);      /* disabled, not hot-pluggable: skipped */
    madt_lapic(&m, 2, 2, 2);      /* online capable: can be started */
    madt_x2apic(&m, 300, 0, 3);   /* disabled x2APIC: skipped */
    madt_x2apic(&m, 301, 2, 4);   /* online-capable x2APIC */
    madt_finish(&m);
    assert_int_equal(parse(&m, &info), 0);
    assert_int_equal(info->cpu_count, 3);
    assert_int_equal(info->cpus[0].apic_id, 0);
    assert_int_equal(info->cpus[1].apic_id, 2);
    assert_int_equal(info->cpus[1].acpi_uid, 2);
    assert_int_equal(info->cpus[2].apic_id, 301);
    assert_int_equal(info->cpus[2].acpi_uid, 4);
    free(info);
    free(m.buf);
}

static void test_duplicate_apic_ids(void **state)
{
    (void)state;
    struct madt m;
    struct madt_info *info;
    madt_begin(&m, 256, 1);
    /* Firmware may list a CPU both as xAPIC and x2APIC, or twice. */
    madt_lapic(&m, 0, 0, 1);
    madt_lapic(&m, 1, 1, 1);
    madt_x2apic(&m, 1, 1, 1);
    madt_lapic(&m, 0, 0, 1);
    madt_x2apic(&m, 7, 1, 2);
    madt_finish(&m);
    assert_int_equal(parse(&m, &info), 0);
    assert_int_equal(info->cpu_count, 3);
    assert_int_equal(info->cpus[0].apic_id, 0);
    assert_int_equal(info->cpus[1].apic_id, 1);
    assert_int_equal(info->cpus[2].apic_id, 7);
    free(info);
    free(m.buf);
}

static void test_lapic_address_override(void **state)
{
    (void)state;
    struct madt m;
    struct madt_info *info;
    madt_begin(&m, 256, 0);
    madt_lapic(&m, 0, 0, 1);
    uint8_t *e = madt_entry(&m, 5, 12);
    put64(e + 4, 0x1234567000ull);
    madt_lapic(&m, 1, 1, 1);
    madt_finish(&m);
    assert_int_equal(parse(&m, &info), 0);
    assert_int_equal(info->lapic_address, 0x1234567000ull);
    assert_int_equal(info->cpu_count, 2);
    free(info);
    free(m.buf);
}

/* The first IOAPIC is kept; an override of IRQ 4 moves COM1 with its
 * flags, overrides of other IRQs or buses do not. */
static void test_ioapic_and_com1_override(void **state)
{
    (void)state;
    struct madt m;
    struct madt_info *info;
    madt_begin(&m, 256, 0);
    madt_lapic(&m, 0, 0, 1);
    uint8_t *e = madt_entry(&m, 1, 12);
    e[2] = 7;
    put32(e + 4, 0xfec01000);
    put32(e + 8, 0);
    e = madt_entry(&m, 1, 12);
    put32(e + 4, 0xfec02000);
    put32(e + 8, 24);
    e = madt_entry(&m, 2, 10);
    e[2] = 0, e[3] = 0;
    put32(e + 4, 2);
    e = madt_entry(&m, 2, 10);
    e[2] = 1, e[3] = 4;           /* not the ISA bus */
    put32(e + 4, 30);
    e = madt_entry(&m, 2, 10);
    e[2] = 0, e[3] = 4;
    put32(e + 4, 20);
    e[8] = 0x0f, e[9] = 0;        /* active low, level */
    madt_finish(&m);
    assert_int_equal(parse(&m, &info), 0);
    assert_int_equal(info->ioapic_address, 0xfec01000);
    assert_int_equal(info->ioapic_gsi_base, 0);
    assert_int_equal(info->com1_gsi, 20);
    assert_int_equal(info->com1_flags, 0x0f);
    free(info);
    free(m.buf);

    madt_begin(&m, 256, 0);
    madt_lapic(&m, 0, 0, 1);
    madt_finish(&m);
    assert_int_equal(parse(&m, &info), 0);
    assert_int_equal(info->ioapic_address, 0);
    assert_int_equal(info->com1_gsi, 4);
    free(info);
    free(m.buf);
}

static void test_unknown_entries_skipped(void **state)
{
    (void)state;
    struct madt m;
    struct madt_info *info;
    madt_begin(&m, 256, 0);
    madt_entry(&m, 0x7f, 5);  /* an odd-length type we do not know */
    madt_lapic(&m, 0, 3, 1);
    madt_entry(&m, 4, 6);     /* local APIC NMI */
    madt_finish(&m);
    assert_int_equal(parse(&m, &info), 0);
    assert_int_equal(info->cpu_count, 1);
    assert_int_equal(info->cpus[0].apic_id, 3);
    free(info);
    free(m.buf);
}

/* Builds a one-CPU MADT, applies `damage` and expects -HV_EINVAL. */
static void expect_invalid(void (*damage)(struct madt *m))
{
    struct madt m;
    struct madt_info *info;
    madt_begin(&m, 256, 0);
    madt_lapic(&m, 0, 0, 1);
    damage(&m);
    assert_int_equal(parse(&m, &info), -HV_EINVAL);
    free(info);
    free(m.buf);
}

static void bad_checksum(struct madt *m)
{
    madt_finish(m);
    m->buf[9]++;
}

static void bad_signature(struct madt *m)
{
    memcpy(m->buf, "APIX", 4);
    madt_finish(m);
}

static void zero_length_entry(struct madt *m)
{
    madt_entry(m, 1, 0);
    m->len += 10; /* room a zero-length entry would loop on forever */
    madt_finish(m);
}

static void entry_past_end(struct madt *m)
{
    uint8_t *e = madt_entry(m, 0, 8);
    e[3] = 1;
    put32(e + 4, 1);
    e[1] = 16; /* claims 8 bytes more than the table holds */
    madt_finish(m);
}

static void declared_too_short(struct madt *m)
{
    madt_finish(m);
    put32(m->buf + 4, 40); /* below the fixed header */
}

static void test_malformed_tables(void **state)
{
    (void)state;
    expect_invalid(bad_checksum);
    expect_invalid(bad_signature);
    expect_invalid(zero_length_entry);
    expect_invalid(entry_past_end);
    expect_invalid(declared_too_short);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_qemu_q35),
        cmocka_unit_test(test_capture_qemu_pc),
        cmocka_unit_test(test_capture_bochs),
        cmocka_unit_test(test_capture_truncated),
        cmocka_unit_test(test_no_cpus),
        cmocka_unit_test(test_more_cpus_than_max),
        cmocka_unit_test(test_disabled_and_online_capable),
        cmocka_unit_test(test_duplicate_apic_ids),
        cmocka_unit_test(test_lapic_address_override),
        cmocka_unit_test(test_ioapic_and_com1_override),
        cmocka_unit_test(test_unknown_entries_skipped),
        cmocka_unit_test(test_malformed_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
