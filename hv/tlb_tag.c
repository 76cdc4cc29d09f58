/* A fresh TLB tag for a vcpu on this CPU (hv/tlb_tag.h). */
#include "hv/tlb_tag.h"

enum tlb_tag_change tlb_tag_new(struct vcpu *vcpu, struct percpu *cpu,
                                uint64_t tlb_generation, uint32_t tag_count)
{
    enum tlb_tag_change change = TAG_NEW;
    if (cpu->asid_next >= tag_count) {
        cpu->asid_generation++;
        cpu->asid_key = tlb_tag_cpu_key(cpu);
        cpu->asid_next = CONTROL_TLB_TAG + 1;
        change = TAG_NEW_AFTER_WRAP;
    }
    vcpu->asid = cpu->asid_next++;
    vcpu->asid_key = cpu->asid_key;
    __atomic_store_n(&vcpu->tlb_generation, tlb_generation, __ATOMIC_RELEASE);
    return change;
}
