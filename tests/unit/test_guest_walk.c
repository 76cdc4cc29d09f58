// sources: mmu/guest_walk.c
/* Unit tests for mmu/guest_walk.c. Guest page tables are built by hand in a
 * fake 4 MiB guest-physical memory; table offsets and linear addresses are
 * written out as literals (indices worked out by hand, noted alongside) so
 * that the tests do not share the walker's index arithmetic. Expected
 * results follow the Intel SDM vol. 3A ch. 4 paging formats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "mmu/guest_walk.h"

#define CR0_PG    (1ull << 31)
#define CR4_PSE   (1ull << 4)
#define CR4_PAE   (1ull << 5)
#define CR4_LA57  (1ull << 12)
#define EFER_LMA  (1ull << 10)
#define EFER_NXE  (1ull << 11)
#define P         (1ull << 0)
#define W         (1ull << 1)
#define U         (1ull << 2)
#define PS        (1ull << 7)
#define PAT_LARGE (1ull << 12) /* PAT bit of a large-page entry: not address */
#define NX        (1ull << 63)
#define PWT_PCD   0x18ull      /* CR3 cache bits, never part of the address */

#define MEM_SIZE  (4ull << 20)
#define MEM_MAGIC 0x6775657374ull

struct guest_mem {
    uint64_t magic;     /* proves the walker handed our ctx to the callback */
    unsigned reads;
    unsigned sizes;     /* OR of every access size seen */
    uint8_t bytes[MEM_SIZE];
};

static struct guest_mem mem;

static bool fake_read(uint64_t gpa, unsigned size, uint64_t *value, void *ctx)
{
    struct guest_mem *m = ctx;
    assert_int_equal(m->magic, MEM_MAGIC);
    assert_true(size == 4 || size == 8);
    /* Paging entries are naturally aligned; a misaligned read means the
     * walker computed an entry address wrongly. */
    assert_int_equal(gpa % size, 0);
    m->reads++;
    m->sizes |= size;
    if (gpa >= MEM_SIZE || MEM_SIZE - gpa < size)
        return false;
    uint64_t v = 0;
    for (unsigned i = size; i-- > 0;)
        v = v << 8 | m->bytes[gpa + i];
    *value = v;
    return true;
}

