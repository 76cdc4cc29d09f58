#include "hv/acpi.h"

#include "abi/hv_errno.h"

/* ACPI 6.x, 5.2: table header layout. */
#define SDT_HEADER_SIZE 36
#define MADT_ENTRIES_OFFSET 44

enum {
    MADT_LOCAL_APIC = 0,
    MADT_IO_APIC = 1,
    MADT_INTERRUPT_SOURCE_OVERRIDE = 2,
    MADT_LAPIC_ADDRESS_OVERRIDE = 5,
    MADT_LOCAL_X2APIC = 9,
};

#define MADT_CPU_ENABLED        (1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)
#define MADT_PCAT_COMPAT        (1u << 0)

static uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t load64(const uint8_t *p)
{
    return (uint64_t)load32(p) | (uint64_t)load32(p + 4) << 32;
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += p[i];
    return sum;
}

static bool same_signature(const uint8_t *p, const char *sig, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)sig[i])
            return false;
    return true;
}

bool acpi_rsdp_valid(const void *rsdp, size_t available)
{
    const uint8_t *p = rsdp;
    if (!p || available < 20 || !same_signature(p, "RSD PTR ", 8))
        return false;
    if (checksum(p, 20) != 0)
        return false;
    if (p[15] >= 2) {
        uint32_t length = load32(p + 20);
        if (length < 36 || length > available || checksum(p, length) != 0)
            return false;
    }
    return true;
}

static uint64_t scan_for_rsdp(uint64_t start, uint64_t length, phys_map_fn map,
                              void *ctx)
{
    const uint8_t *area = map(start, length, ctx);
    if (!area)
        return 0;
    /* A revision 0 RSDP is 20 bytes; acpi_rsdp_valid bounds longer ones. */
    for (uint64_t off = 0; off + 20 <= length; off += 16)
        if (acpi_rsdp_valid(area + off, length - off))
            return start + off;
    return 0;
}

uint64_t acpi_find_rsdp_bios(phys_map_fn map, void *ctx)
{
    /* The EBDA segment lives in the BIOS data area word at 0x40E. */
    const uint8_t *bda = map(0x40e, 2, ctx);
    if (bda) {
        uint64_t ebda = (uint64_t)(bda[0] | bda[1] << 8) << 4;
        if (ebda >= 0x80000 && ebda < 0xa0000) {
            uint64_t found = scan_for_rsdp(ebda, 1024, map, ctx);
            if (found)
                return found;
        }
    }
    return scan_for_rsdp(0xe0000, 0x20000, map, ctx);
}

/* Maps a whole table after checking its header; NULL if invalid. */
static const uint8_t *map_table(uint64_t phys, phys_map_fn map, void *ctx,
                                uint32_t *length_out)
{
    const uint8_t *header = map(phys, SDT_HEADER_SIZE, ctx);
    if (!header)
        return NULL;
    uint32_t length = load32(header + 4);
    if (length < SDT_HEADER_SIZE || length > (1u << 24))
        return NULL;
    const uint8_t *table = map(phys, length, ctx);
    if (!table || checksum(table, length) != 0)
        return NULL;
    *length_out = length;
    return table;
}

static void record(struct acpi_tables *out, const uint8_t *table,
                   uint64_t phys, uint32_t length)
{
    if (out->count == ACPI_MAX_TABLES)
        return;
    struct acpi_table_ref *ref = &out->tables[out->count++];
    for (int i = 0; i < 4; i++)
        ref->signature[i] = (char)table[i];
    ref->signature[4] = '\0';
    ref->phys = phys;
    ref->length = length;
}

int acpi_walk(const void *rsdp_ptr, phys_map_fn map, void *ctx,
              struct acpi_tables *out)
{
    const uint8_t *rsdp = rsdp_ptr;
    out->count = 0;
    if (!acpi_rsdp_valid(rsdp, rsdp && rsdp[15] >= 2 ? load32(rsdp + 20) : 20))
        return -HV_EINVAL;
    out->revision = rsdp[15];

