/* The hypervisor's physical memory: the global frame allocator, a page
 * supplier for object caches, and helpers to get zeroed pages. Physical
 * addresses equal virtual ones in the hypervisor (identity map). */
#ifndef HV_MEMORY_H
#define HV_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "hv/boot_info.h"
#include "hv/frame_alloc.h"
#include "hv/object_alloc.h"

extern struct frame_allocator frames;
extern const struct page_supplier hv_pages;

/* Builds the allocator from the memory map, keeping `reserved` taken.
 * Returns 0 or -HV_ENOMEM when no place for the bitmap exists. */
int memory_init(const struct boot_info *boot, const struct phys_range *reserved,
                unsigned reserved_count);

/* Zeroed, naturally aligned run of `count` frames below `limit` (0 = any);
 * returns physical address or FRAME_NONE. */
uint64_t pages_alloc_zeroed(uint64_t count, uint64_t limit);
void pages_free(uint64_t phys, uint64_t count);

static inline void *phys_to_virt(uint64_t phys) { return (void *)(uintptr_t)phys; }
static inline uint64_t virt_to_phys(const void *p) { return (uint64_t)(uintptr_t)p; }

void memory_zero(void *p, size_t n);
void memory_fill(void *p, uint8_t value, size_t n);
void memory_copy(void *dst, const void *src, size_t n);

#endif
