// sources: mmu/page_table.c
/* Unit tests for mmu/page_table.c under a long run of maps and unmaps all
 * over the 1 TiB guest-physical space, with NPT and with EPT table flags:
 * the tables in the tree stay exactly those the live mappings need, so
 * their number is bounded by what is mapped, not by the history. */
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

static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

struct range { uint64_t va, size; };

/* A range in the 1 TiB space of one of six shapes: single pages, a run
 * across a 2 MiB boundary, one across a 1 GiB boundary, a 2 MiB and a
 * 1 GiB large page, and 4 MiB of 4 KiB pages. Half land in a few GiB
 * near 0 and near 512 GiB, so that ranges share tables. */
static struct range random_range(uint64_t *x, enum page_level *largest)
{
    uint64_t r = next_random(x);
    uint64_t gib = r & 1 ? (r >> 1) % 1023 : ((r >> 1) % 4) + ((r >> 3) & 1) * 510;
    uint64_t base = gib * GiB1 + ((r >> 16) % 510) * MiB2;
    *largest = PAGE_1G;
    switch ((r >> 40) % 6) {
    case 0: return (struct range){ base + ((r >> 32) % 500) * KiB4, KiB4 * (1 + (r >> 56) % 4) };
    case 1: return (struct range){ base + MiB2 - 2 * KiB4, 4 * KiB4 };
    case 2: return (struct range){ (gib + 1) * GiB1 - 2 * KiB4, 4 * KiB4 };
    case 3: return (struct range){ base, MiB2 };
    case 4: return (struct range){ gib * GiB1, GiB1 };
    default: *largest = PAGE_4K; return (struct range){ base, 2 * MiB2 };
    }
}

static bool overlaps(const struct range *a, const struct range *b)
{
    return a->va < b->va + b->size && b->va < a->va + a->size;
}

#define LIVE_MAX 12

/* Maps and unmaps ranges all over the space, up to LIVE_MAX at once:
 * after every step the tree holds no empty table, every page out of the
 * pool is in the tree, and the live ranges still translate. */
static void test_map_unmap_churn(void **state)
{
    struct fixture *f = *state;
    struct range live[LIVE_MAX];
    unsigned live_count = 0, most_used = 0;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    const uint64_t leaf = f->pt.table_flags == EPT_TABLE_FLAGS
                              ? EPT_LEAF_READ | EPT_LEAF_WRITE
                              : NPT_LEAF_READ | NPT_LEAF_WRITE;

    for (unsigned step = 0; step < 4000; step++) {
        bool add = live_count == 0 ||
                   (live_count < LIVE_MAX && next_random(&x) % 3 != 0);
        if (add) {
            enum page_level largest;
            struct range r = random_range(&x, &largest);
            bool clash = r.va + r.size > TiB1;
            for (unsigned i = 0; i < live_count && !clash; i++)
                clash = overlaps(&r, &live[i]);
            if (clash)
                continue;
            assert_int_equal(page_table_map(&f->pt, r.va, r.va + TiB1, r.size, leaf,
                                             largest), 0);
            live[live_count++] = r;
        } else {
            unsigned i = (unsigned)(next_random(&x) % live_count);
            unmap_and_free(f, live[i].va, live[i].size);
            assert_int_equal(page_table_lookup(&f->pt, live[i].va, NULL), 0);
            assert_int_equal(page_table_lookup(&f->pt, live[i].va + live[i].size - 1,
                                               NULL), 0);
            live[i] = live[--live_count];
        }
        for (unsigned i = 0; i < live_count; i++) {
            uint64_t last = live[i].va + live[i].size - 1;
            uint64_t e = page_table_lookup(&f->pt, last, NULL);
            assert_int_not_equal(e, 0);
            assert_int_equal(e & ~PTE_ADDR_MASK & ~PTE_LARGE, leaf);
        }
        assert_int_equal(count_tables(f, f->pt.root, 3), f->pool.used);
        if (f->pool.used > most_used)
            most_used = f->pool.used;
    }
    /* Bounded by what is mapped at once, not by the history. */
    assert_true(most_used < 1 + LIVE_MAX * 6);
    while (live_count > 0) {
        live_count--;
        unmap_and_free(f, live[live_count].va, live[live_count].size);
    }
    assert_int_equal(f->pool.used, 1);
    assert_true(f->pool.allocs > 1000);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_map_unmap_churn, setup_npt, teardown),
        cmocka_unit_test_setup_teardown(test_map_unmap_churn, setup_ept, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
