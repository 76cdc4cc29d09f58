/*
 * Bump allocator over the control domain's free RAM, [free_start, free_end)
 * of the boot info: run pages, guest RAM and VMM bookkeeping. Nothing is
 * freed one by one; a tool takes a mark before building a VM and releases
 * back to it afterwards, so memory is recycled in LIFO order.
 *
 * Allocations are zeroed (released memory comes back with old contents) and
 * page aligned. Locking: one lock; mark/release are meant for a single
 * tool thread and are not safe against concurrent allocators.
 */
#ifndef GUEST_TOOLS_RUNTIME_PAGE_ALLOC_H
#define GUEST_TOOLS_RUNTIME_PAGE_ALLOC_H

#include <stdint.h>

#define PAGE_SIZE 4096u

struct page_mark {
    uint64_t next;
};

void page_alloc_init(uint64_t free_start, uint64_t free_end);

/* size rounded up to whole pages; NULL when the free range is exhausted. */
void *page_alloc(uint64_t size);

/* As page_alloc with the start aligned to align (a power of two >= 4096),
 * e.g. 2 MiB for guest RAM so it can be mapped with large pages. */
void *page_alloc_aligned(uint64_t size, uint64_t align);

struct page_mark page_alloc_mark(void);
void page_alloc_release(struct page_mark mark);

uint64_t page_alloc_free_bytes(void);

#endif
