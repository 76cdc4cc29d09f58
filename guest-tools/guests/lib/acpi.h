/*
 * Reading the ACPI tables a PC's firmware (or the VMM) left in memory, as
 * an OS does without UEFI (ACPI 6.5 spec, 5.2): the RSDP from a scan of
 * the EBDA and 0xe0000-0xfffff, then the XSDT (or the RSDT), then tables
 * by signature. Paging is off, so a table is read where it lies; tables
 * above 4 GiB are treated as absent.
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_ACPI_H
#define GUEST_TOOLS_GUESTS_LIB_ACPI_H

#include <stdint.h>

struct acpi_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI 5.2.6");

struct acpi_rsdp {
    char signature[8];          /* "RSD PTR " */
    uint8_t checksum;           /* over the first 20 bytes */
    char oem_id[6];
    uint8_t revision;           /* 0: ACPI 1.0, RSDT only; 2: XSDT too */
    uint32_t rsdt_address;
    uint32_t length;            /* revision 2 from here on */
    uint64_t xsdt_address;
    uint8_t extended_checksum;  /* over `length` bytes */
    uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "ACPI 5.2.5.3");

/* FADT field offsets (ACPI 5.2.9, table 5.9). */
#define FADT_DSDT         40
#define FADT_SMI_CMD      48
#define FADT_ACPI_ENABLE  52
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK   76
#define FADT_FLAGS        112
#define FADT_X_DSDT       140
#define FADT_FLAG_TMR_VAL_EXT (1u << 8)   /* 32-bit PM timer */

/* What a MADT says (ACPI 5.2.12). */
struct madt_info {
    uint32_t processors;        /* enabled local APIC / x2APIC entries */
    uint32_t apic_ids[16];      /* the first 16 of them */
    uint32_t ioapic_address;    /* first I/O APIC, 0 if none */
    uint32_t ioapic_gsi_base;
    uint32_t isa_gsi[16];       /* ISA IRQ -> GSI after overrides */
    uint16_t isa_flags[16];     /* MPS INTI flags of each override, else 0 */
};

/* The RSDP, or 0 if no valid one is found. Validates both checksums. */
const struct acpi_rsdp *acpi_find_rsdp(void);
/* The XSDT if the RSDP has one, else the RSDT; 0 if none. */
const struct acpi_header *acpi_root_table(void);
/* The table with this signature ("APIC", "FACP", ...), 0 if absent.
 * "DSDT" is found through the FADT. */
const struct acpi_header *acpi_find_table(const char *signature);
/* Calls fn for every table the root table lists. */
void acpi_for_each_table(void (*fn)(const struct acpi_header *table, void *ctx), void *ctx);

int acpi_checksum_ok(const void *table, uint32_t length);
int acpi_table_ok(const struct acpi_header *table);  /* checksum and length */

uint32_t acpi_read32(const struct acpi_header *table, uint32_t offset);
uint8_t acpi_read8(const struct acpi_header *table, uint32_t offset);

/* Fills info from the MADT; returns 0, or -1 without a MADT. */
int acpi_parse_madt(struct madt_info *info);

/* SLP_TYPa of \_S5 from the DSDT, or -1 if not found. */
int acpi_s5_sleep_type(void);

#endif
