/*
 * Multiboot specification version 0.6.96 ("multiboot1"): the header a
 * kernel carries and the information structure a loader hands it. The
 * test guests' entry.S uses the header constants too, hence the
 * __ASSEMBLER__ guard around the C parts.
 */
#ifndef GUEST_TOOLS_VMM_MULTIBOOT_H
#define GUEST_TOOLS_VMM_MULTIBOOT_H

#define MULTIBOOT_HEADER_MAGIC      0x1BADB002 /* in the kernel image */
#define MULTIBOOT_BOOTLOADER_MAGIC  0x2BADB002 /* in EAX at entry */
#define MULTIBOOT_SEARCH_BYTES      8192       /* header lies within these */

/* Header flags 0-15 are requirements: a loader that cannot meet one must
 * refuse the kernel (spec 3.1.2). */
#define MULTIBOOT_HEADER_PAGE_ALIGN (1 << 0)  /* modules page aligned */
#define MULTIBOOT_HEADER_MEMORY     (1 << 1)  /* mem_* fields wanted */
#define MULTIBOOT_HEADER_VIDEO      (1 << 2)  /* video mode table wanted */
#define MULTIBOOT_HEADER_REQUIRED   0x0000ffff

/* Information flags: which fields of multiboot_info are valid (3.3). */
#define MULTIBOOT_INFO_MEMORY       (1 << 0)
#define MULTIBOOT_INFO_CMDLINE      (1 << 2)
#define MULTIBOOT_INFO_MODS         (1 << 3)
#define MULTIBOOT_INFO_MEM_MAP      (1 << 6)

/* Memory map entry types (3.3: 1 available RAM, anything else reserved;
 * the E820 numbers). */
#define MULTIBOOT_MEMORY_AVAILABLE  1

#ifndef __ASSEMBLER__
#include <stdint.h>

struct multiboot_header {
    uint32_t magic;
    uint32_t flags;
    uint32_t checksum;       /* magic + flags + checksum == 0 (mod 2^32) */
};

/* The information structure up to the memory map fields; a loader sets
 * only what flags announces, the rest stays zero. */
struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower;      /* KiB of memory from 0 (at most 640) */
    uint32_t mem_upper;      /* KiB of memory from 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;        /* physical address of a C string */
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
};
_Static_assert(sizeof(struct multiboot_info) == 52, "multiboot_info");

/* One memory map entry. `size` counts the bytes after itself (20), so a
 * reader steps by size + 4; the 64-bit fields are not 8-byte aligned. */
struct multiboot_mmap_entry {
    uint32_t size;
    uint64_t base_addr;
    uint64_t length;
    uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "multiboot_mmap_entry");

/* One boot module: [mod_start, mod_end) and its command line. */
struct multiboot_module {
    uint32_t mod_start;
    uint32_t mod_end;
    uint32_t cmdline;
    uint32_t reserved;       /* 0 */
};
_Static_assert(sizeof(struct multiboot_module) == 16, "multiboot_module");
#endif

#endif
