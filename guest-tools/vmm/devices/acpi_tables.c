/*
 * ACPI table builder (see acpi_tables.h). Every table is written byte by
 * byte at the offsets ACPI 6.0 gives (named in the header), little endian
 * whatever the host, so no struct layout or packing is involved; the
 * _Static_asserts below check that each offset follows from the sizes of
 * the fields before it.
 */
#include "guest-tools/vmm/devices/acpi_tables.h"

#include "abi/hv_errno.h"

_Static_assert(ACPI_FADT_X_DSDT == ACPI_FADT_X_FIRMWARE_CTRL + 8, "FADT layout");
_Static_assert(ACPI_FADT_X_PM1A_EVT_BLK == ACPI_FADT_X_DSDT + 8, "FADT layout");
_Static_assert(ACPI_FADT_X_PM_TMR_BLK == ACPI_FADT_X_PM1A_EVT_BLK + 5 * ACPI_GAS_SIZE, "FADT layout");
_Static_assert(ACPI_FADT_SLEEP_STATUS_REG == ACPI_FADT_X_PM_TMR_BLK + 4 * ACPI_GAS_SIZE, "FADT layout");
_Static_assert(ACPI_FADT_SIZE == ACPI_FADT_HYPERVISOR_VENDOR + 8, "FADT layout");
_Static_assert(ACPI_FADT_RESET_VALUE == ACPI_FADT_RESET_REG + ACPI_GAS_SIZE, "FADT layout");
_Static_assert(ACPI_FADT_PM_TMR_BLK == ACPI_FADT_PM1A_EVT_BLK + 5 * 4, "FADT layout");
_Static_assert(ACPI_FADT_PM1_EVT_LEN == ACPI_FADT_GPE0_BLK + 2 * 4, "FADT layout");

static const char oem_id[6] = { 'H', 'V', 'V', 'M', 'M', ' ' };
static const char oem_table_id[8] = { 'H', 'V', 'V', 'M', 'M', 'P', 'C', ' ' };
static const char creator_id[4] = { 'H', 'V', 'M', 'M' };

#define XSDT_ENTRIES 2 /* FADT, MADT; the FADT points at FACS and DSDT */
#define FADT_REVISION 6
#define FADT_MINOR_VERSION 0
#define MADT_REVISION 4 /* ACPI 6.0 errata A */
#define DSDT_REVISION 2 /* 64-bit AML integers */
#define FACS_VERSION 2
#define RSDP_REVISION 2
#define LINT1 1

/* C2 and C3 latencies above 100 and 1000 us say the states do not exist. */
#define NO_C2_LATENCY 0x0fff
#define NO_C3_LATENCY 0x0fff

/* DSDT body: Name (\_S5, Package (4) { t, t, 0, 0 }), t patched in. A
 * package length byte counts itself, the element count and the elements. */
#define S5_SLEEP_TYPE_A 10
#define S5_SLEEP_TYPE_B 12
static const uint8_t dsdt_s5_aml[] = {
    0x08,                         /* NameOp */
    '\\', '_', 'S', '5', '_',     /* root-relative NameSeg */
    0x12, 0x0a, 0x04,             /* PackageOp, PkgLength 10, 4 elements */
    0x0a, 0x00,                   /* BytePrefix: SLP_TYP for PM1a_CNT */
    0x0a, 0x00,                   /* BytePrefix: SLP_TYP for PM1b_CNT */
    0x0a, 0x00,                   /* reserved */
    0x0a, 0x00,                   /* reserved */
};

static void put8(uint8_t *table, uint32_t offset, uint8_t value)
{
    table[offset] = value;
}

static void put16(uint8_t *table, uint32_t offset, uint16_t value)
{
    table[offset] = (uint8_t)value;
    table[offset + 1] = (uint8_t)(value >> 8);
}

static void put32(uint8_t *table, uint32_t offset, uint32_t value)
{
    put16(table, offset, (uint16_t)value);
    put16(table, offset + 2, (uint16_t)(value >> 16));
}

static void put64(uint8_t *table, uint32_t offset, uint64_t value)
{
    put32(table, offset, (uint32_t)value);
    put32(table, offset + 4, (uint32_t)(value >> 32));
}

