/* What the boot loader told us, in one loader-independent form. Filled by
 * hv/multiboot.c from a multiboot2 or multiboot1 information structure;
 * read-only after boot. */
#ifndef HV_BOOT_INFO_H
#define HV_BOOT_INFO_H

#include <stdint.h>

#define BOOT_MAX_MEMORY_RANGES 128
#define BOOT_MAX_MODULES       16

/* Memory types as multiboot2 and the e820 map number them. */
enum memory_type {
    MEMORY_USABLE = 1,
    MEMORY_RESERVED = 2,
    MEMORY_ACPI_RECLAIMABLE = 3,
    MEMORY_ACPI_NVS = 4,
    MEMORY_BAD = 5,
};

struct memory_range {
    uint64_t base;
    uint64_t length;
    uint32_t type;
};

struct boot_module {
    uint64_t start;      /* physical, inclusive */
    uint64_t end;        /* physical, exclusive */
    const char *cmdline; /* never NULL */
};

enum framebuffer_kind {
    FRAMEBUFFER_NONE = 0,
    FRAMEBUFFER_RGB = 1,
    FRAMEBUFFER_EGA_TEXT = 2,
};

struct boot_info {
    unsigned loader_version;   /* 1 or 2: which multiboot */
    const char *cmdline;       /* never NULL */
    const char *loader_name;   /* never NULL */
    uint64_t info_start;       /* the loader's structure, to keep it reserved */
    uint64_t info_end;
    struct memory_range memory[BOOT_MAX_MEMORY_RANGES];
    unsigned memory_count;
    unsigned memory_dropped;   /* entries beyond BOOT_MAX_MEMORY_RANGES */
    struct boot_module modules[BOOT_MAX_MODULES];
    unsigned module_count;
    unsigned modules_dropped;
    const void *rsdp;          /* copy of the ACPI RSDP from the loader, or NULL */
    struct {
        enum framebuffer_kind kind;
        uint64_t address;
        uint32_t pitch, width, height;
        uint8_t bpp;
    } framebuffer;
};

#endif
