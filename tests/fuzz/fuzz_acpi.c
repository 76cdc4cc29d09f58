// sources: hv/acpi.c
/* ACPI discovery and the MADT: the RSDP (first bytes of the input), the
 * RSDT/XSDT it points at and every table they list, then the MADT's
 * entries. Physical addresses wrap around the input (address modulo its
 * size), so that any pointer the fuzzer writes lands in its bytes; a range
 * that would run past the end is refused. */
#include "tests/fuzz/fuzz_input.h"

#include "hv/acpi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct memory {
    const uint8_t *bytes;
    size_t size;
};

static const void *map(uint64_t phys, size_t len, void *ctx)
{
    const struct memory *m = ctx;

    if (m->size == 0)
        return NULL;
    uint64_t at = phys % m->size;
    if (len > m->size - at)
        return NULL;
    return m->bytes + at;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size + 1);
    struct memory m = { copy, size };
    static struct acpi_tables tables;
    static struct madt_info madt;

    memcpy(copy, data, size);
    if (size >= 36 && acpi_rsdp_valid(copy, size) &&
        acpi_walk(copy, map, &m, &tables) == 0) {
        fuzz_check(tables.count <= ACPI_MAX_TABLES);
        const struct acpi_table_ref *ref = acpi_find(&tables, "APIC");
        if (ref) {
            const void *table = map(ref->phys, ref->length, &m);
            if (table && madt_parse(table, ref->length, &madt) == 0)
                fuzz_check(madt.cpu_count <= MAX_CPUS);
        }
    }
    /* The MADT parser on its own, on the whole input. */
    if (madt_parse(copy, size, &madt) == 0)
        fuzz_check(madt.cpu_count <= MAX_CPUS);
    acpi_find_rsdp_bios(map, &m);
    free(copy);
    return 0;
}