static void put_bytes(uint8_t *table, uint32_t offset, const void *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        table[offset + i] = ((const uint8_t *)bytes)[i];
}

static void zero(uint8_t *table, uint32_t length)
{
    for (uint32_t i = 0; i < length; i++)
        table[i] = 0;
}

/* The byte that makes the `length` bytes at `table` sum to zero. */
static uint8_t checksum_of(const uint8_t *table, uint32_t length)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < length; i++)
        sum += table[i];
    return (uint8_t)(0 - sum);
}

/* An I/O-port Generic Address Structure; a zero port writes an all-zero
 * GAS, which means "not present". */
static void put_io_gas(uint8_t *table, uint32_t offset, uint16_t port, uint8_t bytes,
                       uint8_t access_size)
{
    if (!port)
        return;
    put8(table, offset, ACPI_GAS_SYSTEM_IO);
    put8(table, offset + 1, (uint8_t)(bytes * 8)); /* register bit width */
    put8(table, offset + 2, 0);                    /* bit offset */
    put8(table, offset + 3, access_size);
    put64(table, offset + 4, port);
}

/* Zeroes the table and writes the standard header; the checksum comes
 * last, once the body is written (finish_table). */
static void start_table(uint8_t *table, const char signature[4], uint32_t length,
                        uint8_t revision)
{
    zero(table, length);
    put_bytes(table, 0, signature, 4);
    put32(table, 4, length);
    put8(table, 8, revision);
    put_bytes(table, 10, oem_id, sizeof(oem_id));
    put_bytes(table, 16, oem_table_id, sizeof(oem_table_id));
    put32(table, 24, 1);                           /* OEM revision */
    put_bytes(table, 28, creator_id, sizeof(creator_id));
    put32(table, 32, 1);                           /* creator revision */
}

static void finish_table(uint8_t *table, uint32_t length)
{
    table[ACPI_HEADER_CHECKSUM] = checksum_of(table, length);
}

static uint32_t madt_size(unsigned cpu_count)
{
    return ACPI_MADT_ENTRIES + cpu_count * ACPI_MADT_LOCAL_APIC_SIZE + ACPI_MADT_IOAPIC_SIZE +
           2 * ACPI_MADT_INTERRUPT_OVERRIDE_SIZE + ACPI_MADT_LOCAL_APIC_NMI_SIZE;
}

static uint32_t put_override(uint8_t *madt, uint32_t offset, uint8_t isa_irq, uint32_t gsi,
                             uint16_t flags)
{
    put8(madt, offset, ACPI_MADT_TYPE_INTERRUPT_OVERRIDE);
    put8(madt, offset + 1, ACPI_MADT_INTERRUPT_OVERRIDE_SIZE);
    put8(madt, offset + 2, 0);                     /* bus: ISA */
    put8(madt, offset + 3, isa_irq);
    put32(madt, offset + 4, gsi);
    put16(madt, offset + 8, flags);
    return offset + ACPI_MADT_INTERRUPT_OVERRIDE_SIZE;
}

