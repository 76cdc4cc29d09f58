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
#endif

#endif
