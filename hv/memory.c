#include "hv/memory.h"

#include "abi/hv_errno.h"
#include "hv/console.h"
#include "hv/fault_inject.h"

struct frame_allocator frames;

/* GCC may emit calls to these for struct copies even when freestanding. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    /* Hypercall structures are 8-byte aligned multiples of 8: copy words. */
    if (((uintptr_t)dst | (uintptr_t)src | n) % 8 == 0) {
        uint64_t *d = dst;
        const uint64_t *s = src;
        for (size_t i = 0; i < n / 8; i++)
            d[i] = s[i];
        return dst;
    }
    uint8_t *d = dst;
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
    return dst;
}

void memory_zero(void *p, size_t n)
{
    if (n % 8 == 0 && (uintptr_t)p % 8 == 0) {
        uint64_t *q = p;
        for (size_t i = 0; i < n / 8; i++)
            q[i] = 0;
        return;
    }
    memset(p, 0, n);
}

void memory_copy(void *dst, const void *src, size_t n) { memcpy(dst, src, n); }

void memory_fill(void *p, uint8_t value, size_t n) { memset(p, value, n); }

int memory_init(const struct boot_info *boot, const struct phys_range *reserved,
                unsigned reserved_count)
{
    uint64_t usable_end = memory_map_usable_end(boot->memory, boot->memory_count);
    size_t bytes = frame_bitmap_bytes(usable_end);
    uint64_t bitmap = memory_map_find_free(boot->memory, boot->memory_count,
                                           reserved, reserved_count, bytes);
    /* The boot page tables map 4 GiB; the bitmap must be reachable now. */
    if (bitmap == FRAME_NONE || bitmap + bytes > (4ull << 30))
        return -HV_ENOMEM;
    frame_alloc_init(&frames, phys_to_virt(bitmap), usable_end, boot->memory,
                     boot->memory_count, reserved, reserved_count);
    frame_alloc_reserve(&frames, bitmap, bitmap + bytes);
    return 0;
}

uint64_t pages_alloc_zeroed(uint64_t count, uint64_t limit)
{
    if (fault_inject_fails())
        return FRAME_NONE;
    uint64_t align = 1;
    while (align < count)
        align *= 2;
    uint64_t phys = frame_alloc_range(&frames, count, align, limit);
    if (phys != FRAME_NONE)
        memory_zero(phys_to_virt(phys), count * FRAME_SIZE);
    return phys;
}

void pages_free(uint64_t phys, uint64_t count)
{
    if (!frame_free_range(&frames, phys, count))
        pr_error("mem: bad free of %llu frames at 0x%llx", (unsigned long long)count,
                 (unsigned long long)phys);
}

static void *supplier_alloc(size_t pages)
{
    uint64_t phys = pages_alloc_zeroed(pages, 0);
    return phys == FRAME_NONE ? NULL : phys_to_virt(phys);
}

static void supplier_free(void *base, size_t pages)
{
    pages_free(virt_to_phys(base), pages);
}

const struct page_supplier hv_pages = { supplier_alloc, supplier_free };
