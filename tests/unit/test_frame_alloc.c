// sources: hv/frame_alloc.c
/* Unit tests for hv/frame_alloc.c: building the frame bitmap from a loader
 * memory map (which may be unsorted and overlapping), allocation with
 * alignment and limits, exhaustion, freeing and the placement search used
 * for the bitmap itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/frame_alloc.h"

#define MiB (1ull << 20)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Builds an allocator over `map`; the bitmap is exactly the size asked
 * for, so AddressSanitizer reports any access past it. */
static uint64_t *init(struct frame_allocator *fa, const struct memory_range *map,
                      unsigned count, const struct phys_range *reserved,
                      unsigned reserved_count)
{
    uint64_t end = memory_map_usable_end(map, count);
    uint64_t *bitmap = malloc(frame_bitmap_bytes(end));
    assert_non_null(bitmap);
    frame_alloc_init(fa, bitmap, end, map, count, reserved, reserved_count);
    return bitmap;
}

static bool inside(uint64_t phys, uint64_t base, uint64_t end)
{
    return phys >= base && phys < end;
}

/* Allocates single frames until none is left; returns how many, checking
 * that each is new and passes `ok`. */
static uint64_t drain(struct frame_allocator *fa, bool (*ok)(uint64_t phys))
{
    uint64_t frames = fa->frame_count;
    uint8_t *seen = calloc(frames, 1);
    assert_non_null(seen);
    uint64_t n = 0;
    for (;;) {
        uint64_t phys = frame_alloc_range(fa, 1, 1, 0);
        if (phys == FRAME_NONE)
            break;
        assert_int_equal(phys % FRAME_SIZE, 0);
        assert_true(phys / FRAME_SIZE < frames);
        assert_false(seen[phys / FRAME_SIZE]);
        seen[phys / FRAME_SIZE] = 1;
        if (ok && !ok(phys))
            fail_msg("frame 0x%llx must not be handed out", (unsigned long long)phys);
        n++;
    }
    free(seen);
    return n;
}

static void test_bitmap_bytes(void **state)
{
    (void)state;
    assert_int_equal(frame_bitmap_bytes(0), 0);
    assert_int_equal(frame_bitmap_bytes(FRAME_SIZE), 8);
    assert_int_equal(frame_bitmap_bytes(64 * FRAME_SIZE), 8);
    assert_int_equal(frame_bitmap_bytes(65 * FRAME_SIZE), 16);
    /* A partial frame at the end is not covered. */
    assert_int_equal(frame_bitmap_bytes(64 * FRAME_SIZE + 100), 8);
    /* 4 GiB = 2^20 frames = 2^17 bytes of bitmap. */
    assert_int_equal(frame_bitmap_bytes(4ull << 30), 128 * 1024);
}

static void test_usable_end(void **state)
{
    (void)state;
    const struct memory_range map[] = {
        { 0x100000, 0x7ff00000, MEMORY_USABLE },
        { 0xfec00000, 0x1000, MEMORY_RESERVED }, /* higher, but not usable */
        { 0x0, 0x9fc00, MEMORY_USABLE },
        { 0x100000000ull, 0x40000800, MEMORY_ACPI_NVS },
    };
    assert_int_equal(memory_map_usable_end(map, COUNT(map)), 0x80000000);
    assert_int_equal(memory_map_usable_end(map, 0), 0);
    /* The end is rounded down to a whole frame. */
    assert_int_equal(memory_map_usable_end(&map[2], 1), 0x9f000);
}

static const struct memory_range basic_map[] = {
    { 0x0, 0x9fc00, MEMORY_USABLE },          /* frames 0..0x9e */
    { 0x9fc00, 0x400, MEMORY_RESERVED },
    { 0xf0000, 0x10000, MEMORY_RESERVED },
    { 0x100000, 0x300000, MEMORY_USABLE },    /* frames 0x100..0x3ff */
};

static bool basic_ok(uint64_t phys)
{
    return phys != 0 && (inside(phys, 0, 0x9f000) || inside(phys, 0x100000, 0x400000));
}

