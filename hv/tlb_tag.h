/* TLB tags (AMD ASIDs, Intel VPIDs) for child vcpus, handed out per CPU.
 * A vcpu gets a fresh tag on a CPU when it has none there, when the CPU's
 * tags wrapped, or when its VM's translations changed: a fresh tag has no
 * stale TLB entries, so no flush by tag is ever needed. Tag 1 is the control
 * domain's vcpu's, on every CPU; children use 2 .. tag_count-1. */
#ifndef HV_TLB_TAG_H
#define HV_TLB_TAG_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

#define CONTROL_TLB_TAG 1

enum tlb_tag_change { TAG_KEPT = 0, TAG_NEW = 1, TAG_NEW_AFTER_WRAP = 2 };

/* Returns whether vcpu->asid changed, and whether every tag of this CPU
 * must be flushed because the tags wrapped (TAG_NEW_AFTER_WRAP). */
static inline enum tlb_tag_change tlb_tag_refresh(struct vcpu *vcpu, uint32_t tag_count)
{
    struct percpu *cpu = this_cpu();
    uint64_t tlb_generation = __atomic_load_n(&vcpu->vm->tlb_generation, __ATOMIC_ACQUIRE);
    if (vcpu->asid_cpu == (int)cpu->index &&
        vcpu->asid_generation == cpu->asid_generation &&
        vcpu->tlb_generation == tlb_generation)
        return TAG_KEPT;
    enum tlb_tag_change change = TAG_NEW;
    if (cpu->asid_next >= tag_count) {
        cpu->asid_generation++;
        cpu->asid_next = CONTROL_TLB_TAG + 1;
        change = TAG_NEW_AFTER_WRAP;
    }
    vcpu->asid = cpu->asid_next++;
    vcpu->asid_generation = cpu->asid_generation;
    vcpu->asid_cpu = (int)cpu->index;
    vcpu->tlb_generation = tlb_generation;
    return change;
}

#endif
