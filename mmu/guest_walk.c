#include "mmu/guest_walk.h"

#include "abi/hv_errno.h"

#define CR0_PG    (1ull << 31)
#define CR4_PSE   (1ull << 4)
#define CR4_PAE   (1ull << 5)
#define CR4_LA57  (1ull << 12)
#define EFER_LMA  (1ull << 10)
#define EFER_NXE  (1ull << 11)
#define PTE_P     (1ull << 0)
#define PTE_W     (1ull << 1)
#define PTE_U     (1ull << 2)
#define PTE_PS    (1ull << 7)
#define PTE_NX    (1ull << 63)
#define ADDR_MASK 0x000ffffffffff000ull

_Static_assert(GUEST_WALK_CR0_MODE == CR0_PG && GUEST_WALK_EFER_MODE == EFER_LMA &&
                   GUEST_WALK_CR4_MODE == (CR4_PSE | CR4_PAE | CR4_LA57),
               "the mode bits the walk below reads");

struct walk {
    guest_read_fn read;
    void *ctx;
    bool nx_enabled;
    struct guest_translation *out;
};

static void accumulate(struct walk *w, uint64_t entry)
{
    w->out->writable &= (entry & PTE_W) != 0;
    w->out->user &= (entry & PTE_U) != 0;
    if (w->nx_enabled && (entry & PTE_NX))
        w->out->executable = false;
}

/* 8-byte entries, 9 bits a level: PAE (after the PDPTE), 4- and 5-level. */
static int walk_long(struct walk *w, uint64_t table, int levels, uint64_t linear)
{
    for (int level = levels - 1; level >= 0; level--) {
        unsigned shift = 12 + 9 * (unsigned)level;
        uint64_t entry;
        if (!w->read((table & ADDR_MASK) + ((linear >> shift) & 511) * 8, 8, &entry, w->ctx))
            return -HV_EFAULT;
        if (!(entry & PTE_P))
            return -HV_ENOENT;
        accumulate(w, entry);
        /* Large pages at the 2 MiB and 1 GiB levels. */
        if (level > 0 && level <= 2 && (entry & PTE_PS)) {
            uint64_t page_mask = (1ull << shift) - 1;
            w->out->guest_phys = (entry & ADDR_MASK & ~page_mask) | (linear & page_mask);
            return 0;
        }
        table = entry;
    }
    w->out->guest_phys = (table & ADDR_MASK) | (linear & 0xfff);
    return 0;
}

static int walk_32bit(struct walk *w, uint64_t cr3, bool pse, uint64_t linear)
{
    uint64_t pde;
    if (!w->read((cr3 & 0xfffff000) + ((linear >> 22) & 1023) * 4, 4, &pde, w->ctx))
        return -HV_EFAULT;
    if (!(pde & PTE_P))
        return -HV_ENOENT;
    accumulate(w, pde);
    if (pse && (pde & PTE_PS)) {
        /* PSE-36: bits 13-20 of the entry are bits 32-39 of the address. */
        uint64_t high = (pde >> 13) & 0xff;
        w->out->guest_phys = (high << 32) | (pde & 0xffc00000) | (linear & 0x3fffff);
        return 0;
    }
    uint64_t pte;
    if (!w->read((pde & 0xfffff000) + ((linear >> 12) & 1023) * 4, 4, &pte, w->ctx))
        return -HV_EFAULT;
    if (!(pte & PTE_P))
        return -HV_ENOENT;
    accumulate(w, pte);
    w->out->guest_phys = (pte & 0xfffff000) | (linear & 0xfff);
    return 0;
}

int guest_walk(const struct guest_paging *paging, uint64_t linear,
               guest_read_fn read, void *ctx, struct guest_translation *out)
{
    *out = (struct guest_translation){ 0, true, true, true };
    struct walk w = { read, ctx, (paging->efer & EFER_NXE) != 0, out };

    if (!(paging->cr0 & CR0_PG)) {
        out->guest_phys = linear & 0xffffffffull;
        return 0;
    }
    if (paging->efer & EFER_LMA) {
        int levels = paging->cr4 & CR4_LA57 ? 5 : 4;
        unsigned bits = levels == 5 ? 57 : 48;
        int64_t sign_extended = (int64_t)(linear << (64 - bits)) >> (64 - bits);
        if ((uint64_t)sign_extended != linear)
            return -HV_EINVAL;
        return walk_long(&w, paging->cr3, levels, linear);
    }
    linear &= 0xffffffffull;
    if (paging->cr4 & CR4_PAE) {
        uint64_t pdpte;
        if (!read((paging->cr3 & 0xffffffe0) + (linear >> 30) * 8, 8, &pdpte, ctx))
            return -HV_EFAULT;
        if (!(pdpte & PTE_P))
            return -HV_ENOENT;
        /* PDPTEs carry no R/W, U/S or NX permission bits. */
        return walk_long(&w, pdpte, 2, linear);
    }
    return walk_32bit(&w, paging->cr3, paging->cr4 & CR4_PSE, linear);
}
