// sources: guest-tools/vmm/devices/acpi_tables.c hv/acpi.c
/* Unit tests for the ACPI table builder (guest-tools/vmm/devices/
 * acpi_tables.c). The tables are built into a fake 1 MiB guest memory at
 * 0xe0000 and read back two ways: byte by byte at the offsets ACPI 6.0
 * gives, and through the hypervisor's own RSDP scan, table walk and MADT
 * parser (hv/acpi.c), which is how a guest OS will find them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "guest-tools/vmm/devices/acpi_tables.h"
#include "hv/acpi.h"

#define GUEST_SIZE 0x100000u
#define TABLES_AT 0xe0000u

static uint8_t guest[GUEST_SIZE];
static uint8_t apic_ids[ACPI_TABLES_MAX_CPUS];
static struct acpi_platform platform;
static struct acpi_tables_layout layout;

static const void *guest_map(uint64_t phys, size_t len, void *ctx)
{
    (void)ctx;
    if (phys > GUEST_SIZE || len > GUEST_SIZE - phys)
        return NULL;
    return guest + phys;
}

static int setup(void **state)
{
    (void)state;
    memset(guest, 0, sizeof(guest));
    memset(&layout, 0, sizeof(layout));
    acpi_platform_pc_defaults(&platform);
    for (unsigned i = 0; i < ACPI_TABLES_MAX_CPUS; i++)
        apic_ids[i] = (uint8_t)i;
    platform.cpu_count = 1;
    platform.apic_ids = apic_ids;
    return 0;
}

static int build(void)
{
    return acpi_tables_build(guest + TABLES_AT, GUEST_SIZE - TABLES_AT, TABLES_AT, &platform,
                             &layout);
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

static const uint8_t *table_at(uint32_t offset)
{
    return guest + TABLES_AT + offset;
}

/* A table's header says its signature and length and its bytes sum to 0. */
static void check_table(uint32_t offset, const char *signature, uint32_t length, uint8_t revision)
{
    const uint8_t *t = table_at(offset);
    assert_memory_equal(t, signature, 4);
    assert_int_equal(get32(t + 4), length);
    assert_int_equal(t[8], revision);
    assert_int_equal(sum(t, length), 0);
    assert_memory_equal(t + 10, "HVVMM ", 6);
}

static void check_all_checksums(void)
{
    const uint32_t offsets[] = { layout.xsdt_offset, layout.rsdt_offset, layout.fadt_offset,
                                 layout.dsdt_offset, layout.madt_offset };
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(sum(table_at(offsets[i]), get32(table_at(offsets[i]) + 4)), 0);
    assert_int_equal(sum(table_at(0), 20), 0);
    assert_int_equal(sum(table_at(0), 36), 0);
}

static void check_gas(const uint8_t *gas, uint8_t bit_width, uint8_t access_size, uint64_t port)
{
    assert_int_equal(gas[0], ACPI_GAS_SYSTEM_IO);
    assert_int_equal(gas[1], bit_width);
    assert_int_equal(gas[2], 0);
    assert_int_equal(gas[3], access_size);
    assert_int_equal(get64(gas + 4), port);
}

