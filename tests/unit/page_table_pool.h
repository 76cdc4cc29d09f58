/* The table-page pool shared by the page-table unit tests
 * (test_page_table.c, test_page_table_churn.c): "physical" addresses are
 * POOL_BASE + index * 4096, so a table address the code gets wrong cannot
 * be dereferenced by accident. The pool records which pages are handed
 * out: a page the builder frees is poisoned and to_pointer refuses it from
 * then on, so a table freed while still in the tree fails the next walk
 * through it, and teardown checks that every page was freed exactly once.
 * Included by one test program each, after cmocka.h. */
#ifndef TESTS_UNIT_PAGE_TABLE_POOL_H
#define TESTS_UNIT_PAGE_TABLE_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/nested_formats.h"
#include "mmu/page_table.h"

#define POOL_PAGES 256
#define POOL_BASE  0x7000000000ull
#define KiB4 0x1000ull
#define MiB2 0x200000ull
#define GiB1 0x40000000ull
#define GiB512 0x8000000000ull
#define TiB1 0x10000000000ull

struct pool {
    uint8_t *pages;
    bool allocated[POOL_PAGES];
    unsigned used;      /* pages handed out and not freed */
    unsigned limit;     /* pages that may be out at once before alloc fails */
    unsigned allocs, frees;
};

static inline uint64_t pool_alloc(void *ctx)
{
    struct pool *p = ctx;
    if (p->used >= p->limit)
        return 0;
    /* The lowest free page, so that tests can name the addresses. */
    unsigned i = 0;
    while (i < POOL_PAGES && p->allocated[i])
        i++;
    assert_true(i < POOL_PAGES);
    p->allocated[i] = true;
    p->used++;
    p->allocs++;
    /* The contract: a zeroed page (the pool starts out as garbage). */
    memset(p->pages + i * KiB4, 0, KiB4);
    return POOL_BASE + KiB4 * i;
}

static inline unsigned pool_index(const struct pool *p, uint64_t phys)
{
    assert_true(phys >= POOL_BASE && phys < POOL_BASE + KiB4 * POOL_PAGES);
    assert_int_equal(phys % KiB4, 0);
    unsigned i = (unsigned)((phys - POOL_BASE) / KiB4);
    if (!p->allocated[i])
        fail_msg("table page 0x%llx used while free", (unsigned long long)phys);
    return i;
}

static inline void *pool_pointer(uint64_t phys, void *ctx)
{
    struct pool *p = ctx;
    return p->pages + pool_index(p, phys) * KiB4;
}

static inline void pool_free(uint64_t phys, void *ctx)
{
    struct pool *p = ctx;
    unsigned i = pool_index(p, phys); /* fails a double free */
    memset(p->pages + i * KiB4, 0xcc, KiB4);
    p->allocated[i] = false;
    p->used--;
    p->frees++;
}

struct fixture {
    struct pool pool;
    struct page_table pt;
};

static inline int setup_with(void **state, uint64_t table_flags)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->pool.pages = aligned_alloc(KiB4, POOL_PAGES * KiB4);
    assert_non_null(f->pool.pages);
    /* Garbage until handed out: only pool_alloc may make it a table. */
    memset(f->pool.pages, 0xcc, POOL_PAGES * KiB4);
    f->pool.limit = POOL_PAGES;
    f->pt = (struct page_table){
        .table_flags = table_flags,
        .alloc_table = pool_alloc,
        .to_pointer = pool_pointer,
        .ctx = &f->pool,
    };
    assert_int_equal(page_table_init(&f->pt), 0);
    assert_int_equal(f->pt.root, POOL_BASE);
    *state = f;
    return 0;
}

static inline int setup(void **state)
{
    return setup_with(state, PTE_WRITE | PTE_USER);
}

static inline int setup_npt(void **state)
{
    return setup_with(state, NPT_TABLE_FLAGS);
}

static inline int setup_ept(void **state)
{
    return setup_with(state, EPT_TABLE_FLAGS);
}

static inline int teardown(void **state)
{
    struct fixture *f = *state;
    /* Whatever the test left: destroy frees every page exactly once. */
    page_table_destroy(&f->pt, pool_free);
    assert_int_equal(f->pool.used, 0);
    assert_int_equal(f->pool.frees, f->pool.allocs);
    free(f->pool.pages);
    free(f);
    return 0;
}

/* Checks that `va` translates to `pa` with a leaf of `level` and exactly
 * `flags` (plus PRESENT, and LARGE above 4 KiB). */
static inline void expect_leaf(const struct page_table *pt, uint64_t va, uint64_t pa,
                        enum page_level level, uint64_t flags)
{
    enum page_level got = (enum page_level)-1;
    uint64_t e = page_table_lookup(pt, va, &got);
    if (!e)
        fail_msg("va 0x%llx not mapped", (unsigned long long)va);
    assert_int_equal(got, level);
    uint64_t span = 1ull << (12 + 9 * level);
    assert_int_equal(e & PTE_ADDR_MASK & ~(span - 1), pa & ~(span - 1));
    uint64_t want = flags | PTE_PRESENT | (level > PAGE_4K ? PTE_LARGE : 0);
    assert_int_equal(e & ~PTE_ADDR_MASK, want);
}


static inline bool table_is_empty(const uint64_t *table)
{
    for (int i = 0; i < 512; i++)
        if (table[i])
            return false;
    return true;
}

/* Tables reachable from `table` (itself included). Fails if a table other
 * than the root is empty: an unmap left it behind. */
static inline unsigned count_tables(struct fixture *f, uint64_t table, int level)
{
    const uint64_t *entries = pool_pointer(table, &f->pool);
    if (table != f->pt.root && table_is_empty(entries))
        fail_msg("empty level-%d table 0x%llx left in the tree", level,
                 (unsigned long long)table);
    unsigned count = 1;
    for (int i = 0; level > 0 && i < 512; i++)
        if ((entries[i] & PTE_PRESENT) && !(entries[i] & PTE_LARGE))
            count += count_tables(f, entries[i] & PTE_ADDR_MASK, level - 1);
    return count;
}

/* Unmaps, checks what came back is off the tree and reads as not present,
 * frees it. Returns how many tables the unmap handed back. */
static inline unsigned unmap_and_free(struct fixture *f, uint64_t va, uint64_t size)
{
    struct table_list emptied = { 0 };
    unsigned before = f->pool.used;
    assert_int_equal(page_table_unmap(&f->pt, va, size, &emptied), 0);
    /* Nothing freed by the unmap itself: the caller decides when. */
    assert_int_equal(f->pool.used, before);
    assert_int_equal(count_tables(f, f->pt.root, 3) + emptied.count, f->pool.used);
    unsigned listed = 0;
    for (uint64_t page = emptied.first; page; listed++) {
        const uint64_t *entries = pool_pointer(page, &f->pool);
        /* A walker still holding the old parent entry finds nothing: bits
         * 0-2 clear is "not present" for NPT and for EPT alike. */
        for (int i = 0; i < 512; i++)
            assert_int_equal(entries[i] & 7, 0);
        for (int i = 1; i < 512; i++)
            assert_int_equal(entries[i], 0);
        page = entries[0];
    }
    assert_int_equal(listed, emptied.count);
    page_table_free_list(&f->pt, &emptied, pool_free);
    assert_int_equal(emptied.first, 0);
    assert_int_equal(emptied.count, 0);
    assert_int_equal(f->pool.used, before - listed);
    assert_int_equal(count_tables(f, f->pt.root, 3), f->pool.used);
    return listed;
}


#endif
