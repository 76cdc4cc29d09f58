// sources: mmu/page_table.c
/* Unit tests for the two second-level formats (mmu/nested_formats.h) built
 * by mmu/page_table.c: the same slot mapped as NPT and as EPT gives entries
 * with each format's bits, at each page size, writable and read-only. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mmu/nested_formats.h"

#define POOL_PAGES 64
#define FAKE_BASE 0x100000000ull /* "physical" address of pool page 0 */

static uint64_t pool[POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned pool_used;

static uint64_t alloc_table(void *ctx)
{
    (void)ctx;
    if (pool_used == POOL_PAGES)
        return 0;
    memset(pool[pool_used], 0, 4096);
    return FAKE_BASE + 4096ull * pool_used++;
}

static void *to_pointer(uint64_t phys, void *ctx)
{
    (void)ctx;
    return pool[(phys - FAKE_BASE) / 4096];
}

static struct page_table make(uint64_t table_flags)
{
    pool_used = 0;
    struct page_table pt = { .table_flags = table_flags, .alloc_table = alloc_table,
                             .to_pointer = to_pointer };
    assert_int_equal(page_table_init(&pt), 0);
    return pt;
}

/* The non-leaf entry at `level` on the way to `va`. */
static uint64_t table_entry(struct page_table *pt, uint64_t va, int level)
{
    uint64_t table = pt->root;
    for (int l = 3; l > level; l--)
        table = ((uint64_t *)to_pointer(table, NULL))[(va >> (12 + 9 * l)) & 511] & PTE_ADDR_MASK;
    return ((uint64_t *)to_pointer(table, NULL))[(va >> (12 + 9 * level)) & 511];
}

static void test_npt_writable_2m_and_4k(void **state)
{
    (void)state;
    struct page_table pt = make(NPT_TABLE_FLAGS);
    /* 2 MiB + 4 KiB: one large leaf and one small one. */
    assert_int_equal(page_table_map(&pt, 0x200000, 0x40000000, 0x201000,
                                    NPT_LEAF_READ | NPT_LEAF_WRITE, PAGE_1G), 0);
    enum page_level level;
    uint64_t e = page_table_lookup(&pt, 0x200000, &level);
    assert_int_equal(level, PAGE_2M);
    assert_int_equal(e, 0x40000000 | PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_LARGE);
    e = page_table_lookup(&pt, 0x400000, &level);
    assert_int_equal(level, PAGE_4K);
    assert_int_equal(e, 0x40200000 | PTE_PRESENT | PTE_WRITE | PTE_USER);
    /* U and W at every table level, as NPT requires. */
    for (int l = 3; l >= 1; l--)
        assert_int_equal(table_entry(&pt, 0x400000, l) & 0xfff, NPT_TABLE_FLAGS);
}

static void test_npt_read_only_leaf_has_no_write(void **state)
{
    (void)state;
    struct page_table pt = make(NPT_TABLE_FLAGS);
    assert_int_equal(page_table_map(&pt, 0, 0x80000000, 0x1000, NPT_LEAF_READ, PAGE_1G), 0);
    uint64_t e = page_table_lookup(&pt, 0, NULL);
    assert_int_equal(e, 0x80000000 | PTE_PRESENT | PTE_USER);
}

static void test_ept_writable_1g_2m_4k(void **state)
{
    (void)state;
    struct page_table pt = make(EPT_TABLE_FLAGS);
    uint64_t leaf = EPT_LEAF_READ | EPT_LEAF_WRITE;
    assert_int_equal(page_table_map(&pt, 0x40000000, 0x80000000, 0x40000000, leaf, PAGE_1G), 0);
    assert_int_equal(page_table_map(&pt, 0x200000, 0x600000, 0x200000, leaf, PAGE_1G), 0);
    assert_int_equal(page_table_map(&pt, 0x1000, 0x9000, 0x1000, leaf, PAGE_1G), 0);
    enum page_level level;
    uint64_t e = page_table_lookup(&pt, 0x40000000, &level);
    assert_int_equal(level, PAGE_1G);
    assert_int_equal(e, 0x80000000 | EPT_READ | EPT_WRITE | EPT_EXECUTE |
                            EPT_MEMORY_TYPE_WB | EPT_LARGE_PAGE);
    e = page_table_lookup(&pt, 0x200000, &level);
    assert_int_equal(level, PAGE_2M);
    assert_int_equal(e, 0x600000 | EPT_READ | EPT_WRITE | EPT_EXECUTE |
                            EPT_MEMORY_TYPE_WB | EPT_LARGE_PAGE);
    e = page_table_lookup(&pt, 0x1000, &level);
    assert_int_equal(level, PAGE_4K);
    /* No "large" bit at the 4 KiB level: there bit 7 means something else. */
    assert_int_equal(e, 0x9000 | EPT_READ | EPT_WRITE | EPT_EXECUTE | EPT_MEMORY_TYPE_WB);
    /* Non-leaf EPT entries: read, write, execute; no memory type. */
    for (int l = 3; l >= 1; l--)
        assert_int_equal(table_entry(&pt, 0x1000, l) & 0xfff, EPT_TABLE_FLAGS);
}

static void test_ept_read_only_leaf(void **state)
{
    (void)state;
    struct page_table pt = make(EPT_TABLE_FLAGS);
    assert_int_equal(page_table_map(&pt, 0x3000, 0x5000, 0x1000, EPT_LEAF_READ, PAGE_1G), 0);
    uint64_t e = page_table_lookup(&pt, 0x3000, NULL);
    assert_int_equal(e & EPT_WRITE, 0);
    assert_int_equal(e, 0x5000 | EPT_READ | EPT_EXECUTE | EPT_MEMORY_TYPE_WB);
}

static void test_unmap_works_for_both_formats(void **state)
{
    (void)state;
    uint64_t tables[2] = { NPT_TABLE_FLAGS, EPT_TABLE_FLAGS };
    uint64_t leaves[2] = { NPT_LEAF_READ | NPT_LEAF_WRITE, EPT_LEAF_READ | EPT_LEAF_WRITE };
    for (int f = 0; f < 2; f++) {
        struct page_table pt = make(tables[f]);
        assert_int_equal(page_table_map(&pt, 0, 0x10000000, 0x400000, leaves[f], PAGE_1G), 0);
        struct table_list emptied = { 0 };
        assert_int_equal(page_table_unmap(&pt, 0, 0x400000, &emptied), 0);
        assert_int_equal(page_table_lookup(&pt, 0, NULL), 0);
        assert_int_equal(page_table_lookup(&pt, 0x3ff000, NULL), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npt_writable_2m_and_4k),
        cmocka_unit_test(test_npt_read_only_leaf_has_no_write),
        cmocka_unit_test(test_ept_writable_1g_2m_4k),
        cmocka_unit_test(test_ept_read_only_leaf),
        cmocka_unit_test(test_unmap_works_for_both_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