static void test_basic_map(void **state)
{
    (void)state;
    struct frame_allocator fa;
    uint64_t *bitmap = init(&fa, basic_map, COUNT(basic_map), NULL, 0);
    assert_int_equal(fa.frame_count, 0x400);
    /* Frame 0 stays taken; the partial frame at 0x9f000 is not usable. */
    uint64_t expected = (0x9f - 1) + 0x300;
    assert_int_equal(frame_free_count(&fa), expected);
    assert_int_equal(drain(&fa, basic_ok), expected);
    assert_int_equal(frame_free_count(&fa), 0);
    free(bitmap);
}

/* Usable [1M, 5M) overlapped by a reserved [2M, 3M) and an ACPI entry that
 * covers only part of a frame; whatever the order, the non-usable ones win. */
static const struct memory_range overlap_entries[] = {
    { 0x100000, 0x400000, MEMORY_USABLE },
    { 0x200000, 0x100000, MEMORY_RESERVED },
    { 0x300800, 0x100, MEMORY_ACPI_RECLAIMABLE },
    { 0x4ff000, 0x2000, MEMORY_BAD }, /* straddles the usable end */
};

static bool overlap_ok(uint64_t phys)
{
    return inside(phys, 0x100000, 0x200000) ||
           inside(phys, 0x301000, 0x4ff000);
}

static void test_overlapping_entries_any_order(void **state)
{
    (void)state;
    static const unsigned orders[][4] = {
        { 0, 1, 2, 3 }, { 3, 2, 1, 0 }, { 1, 0, 3, 2 }, { 2, 3, 0, 1 },
    };
    for (size_t o = 0; o < COUNT(orders); o++) {
        struct memory_range map[4];
        for (unsigned i = 0; i < 4; i++)
            map[i] = overlap_entries[orders[o][i]];
        struct frame_allocator fa;
        uint64_t *bitmap = init(&fa, map, 4, NULL, 0);
        uint64_t expected = 0x100 + (0x4ff - 0x301);
        assert_int_equal(frame_free_count(&fa), expected);
        assert_int_equal(drain(&fa, overlap_ok), expected);
        free(bitmap);
    }
}

static const struct phys_range basic_reserved[] = {
    { 0x100000, 0x180000 },  /* hypervisor image */
    { 0x250000, 0x250001 },  /* one byte still takes its frame */
    { 0x3ff800, 0x500000 },  /* runs past the end of memory */
};

static bool reserved_ok(uint64_t phys)
{
    return basic_ok(phys) && !inside(phys, 0x100000, 0x180000) &&
           phys != 0x250000 && phys != 0x3ff000;
}

static void test_reserved_ranges_never_handed_out(void **state)
{
    (void)state;
    struct frame_allocator fa;
    uint64_t *bitmap = init(&fa, basic_map, COUNT(basic_map), basic_reserved,
                            COUNT(basic_reserved));
    uint64_t expected = (0x9f - 1) + 0x300 - 0x80 - 1 - 1;
    assert_int_equal(frame_free_count(&fa), expected);
    assert_int_equal(drain(&fa, reserved_ok), expected);
    free(bitmap);
}

static void test_reserve_after_init(void **state)
{
    (void)state;
    struct frame_allocator fa;
    uint64_t *bitmap = init(&fa, basic_map, COUNT(basic_map), NULL, 0);
    uint64_t before = frame_free_count(&fa);
    frame_alloc_reserve(&fa, 0x200000, 0x210000);
    assert_int_equal(frame_free_count(&fa), before - 16);
    /* Reserving what is already taken changes nothing. */
    frame_alloc_reserve(&fa, 0x200000, 0x208000);
    frame_alloc_reserve(&fa, 0xf0000, 0x100000);
    frame_alloc_reserve(&fa, 0x300000, 0x300000); /* empty */
    assert_int_equal(frame_free_count(&fa), before - 16);
    free(bitmap);
}

