/* The SVM backend's exit path (svm_exit.c): what its guest loop calls
 * after each #VMEXIT, and the TLB tag a child enters with. */
#ifndef SVM_SVM_EXIT_H
#define SVM_SVM_EXIT_H

#include "hv/tlb_tag.h"
#include "hv/vcpu.h"
#include "svm/svm.h"
#include "svm/vmcb_layout.h"

/* The function svm_guest_loop calls after each exit of `vcpu`: the
 * control domain's or a child's, wrapped for SPEC_CTRL where the CPU has
 * it (hv/speculation.h). Chosen once, when the vcpu is made
 * (vcpu->guest_exit). */
int (*svm_exit_function(struct vcpu *vcpu))(struct vcpu *);
/* Its second half, for the exits that need R12-R15 as well
 * (GUEST_EXIT_ALL_GPRS, hv/vcpu.h); called by svm_guest_loop.S. */
int svm_exit_all_gprs(struct vcpu *vcpu);
/* Where SPEC_CTRL follows the vcpu: its value for the first entry of a
 * guest loop. */
void svm_spec_ctrl_first_entry(struct vcpu *vcpu);

/* A child's ASID before an entry (hv/tlb_tag.h): kept, or a fresh one,
 * with every tag of the CPU flushed when they wrapped. */
static inline void svm_choose_asid_on(struct vcpu *vcpu, struct percpu *cpu,
                                      struct vmcb_control *c)
{
    enum tlb_tag_change change = tlb_tag_refresh_on(vcpu, cpu, svm_features.asid_count);
    if (change == TAG_KEPT)
        return;
    c->asid = vcpu->asid;
    if (change == TAG_NEW_AFTER_WRAP)
        svm_flush_at_next_entry(vcpu, TLB_CONTROL_FLUSH_ALL);
}

static inline void svm_choose_asid(struct vcpu *vcpu, struct vmcb_control *c)
{
    svm_choose_asid_on(vcpu, this_cpu(), c);
}

#endif
