// sources: mmu/code_walk.c mmu/guest_walk.c
/* Unit tests for mmu/code_walk.c: the walk to a paging guest's code page,
 * kept with the entries it read. Guest page tables are built by hand in a
 * fake 2 MiB guest-physical memory, whose pages the "hypervisor's view"
 * hands out as pointers into the same array, so that a table changed in
 * guest memory is seen through the kept entries, as in the hypervisor. The
 * property under test: bytes come from the kept page only while a fresh
 * walk would find that same page, and then with no walk (no look-up). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mmu/code_walk.h"

#define CR0_PE   (1ull << 0)
#define CR0_PG   (1ull << 31)
#define CR4_PAE  (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define P        (1ull << 0)
#define W        (1ull << 1)
#define A        (1ull << 5)
#define PS       (1ull << 7)

#define MEM_SIZE (2ull << 20)

struct guest_mem {
    unsigned lookups;               /* pages looked up (each entry read, the page) */
    uint64_t no_ram_page;           /* a page page_of says is not RAM, or 0 */
    uint8_t bytes[MEM_SIZE] __attribute__((aligned(4096)));
};

static struct guest_mem mem;

static const uint8_t *fake_page(uint64_t gpa_page, void *ctx)
{
    struct guest_mem *m = ctx;
    assert_int_equal(gpa_page & 0xfff, 0);
    m->lookups++;
    if (gpa_page >= MEM_SIZE || (m->no_ram_page && gpa_page == m->no_ram_page))
        return NULL;
    return m->bytes + gpa_page;
}

static void put64(uint64_t gpa, uint64_t v) { memcpy(mem.bytes + gpa, &v, 8); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(mem.bytes + gpa, &v, 4); }

static struct code_walk kept;

static int reset(void **state)
{
    (void)state;
    memset(&mem, 0, sizeof(mem));
    memset(&kept, 0x5a, sizeof(kept)); /* garbage that forget must make harmless */
    code_walk_forget(&kept);
    return 0;
}

/* 4-level paging: CR3 0x1000, PML4 -> 0x2000 (PDPT) -> 0x3000 (PD) ->
 * 0x4000 (PT). Linear 0x401000 is PML4[0] PDPT[0] PD[2] PT[1], mapped to
 * the code page 0x10000; 0x403000 (PT[3]) to 0x11000. */
static const struct guest_paging long_mode = { CR0_PE | CR0_PG, 0x1000, CR4_PAE,
                                               EFER_LME | EFER_LMA };

static void build_4level(void)
{
    put64(0x1000, 0x2000 | P | W);
    put64(0x2000, 0x3000 | P | W);
    put64(0x3000 + 2 * 8, 0x4000 | P | W);
    put64(0x4000 + 1 * 8, 0x10000 | P);
    put64(0x4000 + 3 * 8, 0x11000 | P);
    memcpy(mem.bytes + 0x10000 + 0x123, "\x0f\xa2", 2);    /* CPUID */
    memcpy(mem.bytes + 0x11000 + 0x123, "\x0f\x30", 2);    /* WRMSR */
}

static const uint8_t *take(const struct guest_paging *paging, uint64_t linear, uint64_t gen)
{
    return code_walk_take(&kept, paging, linear, gen, fake_page, &mem);
}

static void test_kept_walk_serves_the_page_without_lookups(void **state)
{
    (void)state;
    build_4level();
    assert_null(code_walk_bytes(&kept, &long_mode, 0x401123, 7));
    const uint8_t *code = take(&long_mode, 0x401123, 7);
    assert_ptr_equal(code, mem.bytes + 0x10123);
    assert_int_equal(mem.lookups, 5);    /* four entries, the page */
    /* Another instruction on the same page, then the page's last place
     * an instruction of 15 bytes fits: no walk. */
    assert_ptr_equal(code_walk_bytes(&kept, &long_mode, 0x401123, 7), mem.bytes + 0x10123);
    assert_ptr_equal(code_walk_bytes(&kept, &long_mode, 0x401000, 7), mem.bytes + 0x10000);
    assert_ptr_equal(code_walk_bytes(&kept, &long_mode, 0x401ff1, 7), mem.bytes + 0x10ff1);
    assert_int_equal(mem.lookups, 5);
    /* One that may cross the page's end, another page, the page before. */
    assert_null(code_walk_bytes(&kept, &long_mode, 0x401ff2, 7));
    assert_null(code_walk_bytes(&kept, &long_mode, 0x403123, 7));
    assert_null(code_walk_bytes(&kept, &long_mode, 0x400fff, 7));
}