    bool use_xsdt = rsdp[15] >= 2 && load64(rsdp + 24) != 0;
    uint64_t root_phys = use_xsdt ? load64(rsdp + 24) : load32(rsdp + 16);
    unsigned entry_size = use_xsdt ? 8 : 4;
    uint32_t root_length;
    const uint8_t *root = map_table(root_phys, map, ctx, &root_length);
    if (!root || !same_signature(root, use_xsdt ? "XSDT" : "RSDT", 4))
        return -HV_EINVAL;
    record(out, root, root_phys, root_length);

    for (uint32_t off = SDT_HEADER_SIZE; off + entry_size <= root_length;
         off += entry_size) {
        uint64_t phys = use_xsdt ? load64(root + off) : load32(root + off);
        uint32_t length;
        const uint8_t *table = map_table(phys, map, ctx, &length);
        if (table)
            record(out, table, phys, length);
    }
    return 0;
}

const struct acpi_table_ref *acpi_find(const struct acpi_tables *tables,
                                       const char *signature)
{
    for (unsigned i = 0; i < tables->count; i++)
        if (same_signature((const uint8_t *)tables->tables[i].signature,
                           signature, 4))
            return &tables->tables[i];
    return NULL;
}

static void add_cpu(struct madt_info *out, uint32_t apic_id, uint32_t uid,
                    uint32_t flags)
{
    if (!(flags & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE)))
        return;
    for (unsigned i = 0; i < out->cpu_count; i++)
        if (out->cpus[i].apic_id == apic_id)
            return; /* firmware listing a CPU twice (xAPIC and x2APIC) */
    if (out->cpu_count == MAX_CPUS) {
        out->cpus_dropped++;
        return;
    }
    out->cpus[out->cpu_count].apic_id = apic_id;
    out->cpus[out->cpu_count].acpi_uid = uid;
    out->cpu_count++;
}

int madt_parse(const void *table, size_t length, struct madt_info *out)
{
    const uint8_t *t = table;
    out->cpu_count = 0;
    out->cpus_dropped = 0;
    out->ioapic_address = 0;
    out->ioapic_gsi_base = 0;
    out->com1_gsi = MADT_COM1_IRQ; /* ISA IRQs are GSIs unless overridden */
    out->com1_flags = 0;
    if (!t || length < MADT_ENTRIES_OFFSET || !same_signature(t, "APIC", 4))
        return -HV_EINVAL;
    uint32_t declared = load32(t + 4);
    if (declared < MADT_ENTRIES_OFFSET || declared > length ||
        checksum(t, declared) != 0)
        return -HV_EINVAL;

    out->lapic_address = load32(t + 36);
    out->has_legacy_pics = load32(t + 40) & MADT_PCAT_COMPAT;

    for (uint32_t off = MADT_ENTRIES_OFFSET; off + 2 <= declared;) {
        uint8_t type = t[off];
        uint8_t len = t[off + 1];
        if (len < 2 || len > declared - off)
            return -HV_EINVAL;
        const uint8_t *e = t + off;
        if (type == MADT_LOCAL_APIC && len >= 8)
            add_cpu(out, e[3], e[2], load32(e + 4));
        else if (type == MADT_LOCAL_X2APIC && len >= 16)
            add_cpu(out, load32(e + 4), load32(e + 12), load32(e + 8));
        else if (type == MADT_IO_APIC && len >= 12 && !out->ioapic_address) {
            /* The first IOAPIC is the one with the ISA interrupts on
             * every PC firmware we know (GSI base 0). */
            out->ioapic_address = load32(e + 4);
            out->ioapic_gsi_base = load32(e + 8);
        } else if (type == MADT_INTERRUPT_SOURCE_OVERRIDE && len >= 10 &&
                   e[2] == 0 && e[3] == MADT_COM1_IRQ) {
            out->com1_gsi = load32(e + 4);
            out->com1_flags = (uint16_t)(e[8] | e[9] << 8);
        } else if (type == MADT_LAPIC_ADDRESS_OVERRIDE && len >= 12)
            out->lapic_address = load64(e + 4);
        off += len;
    }
    return out->cpu_count ? 0 : -HV_ENODEV;
}