static void test_alignment_and_limit(void **state)
{
    (void)state;
    struct frame_allocator fa;
    uint64_t *bitmap = init(&fa, basic_map, COUNT(basic_map), NULL, 0);
    /* A 2 MiB-aligned run of 512 frames: only [2M, 4M) qualifies. */
    assert_int_equal(frame_alloc_range(&fa, 512, 512, 0), 2 * MiB);
    assert_int_equal(frame_alloc_range(&fa, 512, 512, 0), FRAME_NONE);
    /* 16 frames aligned to 16, wholly below 1.5 MiB. */
    for (int i = 0; i < 8; i++) {
        uint64_t phys = frame_alloc_range(&fa, 16, 16, 0x180000);
        assert_int_not_equal(phys, FRAME_NONE);
        assert_int_equal(phys % (16 * FRAME_SIZE), 0);
        assert_true(phys + 16 * FRAME_SIZE <= 0x180000);
    }
    /* Single frames below the low range's end are still there (the
     * aligned runs cannot use frames 1..15). */
    uint64_t low = frame_alloc_range(&fa, 1, 1, 0x9f000);
    assert_true(low != FRAME_NONE && low < 0x9f000);
    /* Invalid requests. */
    assert_int_equal(frame_alloc_range(&fa, 0, 1, 0), FRAME_NONE);
    assert_int_equal(frame_alloc_range(&fa, 1, 0, 0), FRAME_NONE);
    assert_int_equal(frame_alloc_range(&fa, 1, 3, 0), FRAME_NONE);
    /* A limit below every free frame. */
    assert_int_equal(frame_alloc_range(&fa, 1, 1, FRAME_SIZE), FRAME_NONE);
    free(bitmap);
}

static void test_contiguous_skips_holes(void **state)
{
    (void)state;
    const struct memory_range map[] = {
        { 0x100000, 0x10000, MEMORY_USABLE },
        { 0x108000, 0x1000, MEMORY_RESERVED }, /* splits the first range */
        { 0x200000, 0x20000, MEMORY_USABLE },
    };
    struct frame_allocator fa;
    uint64_t *bitmap = init(&fa, map, COUNT(map), NULL, 0);
    assert_int_equal(frame_alloc_range(&fa, 9, 1, 0), 0x200000);
    assert_int_equal(frame_alloc_range(&fa, 8, 1, 0), 0x209000);
    /* 8 contiguous fit before the hole. */
    assert_int_equal(frame_alloc_range(&fa, 8, 8, 0x200000), 0x100000);
    assert_int_equal(frame_alloc_range(&fa, 8, 1, 0x200000), FRAME_NONE);
    free(bitmap);
}

static void test_free_and_realloc(void **state)
{
    (void)state;
    struct frame_allocator fa;
    uint64_t *bitmap = init(&fa, basic_map, COUNT(basic_map), NULL, 0);
    uint64_t total = frame_free_count(&fa);
    assert_int_equal(drain(&fa, basic_ok), total);

    assert_true(frame_free_range(&fa, 0x123000, 1));
    assert_true(frame_free_range(&fa, 0x300000, 4));
    assert_int_equal(frame_free_count(&fa), 5);
    /* The only free frames are the ones just returned. */
    assert_int_equal(frame_alloc_range(&fa, 4, 4, 0), 0x300000);
    assert_int_equal(frame_alloc_range(&fa, 1, 1, 0), 0x123000);
    assert_int_equal(frame_alloc_range(&fa, 1, 1, 0), FRAME_NONE);
    assert_int_equal(frame_free_count(&fa), 0);
    free(bitmap);
}

static void test_bad_frees_refused(void **state)
{
    (void)state;
    struct frame_allocator fa;
    uint64_t *bitmap = init(&fa, basic_map, COUNT(basic_map), NULL, 0);
    uint64_t a = frame_alloc_range(&fa, 2, 1, 0);
    assert_int_not_equal(a, FRAME_NONE);
    uint64_t count = frame_free_count(&fa);

    assert_true(frame_free_range(&fa, a, 1));
    assert_int_equal(frame_free_count(&fa), count + 1);
    /* Double free: refused, nothing changes. */
    assert_false(frame_free_range(&fa, a, 1));
    assert_int_equal(frame_free_count(&fa), count + 1);
    /* A range with one free frame in it is refused as a whole: the still
     * taken second frame must stay taken. */
    assert_false(frame_free_range(&fa, a, 2));
    assert_int_equal(frame_free_count(&fa), count + 1);
    assert_true(frame_free_range(&fa, a + FRAME_SIZE, 1));
    /* Frame 0, unaligned addresses, beyond the end, and wrap-around. */
    assert_false(frame_free_range(&fa, 0, 1));
    assert_false(frame_free_range(&fa, 0x200800, 1));
    assert_false(frame_free_range(&fa, 0x400000, 1));
    assert_false(frame_free_range(&fa, 0x3ff000, 2));
    assert_false(frame_free_range(&fa, 0x1000, UINT64_MAX));
    assert_int_equal(frame_free_count(&fa), count + 2);
    free(bitmap);
}

