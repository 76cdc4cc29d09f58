/* The bytes of the instruction at a vcpu's RIP, for a backend that must
 * decode the instruction an exit was for (hv/insn_length.h) because the CPU
 * did not report its length or operands. Three ways, cheapest first:
 *  - the control domain: its paging is the identity map the hypervisor
 *    built (hv/control_domain.c) and it stays in 64-bit mode, so RIP is a
 *    guest-physical address in its one run of memory;
 *  - a child with paging off: the linear address is the guest-physical
 *    one; where the last instruction decoded this way lies is kept in the
 *    vcpu while the VM's translations stay the same (its tlb_generation);
 *  - a child with paging on: a walk of the guest's own page tables, kept
 *    with the entries it read (mmu/code_walk.h), so that the next exit
 *    from that page re-reads those entries instead of walking;
 *  - an instruction that may cross a page: a walk for each page.
 * Called on the vcpu's CPU, with the vcpu claimed. */
#ifndef HV_INSN_FETCH_H
#define HV_INSN_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/mmio_decode.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "mmu/guest_walk.h"

/* Where the instruction is, as the backend knows it from its VMCB/VMCS. */
struct insn_site {
    uint64_t rip;
    uint64_t cs_base;
    bool cs_l;                    /* a 64-bit code segment */
    bool cs_db;                   /* CS.D: 32-bit default operands */
    struct guest_paging paging;   /* CR0, CR3, CR4, EFER */
};

/* 64-bit mode: IA-32e mode with a 64-bit code segment (REX prefixes exist,
 * CS.base is 0 and RIP is the whole linear address). */
bool insn_site_mode64(const struct insn_site *site);

/* The code's mode as hv/mmio_decode.h takes it: 64-bit, or 32- or 16-bit
 * by CS.D in protected mode, 16-bit in real mode. */
enum mmio_mode insn_site_mmio_mode(const struct insn_site *site);

/* The bytes at `linear` in a child without paging if they lie on the page
 * of the last instruction decoded there and the VM's translations have not
 * changed since, else NULL (then vcpu_insn_bytes finds them). Inline for
 * the backends' hot paths: a guest's loop exits from the same places again
 * and again. 15 bytes may be read: an instruction that could cross the
 * page's end takes the slow way. The page is kept as its linear start,
 * so that one subtraction is both the tag's compare and the offset
 * (CODE_PAGE_NONE, far above any linear address of a guest without
 * paging, matches none). */
#define VCPU_CODE_PAGE 4096u
#define CODE_PAGE_NONE (1ull << 63)
static inline const uint8_t *vcpu_cached_code(const struct vcpu *vcpu, uint64_t linear)
{
    uint64_t offset = linear - vcpu->code_page;
    if (offset > VCPU_CODE_PAGE - 15 ||
        vcpu->code_generation != __atomic_load_n(&vcpu->vm->tlb_generation, __ATOMIC_ACQUIRE))
        return NULL;
    /* A page start is only ever set together with its page (never NULL). */
    const uint8_t *page = vcpu->code_bytes;
    if (!page)
        __builtin_unreachable();
    return page + offset;
}

/* Up to 15 bytes of the instruction: returns how many could be read and
 * points *bytes at them, in guest memory or in `buffer`. */
unsigned vcpu_insn_bytes(struct vcpu *vcpu, const struct insn_site *site,
                         uint8_t buffer[15], const uint8_t **bytes);

#endif
