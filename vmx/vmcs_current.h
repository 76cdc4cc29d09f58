/* Making a vcpu's VMCS current and the control domain's again, inline for
 * RUN's guest loop (vmx_run_loop), which does both on every RUN; the rest
 * of the backend calls vmcs_acquire and vmcs_release (vmx_vmcs.c), which
 * are these. What is rare stays out of line: a VMCS that must first move
 * from another CPU (vmcs_move_here) and a VMCLEAR request waiting here
 * (vmx_vmcs_serve). */
#ifndef VMX_VMCS_CURRENT_H
#define VMX_VMCS_CURRENT_H

#include <stdbool.h>

#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "vmx/vmx_instructions.h"

void vmcs_move_here(struct vcpu *vcpu, struct percpu *cpu);
void vmx_vmcs_serve(struct percpu *cpu);

static inline bool vmcs_make_current(struct vcpu *vcpu, struct percpu *cpu)
{
    if (cpu->current_vmcs == vcpu->arch_phys)
        return false;
    /* Whoever makes it current may change RSP, RIP or RFLAGS: the copies
     * vmx_run_loop left for GET_REGS are stale from here on. */
    vcpu->saved_regs_valid = 0;
    if (__builtin_expect(vcpu->vmcs_cpu != cpu->owner_id, 0)) {
        vmcs_move_here(vcpu, cpu);
        return true;
    }
    vmptrld_at(&vcpu->arch_phys);
    cpu->current_vmcs = vcpu->arch_phys;
    return true;
}

/* A child's run loop: its VMCS is not current, the control domain's
 * is, as the loop runs inside one of the control domain's exits (RUN). */
static inline void vmcs_make_child_current(struct vcpu *vcpu, struct percpu *cpu)
{
    vcpu->saved_regs_valid = 0; /* as in vmcs_make_current */
    if (__builtin_expect(vcpu->vmcs_cpu != cpu->owner_id, 0)) {
        vmcs_move_here(vcpu, cpu);
        return;
    }
    vmptrld_at(&vcpu->arch_phys);
    cpu->current_vmcs = vcpu->arch_phys;
}

/* The VMCS stays active and launched here; the control domain's becomes
 * current again (none before the control domain's vcpu first ran; a
 * child's run loop knows there is one: has_control). */
static inline void vmcs_back_to_control(struct percpu *cpu, bool has_control)
{
    cpu->current_vmcs = cpu->control_vmcs;
    if (has_control || cpu->control_vmcs)
        vmptrld_at(&cpu->control_vmcs);
    if (__builtin_expect(__atomic_load_n(&cpu->vmclear_request, __ATOMIC_RELAXED) != NULL, 0))
        vmx_vmcs_serve(cpu);
}

#endif