static void write_madt(uint8_t *madt, const struct acpi_platform *platform)
{
    uint32_t length = madt_size(platform->cpu_count);
    start_table(madt, "APIC", length, MADT_REVISION);
    put32(madt, ACPI_MADT_LOCAL_APIC_ADDRESS, platform->local_apic_address);
    put32(madt, ACPI_MADT_FLAGS, platform->has_legacy_pics ? ACPI_MADT_PCAT_COMPAT : 0);

    uint32_t offset = ACPI_MADT_ENTRIES;
    for (unsigned cpu = 0; cpu < platform->cpu_count; cpu++) {
        put8(madt, offset, ACPI_MADT_TYPE_LOCAL_APIC);
        put8(madt, offset + 1, ACPI_MADT_LOCAL_APIC_SIZE);
        put8(madt, offset + 2, (uint8_t)cpu);      /* ACPI processor UID */
        put8(madt, offset + 3, platform->apic_ids[cpu]);
        put32(madt, offset + 4, ACPI_MADT_ENABLED);
        offset += ACPI_MADT_LOCAL_APIC_SIZE;
    }

    put8(madt, offset, ACPI_MADT_TYPE_IOAPIC);
    put8(madt, offset + 1, ACPI_MADT_IOAPIC_SIZE);
    put8(madt, offset + 2, platform->ioapic_id);
    put32(madt, offset + 4, platform->ioapic_address);
    put32(madt, offset + 8, platform->ioapic_gsi_base);
    offset += ACPI_MADT_IOAPIC_SIZE;

    /* The PIT's IRQ 0 is wired to IOAPIC pin 2 on a PC (pin 0 carries the
     * 8259's ExtINT); the SCI is a shared level interrupt, active high. */
    offset = put_override(madt, offset, 0, platform->ioapic_gsi_base + 2, 0);
    offset = put_override(madt, offset, platform->sci_irq,
                          platform->ioapic_gsi_base + platform->sci_irq,
                          ACPI_MPS_ACTIVE_HIGH | ACPI_MPS_LEVEL);

    /* Every local APIC has its LINT1 wired to NMI. */
    put8(madt, offset, ACPI_MADT_TYPE_LOCAL_APIC_NMI);
    put8(madt, offset + 1, ACPI_MADT_LOCAL_APIC_NMI_SIZE);
    put8(madt, offset + 2, ACPI_MADT_ALL_PROCESSORS);
    put16(madt, offset + 3, 0);                    /* flags: conforms to the bus */
    put8(madt, offset + 5, LINT1);
    finish_table(madt, length);
}

static void write_fadt(uint8_t *fadt, const struct acpi_platform *platform,
                       uint32_t facs_address, uint32_t dsdt_address)
{
    start_table(fadt, "FACP", ACPI_FADT_SIZE, FADT_REVISION);
    /* The FACS lies below 4 GiB: its 32-bit field is used and
     * X_FIRMWARE_CTRL must then be zero. The DSDT gets both. */
    put32(fadt, ACPI_FADT_FIRMWARE_CTRL, facs_address);
    put32(fadt, ACPI_FADT_DSDT, dsdt_address);
    put64(fadt, ACPI_FADT_X_DSDT, dsdt_address);
    put16(fadt, ACPI_FADT_SCI_INT, platform->sci_irq);
    /* SMI_CMD, ACPI_ENABLE, ACPI_DISABLE stay 0: no SMM, always in ACPI mode. */

    put32(fadt, ACPI_FADT_PM1A_EVT_BLK, platform->pm1a_event_port);
    put32(fadt, ACPI_FADT_PM1A_CNT_BLK, platform->pm1a_control_port);
    put32(fadt, ACPI_FADT_PM_TMR_BLK, platform->pm_timer_port);
    put8(fadt, ACPI_FADT_PM1_EVT_LEN, 4);
    put8(fadt, ACPI_FADT_PM1_CNT_LEN, 2);
    put8(fadt, ACPI_FADT_PM_TMR_LEN, platform->pm_timer_port ? 4 : 0);
    put_io_gas(fadt, ACPI_FADT_X_PM1A_EVT_BLK, platform->pm1a_event_port, 4, 0);
    put_io_gas(fadt, ACPI_FADT_X_PM1A_CNT_BLK, platform->pm1a_control_port, 2, 0);
    put_io_gas(fadt, ACPI_FADT_X_PM_TMR_BLK, platform->pm_timer_port, 4, 0);

    put16(fadt, ACPI_FADT_P_LVL2_LAT, NO_C2_LATENCY);
    put16(fadt, ACPI_FADT_P_LVL3_LAT, NO_C3_LATENCY);
    put8(fadt, ACPI_FADT_CENTURY, platform->rtc_century_index);

    uint16_t boot_arch = ACPI_BOOT_ARCH_LEGACY_DEVICES;
    if (platform->has_i8042)
        boot_arch |= ACPI_BOOT_ARCH_8042;
    if (!platform->has_vga)
        boot_arch |= ACPI_BOOT_ARCH_VGA_NOT_PRESENT;
    put16(fadt, ACPI_FADT_IAPC_BOOT_ARCH, boot_arch);

    /* WBINVD works and C1 (HLT) exists; no fixed sleep button; a full
     * (not hardware-reduced) ACPI machine. */
    uint32_t flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON;
    if (platform->pm_timer_32bit)
        flags |= ACPI_FADT_TMR_VAL_EXT;
    if (platform->reset_port) {
        flags |= ACPI_FADT_RESET_REG_SUP;
        put_io_gas(fadt, ACPI_FADT_RESET_REG, platform->reset_port, 1, ACPI_GAS_ACCESS_BYTE);
        put8(fadt, ACPI_FADT_RESET_VALUE, platform->reset_value);
    }
    put32(fadt, ACPI_FADT_FLAGS, flags);
    put8(fadt, ACPI_FADT_MINOR_VERSION, FADT_MINOR_VERSION);
    finish_table(fadt, ACPI_FADT_SIZE);
}

