// sources: hv/object_alloc.c
/* Unit tests for hv/object_alloc.c. Pages come from aligned_alloc through a
 * supplier that counts live pages, so a slab that is not returned when it
 * empties shows up as a non-zero count (and as a leak under ASan). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "hv/object_alloc.h"

#define PAGE 4096u

static size_t live_pages;
static bool supplier_fails;

static void *test_pages_alloc(size_t pages)
{
    if (supplier_fails)
        return NULL;
    /* The contract: zeroed, aligned to the total size (a power of two). */
    assert_int_equal(pages & (pages - 1), 0);
    void *p = aligned_alloc(pages * PAGE, pages * PAGE);
    assert_non_null(p);
    memset(p, 0, pages * PAGE);
    live_pages += pages;
    return p;
}

static void test_pages_free(void *base, size_t pages)
{
    assert_int_equal((uintptr_t)base % (pages * PAGE), 0);
    assert_true(live_pages >= pages);
    live_pages -= pages;
    free(base);
}

static const struct page_supplier supplier = { test_pages_alloc, test_pages_free };

static int setup(void **state)
{
    (void)state;
    live_pages = 0;
    supplier_fails = false;
    return 0;
}

static void test_init_limits(void **state)
{
    (void)state;
    struct object_cache c;
    assert_int_equal(object_cache_init(&c, "zero", 0, &supplier), -HV_EINVAL);
    assert_int_equal(object_cache_init(&c, "huge", 64 * 1024 + 1, &supplier),
                     -HV_EINVAL);
    assert_int_equal(object_cache_init(&c, "nopages", 64, NULL), -HV_EINVAL);
    assert_int_equal(object_cache_init(&c, "max", 64 * 1024, &supplier), 0);
    assert_int_equal(c.object_size, 64 * 1024);
    assert_true(c.objects_per_slab >= 1);
    assert_int_equal(live_pages, 0); /* init takes no pages */
}

static void test_size_rounding(void **state)
{
    (void)state;
    static const size_t sizes[][2] = {
        { 1, 64 }, { 63, 64 }, { 64, 64 }, { 65, 128 }, { 100, 128 },
        { 4000, 4032 }, { 4097, 4160 },
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct object_cache c;
        assert_int_equal(object_cache_init(&c, "r", sizes[i][0], &supplier), 0);
        assert_int_equal(c.object_size, sizes[i][1]);
        /* The slab must hold its header line plus all its objects. */
        assert_true(CACHE_LINE + c.objects_per_slab * c.object_size <=
                    c.slab_pages * PAGE);
        assert_int_equal(c.slab_pages & (c.slab_pages - 1), 0);
    }
}

static int compare_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* Allocates n objects of `size` bytes, checking alignment and zeroing, and
 * fills each with its own byte pattern. */
static void alloc_filled(struct object_cache *c, void **objs, size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = object_alloc(c);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % CACHE_LINE, 0);
        for (size_t k = 0; k < c->object_size; k++)
            assert_int_equal(p[k], 0);
        memset(p, (int)(i % 251 + 1), size);
        objs[i] = p;
    }
}

/* Every object still holds its own pattern: nothing overlapped it and the
 * allocator wrote into no live object. */
static void check_patterns(void **objs, size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        if (!objs[i])
            continue;
        const uint8_t *p = objs[i];
        for (size_t k = 0; k < size; k++)
            assert_int_equal(p[k], i % 251 + 1);
    }
}