static void test_rsdp_and_root_tables(void **state)
{
    (void)state;
    assert_int_equal(build(), 0);
    assert_int_equal(layout.rsdp_address, TABLES_AT);
    const uint8_t *rsdp = table_at(0);
    assert_memory_equal(rsdp, "RSD PTR ", 8);
    assert_int_equal(rsdp[ACPI_RSDP_REVISION], 2);
    assert_int_equal(sum(rsdp, 20), 0);
    assert_int_equal(get32(rsdp + ACPI_RSDP_LENGTH), 36);
    assert_int_equal(sum(rsdp, 36), 0);
    assert_int_equal(get64(rsdp + ACPI_RSDP_XSDT_ADDRESS), TABLES_AT + layout.xsdt_offset);
    assert_int_equal(get32(rsdp + ACPI_RSDP_RSDT_ADDRESS), TABLES_AT + layout.rsdt_offset);

    check_table(layout.xsdt_offset, "XSDT", 36 + 2 * 8, 1);
    check_table(layout.rsdt_offset, "RSDT", 36 + 2 * 4, 1);
    const uint8_t *xsdt = table_at(layout.xsdt_offset), *rsdt = table_at(layout.rsdt_offset);
    assert_int_equal(get64(xsdt + 36), TABLES_AT + layout.fadt_offset);
    assert_int_equal(get64(xsdt + 44), TABLES_AT + layout.madt_offset);
    assert_int_equal(get32(rsdt + 36), TABLES_AT + layout.fadt_offset);
    assert_int_equal(get32(rsdt + 40), TABLES_AT + layout.madt_offset);

    /* The FACS: 64-byte aligned, no checksum. */
    assert_int_equal((TABLES_AT + layout.facs_offset) % 64, 0);
    assert_memory_equal(table_at(layout.facs_offset), "FACS", 4);
    assert_int_equal(get32(table_at(layout.facs_offset) + 4), 64);
    assert_int_equal(table_at(layout.facs_offset)[32], 2);

    /* No two tables overlap, all within the reported size. */
    uint32_t ends[][2] = {
        { 0, 36 }, { layout.facs_offset, 64 }, { layout.xsdt_offset, 52 },
        { layout.rsdt_offset, 44 }, { layout.fadt_offset, 276 },
        { layout.dsdt_offset, get32(table_at(layout.dsdt_offset) + 4) },
        { layout.madt_offset, get32(table_at(layout.madt_offset) + 4) },
    };
    for (unsigned i = 0; i < 7; i++) {
        assert_true(ends[i][0] + ends[i][1] <= layout.size);
        for (unsigned j = i + 1; j < 7; j++)
            assert_true(ends[i][0] + ends[i][1] <= ends[j][0]);
    }
    assert_int_equal(layout.madt_offset + get32(table_at(layout.madt_offset) + 4), layout.size);
    check_all_checksums();
}

static void test_found_by_bios_scan_and_walk(void **state)
{
    (void)state;
    platform.cpu_count = 4;
    assert_int_equal(build(), 0);
    assert_int_equal(acpi_find_rsdp_bios(guest_map, NULL), TABLES_AT);
    struct acpi_tables *tables = malloc(sizeof(*tables));
    assert_non_null(tables);
    assert_int_equal(acpi_walk(guest + TABLES_AT, guest_map, NULL, tables), 0);
    assert_int_equal(tables->revision, 2);
    assert_int_equal(tables->count, 3);
    assert_string_equal(tables->tables[0].signature, "XSDT");
    const struct acpi_table_ref *fadt = acpi_find(tables, "FACP");
    const struct acpi_table_ref *madt = acpi_find(tables, "APIC");
    assert_non_null(fadt);
    assert_non_null(madt);
    assert_int_equal(fadt->phys, TABLES_AT + layout.fadt_offset);
    assert_int_equal(fadt->length, ACPI_FADT_SIZE);
    assert_int_equal(madt->phys, TABLES_AT + layout.madt_offset);
    free(tables);
}

