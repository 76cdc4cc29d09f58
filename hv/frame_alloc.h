/* Physical frame allocator: one bit per 4 KiB frame below the highest usable
 * address. Built from the loader's memory map: usable ranges become free,
 * every other range and every range the caller reserves (hypervisor image,
 * modules, loader data, ACPI tables, low memory) stays taken, whatever order
 * or overlap the map has. Host-testable; the bitmap memory is supplied by the
 * caller.
 *
 * Locking: the allocator's own lock covers the bitmap and counters; callers
 * need no lock of their own. */
#ifndef HV_FRAME_ALLOC_H
#define HV_FRAME_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/boot_info.h"
#include "hv/spinlock.h"

#define FRAME_SIZE 4096ull
#define FRAME_NONE 0ull /* frame 0 is never handed out: always reserved */

struct phys_range {
    uint64_t base;
    uint64_t end; /* exclusive */
};

struct frame_allocator {
    struct spinlock lock;
    uint64_t *bitmap;     /* bit set = frame taken */
    uint64_t frame_count; /* frames covered by the bitmap */
    uint64_t free_count;
    uint64_t next_hint;   /* where the next search starts (next fit) */
};

/* End of the highest usable range, page-aligned down. */
uint64_t memory_map_usable_end(const struct memory_range *map, unsigned count);

/* Bytes of bitmap needed to cover [0, usable_end). */
size_t frame_bitmap_bytes(uint64_t usable_end);

/* Finds `bytes` of usable memory, page-aligned, that overlaps no non-usable
 * map entry and no range in `reserved`. Returns its base or FRAME_NONE. */
uint64_t memory_map_find_free(const struct memory_range *map, unsigned count,
                              const struct phys_range *reserved,
                              unsigned reserved_count, uint64_t bytes);

/* Builds the allocator: usable map ranges free, all else taken, then every
 * range in `reserved` taken. Frame 0 is always taken. */
void frame_alloc_init(struct frame_allocator *fa, uint64_t *bitmap,
                      uint64_t usable_end, const struct memory_range *map,
                      unsigned count, const struct phys_range *reserved,
                      unsigned reserved_count);

/* Marks [base, end) taken after init (e.g. ACPI tables found later). */
void frame_alloc_reserve(struct frame_allocator *fa, uint64_t base, uint64_t end);

/* Allocates `count` contiguous frames aligned to `align_frames` (a power of
 * two) lying wholly below `limit` (0 = no limit). Returns the physical
 * address or FRAME_NONE. The frames are not cleared. */
uint64_t frame_alloc_range(struct frame_allocator *fa, uint64_t count,
                           uint64_t align_frames, uint64_t limit);

/* Returns frames to the allocator; freeing a frame that is not taken is a
 * bug in the caller and is refused (returns false) without changing state. */
bool frame_free_range(struct frame_allocator *fa, uint64_t phys, uint64_t count);

uint64_t frame_free_count(struct frame_allocator *fa);

#endif
