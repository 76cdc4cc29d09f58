/*
 * The multiboot1 information block a loader hands the kernel in EBX
 * (Multiboot 0.6.96, 3.3), written into guest RAM: the structure, the
 * command line, the memory map (from e820.h) and the boot modules with
 * their command lines, then the modules' contents, each page aligned.
 *
 * multiboot_info_write() lays everything out from `info_address` (page
 * aligned, in RAM below 4 GiB; from 1 MiB instead when asked for below 1
 * MiB and not all of it fits below 640 KiB, the map's conventional
 * memory): the structure first, the strings, map and
 * module list after it, the modules from the next page boundary on. It
 * checks that all of it fits below `layout->ram_below_4g` before it writes
 * a byte. Pure: it touches only `ram` (guest-physical 0 in the caller's
 * memory); no locking.
 */
#ifndef GUEST_TOOLS_VMM_MULTIBOOT_INFO_H
#define GUEST_TOOLS_VMM_MULTIBOOT_INFO_H

#include <stdint.h>

#define MULTIBOOT_LOW_MEMORY_KIB 640   /* mem_lower: conventional memory */

struct multiboot_module_image {
    const void *data;
    uint64_t size;
    const char *cmdline;     /* passed to the kernel with the module */
};

/* Where the loader put things, for its report. */
struct multiboot_info_result {
    uint64_t info_address;   /* the structure's (EBX): at 1 MiB when what
                                was asked for below it would reach past
                                640 KiB */
    uint64_t modules_start;  /* first module's address (= end if none) */
    uint64_t end;            /* first byte after everything written */
};

/* Returns 0, or -HV_ERANGE when the block or the modules do not fit below
 * ram_below_4g (nothing written then). */
int multiboot_info_write(uint8_t *ram, uint64_t ram_below_4g, uint64_t ram_above_4g,
                         uint64_t info_address, const char *cmdline,
                         const struct multiboot_module_image *modules, unsigned module_count,
                         struct multiboot_info_result *result);

#endif