static void put32(uint64_t gpa, uint32_t v)
{
    assert_true(gpa + 4 <= MEM_SIZE);
    for (unsigned i = 0; i < 4; i++)
        mem.bytes[gpa + i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint64_t gpa, uint64_t v)
{
    assert_true(gpa + 8 <= MEM_SIZE);
    for (unsigned i = 0; i < 8; i++)
        mem.bytes[gpa + i] = (uint8_t)(v >> (8 * i));
}

static int reset(void **state)
{
    (void)state;
    memset(&mem, 0, sizeof(mem));
    mem.magic = MEM_MAGIC;
    return 0;
}

static int walk(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
                uint64_t linear, struct guest_translation *out)
{
    struct guest_paging paging = { cr0, cr3, cr4, efer };
    /* Poison the result so a field the walker forgets to set shows up. */
    memset(out, 0xa5, sizeof(*out));
    return guest_walk(&paging, linear, fake_read, &mem, out);
}

static int walk32(uint64_t cr3, uint64_t cr4, uint64_t linear,
                  struct guest_translation *out)
{
    return walk(CR0_PG, cr3, cr4, 0, linear, out);
}

static int walk_pae(uint64_t cr3, uint64_t efer, uint64_t linear,
                    struct guest_translation *out)
{
    return walk(CR0_PG, cr3, CR4_PAE, efer, linear, out);
}

static int walk4(uint64_t cr3, uint64_t efer, uint64_t linear,
                 struct guest_translation *out)
{
    return walk(CR0_PG, cr3, CR4_PAE, EFER_LMA | efer, linear, out);
}

static int walk5(uint64_t cr3, uint64_t linear, struct guest_translation *out)
{
    return walk(CR0_PG, cr3, CR4_PAE | CR4_LA57, EFER_LMA, linear, out);
}

static void expect_perms(const struct guest_translation *t, bool writable,
                         bool user, bool executable)
{
    assert_int_equal(t->writable, writable);
    assert_int_equal(t->user, user);
    assert_int_equal(t->executable, executable);
}

/* ---- paging off ---- */

static void test_paging_off(void **state)
{
    (void)state;
    struct guest_translation t;
    /* CR0.PG clear: no tables are read, whatever CR3/CR4 say, and the
     * address is 32 bits wide. */
    assert_int_equal(walk(0, 0x1000, CR4_PAE | CR4_PSE, 0,
                          0x123456789ull, &t), 0);
    assert_int_equal(t.guest_phys, 0x23456789ull);
    expect_perms(&t, true, true, true);
    assert_int_equal(walk(0, 0, 0, EFER_NXE, 0xfffff000ull, &t), 0);
    assert_int_equal(t.guest_phys, 0xfffff000ull);
    expect_perms(&t, true, true, true);
    assert_int_equal(mem.reads, 0);
}

/* ---- 32-bit paging ---- */

#define PD32 0x1000ull
#define PT32 0x2000ull

static void test_32bit_4k(void **state)
{
    (void)state;
    struct guest_translation t;
    /* 0x00403abc: PDE 1, PTE 3, offset 0xabc. */
    put32(PD32 + 1 * 4, PT32 | W | U | P);
    put32(PT32 + 3 * 4, 0x00345000 | W | U | P);
    /* Neighbours hold other entries, so a wrong index or 8-byte read of a
     * 4-byte entry would pick them up. */
    put32(PD32 + 0 * 4, 0xdead0000 | P);
    put32(PT32 + 4 * 4, 0xbeef0000 | P);
    assert_int_equal(walk32(PD32 | PWT_PCD, 0, 0x00403abc, &t), 0);
    assert_int_equal(t.guest_phys, 0x00345abc);
    expect_perms(&t, true, true, true);
    assert_int_equal(mem.reads, 2);
    assert_int_equal(mem.sizes, 4);

    /* The last entry of both tables (0xffffffff: PDE 1023, PTE 1023); the
     * PTE sits in the last 4 bytes of memory, where an 8-byte read fails. */
    put32(PD32 + 1023 * 4, (MEM_SIZE - 0x1000) | W | P);
    put32(MEM_SIZE - 4, 0xfffff000 | U | P);
    assert_int_equal(walk32(PD32, 0, 0xffffffff, &t), 0);
    assert_int_equal(t.guest_phys, 0xffffffffull);
    /* The PDE lacks U and the PTE lacks W: both are ANDed away. */
    expect_perms(&t, false, false, true);
    assert_int_equal(mem.sizes, 4);
}

static void test_32bit_4m_pse36(void **state)
{
    (void)state;
    struct guest_translation t;
    /* 0x00c12345: PDE 3, offset 0x012345 in the 4 MiB page. Bits 20:13 of
     * the PDE (0xa5) are address bits 39:32; bit 12 is PAT, not address. */
    uint32_t pde = 0x01c00000 | (0xa5u << 13) | PAT_LARGE | PS | W | P;
    put32(PD32 + 3 * 4, pde);
    assert_int_equal(walk32(PD32, CR4_PSE, 0x00c12345, &t), 0);
    assert_int_equal(t.guest_phys, 0xa501c12345ull);
    expect_perms(&t, true, false, true);
    /* A large page ends the walk: no page table is read. */
    assert_int_equal(mem.reads, 1);
}

static void test_32bit_ps_needs_cr4_pse(void **state)
{
    (void)state;
    struct guest_translation t;
    /* 0x00001abc: PDE 0 has PS set and points at 0x3000. */
    put32(PD32 + 0 * 4, 0x00003000 | PS | W | U | P);
    put32(0x3000 + 1 * 4, 0x00777000 | W | U | P);
    /* Without CR4.PSE, PS is ignored and 0x3000 is a page table. */
    assert_int_equal(walk32(PD32, 0, 0x00001abc, &t), 0);
    assert_int_equal(t.guest_phys, 0x00777abc);
    assert_int_equal(mem.reads, 2);
    /* With CR4.PSE the same PDE maps a 4 MiB page: bits 31:22 are 0 and
     * bit 13 (set in 0x3000) is PSE-36 address bit 32. */
    assert_int_equal(walk32(PD32, CR4_PSE, 0x00001abc, &t), 0);
    assert_int_equal(t.guest_phys, 0x100001abcull);
}

/* ---- PAE paging ---- */

/* The PDPT needs only 32-byte alignment: put it mid-page. */
#define PDPT_PAE 0x1020ull

static void test_pae_4k(void **state)
{
    (void)state;
    struct guest_translation t;
    /* 0xc0201abc: PDPTE 3, PDE 1, PTE 1, offset 0xabc. PDPTEs have no
     * R/W or U/S bits, so leaving them clear must not deny access. */
    put64(PDPT_PAE + 3 * 8, 0x4000 | P);
    put64(0x4000 + 1 * 8, 0x5000 | W | U | P);
    /* PAE entries are 64 bits: the page may lie above 4 GiB. */
    put64(0x5000 + 1 * 8, 0x1234567000ull | W | U | P);
    assert_int_equal(walk_pae(PDPT_PAE | PWT_PCD, 0, 0xc0201abc, &t), 0);
    assert_int_equal(t.guest_phys, 0x1234567abcull);
    expect_perms(&t, true, true, true);
    assert_int_equal(mem.reads, 3);
    assert_int_equal(mem.sizes, 8);
}

static void test_pae_2m(void **state)
{
    (void)state;
    struct guest_translation t;
    /* 0x40345678: PDPTE 1, PDE 1 (PS), offset 0x145678. */
    put64(PDPT_PAE + 1 * 8, 0x6000 | P);
    put64(0x6000 + 1 * 8, 0x800200000ull | PAT_LARGE | PS | W | P);
    assert_int_equal(walk_pae(PDPT_PAE, 0, 0x40345678, &t), 0);
    assert_int_equal(t.guest_phys, 0x800345678ull);
    expect_perms(&t, true, false, true);
    assert_int_equal(mem.reads, 2);
}

/* ---- 4-level paging ---- */

#define PML4 0x1000ull
#define PDPT 0x2000ull
#define PD   0x3000ull
#define PT   0x4000ull

/* 0x7f8040403abc: PML4 0xff, PDPT 1, PD 2, PT 3, offset 0xabc. Each level
 * gets P plus the given flags. */
#define LIN_4K 0x7f8040403abcull
static void build_4k(uint64_t f4, uint64_t f3, uint64_t f2, uint64_t f1)
{
    put64(PML4 + 0xff * 8, PDPT | f4);
    put64(PDPT + 1 * 8, PD | f3);
    put64(PD + 2 * 8, PT | f2);
    put64(PT + 3 * 8, 0x00fedcba9876000ull | f1);
}

static void test_4level_4k(void **state)
{
    (void)state;
    struct guest_translation t;
    build_4k(W | U | P, W | U | P, W | U | P, W | U | P);
    /* Bits 62:52 of a PTE (protection key, ignored) are not address. */
    put64(PT + 3 * 8, 0x7ff0000000000000ull | 0x000fedcba9876000ull | W | U | P);
    assert_int_equal(walk4(PML4 | PWT_PCD, 0, LIN_4K, &t), 0);
    assert_int_equal(t.guest_phys, 0xfedcba9876abcull);
    expect_perms(&t, true, true, true);
    assert_int_equal(mem.reads, 4);
    assert_int_equal(mem.sizes, 8);
}

static void test_4level_2m(void **state)
{
    (void)state;
    struct guest_translation t;
    /* 0x7f80407a2b3c: PML4 0xff, PDPT 1, PD 3 (PS), offset 0x1a2b3c. */
    put64(PML4 + 0xff * 8, PDPT | W | U | P);
    put64(PDPT + 1 * 8, PD | W | U | P);
    put64(PD + 3 * 8, 0x123400000ull | PAT_LARGE | PS | W | U | P);
    assert_int_equal(walk4(PML4, 0, 0x7f80407a2b3cull, &t), 0);
    assert_int_equal(t.guest_phys, 0x1235a2b3cull);
    expect_perms(&t, true, true, true);
    assert_int_equal(mem.reads, 3);
}

static void test_4level_1g(void **state)
{
    (void)state;
    struct guest_translation t;
    /* 0x7f8092345678: PML4 0xff, PDPT 2 (PS), offset 0x12345678. */
    put64(PML4 + 0xff * 8, PDPT | W | U | P);
    put64(PDPT + 2 * 8, 0x40c0000000ull | PAT_LARGE | PS | W | U | P);
    assert_int_equal(walk4(PML4, 0, 0x7f8092345678ull, &t), 0);
    assert_int_equal(t.guest_phys, 0x40d2345678ull);
    expect_perms(&t, true, true, true);
    assert_int_equal(mem.reads, 2);
}

static void test_4level_non_canonical(void **state)
{
    (void)state;
    struct guest_translation t;
    /* Bits 63:48 must all equal bit 47. */
    static const uint64_t bad[] = {
        0x0000800000000000ull, 0xffff7fffffffffffull,
        0x0001000000000000ull, 0x8000000000000000ull,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(walk4(PML4, 0, bad[i], &t), -HV_EINVAL);
    assert_int_equal(mem.reads, 0);
    /* The canonical edges go on to the (empty) tables instead. */
    assert_int_equal(walk4(PML4, 0, 0x00007fffffffffffull, &t), -HV_ENOENT);
    assert_int_equal(walk4(PML4, 0, 0xffff800000000000ull, &t), -HV_ENOENT);
}

static void test_4level_high_half(void **state)
{
    (void)state;
    struct guest_translation t;
    /* 0xffff800012345678: PML4 0x100, PDPT 0 (1 GiB page). */
    put64(PML4 + 0x100 * 8, 0x5000 | W | P);
    put64(0x5000 + 0 * 8, 0xc0000000ull | PS | W | P);
    assert_int_equal(walk4(PML4, 0, 0xffff800012345678ull, &t), 0);
    assert_int_equal(t.guest_phys, 0xd2345678ull);
    expect_perms(&t, true, false, true);

    /* 0xfffffffffffffabc: index 511 at every level. */
    put64(PML4 + 511 * 8, 0x6000 | P);
    put64(0x6000 + 511 * 8, 0x7000 | P);
    put64(0x7000 + 511 * 8, 0x8000 | P);
    put64(0x8000 + 511 * 8, 0x9000 | P);
    assert_int_equal(walk4(PML4, 0, 0xfffffffffffffabcull, &t), 0);
    assert_int_equal(t.guest_phys, 0x9abcull);
    expect_perms(&t, false, false, true);
}

/* ---- 5-level paging ---- */

#define PML5 0x10000ull

static void test_5level_57bit(void **state)
{
    (void)state;
    struct guest_translation t;
    /* 0x00123456789abcde: PML5 0x12, PML4 0x68, PDPT 0x159, PD 0x1c4,
     * PT 0x1ab, offset 0xcde. Non-canonical with 4 levels. */
    const uint64_t lin = 0x00123456789abcdeull;
    put64(PML5 + 0x12 * 8, 0x11000 | W | U | P);
    put64(0x11000 + 0x68 * 8, 0x12000 | W | U | P);
    put64(0x12000 + 0x159 * 8, 0x13000 | W | U | P);
    put64(0x13000 + 0x1c4 * 8, 0x14000 | W | U | P);
    put64(0x14000 + 0x1ab * 8, 0xabcdef000ull | W | U | P);
    assert_int_equal(walk5(PML5, lin, &t), 0);
    assert_int_equal(t.guest_phys, 0xabcdefcdeull);
    expect_perms(&t, true, true, true);
    assert_int_equal(mem.reads, 5);
    assert_int_equal(walk4(PML5, 0, lin, &t), -HV_EINVAL);

    /* Bits 63:57 must all equal bit 56. */
    assert_int_equal(walk5(PML5, 0x0100000000000000ull, &t), -HV_EINVAL);
    assert_int_equal(walk5(PML5, 0xfe00000000000000ull, &t), -HV_EINVAL);
    /* 0xff00000000000000 is canonical (PML5 0x100, empty). */
    assert_int_equal(walk5(PML5, 0xff00000000000000ull, &t), -HV_ENOENT);
}

static void test_5level_48bit_address(void **state)
{
    (void)state;
    struct guest_translation t;
    /* A low 48-bit address has PML5 index 0; pointing PML5[0] at the
     * 4-level tables must give what 4-level paging gives. */
    build_4k(W | U | P, W | U | P, W | U | P, W | U | P);
    put64(PML5 + 0 * 8, PML4 | W | U | P);
    assert_int_equal(walk4(PML4, 0, LIN_4K, &t), 0);
    assert_int_equal(t.guest_phys, 0xfedcba9876abcull);
    assert_int_equal(walk5(PML5, LIN_4K, &t), 0);
    assert_int_equal(t.guest_phys, 0xfedcba9876abcull);
    expect_perms(&t, true, true, true);

    /* A 4-level high-half address is PML5 511, PML4 0x100 with LA57. */
    put64(PML5 + 511 * 8, 0x20000 | W | P);
    put64(0x20000 + 0x100 * 8, 0x21000 | W | P);
    put64(0x21000 + 0 * 8, 0xc0000000ull | PS | W | P);
    assert_int_equal(walk5(PML5, 0xffff800012345678ull, &t), 0);
    assert_int_equal(t.guest_phys, 0xd2345678ull);
    expect_perms(&t, true, false, true);
}

/* ---- permissions ---- */

static void test_permissions_and(void **state)
{
    (void)state;
    struct guest_translation t;
    const uint64_t all = W | U | P;
    /* Drop W, then U, at one level at a time: only that permission goes. */
    for (int level = 0; level < 4; level++) {
        uint64_t f[4] = { all, all, all, all };
        f[level] &= ~W;
        build_4k(f[0], f[1], f[2], f[3]);
        assert_int_equal(walk4(PML4, 0, LIN_4K, &t), 0);
        expect_perms(&t, false, true, true);
        f[level] = all & ~U;
        build_4k(f[0], f[1], f[2], f[3]);
        assert_int_equal(walk4(PML4, 0, LIN_4K, &t), 0);
        expect_perms(&t, true, false, true);
    }
    /* A writable PTE under a read-only PDE is read-only. */
    build_4k(all, all, U | P, all);
    assert_int_equal(walk4(PML4, 0, LIN_4K, &t), 0);
    assert_false(t.writable);

    /* A 1 GiB leaf lacking W under writable tables. */
    put64(PDPT + 2 * 8, 0x40000000ull | PS | U | P);
    assert_int_equal(walk4(PML4, 0, 0x7f8092345678ull, &t), 0);
    expect_perms(&t, false, true, true);

    /* PAE: the PDE lacks U, the PTE has it. */
    put64(PDPT_PAE + 0 * 8, 0x5000 | P);
    put64(0x5000 + 0 * 8, 0x6000 | W | P);
    put64(0x6000 + 0 * 8, 0x7000 | W | U | P);
    assert_int_equal(walk_pae(PDPT_PAE, 0, 0x00000123, &t), 0);
    assert_int_equal(t.guest_phys, 0x7123);
    expect_perms(&t, true, false, true);
}

static void test_nx(void **state)
{
    (void)state;
    struct guest_translation t;
    const uint64_t all = W | U | P;
    for (int level = 0; level < 4; level++) {
        uint64_t f[4] = { all, all, all, all };
        f[level] |= NX;
        build_4k(f[0], f[1], f[2], f[3]);
        /* NX at any level forbids execution when EFER.NXE is set... */
        assert_int_equal(walk4(PML4, EFER_NXE, LIN_4K, &t), 0);
        expect_perms(&t, true, true, false);
        /* ...NX is not an address bit... */
        assert_int_equal(t.guest_phys, 0xfedcba9876abcull);
        /* ...and is ignored when EFER.NXE is clear. */
        assert_int_equal(walk4(PML4, 0, LIN_4K, &t), 0);
        expect_perms(&t, true, true, true);
    }
    build_4k(all, all, all, all);
    assert_int_equal(walk4(PML4, EFER_NXE, LIN_4K, &t), 0);
    expect_perms(&t, true, true, true);

    /* NX on a 2 MiB leaf. */
    put64(PD + 3 * 8, 0x123400000ull | NX | PS | all);
    assert_int_equal(walk4(PML4, EFER_NXE, 0x7f80407a2b3cull, &t), 0);
    assert_int_equal(t.guest_phys, 0x1235a2b3cull);
    expect_perms(&t, true, true, false);

    /* PAE (legacy mode) honours NX too, on the PDE. */
    put64(PDPT_PAE + 0 * 8, 0x5000 | P);
    put64(0x5000 + 0 * 8, 0x6000 | NX | all);
    put64(0x6000 + 0 * 8, 0x7000 | all);
    assert_int_equal(walk_pae(PDPT_PAE, EFER_NXE, 0x00000123, &t), 0);
    expect_perms(&t, true, true, false);
    assert_int_equal(walk_pae(PDPT_PAE, 0, 0x00000123, &t), 0);
    expect_perms(&t, true, true, true);
}

/* ---- faults ---- */

static void test_not_present(void **state)
{
    (void)state;
    struct guest_translation t;
    const uint64_t all = W | U | P;
    /* P clear at each 4-level level; the other bits (even PS) mean nothing. */
    for (int level = 0; level < 4; level++) {
        uint64_t f[4] = { all, all, all, all };
        f[level] = W | U | PS;
        build_4k(f[0], f[1], f[2], f[3]);
        assert_int_equal(walk4(PML4, 0, LIN_4K, &t), -HV_ENOENT);
        /* The walk stops at the missing level. */
        mem.reads = 0;
        assert_int_equal(walk4(PML4, 0, LIN_4K, &t), -HV_ENOENT);
        assert_int_equal(mem.reads, (unsigned)level + 1);
    }
    build_4k(all, all, all, all);
    assert_int_equal(walk4(PML4, 0, LIN_4K, &t), 0);

    /* 5-level: PML5 entry not present. */
    put64(PML5 + 0 * 8, PML4 | W | U);
    assert_int_equal(walk5(PML5, LIN_4K, &t), -HV_ENOENT);

    /* PAE: PDPTE, PDE, PTE for 0xc0201abc (3, 1, 1). */
    put64(PDPT_PAE + 3 * 8, 0x5000);
    assert_int_equal(walk_pae(PDPT_PAE, 0, 0xc0201abc, &t), -HV_ENOENT);
    put64(PDPT_PAE + 3 * 8, 0x5000 | P);
    put64(0x5000 + 1 * 8, 0x6000 | W | U);
    assert_int_equal(walk_pae(PDPT_PAE, 0, 0xc0201abc, &t), -HV_ENOENT);
    put64(0x5000 + 1 * 8, 0x6000 | W | U | P);
    put64(0x6000 + 1 * 8, 0x7000 | W | U);
    assert_int_equal(walk_pae(PDPT_PAE, 0, 0xc0201abc, &t), -HV_ENOENT);
    put64(0x6000 + 1 * 8, 0x7000 | W | U | P);
    assert_int_equal(walk_pae(PDPT_PAE, 0, 0xc0201abc, &t), 0);
    assert_int_equal(t.guest_phys, 0x7abc);

    /* 32-bit: PDE, PTE for 0x00403abc (1, 3). The PD at 0x8000 is empty. */
    assert_int_equal(walk32(0x8000, CR4_PSE, 0x00403abc, &t), -HV_ENOENT);
    put32(0x8000 + 1 * 4, 0x9000 | W | U);
    assert_int_equal(walk32(0x8000, CR4_PSE, 0x00403abc, &t), -HV_ENOENT);
    put32(0x8000 + 1 * 4, 0x9000 | W | U | P);
    put32(0x9000 + 3 * 4, 0x00345000 | W | U);
    assert_int_equal(walk32(0x8000, CR4_PSE, 0x00403abc, &t), -HV_ENOENT);
    put32(0x9000 + 3 * 4, 0x00345000 | W | U | P);
    assert_int_equal(walk32(0x8000, CR4_PSE, 0x00403abc, &t), 0);
    assert_int_equal(t.guest_phys, 0x00345abc);
}

static void test_table_outside_memory(void **state)
{
    (void)state;
    struct guest_translation t;
    const uint64_t all = W | U | P;
    const uint64_t far = 0x7fff0000ull; /* well past the 4 MiB */

    /* 4-level: CR3, then each table pointer in turn. */
    assert_int_equal(walk4(MEM_SIZE, 0, LIN_4K, &t), -HV_EFAULT);
    put64(PML4 + 0xff * 8, far | all);
    assert_int_equal(walk4(PML4, 0, LIN_4K, &t), -HV_EFAULT);
    put64(PML4 + 0xff * 8, PDPT | all);
    put64(PDPT + 1 * 8, far | all);
    assert_int_equal(walk4(PML4, 0, LIN_4K, &t), -HV_EFAULT);
    put64(PDPT + 1 * 8, PD | all);
    put64(PD + 2 * 8, far | all);
    assert_int_equal(walk4(PML4, 0, LIN_4K, &t), -HV_EFAULT);
    /* The data page itself is never read: outside memory is still a
     * translation. */
    put64(PD + 2 * 8, PT | all);
    put64(PT + 3 * 8, far | all);
    assert_int_equal(walk4(PML4, 0, LIN_4K, &t), 0);
    assert_int_equal(t.guest_phys, far | 0xabc);

    /* 5-level: the PML5 entry. */
    put64(PML5 + 0 * 8, far | all);
    assert_int_equal(walk5(PML5, LIN_4K, &t), -HV_EFAULT);

    /* PAE: CR3 (the PDPT), then PDPTE and PDE pointers, for 0xc0201abc. */
    assert_int_equal(walk_pae(far, 0, 0xc0201abc, &t), -HV_EFAULT);
    put64(PDPT_PAE + 3 * 8, far | P);
    assert_int_equal(walk_pae(PDPT_PAE, 0, 0xc0201abc, &t), -HV_EFAULT);
    put64(PDPT_PAE + 3 * 8, 0x5000 | P);
    put64(0x5000 + 1 * 8, far | all);
    assert_int_equal(walk_pae(PDPT_PAE, 0, 0xc0201abc, &t), -HV_EFAULT);

    /* 32-bit: CR3, then the PDE's page table, for 0x00403abc. */
    assert_int_equal(walk32(far, 0, 0x00403abc, &t), -HV_EFAULT);
    put32(0x8000 + 1 * 4, (uint32_t)far | all);
    assert_int_equal(walk32(0x8000, 0, 0x00403abc, &t), -HV_EFAULT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_paging_off, reset),
        cmocka_unit_test_setup(test_32bit_4k, reset),
        cmocka_unit_test_setup(test_32bit_4m_pse36, reset),
        cmocka_unit_test_setup(test_32bit_ps_needs_cr4_pse, reset),
        cmocka_unit_test_setup(test_pae_4k, reset),
        cmocka_unit_test_setup(test_pae_2m, reset),
        cmocka_unit_test_setup(test_4level_4k, reset),
        cmocka_unit_test_setup(test_4level_2m, reset),
        cmocka_unit_test_setup(test_4level_1g, reset),
        cmocka_unit_test_setup(test_4level_non_canonical, reset),
        cmocka_unit_test_setup(test_4level_high_half, reset),
        cmocka_unit_test_setup(test_5level_57bit, reset),
        cmocka_unit_test_setup(test_5level_48bit_address, reset),
        cmocka_unit_test_setup(test_permissions_and, reset),
        cmocka_unit_test_setup(test_nx, reset),
        cmocka_unit_test_setup(test_not_present, reset),
        cmocka_unit_test_setup(test_table_outside_memory, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
