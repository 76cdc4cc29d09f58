// sources: mmu/page_table.c mmu/dirty_log.c
/* Unit tests for dirty logging's pieces: the bitmap (mmu/dirty_log.c) and
 * the leaf update of mmu/page_table.c that write-protects a page and makes
 * it writable again, in both second-level formats (mmu/nested_formats.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "mmu/dirty_log.h"
#include "mmu/nested_formats.h"

#define POOL_PAGES 16
#define FAKE_BASE 0x100000000ull /* "physical" address of pool page 0 */
#define KiB4 0x1000ull
#define MiB2 0x200000ull

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
    assert_true(phys >= FAKE_BASE && phys < FAKE_BASE + 4096ull * pool_used);
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

/* ---- the bitmap ---- */

static void bitmap_bytes_are_whole_words(void **state)
{
    (void)state;
    assert_int_equal(dirty_log_bytes(0), 0);
    assert_int_equal(dirty_log_bytes(KiB4), 8);
    assert_int_equal(dirty_log_bytes(64 * KiB4), 8);
    assert_int_equal(dirty_log_bytes(65 * KiB4), 16);
    assert_int_equal(dirty_log_bytes(100 * KiB4), 16);
    assert_int_equal(dirty_log_bytes(1ull << 30), (1ull << 18) / 8);
}

static void mark_sets_one_bit_and_reports_repeats(void **state)
{
    (void)state;
    uint64_t bitmap[3] = { 0 };
    assert_int_equal(dirty_log_mark(bitmap, 0), 0);
    assert_int_equal(dirty_log_mark(bitmap, 63), 0);
    assert_int_equal(dirty_log_mark(bitmap, 64), 0);
    assert_int_equal(dirty_log_mark(bitmap, 130), 0);
    assert_int_equal(dirty_log_mark(bitmap, 63), 1);
    assert_int_equal(bitmap[0], 1ull | 1ull << 63);
    assert_int_equal(bitmap[1], 1ull);
    assert_int_equal(bitmap[2], 1ull << 2);
}

static void take_word_returns_and_clears(void **state)
{
    (void)state;
    uint64_t bitmap[2] = { 0 };
    for (uint64_t page = 0; page < 128; page += 3)
        dirty_log_mark(bitmap, page);
    assert_int_equal(dirty_log_take_word(bitmap, 0), 0x9249249249249249ull);
    assert_int_equal(bitmap[0], 0);
    assert_int_equal(bitmap[1], 0x4924924924924924ull);
    assert_int_equal(dirty_log_take_word(bitmap, 0), 0);
    assert_int_equal(dirty_log_take_word(bitmap, 1), 0x4924924924924924ull);
    assert_int_equal(dirty_log_take_word(bitmap, 1), 0);
}

/* ---- leaf updates, in each format ---- */

static void write_protect_round_trip(uint64_t table_flags, uint64_t leaf_read,
                                     uint64_t leaf_write)
{
    struct page_table pt = make(table_flags);
    uint64_t va = 0x40000000, pa = 0x12340000;
    assert_int_equal(page_table_map(&pt, va, pa, 8 * KiB4, leaf_read, PAGE_4K), 0);

    /* Make page 3 writable: only its leaf changes, address and the other
     * bits kept. */
    assert_int_equal(page_table_update_leaf(&pt, va + 3 * KiB4, leaf_write, 0), 0);
    for (uint64_t page = 0; page < 8; page++) {
        enum page_level level;
        uint64_t leaf = page_table_lookup(&pt, va + page * KiB4, &level);
        assert_int_equal(level, PAGE_4K);
        assert_int_equal(leaf & PTE_ADDR_MASK, pa + page * KiB4);
        uint64_t want = leaf_read | PTE_PRESENT | (page == 3 ? leaf_write : 0);
        assert_int_equal(leaf & ~PTE_ADDR_MASK, want);
    }
    /* Bits the walker set (accessed, dirty) survive write-protection. */
    uint64_t *leaf_slot = &pool[pool_used - 1][(va >> 12) % 512 + 3];
    *leaf_slot |= PTE_ACCESSED | PTE_DIRTY;
    assert_int_equal(page_table_update_leaf(&pt, va + 3 * KiB4, 0, leaf_write), 0);
    uint64_t leaf = page_table_lookup(&pt, va + 3 * KiB4, NULL);
    assert_int_equal(leaf & leaf_write, 0);
    assert_int_equal(leaf & (PTE_ACCESSED | PTE_DIRTY), PTE_ACCESSED | PTE_DIRTY);
    assert_int_equal(leaf & PTE_ADDR_MASK, pa + 3 * KiB4);
}

static void npt_write_protect_round_trip(void **state)
{
    (void)state;
    write_protect_round_trip(NPT_TABLE_FLAGS, NPT_LEAF_READ, NPT_LEAF_WRITE);
}

static void ept_write_protect_round_trip(void **state)
{
    (void)state;
    write_protect_round_trip(EPT_TABLE_FLAGS, EPT_LEAF_READ, EPT_LEAF_WRITE);
}

static void update_refuses_unmapped_and_large_pages(void **state)
{
    (void)state;
    struct page_table pt = make(NPT_TABLE_FLAGS);
    assert_int_equal(page_table_update_leaf(&pt, 0, NPT_LEAF_WRITE, 0), -HV_ENOENT);
    assert_int_equal(page_table_map(&pt, 0, 0, MiB2, NPT_LEAF_READ, PAGE_2M), 0);
    assert_int_equal(page_table_map(&pt, MiB2, MiB2, KiB4, NPT_LEAF_READ, PAGE_4K), 0);
    /* A 2 MiB leaf is left alone: dirty logging maps 4 KiB pages only. */
    assert_int_equal(page_table_update_leaf(&pt, KiB4, NPT_LEAF_WRITE, 0), -HV_ENOENT);
    assert_int_equal(page_table_lookup(&pt, KiB4, NULL) & NPT_LEAF_WRITE, 0);
    /* Next to a mapped 4 KiB page, in the same table: not mapped. */
    assert_int_equal(page_table_update_leaf(&pt, MiB2 + KiB4, NPT_LEAF_WRITE, 0),
                     -HV_ENOENT);
    assert_int_equal(page_table_update_leaf(&pt, MiB2 + 0x800, NPT_LEAF_WRITE, 0), 0);
    assert_int_not_equal(page_table_lookup(&pt, MiB2, NULL) & NPT_LEAF_WRITE, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bitmap_bytes_are_whole_words),
        cmocka_unit_test(mark_sets_one_bit_and_reports_repeats),
        cmocka_unit_test(take_word_returns_and_clears),
        cmocka_unit_test(npt_write_protect_round_trip),
        cmocka_unit_test(ept_write_protect_round_trip),
        cmocka_unit_test(update_refuses_unmapped_and_large_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