static void test_fadt_fields(void **state)
{
    (void)state;
    assert_int_equal(build(), 0);
    check_table(layout.fadt_offset, "FACP", 276, 6);
    const uint8_t *fadt = table_at(layout.fadt_offset);
    /* Offsets straight from ACPI 6.0 table 5-34, not from the header. */
    assert_int_equal(get32(fadt + 36), TABLES_AT + layout.facs_offset); /* FIRMWARE_CTRL */
    assert_int_equal(get64(fadt + 132), 0);                             /* X_FIRMWARE_CTRL */
    assert_int_equal(get32(fadt + 40), TABLES_AT + layout.dsdt_offset); /* DSDT */
    assert_int_equal(get64(fadt + 140), TABLES_AT + layout.dsdt_offset); /* X_DSDT */
    assert_int_equal(get16(fadt + 46), 9);         /* SCI_INT */
    assert_int_equal(get32(fadt + 48), 0);         /* SMI_CMD: no SMM */
    assert_int_equal(fadt[52] | fadt[53], 0);      /* ACPI_ENABLE/DISABLE */
    assert_int_equal(get32(fadt + 56), 0x600);     /* PM1a_EVT_BLK */
    assert_int_equal(get32(fadt + 60), 0);         /* PM1b_EVT_BLK */
    assert_int_equal(get32(fadt + 64), 0x604);     /* PM1a_CNT_BLK */
    assert_int_equal(get32(fadt + 68), 0);         /* PM1b_CNT_BLK */
    assert_int_equal(get32(fadt + 76), 0x608);     /* PM_TMR_BLK */
    assert_int_equal(get32(fadt + 80), 0);         /* GPE0_BLK */
    assert_int_equal(fadt[88], 4);                 /* PM1_EVT_LEN */
    assert_int_equal(fadt[89], 2);                 /* PM1_CNT_LEN */
    assert_int_equal(fadt[91], 4);                 /* PM_TMR_LEN */
    assert_int_equal(fadt[92], 0);                 /* GPE0_BLK_LEN */
    assert_true(get16(fadt + 96) > 100);           /* no C2 */
    assert_true(get16(fadt + 98) > 1000);          /* no C3 */
    assert_int_equal(fadt[108], 0x32);             /* CENTURY */
    assert_int_equal(get16(fadt + 109), 0x0007);   /* legacy devices, 8042, no VGA */
    uint32_t flags = get32(fadt + 112);
    assert_true(flags & (1u << 0));                /* WBINVD */
    assert_true(flags & (1u << 10));               /* RESET_REG_SUP */
    assert_false(flags & (1u << 20));              /* HW_REDUCED_ACPI */
    assert_false(flags & (1u << 8));               /* TMR_VAL_EXT: 24-bit timer */
    check_gas(fadt + 116, 8, 1, 0xcf9);            /* RESET_REG */
    assert_int_equal(fadt[128], 0x06);             /* RESET_VALUE */
    assert_int_equal(fadt[131], 0);                /* minor version: 6.0 */
    check_gas(fadt + 148, 32, 0, 0x600);           /* X_PM1a_EVT_BLK */
    check_gas(fadt + 172, 16, 0, 0x604);           /* X_PM1a_CNT_BLK */
    check_gas(fadt + 208, 32, 0, 0x608);           /* X_PM_TMR_BLK */
    /* PM1b, PM2, GPE0/1 and the sleep registers are absent. */
    for (unsigned offset = 160; offset < 208; offset++)
        if (offset < 172 || offset >= 184)
            assert_int_equal(fadt[offset], 0);
    for (unsigned offset = 220; offset < 276; offset++)
        assert_int_equal(fadt[offset], 0);
    /* The header's names agree with the spec's numbers. */
    assert_int_equal(ACPI_FADT_PM_TMR_BLK, 76);
    assert_int_equal(ACPI_FADT_X_PM_TMR_BLK, 208);
    assert_int_equal(ACPI_FADT_X_DSDT, 140);
    assert_int_equal(ACPI_FADT_FLAGS, 112);
    assert_int_equal(ACPI_FADT_RESET_REG, 116);
}

