/* The single-step trap after an instruction the hypervisor completed;
 * hv/single_step.h says when and why. */
#include "hv/single_step.h"

#include "abi/hv_abi.h"
#include "hv/debugregs.h"
#include "hv/rflags.h"
#include "hv/virt.h"
#include "hv/vm.h"

void vcpu_single_step_trap(struct vcpu *vcpu)
{
    /* The control domain's runtime never sets TF; its vcpus have no run
     * page to report to. */
    if (!vcpu->vm->is_control)
        vcpu->state = VCPU_STEP_PENDING;
}

int vcpu_single_step_deliver(struct vcpu *vcpu)
{
    vcpu->state = VCPU_RUNNABLE;
    struct hv_regs regs; /* the guest's own TF, whatever DEBUG_GUEST sets */
    virt->get_regs(vcpu, &regs);
    if (vcpu->debug.control & HV_GUESTDBG_SINGLESTEP) {
        uint64_t dr6, dr7;
        virt->get_entry_dr67(vcpu, &dr6, &dr7);
        struct hv_run *run = vcpu->run;
        run->debug.exception = VECTOR_DEBUG;
        run->debug.pc = regs.rip;
        run->debug.dr6 = DR6_RESET | DR6_BS;
        run->debug.dr7 = dr7;
        return HV_EXIT_DEBUG;
    }
    struct event_state queued;
    virt->get_event_state(vcpu, &queued);
    if ((regs.rflags & RFLAGS_TF) && queued.type == EVENT_NONE) {
        debugregs_single_step(vcpu);
        virt->inject_exception(vcpu, VECTOR_DEBUG, false, 0);
    }
    return -1;
}
