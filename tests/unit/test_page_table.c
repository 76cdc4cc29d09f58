// sources: mmu/page_table.c
/* Unit tests for mmu/page_table.c. Table pages come from a pool of host
 * pages; their "physical" addresses are POOL_BASE + index * 4096, so a
 * table address the code gets wrong cannot be dereferenced by accident
 * (to_pointer refuses anything outside the pool). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "mmu/page_table.h"

#define POOL_PAGES 64
#define POOL_BASE  0x7000000000ull
#define KiB4 0x1000ull
#define MiB2 0x200000ull
#define GiB1 0x40000000ull

struct pool {
    uint8_t *pages;
    unsigned used;
    unsigned limit; /* allocations allowed before failing */
};

static uint64_t pool_alloc(void *ctx)
{
    struct pool *p = ctx;
    if (p->used >= p->limit)
        return 0;
    /* The contract: a zeroed page (the pool starts out as garbage). */
    memset(p->pages + p->used * KiB4, 0, KiB4);
    return POOL_BASE + KiB4 * p->used++;
}

static void *pool_pointer(uint64_t phys, void *ctx)
{
    struct pool *p = ctx;
    assert_true(phys >= POOL_BASE && phys < POOL_BASE + KiB4 * p->used);
    assert_int_equal(phys % KiB4, 0);
    return p->pages + (phys - POOL_BASE);
}

struct fixture {
    struct pool pool;
    struct page_table pt;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->pool.pages = aligned_alloc(KiB4, POOL_PAGES * KiB4);
    assert_non_null(f->pool.pages);
    /* Garbage until handed out: only pool_alloc may make it a table. */
    memset(f->pool.pages, 0xcc, POOL_PAGES * KiB4);
    f->pool.limit = POOL_PAGES;
    f->pt = (struct page_table){
        .table_flags = PTE_WRITE | PTE_USER,
        .alloc_table = pool_alloc,
        .to_pointer = pool_pointer,
        .ctx = &f->pool,
    };
    assert_int_equal(page_table_init(&f->pt), 0);
    assert_int_equal(f->pt.root, POOL_BASE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->pool.pages);
    free(f);
    return 0;
}

/* Checks that `va` translates to `pa` with a leaf of `level` and exactly
 * `flags` (plus PRESENT, and LARGE above 4 KiB). */