static void test_fadt_options(void **state)
{
    (void)state;
    platform.reset_port = 0;
    platform.pm_timer_32bit = true;
    platform.has_i8042 = false;
    platform.has_vga = true;
    platform.sci_irq = 11;
    assert_int_equal(build(), 0);
    check_table(layout.fadt_offset, "FACP", 276, 6);
    const uint8_t *fadt = table_at(layout.fadt_offset);
    uint32_t flags = get32(fadt + 112);
    assert_false(flags & ACPI_FADT_RESET_REG_SUP);
    assert_true(flags & ACPI_FADT_TMR_VAL_EXT);
    for (unsigned offset = 116; offset <= 128; offset++)
        assert_int_equal(fadt[offset], 0);
    assert_int_equal(get16(fadt + 109), ACPI_BOOT_ARCH_LEGACY_DEVICES);
    assert_int_equal(get16(fadt + 46), 11);
    /* Without a PM timer its fields are all zero. */
    platform.pm_timer_port = 0;
    assert_int_equal(build(), 0);
    fadt = table_at(layout.fadt_offset);
    assert_int_equal(get32(fadt + 76), 0);
    assert_int_equal(fadt[91], 0);
    for (unsigned offset = 208; offset < 220; offset++)
        assert_int_equal(fadt[offset], 0);
    assert_int_equal(sum(fadt, 276), 0);
}

static void test_dsdt_s5(void **state)
{
    (void)state;
    platform.s5_sleep_type = 5;
    assert_int_equal(build(), 0);
    const uint8_t *dsdt = table_at(layout.dsdt_offset);
    uint32_t length = get32(dsdt + 4);
    check_table(layout.dsdt_offset, "DSDT", length, 2);
    /* Name (\_S5_, Package (4) { 5, 5, 0, 0 }) in AML. */
    static const uint8_t expected[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x0a, 0x04,
                                        0x0a, 5, 0x0a, 5, 0x0a, 0, 0x0a, 0 };
    assert_int_equal(length, 36 + sizeof(expected));
    assert_memory_equal(dsdt + 36, expected, sizeof(expected));
    /* The package length covers exactly the rest of the table. */
    assert_int_equal(36 + 7 + dsdt[36 + 7], length);

    /* The PC default: PIIX4's soft-off, SLP_TYP 0. */
    acpi_platform_pc_defaults(&platform);
    platform.cpu_count = 1;
    platform.apic_ids = apic_ids;
    assert_int_equal(build(), 0);
    assert_int_equal(table_at(layout.dsdt_offset)[36 + 10], ACPI_PC_S5_SLEEP_TYPE);
    assert_int_equal(table_at(layout.dsdt_offset)[36 + 12], ACPI_PC_S5_SLEEP_TYPE);
}

/* Walks the MADT's entries checking each against the description. */
static void check_madt(unsigned cpus)
{
    const uint8_t *madt = table_at(layout.madt_offset);
    uint32_t length = 44 + 8 * cpus + 12 + 2 * 10 + 6;
    check_table(layout.madt_offset, "APIC", length, 4);
    assert_int_equal(get32(madt + 36), 0xfee00000);
    assert_int_equal(get32(madt + 40), 1); /* PCAT_COMPAT */

    const uint8_t *e = madt + 44;
    for (unsigned cpu = 0; cpu < cpus; cpu++, e += 8) {
        assert_int_equal(e[0], 0);
        assert_int_equal(e[1], 8);
        assert_int_equal(e[2], cpu);
        assert_int_equal(e[3], apic_ids[cpu]);
        assert_int_equal(get32(e + 4), 1);
    }
    assert_int_equal(e[0], 1);
    assert_int_equal(e[1], 12);
    assert_int_equal(e[2], platform.ioapic_id);
    assert_int_equal(e[3], 0);
    assert_int_equal(get32(e + 4), 0xfec00000);
    assert_int_equal(get32(e + 8), platform.ioapic_gsi_base);
    e += 12;
    /* IRQ 0 -> GSI 2, conforming; IRQ 9 -> GSI 9, level, active high. */
    static const uint8_t irq0[] = { 2, 10, 0, 0, 2, 0, 0, 0, 0x00, 0x00 };
    static const uint8_t irq9[] = { 2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0x00 };
    assert_memory_equal(e, irq0, 10);
    assert_memory_equal(e + 10, irq9, 10);
    e += 20;
    static const uint8_t nmi[] = { 4, 6, 0xff, 0, 0, 1 };
    assert_memory_equal(e, nmi, 6);
    assert_ptr_equal(e + 6, madt + length);

    /* And the hypervisor's parser agrees. */
    struct madt_info *info = malloc(sizeof(*info));
    assert_non_null(info);
    assert_int_equal(madt_parse(madt, length, info), 0);
    assert_int_equal(info->cpu_count, cpus);
    assert_int_equal(info->lapic_address, 0xfee00000);
    assert_true(info->has_legacy_pics);
    for (unsigned cpu = 0; cpu < cpus; cpu++) {
        assert_int_equal(info->cpus[cpu].apic_id, apic_ids[cpu]);
        assert_int_equal(info->cpus[cpu].acpi_uid, cpu);
    }
    free(info);
}

