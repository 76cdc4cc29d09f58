// sources: mmu/page_table.c
/* Unit tests for mmu/page_table.c: mappings of each page size, the
 * first-mapping-wins rule, refusals, running out of table pages, and what
 * an unmap hands back: every table it empties, none that still holds an
 * entry, never the root. Table pages come from tests/unit/page_table_pool.h.
 * The random churn across the whole space, in both second-level formats,
 * is in test_page_table_churn.c. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "mmu/nested_formats.h"
#include "mmu/page_table.h"
#include "tests/unit/page_table_pool.h"

static void test_init_failure(void **state)
{
    (void)state;
    struct pool pool = { .pages = NULL, .limit = 0 };
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


/* ---- unmap and the tables it hands back ------------------------------ */

static void test_unmap_frees_emptied_tables(void **state)
{
    struct fixture *f = *state;
    /* The last page below 1 TiB: PML4 1, PDPT 511, PD 511, PT 511. */
    const uint64_t va = TiB1 - KiB4;
    assert_int_equal(page_table_map(&f->pt, va, 0x5000, KiB4, PTE_WRITE, PAGE_1G), 0);
    assert_int_equal(f->pool.used, 4);
    assert_int_equal(unmap_and_free(f, va, KiB4), 3);
    assert_int_equal(f->pool.used, 1);
    assert_int_equal(page_table_lookup(&f->pt, va, NULL), 0);
    assert_true(table_is_empty(pool_pointer(f->pt.root, &f->pool)));
    /* Mapping again builds afresh from the root. */
    assert_int_equal(page_table_map(&f->pt, va, 0x6000, KiB4, PTE_WRITE, PAGE_1G), 0);
    expect_leaf(&f->pt, va, 0x6000, PAGE_4K, PTE_WRITE);
    assert_int_equal(f->pool.used, 4);
}

static void test_unmap_keeps_tables_in_use(void **state)
{
    struct fixture *f = *state;
    const uint64_t a = 3 * GiB1 + 5 * MiB2, b = a + 7 * KiB4;
    const uint64_t c = a + MiB2, d = a + GiB1;
    assert_int_equal(page_table_map(&f->pt, a, 0xa000, KiB4, 0, PAGE_4K), 0);
    assert_int_equal(page_table_map(&f->pt, b, 0xb000, KiB4, 0, PAGE_4K), 0);
    assert_int_equal(page_table_map(&f->pt, c, 0xc000, KiB4, 0, PAGE_4K), 0);
    assert_int_equal(page_table_map(&f->pt, d, 0xd000, KiB4, 0, PAGE_4K), 0);
    /* Root, PDPT, two PDs, three PTs. */
    assert_int_equal(f->pool.used, 7);
    /* b shares its PT with a: nothing comes back. */
    assert_int_equal(unmap_and_free(f, b, KiB4), 0);
    expect_leaf(&f->pt, a, 0xa000, PAGE_4K, 0);
    /* a's PT empties; its PD still holds c's PT. */
    assert_int_equal(unmap_and_free(f, a, KiB4), 1);
    expect_leaf(&f->pt, c, 0xc000, PAGE_4K, 0);
    /* c's PT and PD; the PDPT still holds d's PD. */
    assert_int_equal(unmap_and_free(f, c, KiB4), 2);
    expect_leaf(&f->pt, d, 0xd000, PAGE_4K, 0);
    assert_int_equal(unmap_and_free(f, d, KiB4), 3);
    assert_int_equal(f->pool.used, 1);
}

static void test_unmap_of_unmapped_range_frees_nothing(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(page_table_map(&f->pt, GiB1, 0, MiB2, 0, PAGE_2M), 0);
    assert_int_equal(unmap_and_free(f, GiB1 + MiB2, 8 * MiB2), 0);
    assert_int_equal(unmap_and_free(f, 5 * GiB512, GiB1), 0);
    expect_leaf(&f->pt, GiB1, 0, PAGE_2M, 0);
    /* A 4 KiB unmap inside a 2 MiB leaf is refused and changes nothing. */
    struct table_list emptied = { 0 };
    assert_int_equal(page_table_unmap(&f->pt, GiB1 + KiB4, KiB4, &emptied), -HV_EINVAL);
    assert_int_equal(emptied.count, 0);
    expect_leaf(&f->pt, GiB1, 0, PAGE_2M, 0);
    assert_int_equal(unmap_and_free(f, GiB1, MiB2), 2);
}

static void test_failed_map_leaves_tables_unmap_reclaims(void **state)
{
    struct fixture *f = *state;
    /* Room for the PDPT and the PD but no PT: the map fails having built
     * two tables with nothing below them. */
    f->pool.limit = 3;
    assert_int_equal(page_table_map(&f->pt, 7 * GiB512, 0, KiB4, 0, PAGE_4K),
                     -HV_ENOMEM);
    assert_int_equal(f->pool.used, 3);
    f->pool.limit = POOL_PAGES;
    assert_int_equal(unmap_and_free(f, 7 * GiB512, KiB4), 2);
    assert_int_equal(f->pool.used, 1);
}

/* A small deterministic generator (xorshift64). */
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
        cmocka_unit_test_setup_teardown(test_unmap_frees_emptied_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmap_keeps_tables_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmap_of_unmapped_range_frees_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_map_leaves_tables_unmap_reclaims, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
