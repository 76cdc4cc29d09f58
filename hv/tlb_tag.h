/* TLB tags (AMD ASIDs, Intel VPIDs) for child vcpus, handed out per CPU.
 * A vcpu gets a fresh tag on a CPU when it has none there, when the CPU's
 * tags wrapped, or when its VM's translations changed: a fresh tag has no
 * stale TLB entries, so no flush by tag is ever needed. Tag 1 is the control
 * domain's vcpu's, on every CPU; children use 2 .. tag_count-1.
 *
 * The backends call tlb_tag_refresh before every entry that follows a RUN's
 * start or an exit the exit handler saw (vcpu->exit_count moved), and may
 * skip it only on exits they complete without the handler; a region
 * change relies on that to know when a vcpu has taken the new
 * translations (hv/vm_flush.c). */
#ifndef HV_TLB_TAG_H
#define HV_TLB_TAG_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

#define CONTROL_TLB_TAG 1

enum tlb_tag_change { TAG_KEPT = 0, TAG_NEW = 1, TAG_NEW_AFTER_WRAP = 2 };

/* A CPU's key for its current tag generation (percpu.asid_key), set when
 * the CPU starts and whenever its tags wrap. */
static inline uint64_t tlb_tag_cpu_key(const struct percpu *cpu)
{
    return cpu->asid_generation | (uint64_t)cpu->index << 32;
}

/* The fresh tag of tlb_tag_refresh, out of line: rare next to the check. */
enum tlb_tag_change tlb_tag_new(struct vcpu *vcpu, struct percpu *cpu,
                                uint64_t tlb_generation, uint32_t tag_count);

/* Returns whether vcpu->asid changed, and whether every tag of this CPU
 * must be flushed because the tags wrapped (TAG_NEW_AFTER_WRAP). */
static inline enum tlb_tag_change tlb_tag_refresh_on(struct vcpu *vcpu, struct percpu *cpu,
                                                     uint32_t tag_count)
{
    /* Back to the guest after its exit handler ran: the vcpu says so
     * (vcpu->entered_at) before it reads the generation, with a locked
     * write, a full barrier. A CPU flushing the VM increments the
     * generation with a locked instruction and then looks: either it sees
     * the vcpu headed for its guest and waits for it, or this read sees
     * the new generation and the tag below is a fresh one (hv/vm_flush.c).
     * On RUN's path the two always differ. */
    if (__builtin_expect(vcpu->entered_at != vcpu->exit_count, 1))
        __atomic_store_n(&vcpu->entered_at, vcpu->exit_count, __ATOMIC_SEQ_CST);
    uint64_t tlb_generation = __atomic_load_n(&vcpu->vm->tlb_generation, __ATOMIC_ACQUIRE);
    if (__builtin_expect(vcpu->asid_key == cpu->asid_key &&
                         vcpu->tlb_generation == tlb_generation, 1))
        return TAG_KEPT;
    return tlb_tag_new(vcpu, cpu, tlb_generation, tag_count);
}

/* tlb_tag_refresh_on this CPU, for callers that do not have it at hand. */
static inline enum tlb_tag_change tlb_tag_refresh(struct vcpu *vcpu, uint32_t tag_count)
{
    return tlb_tag_refresh_on(vcpu, this_cpu(), tag_count);
}

#endif