static void test_madt_cpu_counts(void **state)
{
    (void)state;
    const unsigned counts[] = { 1, 2, 4, 64 };
    for (unsigned i = 0; i < 4; i++) {
        memset(guest, 0, sizeof(guest));
        platform.cpu_count = counts[i];
        assert_int_equal(build(), 0);
        check_madt(counts[i]);
    }
    /* Sparse APIC IDs in any order, a second IOAPIC ID and GSI base. */
    const uint8_t sparse[] = { 6, 0, 254, 17 };
    memcpy(apic_ids, sparse, sizeof(sparse));
    platform.cpu_count = 4;
    platform.ioapic_id = 8;
    assert_int_equal(build(), 0);
    check_madt(4);
}

static void test_largest_fits_max_size(void **state)
{
    (void)state;
    static uint8_t buffer[ACPI_TABLES_MAX_SIZE];
    platform.cpu_count = ACPI_TABLES_MAX_CPUS;
    assert_int_equal(acpi_tables_build(buffer, sizeof(buffer), 0xe0000, &platform, &layout), 0);
    assert_true(layout.size <= ACPI_TABLES_MAX_SIZE);
    assert_int_equal(sum(buffer + layout.madt_offset, get32(buffer + layout.madt_offset + 4)), 0);
    /* One byte short: refused, nothing written. */
    uint32_t needed = layout.size;
    memset(buffer, 0x5a, sizeof(buffer));
    assert_int_equal(acpi_tables_build(buffer, needed - 1, 0xe0000, &platform, &layout), -HV_ENOSPC);
    for (unsigned i = 0; i < sizeof(buffer); i++)
        assert_int_equal(buffer[i], 0x5a);
    /* Exactly enough: accepted; bytes past it untouched. */
    assert_int_equal(acpi_tables_build(buffer, needed, 0xe0000, &platform, &layout), 0);
    assert_int_equal(buffer[needed], 0x5a);
}