static void expect_leaf(const struct page_table *pt, uint64_t va, uint64_t pa,
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

static void test_init_failure(void **state)
{
    (void)state;
    struct pool pool = { .pages = NULL, .used = 0, .limit = 0 };
    struct page_table pt = { .alloc_table = pool_alloc, .to_pointer = pool_pointer,
                             .ctx = &pool };
    assert_int_equal(page_table_init(&pt), -HV_ENOMEM);
}

static void test_2m_leaves(void **state)
{
    struct fixture *f = *state;
    const uint64_t flags = PTE_WRITE | PTE_NX;
    assert_int_equal(page_table_map(&f->pt, 0x400000, 0x80000000, 4 * MiB2,
                                    flags, PAGE_2M), 0);
    /* PML4, PDPT and one PD: no page tables were needed. */
    assert_int_equal(f->pool.used, 3);
    for (uint64_t off = 0; off < 4 * MiB2; off += MiB2)
        expect_leaf(&f->pt, 0x400000 + off + 0x1234, 0x80000000 + off, PAGE_2M,
                    flags);
    enum page_level lvl;
    assert_int_equal(page_table_lookup(&f->pt, 0x200000, &lvl), 0);
    assert_int_equal(page_table_lookup(&f->pt, 0x400000 + 4 * MiB2, &lvl), 0);
    assert_int_equal(page_table_lookup(&f->pt, 0xffff800000000000ull, &lvl), 0);

    /* Non-leaf entries carry table_flags and PRESENT, never LARGE. */
    const uint64_t *pml4 = pool_pointer(f->pt.root, &f->pool);
    assert_int_equal(pml4[0], (POOL_BASE + KiB4) | PTE_WRITE | PTE_USER | PTE_PRESENT);
    for (int i = 1; i < 512; i++)
        assert_int_equal(pml4[i], 0);
}

static void test_1g_leaves(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(page_table_map(&f->pt, GiB1, 3 * GiB1, 2 * GiB1,
                                    PTE_WRITE, PAGE_1G), 0);
    assert_int_equal(f->pool.used, 2); /* PML4 and PDPT only */
    expect_leaf(&f->pt, GiB1, 3 * GiB1, PAGE_1G, PTE_WRITE);
    expect_leaf(&f->pt, 3 * GiB1 - 1, 4 * GiB1, PAGE_1G, PTE_WRITE);

    /* Same range limited to 2 MiB pages: 2 page directories of 512. */
    assert_int_equal(page_table_map(&f->pt, 4 * GiB1, 3 * GiB1, 2 * GiB1,
                                    PTE_WRITE, PAGE_2M), 0);
    assert_int_equal(f->pool.used, 4);
    expect_leaf(&f->pt, 4 * GiB1, 3 * GiB1, PAGE_2M, PTE_WRITE);
    expect_leaf(&f->pt, 6 * GiB1 - MiB2, 5 * GiB1 - MiB2, PAGE_2M, PTE_WRITE);

    /* 1 GiB allowed but the range is only 2 MiB aligned: 2 MiB leaves. */
    assert_int_equal(page_table_map(&f->pt, 8 * GiB1 + MiB2, MiB2, GiB1,
                                    0, PAGE_1G), 0);
    expect_leaf(&f->pt, 8 * GiB1 + MiB2, MiB2, PAGE_2M, 0);
    expect_leaf(&f->pt, 9 * GiB1, GiB1, PAGE_2M, 0);
}

static void test_4k_when_unaligned(void **state)
{
    struct fixture *f = *state;
    /* One page before a 2 MiB boundary, a whole 2 MiB, one page after. */
    const uint64_t va = MiB2 * 10 - KiB4, pa = va + 0x10000000;
    assert_int_equal(page_table_map(&f->pt, va, pa, MiB2 + 2 * KiB4,
                                    PTE_WRITE, PAGE_1G), 0);
    expect_leaf(&f->pt, va, pa, PAGE_4K, PTE_WRITE);
    expect_leaf(&f->pt, va + KiB4, pa + KiB4, PAGE_2M, PTE_WRITE);
    expect_leaf(&f->pt, va + KiB4 + MiB2, pa + KiB4 + MiB2, PAGE_4K, PTE_WRITE);
    assert_int_equal(page_table_lookup(&f->pt, va + 2 * KiB4 + MiB2, NULL), 0);

    /* va 2 MiB aligned but pa not: every page must be 4 KiB. */
    const uint64_t va2 = 0x40000000000ull, pa2 = 0x301000;
    assert_int_equal(page_table_map(&f->pt, va2, pa2, MiB2, 0, PAGE_2M), 0);
    for (uint64_t off = 0; off < MiB2; off += 0x7f000)
        expect_leaf(&f->pt, va2 + off, pa2 + off, PAGE_4K, 0);

    /* Largest 4 KiB forces small pages even when all is aligned. */
    assert_int_equal(page_table_map(&f->pt, 0x80000000000ull, 0, MiB2, 0,
                                    PAGE_4K), 0);
    expect_leaf(&f->pt, 0x80000000000ull + MiB2 - KiB4, MiB2 - KiB4, PAGE_4K, 0);
}

static void test_high_half(void **state)
{
    struct fixture *f = *state;
    /* The hypervisor's own image lives at -2 GiB: PML4 511, PDPT 510. */
    const uint64_t va = 0xffffffff80000000ull;
    assert_int_equal(page_table_map(&f->pt, va, MiB2, 2 * MiB2, PTE_GLOBAL,
                                    PAGE_2M), 0);
    expect_leaf(&f->pt, va, MiB2, PAGE_2M, PTE_GLOBAL);
    expect_leaf(&f->pt, va + MiB2 + 0x5000, 2 * MiB2, PAGE_2M, PTE_GLOBAL);
    const uint64_t *pml4 = pool_pointer(f->pt.root, &f->pool);
    assert_true(pml4[511] & PTE_PRESENT);
    assert_int_equal(page_table_lookup(&f->pt, va - MiB2, NULL), 0);
}

static void test_first_mapping_wins(void **state)
{
    struct fixture *f = *state;
    const uint64_t base = 0x600000, special = base + 0x5000;
    const uint64_t ro_nx = PTE_NX, rw = PTE_WRITE;
    /* Three pages with exact permissions first... */
    assert_int_equal(page_table_map(&f->pt, special, 0x90005000, 3 * KiB4,
                                    ro_nx, PAGE_4K), 0);
    /* ...then a broad 2 MiB mapping with other flags and addresses. */
    assert_int_equal(page_table_map(&f->pt, base, 0x40000000, MiB2, rw,
                                    PAGE_2M), 0);
    for (uint64_t off = 0; off < MiB2; off += KiB4) {
        uint64_t va = base + off;
        if (va >= special && va < special + 3 * KiB4)
            expect_leaf(&f->pt, va, 0x90000000 + off, PAGE_4K, ro_nx);
        else
            expect_leaf(&f->pt, va, 0x40000000 + off, PAGE_4K, rw);
    }

    /* The other way round: a 2 MiB leaf is not split by a later 4 KiB. */
    assert_int_equal(page_table_map(&f->pt, 0xa00000, 0xa00000, MiB2, rw,
                                    PAGE_2M), 0);
    unsigned used = f->pool.used;
    assert_int_equal(page_table_map(&f->pt, 0xa01000, 0x12345000, KiB4, ro_nx,
                                    PAGE_4K), 0);
    assert_int_equal(f->pool.used, used);
    expect_leaf(&f->pt, 0xa01000, 0xa00000, PAGE_2M, rw);

    /* A 4 KiB page inside a later 1 GiB mapping: the rest of its 2 MiB is
     * filled with 4 KiB pages, the rest of the GiB with 2 MiB pages. */
    assert_int_equal(page_table_map(&f->pt, 4 * GiB1 + KiB4, 0x1000, KiB4,
                                    ro_nx, PAGE_4K), 0);
    assert_int_equal(page_table_map(&f->pt, 4 * GiB1, 8 * GiB1, GiB1, rw,
                                    PAGE_1G), 0);
    expect_leaf(&f->pt, 4 * GiB1 + KiB4, 0x1000, PAGE_4K, ro_nx);
    expect_leaf(&f->pt, 4 * GiB1, 8 * GiB1, PAGE_4K, rw);
    expect_leaf(&f->pt, 4 * GiB1 + 2 * KiB4, 8 * GiB1 + 2 * KiB4, PAGE_4K, rw);
    expect_leaf(&f->pt, 4 * GiB1 + MiB2, 8 * GiB1 + MiB2, PAGE_2M, rw);
    expect_leaf(&f->pt, 5 * GiB1 - 1, 9 * GiB1 - MiB2, PAGE_2M, rw);
}

static void test_invalid_arguments(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(page_table_map(&f->pt, 0x1800, 0x2000, KiB4, 0, PAGE_4K),
                     -HV_EINVAL);
    assert_int_equal(page_table_map(&f->pt, 0x2000, 0x1800, KiB4, 0, PAGE_4K),
                     -HV_EINVAL);
    assert_int_equal(page_table_map(&f->pt, 0x2000, 0x2000, 0x800, 0, PAGE_4K),
                     -HV_EINVAL);
    /* A range wrapping past the top of the address space. */
    assert_int_equal(page_table_map(&f->pt, 0xffffffffffe00000ull, 0,
                                    4 * MiB2, 0, PAGE_2M), -HV_EINVAL);
    /* Nothing was built for the refused calls. */
    assert_int_equal(f->pool.used, 1);
    /* An empty range is a successful no-op. */
    assert_int_equal(page_table_map(&f->pt, 0x2000, 0x2000, 0, 0, PAGE_4K), 0);
    assert_int_equal(f->pool.used, 1);
}

static void test_out_of_tables(void **state)
{
    struct fixture *f = *state;
    /* A 4 KiB page needs PDPT, PD and PT below the root: allow two. */
    f->pool.limit = 3;
    assert_int_equal(page_table_map(&f->pt, 0x5000, 0x5000, KiB4, 0, PAGE_4K),
                     -HV_ENOMEM);
    assert_int_equal(page_table_lookup(&f->pt, 0x5000, NULL), 0);
    /* With one more table it succeeds, reusing the two already made. */
    f->pool.limit = 4;
    assert_int_equal(page_table_map(&f->pt, 0x5000, 0x5000, KiB4, 0, PAGE_4K), 0);
    expect_leaf(&f->pt, 0x5000, 0x5000, PAGE_4K, 0);
    /* A range needing a second page table fails part-way. */
    assert_int_equal(page_table_map(&f->pt, MiB2 - 2 * KiB4, 0, 4 * KiB4, 0,
                                    PAGE_4K), -HV_ENOMEM);
    expect_leaf(&f->pt, MiB2 - KiB4, KiB4, PAGE_4K, 0);
    assert_int_equal(page_table_lookup(&f->pt, MiB2, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_failure),
        cmocka_unit_test_setup_teardown(test_2m_leaves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_1g_leaves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_4k_when_unaligned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_high_half, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_mapping_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_tables, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