static void write_facs(uint8_t *facs)
{
    zero(facs, ACPI_FACS_SIZE);
    put_bytes(facs, 0, "FACS", 4);
    put32(facs, 4, ACPI_FACS_SIZE);
    put8(facs, 32, FACS_VERSION);
    /* No checksum: the OS writes the FACS (waking vector, global lock). */
}

static uint32_t dsdt_size(void)
{
    return ACPI_HEADER_SIZE + sizeof(dsdt_s5_aml);
}

static void write_dsdt(uint8_t *dsdt, uint8_t s5_sleep_type)
{
    start_table(dsdt, "DSDT", dsdt_size(), DSDT_REVISION);
    put_bytes(dsdt, ACPI_HEADER_SIZE, dsdt_s5_aml, sizeof(dsdt_s5_aml));
    put8(dsdt, ACPI_HEADER_SIZE + S5_SLEEP_TYPE_A, s5_sleep_type);
    put8(dsdt, ACPI_HEADER_SIZE + S5_SLEEP_TYPE_B, s5_sleep_type);
    finish_table(dsdt, dsdt_size());
}

static void write_root_tables(uint8_t *xsdt, uint8_t *rsdt, const uint32_t *addresses)
{
    uint32_t xsdt_length = ACPI_HEADER_SIZE + XSDT_ENTRIES * 8;
    uint32_t rsdt_length = ACPI_HEADER_SIZE + XSDT_ENTRIES * 4;
    start_table(xsdt, "XSDT", xsdt_length, 1);
    start_table(rsdt, "RSDT", rsdt_length, 1);
    for (unsigned i = 0; i < XSDT_ENTRIES; i++) {
        put64(xsdt, ACPI_HEADER_SIZE + i * 8, addresses[i]);
        put32(rsdt, ACPI_HEADER_SIZE + i * 4, addresses[i]);
    }
    finish_table(xsdt, xsdt_length);
    finish_table(rsdt, rsdt_length);
}

static void write_rsdp(uint8_t *rsdp, uint32_t rsdt_address, uint32_t xsdt_address)
{
    zero(rsdp, ACPI_RSDP_SIZE);
    put_bytes(rsdp, 0, "RSD PTR ", 8);
    put_bytes(rsdp, 9, oem_id, sizeof(oem_id));
    put8(rsdp, ACPI_RSDP_REVISION, RSDP_REVISION);
    /* Both roots: ACPI 1.0 readers take the RSDT, the rest the XSDT. */
    put32(rsdp, ACPI_RSDP_RSDT_ADDRESS, rsdt_address);
    put32(rsdp, ACPI_RSDP_LENGTH, ACPI_RSDP_SIZE);
    put64(rsdp, ACPI_RSDP_XSDT_ADDRESS, xsdt_address);
    /* The first checksum covers the ACPI 1.0 part (20 bytes), the
     * extended one the whole structure including the first. */
    rsdp[ACPI_RSDP_CHECKSUM] = checksum_of(rsdp, 20);
    rsdp[ACPI_RSDP_EXTENDED_CHECKSUM] = checksum_of(rsdp, ACPI_RSDP_SIZE);
}