static void test_any_change_of_an_entry_read_is_a_miss(void **state)
{
    (void)state;
    build_4level();
    static const uint64_t entries[] = { 0x1000, 0x2000, 0x3000 + 2 * 8, 0x4000 + 1 * 8 };
    for (unsigned i = 0; i < 4; i++) {
        assert_non_null(take(&long_mode, 0x401123, 1));
        uint64_t old;
        memcpy(&old, mem.bytes + entries[i], 8);
        /* The accessed bit the CPU sets: still a miss (the compare is
         * whole), and the walk taken again keeps the new value. */
        put64(entries[i], old | A);
        assert_null(code_walk_bytes(&kept, &long_mode, 0x401123, 1));
        assert_ptr_equal(take(&long_mode, 0x401123, 1), mem.bytes + 0x10123);
        assert_ptr_equal(code_walk_bytes(&kept, &long_mode, 0x401123, 1), mem.bytes + 0x10123);
        put64(entries[i], old);
    }
}

/* A walk that fails forgets the one kept before it for every address,
 * also for those next to CODE_WALK_NONE (a non-canonical RIP's), which
 * the old walk's entries, still unchanged, would otherwise answer. */
static void test_a_failed_walk_forgets_for_every_address(void **state)
{
    (void)state;
    build_4level();
    assert_non_null(take(&long_mode, 0x401123, 1));
    assert_null(take(&long_mode, 0x405123, 1));         /* PT[5]: not present */
    assert_null(code_walk_bytes(&kept, &long_mode, 0x401123, 1));
    assert_null(code_walk_bytes(&kept, &long_mode, CODE_WALK_NONE, 1));
    assert_null(code_walk_bytes(&kept, &long_mode, CODE_WALK_NONE + 0x123, 1));
}

static void test_a_remap_gives_the_new_page(void **state)
{
    (void)state;
    build_4level();
    assert_ptr_equal(take(&long_mode, 0x401123, 1), mem.bytes + 0x10123);
    /* The guest points the same linear page at the WRMSR page. */
    put64(0x4000 + 1 * 8, 0x11000 | P);
    assert_null(code_walk_bytes(&kept, &long_mode, 0x401123, 1));
    const uint8_t *code = take(&long_mode, 0x401123, 1);
    assert_ptr_equal(code, mem.bytes + 0x11123);
    assert_memory_equal(code, "\x0f\x30", 2);
}

static void test_paging_mode_cr3_and_generation_are_the_key(void **state)
{
    (void)state;
    build_4level();
    assert_non_null(take(&long_mode, 0x401123, 3));
    struct guest_paging other = long_mode;
    other.cr3 = 0x5000;
    assert_null(code_walk_bytes(&kept, &other, 0x401123, 3));
    other = long_mode;
    other.cr4 |= 1ull << 12;                        /* LA57: five levels */
    assert_null(code_walk_bytes(&kept, &other, 0x401123, 3));
    other = long_mode;
    other.cr4 &= ~CR4_PAE;
    assert_null(code_walk_bytes(&kept, &other, 0x401123, 3));
    other = long_mode;
    other.cr4 |= 1ull << 4;                         /* PSE */
    assert_null(code_walk_bytes(&kept, &other, 0x401123, 3));
    other = long_mode;
    other.efer &= ~EFER_LMA;
    assert_null(code_walk_bytes(&kept, &other, 0x401123, 3));
    other = long_mode;
    other.cr0 &= ~CR0_PG;
    assert_null(code_walk_bytes(&kept, &other, 0x401123, 3));
    /* Bits that decide only permissions do not change the walk's page:
     * PGE (Linux toggles it to flush global pages), WP, SMEP, NXE. */
    other = long_mode;
    other.cr4 |= (1ull << 7) | (1ull << 20);
    other.cr0 |= 1ull << 16;
    other.efer |= 1ull << 11;
    assert_ptr_equal(code_walk_bytes(&kept, &other, 0x401123, 3), mem.bytes + 0x10123);
    /* The nested tables changed (a slot): the host pointers are stale. */
    assert_null(code_walk_bytes(&kept, &long_mode, 0x401123, 4));
    assert_non_null(code_walk_bytes(&kept, &long_mode, 0x401123, 3));
}

