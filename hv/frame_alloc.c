#include "hv/frame_alloc.h"

static bool overlaps(uint64_t a_base, uint64_t a_end, uint64_t b_base,
                     uint64_t b_end)
{
    return a_base < b_end && b_base < a_end;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

static bool bit_test(const uint64_t *map, uint64_t i)
{
    return map[i / 64] >> (i % 64) & 1;
}

static void bits_assign(struct frame_allocator *fa, uint64_t first,
                        uint64_t last, bool taken)
{
    for (uint64_t i = first; i < last && i < fa->frame_count; i++) {
        bool was = bit_test(fa->bitmap, i);
        if (was == taken)
            continue;
        if (taken) {
            fa->bitmap[i / 64] |= 1ull << (i % 64);
            fa->free_count--;
        } else {
            fa->bitmap[i / 64] &= ~(1ull << (i % 64));
            fa->free_count++;
        }
    }
}

uint64_t memory_map_usable_end(const struct memory_range *map, unsigned count)
{
    uint64_t end = 0;
    for (unsigned i = 0; i < count; i++) {
        if (map[i].type != MEMORY_USABLE)
            continue;
        uint64_t e = align_down(map[i].base + map[i].length, FRAME_SIZE);
        if (e > end)
            end = e;
    }
    return end;
}

size_t frame_bitmap_bytes(uint64_t usable_end)
{
    uint64_t frames = usable_end / FRAME_SIZE;
    return (size_t)((frames + 63) / 64 * 8);
}

static bool range_is_clear(uint64_t base, uint64_t end,
                           const struct memory_range *map, unsigned count,
                           const struct phys_range *reserved,
                           unsigned reserved_count)
{
    for (unsigned i = 0; i < count; i++)
        if (map[i].type != MEMORY_USABLE &&
            overlaps(base, end, map[i].base, map[i].base + map[i].length))
            return false;
    for (unsigned i = 0; i < reserved_count; i++)
        if (overlaps(base, end, reserved[i].base, reserved[i].end))
            return false;
    return true;
}

uint64_t memory_map_find_free(const struct memory_range *map, unsigned count,
                              const struct phys_range *reserved,
                              unsigned reserved_count, uint64_t bytes)
{
    bytes = align_up(bytes, FRAME_SIZE);
    for (unsigned i = 0; i < count; i++) {
        if (map[i].type != MEMORY_USABLE)
            continue;
        uint64_t start = align_up(map[i].base, FRAME_SIZE);
        uint64_t end = align_down(map[i].base + map[i].length, FRAME_SIZE);
        if (start == 0)
            start = FRAME_SIZE;
        /* Candidates: the range start and just past each reserved range
         * or non-usable map entry (either may cover the range's start). */
        for (unsigned j = 0; j <= reserved_count + count; j++) {
            uint64_t base = start;
            if (j < reserved_count)
                base = align_up(reserved[j].end, FRAME_SIZE);
            else if (j < reserved_count + count) {
                const struct memory_range *m = &map[j - reserved_count];
                if (m->type == MEMORY_USABLE)
                    continue;
                base = align_up(m->base + m->length, FRAME_SIZE);
            }
            if (base < start || base + bytes > end || base + bytes < base)
                continue;
            if (range_is_clear(base, base + bytes, map, count, reserved,
                               reserved_count))
                return base;
        }
    }
    return FRAME_NONE;
}

void frame_alloc_init(struct frame_allocator *fa, uint64_t *bitmap,
                      uint64_t usable_end, const struct memory_range *map,
                      unsigned count, const struct phys_range *reserved,
                      unsigned reserved_count)
{
    fa->lock = (struct spinlock)SPINLOCK_INIT;
    fa->bitmap = bitmap;
    fa->frame_count = usable_end / FRAME_SIZE;
    fa->free_count = 0;
    fa->next_hint = 0;
    size_t words = frame_bitmap_bytes(usable_end) / 8;
    for (size_t i = 0; i < words; i++)
        bitmap[i] = ~0ull;

    /* Usable first, then everything that must stay taken, so that a reserved
     * or overlapping entry always wins over a usable one. */
    for (unsigned i = 0; i < count; i++)
        if (map[i].type == MEMORY_USABLE)
            bits_assign(fa, align_up(map[i].base, FRAME_SIZE) / FRAME_SIZE,
                        align_down(map[i].base + map[i].length, FRAME_SIZE) /
                            FRAME_SIZE,
                        false);
    for (unsigned i = 0; i < count; i++)
        if (map[i].type != MEMORY_USABLE)
            frame_alloc_reserve(fa, map[i].base, map[i].base + map[i].length);
    for (unsigned i = 0; i < reserved_count; i++)
        frame_alloc_reserve(fa, reserved[i].base, reserved[i].end);
    frame_alloc_reserve(fa, 0, FRAME_SIZE);
}

void frame_alloc_reserve(struct frame_allocator *fa, uint64_t base, uint64_t end)
{
    if (end <= base)
        return;
    spin_lock(&fa->lock);
    bits_assign(fa, align_down(base, FRAME_SIZE) / FRAME_SIZE,
                align_up(end, FRAME_SIZE) / FRAME_SIZE, true);
    spin_unlock(&fa->lock);
}

static bool frames_free(const struct frame_allocator *fa, uint64_t first,
                        uint64_t count)
{
    for (uint64_t i = first; i < first + count; i++)
        if (bit_test(fa->bitmap, i))
            return false;
    return true;
}

static uint64_t search(struct frame_allocator *fa, uint64_t from, uint64_t to,
                       uint64_t count, uint64_t align)
{
    for (uint64_t i = align_up(from, align); i + count <= to; i += align) {
        /* Skip whole taken words quickly; most of a full bitmap is ~0. */
        if (align == 1 && i % 64 == 0 && fa->bitmap[i / 64] == ~0ull) {
            i += 63;
            continue;
        }
        if (frames_free(fa, i, count))
            return i;
    }
    return ~0ull;
}

uint64_t frame_alloc_range(struct frame_allocator *fa, uint64_t count,
                           uint64_t align_frames, uint64_t limit)
{
    if (count == 0 || align_frames == 0 || (align_frames & (align_frames - 1)))
        return FRAME_NONE;
    uint64_t top = fa->frame_count;
    if (limit && limit / FRAME_SIZE < top)
        top = limit / FRAME_SIZE;

    spin_lock(&fa->lock);
    uint64_t hint = fa->next_hint < top ? fa->next_hint : 0;
    uint64_t first = search(fa, hint, top, count, align_frames);
    if (first == ~0ull && hint)
        first = search(fa, 0, hint + count < top ? hint + count : top, count,
                       align_frames);
    uint64_t phys = FRAME_NONE;
    if (first != ~0ull && first + count <= top) {
        bits_assign(fa, first, first + count, true);
        fa->next_hint = first + count;
        phys = first * FRAME_SIZE;
    }
    spin_unlock(&fa->lock);
    return phys;
}

bool frame_free_range(struct frame_allocator *fa, uint64_t phys, uint64_t count)
{
    if (phys % FRAME_SIZE || phys == FRAME_NONE)
        return false;
    uint64_t first = phys / FRAME_SIZE;
    if (first + count > fa->frame_count || first + count < first)
        return false;
    spin_lock(&fa->lock);
    for (uint64_t i = first; i < first + count; i++) {
        if (!bit_test(fa->bitmap, i)) {
            spin_unlock(&fa->lock);
            return false;
        }
    }
    bits_assign(fa, first, first + count, false);
    spin_unlock(&fa->lock);
    return true;
}

uint64_t frame_free_count(struct frame_allocator *fa)
{
    return __atomic_load_n(&fa->free_count, __ATOMIC_RELAXED);
}