static void test_objects_distinct_aligned_own_lines(void **state)
{
    (void)state;
    enum { N = 500, SIZE = 72 }; /* 72 rounds to two lines */
    struct object_cache c;
    assert_int_equal(object_cache_init(&c, "vcpu", SIZE, &supplier), 0);
    void *objs[N];
    alloc_filled(&c, objs, N, SIZE);
    check_patterns(objs, N, SIZE);

    /* Sorted, neighbours are at least a rounded object apart: no two
     * objects share a cache line. */
    uintptr_t sorted[N];
    memcpy(sorted, objs, sizeof(sorted));
    qsort(sorted, N, sizeof(sorted[0]), compare_ptr);
    for (size_t i = 1; i < N; i++) {
        assert_true(sorted[i] - sorted[i - 1] >= c.object_size);
        assert_true(sorted[i] / CACHE_LINE >
                    (sorted[i - 1] + SIZE - 1) / CACHE_LINE);
    }
    assert_int_equal(c.objects_in_use, N);
    assert_true(c.slab_count > 1);
    assert_int_equal(live_pages, c.slab_count * c.slab_pages);

    for (size_t i = 0; i < N; i++)
        object_free(&c, objs[i]);
    assert_int_equal(c.objects_in_use, 0);
    assert_int_equal(c.slab_count, 0);
    assert_int_equal(live_pages, 0);
    assert_null(c.partial);
}

static void test_reused_objects_are_zeroed(void **state)
{
    (void)state;
    struct object_cache c;
    assert_int_equal(object_cache_init(&c, "z", 256, &supplier), 0);
    void *keep = object_alloc(&c); /* keeps the slab alive */
    uint8_t *p = object_alloc(&c);
    assert_non_null(keep);
    assert_non_null(p);
    memset(p, 0xff, 256);
    object_free(&c, p);
    /* Freed objects carry the free-list link; a new one must be clean. */
    uint8_t *q = object_alloc(&c);
    assert_ptr_equal(q, p);
    for (size_t k = 0; k < 256; k++)
        assert_int_equal(q[k], 0);
    object_free(&c, q);
    object_free(&c, keep);
    assert_int_equal(live_pages, 0);
}

/* Small deterministic generator, so that a failure reproduces. */
static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

static void test_free_random_order(void **state)
{
    (void)state;
    enum { N = 2000, SIZE = 200 };
    struct object_cache c;
    assert_int_equal(object_cache_init(&c, "rand", SIZE, &supplier), 0);
    void **objs = calloc(N, sizeof(void *));
    assert_non_null(objs);
    alloc_filled(&c, objs, N, SIZE);
    size_t slabs = c.slab_count;
    assert_true(slabs >= N / c.objects_per_slab);

    /* Free in a shuffled order; after each step the patterns of the
     * survivors must be intact and the counts consistent. */
    size_t order[N];
    for (size_t i = 0; i < N; i++)
        order[i] = i;
    for (size_t i = N - 1; i > 0; i--) {
        size_t j = rng() % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < N; i++) {
        object_free(&c, objs[order[i]]);
        objs[order[i]] = NULL;
        assert_int_equal(c.objects_in_use, N - 1 - i);
        assert_int_equal(live_pages, c.slab_count * c.slab_pages);
        if (i == N / 2)
            check_patterns(objs, N, SIZE);
    }
    assert_int_equal(c.slab_count, 0);
    assert_int_equal(live_pages, 0);
    free(objs);
}

static void test_mixed_alloc_free_reuses_slabs(void **state)
{
    (void)state;
    enum { N = 300, ROUNDS = 20, SIZE = 500 };
    struct object_cache c;
    assert_int_equal(object_cache_init(&c, "mix", SIZE, &supplier), 0);
    void *objs[N] = { 0 };
    size_t peak = 0;
    /* Alternate: fill every empty slot, then free a random half. Memory in
     * use must stay bounded by what the live objects need. */
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < N; i++)
            if (!objs[i]) {
                objs[i] = object_alloc(&c);
                assert_non_null(objs[i]);
                memset(objs[i], (int)(i % 251 + 1), SIZE);
            }
        check_patterns(objs, N, SIZE);
        if (c.slab_count > peak)
            peak = c.slab_count;
        for (size_t i = 0; i < N; i++)
            if (rng() % 2) {
                object_free(&c, objs[i]);
                objs[i] = NULL;
            }
    }
    /* A new slab is made only when every slab is full, so with at most N
     * live objects the cache never holds more than ceil(N / per slab)
     * slabs, however fragmented the random frees leave them. */
    assert_int_equal(peak, (N + c.objects_per_slab - 1) / c.objects_per_slab);
    for (size_t i = 0; i < N; i++)
        object_free(&c, objs[i]);
    assert_int_equal(live_pages, 0);
    assert_int_equal(c.objects_in_use, 0);
}

