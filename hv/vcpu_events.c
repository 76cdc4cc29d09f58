/* Events a VMM puts into a vcpu: one queued external interrupt (INTERRUPT)
 * with the interrupt window of the run page, and guest debugging
 * (DEBUG_GUEST). The policy lives here, the mechanism in the backends'
 * ops. Everything is called with the vcpu claimed. */
#include "abi/hv_errno.h"
#include "hv/debugregs.h"
#include "hv/rflags.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/virt.h"
#include "hv/vm.h"

/* At most one interrupt waits, as with KVM_INTERRUPT (no PIC, no APIC):
 * a second one before the guest took the first is refused, not merged. */
long vcpu_queue_interrupt(struct vcpu *vcpu, uint8_t vector)
{
    if (vcpu->irq_pending)
        return -HV_EBUSY;
    vcpu->irq_vector = vector;
    vcpu->irq_pending = 1;
    return 0;
}

/* Injection is decided just before entry, on the state the guest will
 * enter with: an interrupt injected while IF=0 would be taken anyway
 * (event injection ignores IF), so it waits for the window instead. */
void vcpu_prepare_events_slow(struct vcpu *vcpu)
{
    bool lapic = vcpu->vm->lapic;
    if (lapic)
        vcpu_lapic_prepare(vcpu, false);
    if (vcpu->nmi_pending && virt->nmi_allowed(vcpu)) {
        virt->inject_nmi(vcpu);
        vcpu->nmi_pending = 0;
    }
    bool requested = __atomic_load_n(&vcpu->run->request_interrupt_window,
                                     __ATOMIC_RELAXED);
    bool if_flag;
    bool allowed = virt->interrupt_allowed(vcpu, &if_flag);
    if (vcpu->irq_pending && allowed) {
        virt->inject_interrupt(vcpu, vcpu->irq_vector);
        vcpu->irq_pending = 0;
        allowed = false;
    }
    /* The local APIC's highest vector above its PPR, once the guest can
     * take it: acknowledged as the CPU's INTA cycle would (IRR to ISR). */
    int vector = lapic && vcpu->mp_state == HV_MP_STATE_RUNNABLE ? vlapic_pending(&vcpu->lapic) : -1;
    /* Where the CPU takes TPR writes itself: one that unmasks a vector
     * IRR holds must exit (none pending above PPR: maybe one below). */
    if (vcpu->vm->apic_virtualized)
        virt->set_tpr_threshold(vcpu, lapic && vector < 0 ? vlapic_tpr_threshold(&vcpu->lapic) : 0);
    if (vector >= 0 && allowed) {
        virt->inject_interrupt(vcpu, (uint8_t)vector);
        vlapic_acknowledge(&vcpu->lapic, (uint8_t)vector);
        vector = -1;
    }
    vcpu->lapic_window = vector >= 0;
    vcpu->irq_window = vcpu->irq_pending || requested || vcpu->lapic_window;
    virt->set_interrupt_window(vcpu, vcpu->irq_window);
    /* An NMI still pending waits for the guest's NMI blocking to end: the
     * backend's window exit brings it in then, not at some later exit.
     * Last, so that the backend sees whether an interrupt goes in at this
     * entry (SVM does not single-step over an IRET then). */
    if (vcpu->nmi_pending || vcpu->nmi_window) {
        vcpu->nmi_window = vcpu->nmi_pending;
        virt->set_nmi_window(vcpu, vcpu->nmi_window);
    }
}

/* The NMI window opened (or, on SVM, the guest's IRET came): the next
 * entry injects the pending NMI if the guest can take it now. */
int vcpu_nmi_window_exit(struct vcpu *vcpu)
{
    vcpu->nmi_window = 0;
    virt->set_nmi_window(vcpu, false);
    return -1;
}

/* The window opened: the next entry injects a pending interrupt, or RUN
 * tells the VMM that asked for the window. */
int vcpu_interrupt_window_exit(struct vcpu *vcpu)
{
    bool if_flag;
    vcpu->irq_window = 0;
    virt->set_interrupt_window(vcpu, false);
    if (vcpu->irq_pending || vcpu->lapic_window)
        return -1;
    if (__atomic_load_n(&vcpu->run->request_interrupt_window, __ATOMIC_RELAXED) &&
        virt->interrupt_allowed(vcpu, &if_flag))
        return HV_EXIT_IRQ_WINDOW_OPEN;
    return -1;
}

void vcpu_fill_interrupt_flags(struct vcpu *vcpu)
{
    bool if_flag;
    bool allowed = virt->interrupt_allowed(vcpu, &if_flag);
    vcpu->run->ready_for_interrupt_injection = !vcpu->irq_pending && allowed;
    vcpu->run->if_flag = if_flag;
}

/* Control bits other than ENABLE mean nothing without it: debugging off
 * is control 0, whatever else was passed. */
long vcpu_set_guest_debug(struct vcpu *vcpu, const struct hv_guest_debug *debug)
{
    uint32_t control = debug->control; /* bits checked by the caller */
    if (!(control & HV_GUESTDBG_ENABLE))
        control = 0;
    uint32_t old = vcpu->debug.control;
    for (int i = 0; i < 4; i++)
        vcpu->debug.addr[i] = debug->debugreg[i];
    /* Enables and conditions only: bit 10 is fixed to 1 and bits 11-15
     * (general detect among them) are not a breakpoint's; the caller
     * refused bits 63:32 (VM entry checks them). */
    vcpu->debug.dr7 = (debug->debugreg[7] & 0xffff03ffull) | DR7_RESET;
    vcpu->debug.control = control;
    virt->set_guest_debug(vcpu, old);
    debugregs_debug_changed(vcpu, old); /* the guest's own DRs aside or back */
    return 0;
}

/* The guest's RFLAGS with our TF added or taken away as single-stepping
 * starts or stops (the guest's own TF is kept meanwhile). */
uint64_t vcpu_debug_rflags(struct vcpu *vcpu, uint32_t old, uint64_t rflags)
{
    bool was = old & HV_GUESTDBG_SINGLESTEP;
    bool is = vcpu->debug.control & HV_GUESTDBG_SINGLESTEP;
    if (is && !was) {
        vcpu->debug.guest_tf = (rflags & RFLAGS_TF) != 0;
        return rflags | RFLAGS_TF;
    }
    if (was && !is)
        return (rflags & ~RFLAGS_TF) | (vcpu->debug.guest_tf ? RFLAGS_TF : 0);
    return rflags;
}
