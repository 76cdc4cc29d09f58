/*
 * The bump allocator. State is one pointer, next, between the page-aligned
 * bounds; releasing a mark just moves it back.
 */
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/spinlock.h"
#include "guest-tools/runtime/string.h"

static struct spinlock alloc_lock;
static uint64_t alloc_next;   /* first free byte, page aligned */
static uint64_t alloc_end;    /* end of the free range, page aligned */

static uint64_t align_up(uint64_t value, uint64_t align)
{
    return (value + align - 1) & ~(align - 1);
}

void page_alloc_init(uint64_t free_start, uint64_t free_end)
{
    alloc_next = align_up(free_start, PAGE_SIZE);
    alloc_end = free_end & ~(uint64_t)(PAGE_SIZE - 1);
    if (alloc_next > alloc_end)
        alloc_next = alloc_end;
}

void *page_alloc_aligned(uint64_t size, uint64_t align)
{
    uint64_t start, bytes;

    if (size == 0 || align < PAGE_SIZE || (align & (align - 1)) != 0)
        return NULL;
    bytes = align_up(size, PAGE_SIZE);
    if (bytes < size)                             /* size near 2^64 wrapped */
        return NULL;
    spin_lock(&alloc_lock);
    start = align_up(alloc_next, align);
    if (start < alloc_next || start > alloc_end || bytes > alloc_end - start) {
        spin_unlock(&alloc_lock);
        return NULL;
    }
    alloc_next = start + bytes;
    spin_unlock(&alloc_lock);
    /* Identity mapping: the physical address is the pointer. */
    return memset((void *)(uintptr_t)start, 0, bytes);
}

void *page_alloc(uint64_t size)
{
    return page_alloc_aligned(size, PAGE_SIZE);
}

struct page_mark page_alloc_mark(void)
{
    struct page_mark mark;

    spin_lock(&alloc_lock);
    mark.next = alloc_next;
    spin_unlock(&alloc_lock);
    return mark;
}

void page_alloc_release(struct page_mark mark)
{
    spin_lock(&alloc_lock);
    /* Only backwards: a stale mark from a later state must not hand out
     * memory that is still in use below it twice. */
    if (mark.next <= alloc_next)
        alloc_next = mark.next;
    spin_unlock(&alloc_lock);
}

uint64_t page_alloc_free_bytes(void)
{
    uint64_t free;

    spin_lock(&alloc_lock);
    free = alloc_end - alloc_next;
    spin_unlock(&alloc_lock);
    return free;
}