static void test_refusals(void **state)
{
    (void)state;
    uint8_t buffer[ACPI_TABLES_MAX_SIZE];
    struct acpi_platform bad;
#define EXPECT_REFUSED(change)                                                                   \
    do {                                                                                         \
        bad = platform;                                                                          \
        change;                                                                                  \
        assert_int_equal(acpi_tables_build(buffer, sizeof(buffer), 0xe0000, &bad, &layout),     \
                         -HV_EINVAL);                                                            \
    } while (0)
    platform.cpu_count = 4;
    EXPECT_REFUSED(bad.cpu_count = 0);
    EXPECT_REFUSED(bad.cpu_count = 256);
    EXPECT_REFUSED(bad.apic_ids = NULL);
    EXPECT_REFUSED(apic_ids[3] = 0xff);
    apic_ids[3] = 3;
    EXPECT_REFUSED(apic_ids[3] = 1);
    apic_ids[3] = 3;
    EXPECT_REFUSED(bad.sci_irq = 0);
    EXPECT_REFUSED(bad.sci_irq = 2);
    EXPECT_REFUSED(bad.sci_irq = 16);
    EXPECT_REFUSED(bad.pm1a_event_port = 0);
    EXPECT_REFUSED(bad.pm1a_control_port = 0);
    EXPECT_REFUSED(bad.s5_sleep_type = 8);
    EXPECT_REFUSED(bad.ioapic_gsi_base = 0xfffffff8u);
#undef EXPECT_REFUSED
    assert_int_equal(acpi_tables_build(buffer, sizeof(buffer), 0xe0000, NULL, &layout), -HV_EINVAL);
    assert_int_equal(acpi_tables_build(NULL, sizeof(buffer), 0xe0000, &platform, &layout), -HV_EINVAL);
    assert_int_equal(acpi_tables_build(buffer, sizeof(buffer), 0xe0000, &platform, NULL), -HV_EINVAL);
    /* Not 64-byte aligned; not below 4 GiB. */
    assert_int_equal(acpi_tables_build(buffer, sizeof(buffer), 0xe0010, &platform, &layout), -HV_EINVAL);
    assert_int_equal(acpi_tables_build(buffer, sizeof(buffer), 0x100000000ull, &platform, &layout), -HV_EINVAL);
    assert_int_equal(acpi_tables_build(buffer, sizeof(buffer), 0xffffffc0ull, &platform, &layout), -HV_EINVAL);
    /* High but with every table below 4 GiB is fine. */
    assert_int_equal(acpi_tables_build(buffer, sizeof(buffer), 0xfffff000ull, &platform, &layout), 0);
    assert_int_equal(get64(buffer + ACPI_RSDP_XSDT_ADDRESS), 0xfffff000ull + layout.xsdt_offset);
}

static uint64_t rng_state;
static uint32_t next_random(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* Random descriptions: each one is refused or yields tables whose
 * checksums hold and which the hypervisor's walk and parser accept. */
static void test_random_descriptions(void **state)
{
    (void)state;
    rng_state = 0xac91ull;
    struct acpi_tables *tables = malloc(sizeof(*tables));
    struct madt_info *info = malloc(sizeof(*info));
    assert_non_null(tables);
    assert_non_null(info);
    unsigned built = 0;
    for (unsigned round = 0; round < 2000; round++) {
        uint8_t *raw = (uint8_t *)&platform;
        for (size_t i = 0; i < sizeof(platform); i++)
            raw[i] = (uint8_t)next_random();
        platform.apic_ids = apic_ids;
        platform.has_legacy_pics = next_random() & 1;
        platform.has_i8042 = next_random() & 1;
        platform.has_vga = next_random() & 1;
        platform.pm_timer_32bit = next_random() & 1;
        platform.cpu_count = next_random() % 300;
        platform.sci_irq = (uint8_t)(next_random() % 18);
        platform.s5_sleep_type = (uint8_t)(next_random() % 9);
        for (unsigned i = 0; i < ACPI_TABLES_MAX_CPUS; i++)
            apic_ids[i] = (uint8_t)(next_random() % 256 ? i : next_random());
        int result = build();
        if (result != 0) {
            assert_int_equal(result, -HV_EINVAL);
            continue;
        }
        built++;
        assert_int_equal(acpi_walk(guest + TABLES_AT, guest_map, NULL, tables), 0);
        assert_int_equal(tables->count, 3);
        int parsed = madt_parse(table_at(layout.madt_offset), layout.size - layout.madt_offset, info);
        assert_int_equal(parsed, 0);
        assert_int_equal(info->cpu_count, platform.cpu_count);
        check_all_checksums();
    }
    assert_true(built > 400);
    free(tables);
    free(info);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_rsdp_and_root_tables, setup),
        cmocka_unit_test_setup(test_found_by_bios_scan_and_walk, setup),
        cmocka_unit_test_setup(test_fadt_fields, setup),
        cmocka_unit_test_setup(test_fadt_options, setup),
        cmocka_unit_test_setup(test_dsdt_s5, setup),
        cmocka_unit_test_setup(test_madt_cpu_counts, setup),
        cmocka_unit_test_setup(test_largest_fits_max_size, setup),
        cmocka_unit_test_setup(test_refusals, setup),
        cmocka_unit_test_setup(test_random_descriptions, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
