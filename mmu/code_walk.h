/* The walk to a paging guest's code page, kept with the page-table entries
 * it read, so that the next exit from that page costs a re-read of those
 * entries instead of a walk.
 *
 * A guest with paging on exits from its kernel's few hot places again and
 * again (Linux's APIC EOI store, its CPUID and MSR accesses): a CPU without
 * next-RIP save, or an MMIO exit on any CPU, needs the instruction's bytes,
 * and a walk of four levels, each through the nested tables, is most of the
 * exit's cost. The entries are compared with what the walk read, whole:
 * any change of the guest's tables on the way (a remap, an accessed bit the
 * CPU set) takes the walk again, so the bytes returned are those the walk
 * would find now. The key is the rest of the walk's input: CR3 and the
 * paging mode's bits, and the VM's tlb_generation, which any change of
 * the nested tables moves on (the host pointers below are valid while it
 * stands).
 *
 * A vcpu's (CODE_WALK_SLOTS of them) are used on its own CPU with the
 * vcpu claimed: no lock.
 * The guest's own entries may change under the compare (another vcpu
 * writes them): each is read once, in the walk's order, as a walk would. */
#ifndef MMU_CODE_WALK_H
#define MMU_CODE_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/guest_walk.h"

/* Enough for a 5-level walk; PAE reads 3, 32-bit paging 2. */
#define CODE_WALK_ENTRIES 5
/* An instruction is at most 15 bytes: one that may cross the page's end
 * is not served from the page. */
#define CODE_WALK_LAST_OFFSET (4096u - 15u)
/* How many a vcpu keeps, one for each value of the linear page number's
 * low bits: a kernel's hot exits come from a few pages in turn (Linux's
 * APIC store, its MSR writes, its CPUIDs and control-register writes),
 * which one kept walk would trade back and forth. */
#define CODE_WALK_SLOTS 4
/* No linear page: non-canonical, and above 4 GiB. */
#define CODE_WALK_NONE (1ull << 63)
/* No VM's tlb_generation, a count from 0 that never wraps. */
#define CODE_WALK_NO_GENERATION (~0ull)

struct code_walk {
    uint64_t linear_page;           /* CODE_WALK_NONE: nothing kept */
    struct guest_paging paging;     /* CR0, CR3, CR4, EFER of the walk */
    uint64_t generation;            /* the VM's tlb_generation then */
    const uint8_t *page;            /* the code page, in the hypervisor */
    unsigned entries;
    uint8_t entry_size[CODE_WALK_ENTRIES];          /* 4 or 8 */
    const void *entry[CODE_WALK_ENTRIES];           /* in the hypervisor */
    uint64_t entry_value[CODE_WALK_ENTRIES];
};

/* A guest-physical page in the hypervisor's view, or NULL (no RAM). */
typedef const uint8_t *(*guest_page_fn)(uint64_t guest_phys_page, void *ctx);

/* Forgotten for every address, also one next to CODE_WALK_NONE (an exit
 * at a non-canonical RIP, which a walk still kept would otherwise answer
 * from its old page): the generation too, at no cost to the look-up. */
static inline void code_walk_forget(struct code_walk *kept)
{
    kept->linear_page = CODE_WALK_NONE;
    kept->generation = CODE_WALK_NO_GENERATION;
}

/* Where among a vcpu's `kept` the walk to `linear` goes. */
static inline struct code_walk *code_walk_slot(struct code_walk kept[CODE_WALK_SLOTS],
                                               uint64_t linear)
{
    return &kept[(linear >> 12) % CODE_WALK_SLOTS];
}

/* The kept walk's paging: the same CR3 and mode (guest_walk.h). Not the
 * whole registers: the permission bits change often, and Linux flushes
 * its global pages by toggling CR4.PGE, from the same page each time. */
static inline bool code_walk_same_paging(const struct guest_paging *a,
                                         const struct guest_paging *b)
{
    return a->cr3 == b->cr3 && !((a->cr0 ^ b->cr0) & GUEST_WALK_CR0_MODE) &&
           !((a->cr4 ^ b->cr4) & GUEST_WALK_CR4_MODE) &&
           !((a->efer ^ b->efer) & GUEST_WALK_EFER_MODE);
}

/* The bytes at `linear` from the page kept, if the walk would still find
 * it there; else NULL. */
static inline const uint8_t *code_walk_bytes(const struct code_walk *kept,
                                             const struct guest_paging *paging,
                                             uint64_t linear, uint64_t generation)
{
    uint64_t offset = linear - kept->linear_page;
    if (offset > CODE_WALK_LAST_OFFSET || kept->generation != generation ||
        !code_walk_same_paging(&kept->paging, paging))
        return NULL;
    for (unsigned i = 0; i < kept->entries; i++) {
        uint64_t now = kept->entry_size[i] == 8
            ? __atomic_load_n((const uint64_t *)kept->entry[i], __ATOMIC_ACQUIRE)
            : __atomic_load_n((const uint32_t *)kept->entry[i], __ATOMIC_ACQUIRE);
        if (now != kept->entry_value[i])
            return NULL;
    }
    return kept->page + offset;
}

/* Walks to `linear` (guest_walk, each entry read through `page_of`) and
 * keeps that walk in `kept` when the instruction lies within one page and
 * every entry read and the code page are RAM; returns the bytes at
 * `linear` then, else NULL with nothing kept (the caller fetches the slow
 * way). `generation` is the VM's tlb_generation read before the walk. */
const uint8_t *code_walk_take(struct code_walk *kept, const struct guest_paging *paging,
                              uint64_t linear, uint64_t generation, guest_page_fn page_of,
                              void *ctx);

#endif
