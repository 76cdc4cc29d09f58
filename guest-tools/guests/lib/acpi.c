/*
 * ACPI table discovery and the few parsers the PC guests need (acpi.h).
 */
#include "guest-tools/guests/lib/acpi.h"
#include "guest-tools/guests/lib/cpu.h"

#define EBDA_SEGMENT_POINTER 0x40e     /* BIOS data area word (ACPI 5.2.5.1) */
#define BIOS_AREA_START 0xe0000
#define BIOS_AREA_END   0x100000
#define MADT_ENTRIES    44             /* after the local APIC address and flags */
#define MADT_LOCAL_APIC  0
#define MADT_IOAPIC      1
#define MADT_OVERRIDE    2
#define MADT_LOCAL_X2APIC 9
#define MADT_ENABLED     1u            /* processor flags bit 0 */
#define AML_NAME_OP      0x08
#define AML_ROOT_CHAR    0x5c
#define AML_PACKAGE_OP   0x12
#define AML_ZERO_OP      0x00
#define AML_ONE_OP       0x01
#define AML_BYTE_PREFIX  0x0a

static int same4(const char *a, const char *b)
{
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

int acpi_checksum_ok(const void *table, uint32_t length)
{
    const volatile uint8_t *bytes = table;
    uint8_t sum = 0;

    for (uint32_t i = 0; i < length; i++)
        sum = (uint8_t)(sum + bytes[i]);
    return sum == 0;
}

int acpi_table_ok(const struct acpi_header *table)
{
    return table->length >= sizeof(*table) && acpi_checksum_ok(table, table->length);
}

uint32_t acpi_read32(const struct acpi_header *table, uint32_t offset)
{
    const volatile uint8_t *p = (const volatile uint8_t *)table + offset;

    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint8_t acpi_read8(const struct acpi_header *table, uint32_t offset)
{
    return ((const volatile uint8_t *)table)[offset];
}

static const struct acpi_rsdp *rsdp_at(uint32_t address)
{
    const struct acpi_rsdp *rsdp = (const struct acpi_rsdp *)(uintptr_t)address;
    const char *signature = "RSD PTR ";

    for (int i = 0; i < 8; i++)
        if (rsdp->signature[i] != signature[i])
            return 0;
    if (!acpi_checksum_ok(rsdp, 20))
        return 0;
    if (rsdp->revision >= 2 && !acpi_checksum_ok(rsdp, rsdp->length))
        return 0;
    return rsdp;
}

const struct acpi_rsdp *acpi_find_rsdp(void)
{
    uint32_t ebda = (uint32_t)*(const volatile uint16_t *)low_memory(EBDA_SEGMENT_POINTER) << 4;
    const struct acpi_rsdp *rsdp;

    /* The first KiB of the EBDA, then the BIOS read-only area, each on
     * 16-byte boundaries. */
    if (ebda >= 0x400 && ebda < 0xa0000)
        for (uint32_t a = ebda; a < ebda + 1024; a += 16)
            if ((rsdp = rsdp_at(a)) != 0)
                return rsdp;
    for (uint32_t a = BIOS_AREA_START; a < BIOS_AREA_END; a += 16)
        if ((rsdp = rsdp_at(a)) != 0)
            return rsdp;
    return 0;
}

static int use_xsdt(const struct acpi_rsdp *rsdp)
{
    return rsdp->revision >= 2 && rsdp->xsdt_address != 0 &&
           (rsdp->xsdt_address >> 32) == 0;
}

const struct acpi_header *acpi_root_table(void)
{
    const struct acpi_rsdp *rsdp = acpi_find_rsdp();

    if (rsdp == 0)
        return 0;
    if (use_xsdt(rsdp))
        return (const struct acpi_header *)(uintptr_t)(uint32_t)rsdp->xsdt_address;
    return (const struct acpi_header *)(uintptr_t)rsdp->rsdt_address;
}

void acpi_for_each_table(void (*fn)(const struct acpi_header *table, void *ctx), void *ctx)
{
    const struct acpi_header *root = acpi_root_table();
    uint32_t entry_size, count;

    if (root == 0)
        return;
    entry_size = same4(root->signature, "XSDT") ? 8 : 4;
    count = (root->length - sizeof(*root)) / entry_size;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t offset = sizeof(*root) + i * entry_size;

        if (entry_size == 8 && acpi_read32(root, offset + 4) != 0)
            continue;                       /* above 4 GiB: out of reach */
        fn((const struct acpi_header *)(uintptr_t)acpi_read32(root, offset), ctx);
    }
}

struct table_search {
    const char *signature;
    const struct acpi_header *found;
};

static void match_signature(const struct acpi_header *table, void *ctx)
{
    struct table_search *search = ctx;

    if (search->found == 0 && same4(table->signature, search->signature))
        search->found = table;
}

const struct acpi_header *acpi_find_table(const char *signature)
{
    struct table_search search = { signature, 0 };
    const struct acpi_header *fadt;

    if (!same4(signature, "DSDT")) {
        acpi_for_each_table(match_signature, &search);
        return search.found;
    }
    /* The DSDT is not in the root table: the FADT points at it, with a
     * 64-bit X_DSDT preferred where the FADT is long enough to have one. */
    fadt = acpi_find_table("FACP");
    if (fadt == 0)
        return 0;
    if (fadt->length >= FADT_X_DSDT + 8 && acpi_read32(fadt, FADT_X_DSDT) != 0 &&
        acpi_read32(fadt, FADT_X_DSDT + 4) == 0)
        return (const struct acpi_header *)(uintptr_t)acpi_read32(fadt, FADT_X_DSDT);
    return (const struct acpi_header *)(uintptr_t)acpi_read32(fadt, FADT_DSDT);
}

static void madt_add_processor(struct madt_info *info, uint32_t apic_id, uint32_t flags)
{
    if ((flags & MADT_ENABLED) == 0)
        return;
    if (info->processors < 16)
        info->apic_ids[info->processors] = apic_id;
    info->processors++;
}

int acpi_parse_madt(struct madt_info *info)
{
    const struct acpi_header *madt = acpi_find_table("APIC");
    uint32_t offset = MADT_ENTRIES;

    if (madt == 0)
        return -1;
    *info = (struct madt_info){ 0 };
    while (offset + 2 <= madt->length) {
        uint8_t type = acpi_read8(madt, offset), length = acpi_read8(madt, offset + 1);

        if (length < 2 || offset + length > madt->length)
            break;                          /* malformed: stop rather than loop */
        if (type == MADT_LOCAL_APIC && length >= 8)
            madt_add_processor(info, acpi_read8(madt, offset + 3), acpi_read32(madt, offset + 4));
        else if (type == MADT_LOCAL_X2APIC && length >= 16)
            madt_add_processor(info, acpi_read32(madt, offset + 4), acpi_read32(madt, offset + 8));
        else if (type == MADT_IOAPIC && length >= 12 && info->ioapic_address == 0) {
            info->ioapic_address = acpi_read32(madt, offset + 4);
            info->ioapic_gsi_base = acpi_read32(madt, offset + 8);
        }
        offset += length;
    }
    /* ISA IRQs map to the same GSI unless an override says otherwise. */
    for (uint32_t irq = 0; irq < 16; irq++)
        info->isa_gsi[irq] = irq;
    for (offset = MADT_ENTRIES; offset + 2 <= madt->length;) {
        uint8_t type = acpi_read8(madt, offset), length = acpi_read8(madt, offset + 1);
        uint8_t source = acpi_read8(madt, offset + 3);

        if (length < 2 || offset + length > madt->length)
            break;
        if (type == MADT_OVERRIDE && length >= 10 && source < 16) {
            info->isa_gsi[source] = acpi_read32(madt, offset + 4);
            info->isa_flags[source] = (uint16_t)(acpi_read8(madt, offset + 8) |
                                                 acpi_read8(madt, offset + 9) << 8);
        }
        offset += length;
    }
    return 0;
}

/* AML's small integer encodings (ACPI 20.2.3): enough for \_S5's values. */
static int aml_small_integer(const struct acpi_header *dsdt, uint32_t offset)
{
    uint8_t op = acpi_read8(dsdt, offset);

    if (op == AML_ZERO_OP)
        return 0;
    if (op == AML_ONE_OP)
        return 1;
    if (op == AML_BYTE_PREFIX)
        return acpi_read8(dsdt, offset + 1);
    return -1;
}

int acpi_s5_sleep_type(void)
{
    const struct acpi_header *dsdt = acpi_find_table("DSDT");

    if (dsdt == 0)
        return -1;
    /* Name (_S5, Package (n) { SLP_TYPa, SLP_TYPb, ... }): NameOp, the
     * name (maybe rooted), PackageOp, PkgLength, NumElements, elements. */
    for (uint32_t i = sizeof(*dsdt) + 1; i + 8 < dsdt->length; i++) {
        uint32_t name_op = acpi_read8(dsdt, i - 1) == AML_ROOT_CHAR ? i - 2 : i - 1;
        uint32_t p = i + 4;

        if (acpi_read8(dsdt, i) != '_' || acpi_read8(dsdt, i + 1) != 'S' ||
            acpi_read8(dsdt, i + 2) != '5' || acpi_read8(dsdt, i + 3) != '_')
            continue;
        if (acpi_read8(dsdt, name_op) != AML_NAME_OP || acpi_read8(dsdt, p) != AML_PACKAGE_OP)
            continue;
        p++;
        p += 1 + (acpi_read8(dsdt, p) >> 6);   /* PkgLength: lead byte + 0-3 more */
        p++;                                    /* NumElements */
        return aml_small_integer(dsdt, p);
    }
    return -1;
}