static void test_nothing_kept_when_not_all_is_ram(void **state)
{
    (void)state;
    build_4level();
    /* The code page is not RAM (a ROM slot read through MMIO, say). */
    mem.no_ram_page = 0x10000;
    assert_null(take(&long_mode, 0x401123, 1));
    assert_null(code_walk_bytes(&kept, &long_mode, 0x401123, 1));
    /* A table is not RAM. */
    mem.no_ram_page = 0x3000;
    assert_null(take(&long_mode, 0x401123, 1));
    assert_null(code_walk_bytes(&kept, &long_mode, 0x401123, 1));
    /* A walk that fails (not present) keeps nothing, and an instruction
     * that may cross its page is not taken from it. */
    mem.no_ram_page = 0;
    assert_non_null(take(&long_mode, 0x401123, 1));
    assert_null(take(&long_mode, 0x402123, 1));
    assert_null(code_walk_bytes(&kept, &long_mode, 0x401123, 1));
    assert_null(take(&long_mode, 0x401ff2, 1));
    assert_null(code_walk_bytes(&kept, &long_mode, 0x401123, 1));
}

static void test_large_page(void **state)
{
    (void)state;
    build_4level();
    /* PD[4] a 2 MiB page at 0x0: linear 0x801123 is guest-physical
     * 0x1123, on the page 0x1000 (the PML4's: any RAM page will do). */
    put64(0x3000 + 4 * 8, 0x0 | P | PS);
    assert_ptr_equal(take(&long_mode, 0x801123, 1), mem.bytes + 0x1123);
    assert_int_equal(kept.entries, 3);
    assert_ptr_equal(code_walk_bytes(&kept, &long_mode, 0x801200, 1), mem.bytes + 0x1200);
    put64(0x3000 + 4 * 8, 0x200000 | P | PS);   /* beyond memory: no page */
    assert_null(code_walk_bytes(&kept, &long_mode, 0x801200, 1));
    assert_null(take(&long_mode, 0x801200, 1));
}

/* 32-bit paging: 4-byte entries, CR3 0x1000, PD[1] -> PT 0x2000, PT[5]
 * -> 0x10000: linear 0x405123. */
static void test_32bit_paging_entries(void **state)
{
    (void)state;
    const struct guest_paging paging32 = { CR0_PE | CR0_PG, 0x1000, 0, 0 };
    put32(0x1000 + 1 * 4, 0x2000 | P);
    put32(0x2000 + 5 * 4, 0x10000 | P);
    assert_ptr_equal(take(&paging32, 0x405123, 1), mem.bytes + 0x10123);
    assert_int_equal(kept.entries, 2);
    assert_int_equal(kept.entry_size[0], 4);
    assert_ptr_equal(code_walk_bytes(&kept, &paging32, 0x405123, 1), mem.bytes + 0x10123);
    /* The upper half of the 8 bytes after a 4-byte entry is not its own. */
    put32(0x2000 + 6 * 4, 0x12345000 | P);
    assert_ptr_equal(code_walk_bytes(&kept, &paging32, 0x405123, 1), mem.bytes + 0x10123);
    put32(0x2000 + 5 * 4, 0x11000 | P);
    assert_null(code_walk_bytes(&kept, &paging32, 0x405123, 1));
}

/* PAE: the PDPTE (8 bytes at CR3) is one of the entries read. */
static void test_pae_pdpte_is_checked(void **state)
{
    (void)state;
    const struct guest_paging pae = { CR0_PE | CR0_PG, 0x1000, CR4_PAE, 0 };
    put64(0x1000, 0x2000 | P);
    put64(0x2000 + 2 * 8, 0x3000 | P);
    put64(0x3000 + 1 * 8, 0x10000 | P);
    assert_ptr_equal(take(&pae, 0x401123, 1), mem.bytes + 0x10123);
    assert_int_equal(kept.entries, 3);
    put64(0x1000, 0x5000 | P);
    assert_null(code_walk_bytes(&kept, &pae, 0x401123, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_kept_walk_serves_the_page_without_lookups, reset),
        cmocka_unit_test_setup(test_any_change_of_an_entry_read_is_a_miss, reset),
        cmocka_unit_test_setup(test_a_remap_gives_the_new_page, reset),
        cmocka_unit_test_setup(test_a_failed_walk_forgets_for_every_address, reset),
        cmocka_unit_test_setup(test_paging_mode_cr3_and_generation_are_the_key, reset),
        cmocka_unit_test_setup(test_nothing_kept_when_not_all_is_ram, reset),
        cmocka_unit_test_setup(test_large_page, reset),
        cmocka_unit_test_setup(test_32bit_paging_entries, reset),
        cmocka_unit_test_setup(test_pae_pdpte_is_checked, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