void acpi_platform_pc_defaults(struct acpi_platform *platform)
{
    platform->cpu_count = 0;
    platform->apic_ids = NULL;
    platform->local_apic_address = 0xfee00000u;
    platform->ioapic_address = 0xfec00000u;
    platform->ioapic_id = 0;
    platform->ioapic_gsi_base = 0;
    platform->sci_irq = ACPI_PC_SCI_IRQ;
    platform->pm1a_event_port = ACPI_PC_PM1A_EVENT_PORT;
    platform->pm1a_control_port = ACPI_PC_PM1A_CONTROL_PORT;
    platform->pm_timer_port = ACPI_PC_PM_TIMER_PORT;
    platform->pm_timer_32bit = false;
    platform->reset_port = ACPI_PC_RESET_PORT;
    platform->reset_value = ACPI_PC_RESET_VALUE;
    platform->s5_sleep_type = ACPI_PC_S5_SLEEP_TYPE;
    platform->rtc_century_index = ACPI_PC_RTC_CENTURY;
    platform->has_legacy_pics = true;
    platform->has_i8042 = true;
    platform->has_vga = false;
}

/* Everything the tables cannot express is refused here, before a byte is
 * written. */
static bool platform_valid(const struct acpi_platform *platform)
{
    if (!platform || !platform->apic_ids || platform->cpu_count == 0 ||
        platform->cpu_count > ACPI_TABLES_MAX_CPUS)
        return false;
    uint32_t seen[256 / 32] = { 0 };
    for (unsigned cpu = 0; cpu < platform->cpu_count; cpu++) {
        uint8_t id = platform->apic_ids[cpu];
        if (id == 0xff || ((seen[id / 32] >> (id % 32)) & 1))
            return false;
        seen[id / 32] |= 1u << (id % 32);
    }
    if (platform->sci_irq == 0 || platform->sci_irq == 2 || platform->sci_irq > 15)
        return false;
    if (platform->ioapic_gsi_base > UINT32_MAX - 16)
        return false;
    return platform->pm1a_event_port && platform->pm1a_control_port &&
           platform->s5_sleep_type <= 7;
}

static uint32_t align16(uint32_t offset)
{
    return (offset + 15) & ~15u;
}

int acpi_tables_build(void *buffer, size_t buffer_size, uint64_t buffer_address,
                      const struct acpi_platform *platform, struct acpi_tables_layout *layout)
{
    if (!buffer || !layout || !platform_valid(platform) ||
        buffer_address % ACPI_TABLES_ALIGNMENT)
        return -HV_EINVAL;

    /* RSDP first (the BIOS-area scan finds it at the buffer's start), the
     * FACS next on its 64-byte boundary, then the rest 16-byte aligned. */
    struct acpi_tables_layout at = { .rsdp_address = buffer_address };
    at.facs_offset = 64;
    at.xsdt_offset = at.facs_offset + ACPI_FACS_SIZE;
    at.rsdt_offset = align16(at.xsdt_offset + ACPI_HEADER_SIZE + XSDT_ENTRIES * 8);
    at.fadt_offset = align16(at.rsdt_offset + ACPI_HEADER_SIZE + XSDT_ENTRIES * 4);
    at.dsdt_offset = align16(at.fadt_offset + ACPI_FADT_SIZE);
    at.madt_offset = align16(at.dsdt_offset + dsdt_size());
    at.size = at.madt_offset + madt_size(platform->cpu_count);
    _Static_assert(64 >= ACPI_RSDP_SIZE, "RSDP overlaps the FACS");

    /* The RSDT, FIRMWARE_CTRL and DSDT fields hold 32-bit addresses. */
    if (buffer_address > UINT32_MAX || at.size > UINT32_MAX - buffer_address)
        return -HV_EINVAL;
    if (buffer_size < at.size)
        return -HV_ENOSPC;

    uint8_t *base = buffer;
    uint32_t address = (uint32_t)buffer_address;
    zero(base, at.size); /* the padding between tables too */
    write_facs(base + at.facs_offset);
    write_dsdt(base + at.dsdt_offset, platform->s5_sleep_type);
    write_madt(base + at.madt_offset, platform);
    write_fadt(base + at.fadt_offset, platform, address + at.facs_offset,
               address + at.dsdt_offset);
    const uint32_t root_entries[XSDT_ENTRIES] = { address + at.fadt_offset,
                                                  address + at.madt_offset };
    write_root_tables(base + at.xsdt_offset, base + at.rsdt_offset, root_entries);
    write_rsdp(base, address + at.rsdt_offset, address + at.xsdt_offset);
    *layout = at;
    return 0;
}