static void test_large_objects(void **state)
{
    (void)state;
    struct object_cache c;
    assert_int_equal(object_cache_init(&c, "big", 64 * 1024, &supplier), 0);
    enum { N = 10 };
    void *objs[N];
    alloc_filled(&c, objs, N, 64 * 1024);
    check_patterns(objs, N, 64 * 1024);
    assert_int_equal(c.slab_count,
                     (N + c.objects_per_slab - 1) / c.objects_per_slab);
    for (size_t i = 0; i < N; i++)
        object_free(&c, objs[N - 1 - i]);
    assert_int_equal(live_pages, 0);
}

static void test_supplier_failure(void **state)
{
    (void)state;
    struct object_cache c;
    assert_int_equal(object_cache_init(&c, "fail", 128, &supplier), 0);
    supplier_fails = true;
    assert_null(object_alloc(&c));
    assert_int_equal(c.objects_in_use, 0);
    assert_int_equal(c.slab_count, 0);
    /* Recovers when pages come back; NULL frees are ignored. */
    supplier_fails = false;
    void *p = object_alloc(&c);
    assert_non_null(p);
    object_free(&c, NULL);
    assert_int_equal(c.objects_in_use, 1);
    object_free(&c, p);
    assert_int_equal(live_pages, 0);
}

/* Placed objects (vcpus): the byte at the offset asked for starts a page
 * in every object, objects never overlap and go back with their slabs;
 * bad offsets are refused. */
static void test_placed_objects(void **state)
{
    (void)state;
    struct object_cache c;
    assert_int_equal(object_cache_init_placed(&c, "p", 100, 100, &supplier), -HV_EINVAL);
    assert_int_equal(object_cache_init_placed(&c, "p", 100, 40, &supplier), -HV_EINVAL);
    assert_int_equal(object_cache_init_placed(&c, "p", 0, 0, &supplier), -HV_EINVAL);
    static const size_t offsets[] = { 0, 64, 576, 4032, 4096, 4160 };
    for (unsigned k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
        size_t size = offsets[k] + 1500;
        assert_int_equal(object_cache_init_placed(&c, "p", size, offsets[k], &supplier), 0);
        enum { N = 40 };
        uint8_t *objs[N];
        for (int i = 0; i < N; i++) {
            objs[i] = object_alloc(&c);
            assert_non_null(objs[i]);
            assert_int_equal((uintptr_t)(objs[i] + offsets[k]) % PAGE, 0);
            assert_int_equal((uintptr_t)objs[i] % 64, 0);
            memset(objs[i], 0x5a, size);
        }
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++)
                assert_true(objs[i] + size <= objs[j] || objs[j] + size <= objs[i]);
        for (int i = 0; i < N; i++)
            object_free(&c, objs[i]);
        assert_int_equal(live_pages, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_init_limits, setup),
        cmocka_unit_test_setup(test_size_rounding, setup),
        cmocka_unit_test_setup(test_objects_distinct_aligned_own_lines, setup),
        cmocka_unit_test_setup(test_reused_objects_are_zeroed, setup),
        cmocka_unit_test_setup(test_free_random_order, setup),
        cmocka_unit_test_setup(test_mixed_alloc_free_reuses_slabs, setup),
        cmocka_unit_test_setup(test_large_objects, setup),
        cmocka_unit_test_setup(test_supplier_failure, setup),
        cmocka_unit_test_setup(test_placed_objects, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