/* Checks that [base, base+bytes) is inside a usable entry and clear of
 * every non-usable entry and reserved range. */
static void assert_placement(uint64_t base, uint64_t bytes,
                             const struct memory_range *map, unsigned count,
                             const struct phys_range *res, unsigned res_count)
{
    assert_int_not_equal(base, FRAME_NONE);
    assert_int_equal(base % FRAME_SIZE, 0);
    bool in_usable = false;
    for (unsigned i = 0; i < count; i++) {
        uint64_t b = map[i].base, e = map[i].base + map[i].length;
        if (map[i].type == MEMORY_USABLE && base >= b && base + bytes <= e)
            in_usable = true;
        if (map[i].type != MEMORY_USABLE)
            assert_false(base < e && b < base + bytes);
    }
    assert_true(in_usable);
    for (unsigned i = 0; i < res_count; i++)
        assert_false(base < res[i].end && res[i].base < base + bytes);
}

static void test_find_free(void **state)
{
    (void)state;
    const struct memory_range *map = basic_map;
    unsigned n = COUNT(basic_map);
    /* Fits in low memory, but never at address 0. */
    uint64_t b = memory_map_find_free(map, n, NULL, 0, 0x4000);
    assert_placement(b, 0x4000, map, n, NULL, 0);
    /* Too big for low memory. */
    b = memory_map_find_free(map, n, NULL, 0, 0x200000);
    assert_int_equal(b, 0x100000);
    /* Avoids the reserved list; a size is rounded up to whole frames. */
    b = memory_map_find_free(map, n, basic_reserved, COUNT(basic_reserved), 0x100001);
    assert_placement(b, 0x101000, map, n, basic_reserved, COUNT(basic_reserved));
    /* The largest hole left is [0x251000, 0x3ff000): an exact fit is
     * found, one frame more is not. */
    b = memory_map_find_free(map, n, basic_reserved, COUNT(basic_reserved), 0x1ae000);
    assert_int_equal(b, 0x251000);
    assert_int_equal(memory_map_find_free(map, n, basic_reserved,
                                          COUNT(basic_reserved), 0x1af000),
                     FRAME_NONE);
    assert_int_equal(memory_map_find_free(map, n, NULL, 0, 0x400000), FRAME_NONE);
}

static void test_find_free_respects_map_overlaps(void **state)
{
    (void)state;
    /* A non-usable entry covering the start of a usable one: the free part
     * after it must still be found (the reserved list is empty). */
    const struct memory_range map[] = {
        { 0x100000, 0xf00000, MEMORY_USABLE },
        { 0x100000, 0x100000, MEMORY_RESERVED },
    };
    uint64_t b = memory_map_find_free(map, 2, NULL, 0, 0x10000);
    assert_placement(b, 0x10000, map, 2, NULL, 0);
    /* Same with a reserved list that does not help. */
    const struct phys_range res[] = { { 0x0, 0x1000 } };
    b = memory_map_find_free(map, 2, res, 1, 0x10000);
    assert_placement(b, 0x10000, map, 2, res, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bitmap_bytes),
        cmocka_unit_test(test_usable_end),
        cmocka_unit_test(test_basic_map),
        cmocka_unit_test(test_overlapping_entries_any_order),
        cmocka_unit_test(test_reserved_ranges_never_handed_out),
        cmocka_unit_test(test_reserve_after_init),
        cmocka_unit_test(test_alignment_and_limit),
        cmocka_unit_test(test_contiguous_skips_holes),
        cmocka_unit_test(test_free_and_realloc),
        cmocka_unit_test(test_bad_frees_refused),
        cmocka_unit_test(test_find_free),
        cmocka_unit_test(test_find_free_respects_map_overlaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
