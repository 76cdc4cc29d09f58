/* The hypervisor's own address space: an identity map of all physical
 * memory with W^X on the hypervisor image (text RX, rodata R, data RW) and
 * everything else non-executable, except the AP trampoline page. */
#ifndef MMU_HOST_MAP_H
#define MMU_HOST_MAP_H

#include <stdint.h>

#include "hv/boot_info.h"

/* Builds the map and loads it into CR3 of the calling CPU. Returns the PML4's
 * physical address (for the APs) or 0 when out of memory. */
uint64_t host_map_build(const struct boot_info *boot, uint64_t trampoline_page);

#endif
