/* ACPI table discovery (RSDP -> XSDT/RSDT -> MADT) and MADT parsing, to
 * enumerate the CPUs. Tables are untrusted: lengths and checksums are
 * verified and every read is bounded by the table's length. Host-testable:
 * physical memory is read through a phys_map_fn. */
#ifndef HV_ACPI_H
#define HV_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/multiboot.h"

#define MAX_CPUS 256

struct cpu_entry {
    uint32_t apic_id;
    uint32_t acpi_uid;
};

/* ISA IRQ of the first serial port (COM1) on every PC. */
#define MADT_COM1_IRQ 4

struct madt_info {
    uint64_t lapic_address;
    bool has_legacy_pics;
    /* The first IOAPIC (0: none listed) and the GSI and MPS INTI flags
     * (polarity bits 1:0, trigger bits 3:2; ACPI 6.x, 5.2.12.5) of COM1's
     * IRQ after any interrupt source override. */
    uint64_t ioapic_address;
    uint32_t ioapic_gsi_base;
    uint32_t com1_gsi;
    uint16_t com1_flags;
    unsigned cpu_count;
    unsigned cpus_dropped;      /* enabled CPUs beyond MAX_CPUS */
    struct cpu_entry cpus[MAX_CPUS];
};

/* A table found while walking, so the caller can keep its memory reserved. */
struct acpi_table_ref {
    char signature[5];
    uint64_t phys;
    uint32_t length;
};

#define ACPI_MAX_TABLES 64

struct acpi_tables {
    uint64_t rsdp_phys;          /* 0 when the RSDP came from the loader */
    uint8_t revision;
    unsigned count;
    struct acpi_table_ref tables[ACPI_MAX_TABLES]; /* [0] is XSDT/RSDT */
};

/* Returns true if `rsdp` (at least 20 bytes readable) is a valid RSDP. */
bool acpi_rsdp_valid(const void *rsdp, size_t available);

/* Finds the RSDP in the BIOS areas (EBDA and 0xE0000-0xFFFFF). Returns its
 * physical address or 0. */
uint64_t acpi_find_rsdp_bios(phys_map_fn map, void *ctx);

/* Walks RSDP -> XSDT (or RSDT) and records every table with a valid header.
 * Returns 0 or a negative error. */
int acpi_walk(const void *rsdp, phys_map_fn map, void *ctx,
              struct acpi_tables *out);

/* Finds a table by signature among those walked, or NULL. */
const struct acpi_table_ref *acpi_find(const struct acpi_tables *tables,
                                       const char *signature);

/* Parses a MADT image of `length` bytes. Returns 0, -HV_EINVAL for a
 * malformed table, or -HV_ENODEV when it lists no usable CPU. */
int madt_parse(const void *table, size_t length, struct madt_info *out);

#endif
