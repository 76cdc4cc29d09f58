/* The checks SET_SREGS makes before any backend sees a state, so that a
 * state either enters the guest or is refused (-HV_EINVAL), and both
 * backends refuse the same states: the union of the rules VM entry
 * enforces (Intel SDM 3C 27.3.1, "Checks on the Guest State Area", with
 * unrestricted guest) and those VMRUN enforces (AMD APM vol. 2, 15.5.1),
 * plus control-register bits this CPU does not have. Where the manuals
 * differ, what either refuses is refused.
 *
 * hv/sregs_check.c holds the control registers and EFER, and
 * hv/sregs_segments.c the segment registers and descriptor tables. Both
 * are host-testable: the CPU facts come in `struct cpu_limits`. The PAE
 * page-directory pointers, which live in guest memory, are the backends'
 * to read (hv/guest_memory.h) and pae_pdptes_valid's to judge. */
#ifndef HV_SREGS_CHECK_H
#define HV_SREGS_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"

struct cpu_limits {
    uint64_t cr4_allowed;       /* CR4 bits the CPU implements */
    unsigned physical_bits;     /* MAXPHYADDR */
    unsigned linear_bits;       /* 48, or 57 on a CPU with LA57 */
};

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
/* CR0 bits that exist: PE MP EM TS ET NE (0-5), WP (16), AM (18), NW CD PG */
#define CR0_DEFINED 0xe005003full

/* Returns 0 or -HV_EINVAL. */
int sregs_check(const struct hv_sregs *sregs, const struct cpu_limits *limits);

/* The rule a state breaks, in words ("CS type", "TR S set"), or NULL if
 * it breaks none: what sregs_check decides, for the unit tests and for
 * messages. */
const char *sregs_refusal(const struct hv_sregs *sregs, const struct cpu_limits *limits);

/* The segment-register and descriptor-table part of sregs_refusal
 * (hv/sregs_segments.c). */
const char *sregs_segments_refusal(const struct hv_sregs *sregs,
                                   const struct cpu_limits *limits);

/* The further rules VM entry applies without unrestricted guest (SDM 3C
 * 27.3.1.2, the checks that control lifts): for a VMX backend on a CPU
 * that lacks it. NULL if none is broken. */
const char *sregs_restricted_refusal(const struct hv_sregs *sregs);

/* Whether the state pages with PAE outside IA-32e mode, the one mode whose
 * four page-directory pointers the CPU loads from CR3 (SDM 3A 4.4.1). */
bool sregs_pae_paging(const struct hv_sregs *sregs);

/* Whether four PDPTEs can be used: no present one with a reserved bit
 * set, the reserved bits being bit 63, those above MAXPHYADDR and
 * `reserved_low` below it. Intel reserves bits 2:1 and 8:5 (SDM 3A
 * 4.4.1): MOV to CR3 gives #GP and VM entry fails on them. On AMD the CPU
 * reads the pointers at each walk under nested paging, reserves bits 2:1
 * only and sets bit 5 itself as an accessed bit (QEMU's SVM does), so
 * that a state it saved must stay acceptable there. */
#define PAE_PDPTE_RESERVED_VMX 0x1e6ull
#define PAE_PDPTE_RESERVED_SVM 0x006ull
bool pae_pdptes_valid(const uint64_t pdpte[4], unsigned physical_bits, uint64_t reserved_low);

/* x86 addresses: canonical for `bits` linear-address bits. */
static inline bool address_canonical(uint64_t address, unsigned bits)
{
    int64_t extended = (int64_t)(address << (64 - bits)) >> (64 - bits);
    return (uint64_t)extended == address;
}

/* What this CPU allows, from CPUID (hv/sregs_limits.c, not host-testable). */
const struct cpu_limits *cpu_limits(void);

#endif
