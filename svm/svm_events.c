/* SVM mechanism for INTERRUPT and DEBUG_GUEST (policy in hv/vcpu_events.c):
 * external interrupts through EVENTINJ, the interrupt window through a
 * virtual interrupt (V_IRQ) whose delivery is intercepted (VINTR), guest
 * debugging through the #DB intercept, RFLAGS.TF and the VMCB's DR7, and
 * the MOV DR intercepts of the guest's own debug registers. */
#include "hv/apic.h"
#include "hv/debugregs.h"
#include "hv/rflags.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/virt.h"
#include "svm/svm.h"
#include "svm/vmcb_layout.h"

static struct vmcb *vmcb_of(struct vcpu *vcpu) { return vcpu->arch; }

bool svm_interrupt_allowed(struct vcpu *vcpu, bool *if_flag)
{
    const struct vmcb *vmcb = vmcb_of(vcpu);
    *if_flag = (vmcb->save.rflags & RFLAGS_IF) != 0;
    return *if_flag && !(vmcb->control.int_state & INT_STATE_SHADOW) &&
           !(vmcb->control.event_inject & EVENT_VALID);
}

void svm_inject_interrupt(struct vcpu *vcpu, uint8_t vector)
{
    vmcb_of(vcpu)->control.event_inject = EVENT_VALID | EVENT_TYPE_INTR | vector;
}

/* SVM keeps no readable record of the guest's NMI blocking (without
 * V_NMI), so the hypervisor keeps its own: from the NMI it injects to the
 * IRET that ends the handler, which is intercepted while the guest is
 * masked. The intercept comes before the IRET runs: NMIs stay blocked
 * until RIP has moved from it (svm_nmi.iret_seen). */
static bool nmi_blocked(struct vcpu *vcpu)
{
    if (vcpu->svm_nmi.iret_seen && vmcb_of(vcpu)->save.rip != vcpu->svm_nmi.iret_rip)
        vcpu->svm_nmi.iret_seen = 0; /* the IRET has run */
    return vcpu->svm_nmi.masked || vcpu->svm_nmi.iret_seen;
}

bool svm_nmi_allowed(struct vcpu *vcpu)
{
    const struct vmcb *vmcb = vmcb_of(vcpu);
    return !nmi_blocked(vcpu) &&
           !(vmcb->control.event_inject & EVENT_VALID) &&
           !(vmcb->control.int_state & INT_STATE_SHADOW);
}

static void set_nmi_masked(struct vcpu *vcpu, bool masked)
{
    struct vmcb_control *c = &vmcb_of(vcpu)->control;
    vcpu->svm_nmi.masked = masked;
    vcpu->svm_nmi.iret_seen = 0;
    if (masked)
        c->intercept_misc1 |= INTERCEPT_IRET;
    else
        c->intercept_misc1 &= ~INTERCEPT_IRET;
}

void svm_inject_nmi(struct vcpu *vcpu)
{
    vmcb_of(vcpu)->control.event_inject = EVENT_VALID | EVENT_TYPE_NMI | 2;
    set_nmi_masked(vcpu, true);
}

/* The guest's IRET while masked (VMEXIT_IRET, before it runs). */
void svm_nmi_iret(struct vcpu *vcpu)
{
    set_nmi_masked(vcpu, false);
    vcpu->svm_nmi.iret_seen = 1;
    vcpu->svm_nmi.iret_rip = vmcb_of(vcpu)->save.rip;
}

/* The NMI window. Held back by an interrupt shadow or an event this
 * entry injects, which no window of SVM's reports: an interrupt of this
 * CPU's own, pending from before VMRUN (IF is clear until then), ends
 * the guest's run as soon as the guest can be interrupted -- after the
 * shadow's instruction, or right after the event's delivery -- and the
 * next entry injects the NMI (KVM's immediate exit). The kick vector's:
 * the interrupt exit finds no kick and goes on. Blocked by the guest's
 * NMI handler: the IRET intercept is on already; once the IRET is seen
 * but has not run, a single step over it brings an exit right after it
 * (a #DB intercept, as KVM does): only where TF and #DB are not someone
 * else's (the guest's own TF, DEBUG_GUEST) and no event is being
 * injected, whose handler would push our TF. Otherwise the NMI waits for
 * the guest's next exit. */
void svm_set_nmi_window(struct vcpu *vcpu, bool on)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    if (!on)
        return;
    if (!nmi_blocked(vcpu)) {
        apic_send_ipi(0, ICR_TO_SELF | VECTOR_KICK);
        return;
    }
    if (!vcpu->svm_nmi.iret_seen || vcpu->svm_nmi.stepping || vcpu->debug.control ||
        (vmcb->save.rflags & RFLAGS_TF) || (vmcb->control.event_inject & EVENT_VALID))
        return;
    vcpu->svm_nmi.stepping = 1;
    vcpu->svm_nmi.dr6 = vmcb->save.dr6;
    vmcb->save.rflags |= RFLAGS_TF;
    vmcb->control.intercept_exceptions |= 1u << VECTOR_DEBUG | SVM_IRET_FAULTS;
}

/* The step ends at the first exit after it started: a #DB after the IRET
 * ran (true: the window), or another exit before it did, where the TF is
 * still ours (RIP at the IRET) and comes off -- among them a fault of the
 * IRET itself, intercepted while the step lasts (SVM_IRET_FAULTS) so
 * that the frame the guest's handler gets holds no TF of ours: the
 * backend gives the guest that fault (svm_exit.c). The #DB intercept was off
 * (no DEBUG_GUEST), and the guest's DR6 is as before. */
bool svm_nmi_step_done(struct vcpu *vcpu, bool debug_exit)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    vcpu->svm_nmi.stepping = 0;
    vmcb->control.intercept_exceptions &= ~(1u << VECTOR_DEBUG | SVM_IRET_FAULTS);
    if (debug_exit) {
        vmcb->save.dr6 = vcpu->svm_nmi.dr6;
        return true;
    }
    if (vmcb->save.rip == vcpu->svm_nmi.iret_rip)
        vmcb->save.rflags &= ~RFLAGS_TF;
    return false;
}

void svm_note_trap(struct vcpu *vcpu, uint8_t vector)
{
    vcpu->svm_trap.vector = vector == 3 || vector == 4 ? vector : 0;
    vcpu->svm_trap.rip = vmcb_of(vcpu)->save.rip;
}

/* A new state (SET_SREGS, INIT) ends the guest's NMI handler. */
void svm_nmi_forget(struct vcpu *vcpu)
{
    set_nmi_masked(vcpu, false);
}

void svm_get_event_state(struct vcpu *vcpu, struct event_state *state)
{
    const struct vmcb_control *c = &vmcb_of(vcpu)->control;
    static const uint8_t type_of[8] = {
        [0] = EVENT_EXTERNAL, [2] = EVENT_NMI, [3] = EVENT_EXCEPTION,
        [4] = EVENT_SOFT_INTERRUPT,
    };
    uint64_t inject = c->event_inject;
    *state = (struct event_state){
        .type = inject & EVENT_VALID ? type_of[(inject >> 8) & 7] : EVENT_NONE,
        .vector = (uint8_t)inject,
        .has_error = (inject & EVENT_VALID) && (inject & EVENT_ERROR_VALID),
        .error_code = (uint32_t)(inject >> 32),
        /* one bit for both: reported as STI's */
        .shadow = c->int_state & INT_STATE_SHADOW ? EVENT_SHADOW_STI : 0,
        /* the NMI about to be injected is not yet in its handler */
        .nmi_masked = nmi_blocked(vcpu) &&
                      !((inject & EVENT_VALID) && (inject & EVENT_TYPE_MASK) == EVENT_TYPE_NMI),
    };
}

void svm_set_event_state(struct vcpu *vcpu, const struct event_state *state)
{
    struct vmcb_control *c = &vmcb_of(vcpu)->control;
    static const uint64_t type_bits[] = {
        [EVENT_EXTERNAL] = EVENT_TYPE_INTR, [EVENT_NMI] = EVENT_TYPE_NMI,
        [EVENT_EXCEPTION] = EVENT_TYPE_EXCEPTION,
    };
    /* A software interrupt is never in EVENTINJ: one whose delivery an
     * exit interrupted runs again (svm/svm_exit.c). */
    if (state->type != EVENT_SOFT_INTERRUPT) {
        uint64_t inject = 0;
        if (state->type != EVENT_NONE)
            inject = EVENT_VALID | type_bits[state->type] | state->vector |
                     (state->has_error ? EVENT_ERROR_VALID | (uint64_t)state->error_code << 32 : 0);
        c->event_inject = inject;
        if (state->type == EVENT_EXCEPTION)
            svm_note_trap(vcpu, state->vector);
    }
    c->int_state = (c->int_state & ~INT_STATE_SHADOW) | (state->shadow ? INT_STATE_SHADOW : 0);
    set_nmi_masked(vcpu, state->nmi_masked || state->type == EVENT_NMI);
}

/* The virtual interrupt is never delivered: its intercept exits first,
 * and the exit takes it away again (as KVM's svm_set_vintr does). While
 * it is pending, the guest's CR8 writes are intercepted and emulated
 * (svm/svm_cr8.c): QEMU 7.2 fails an assertion when a guest's CR8 write
 * meets a pending virtual interrupt. */
void svm_set_interrupt_window(struct vcpu *vcpu, bool on)
{
    struct vmcb_control *c = &vmcb_of(vcpu)->control;
    const uint64_t virq = V_IRQ | V_INTR_PRIO_MAX | V_IGN_TPR;
    if (on) {
        c->int_control |= virq;
        c->intercept_misc1 |= INTERCEPT_VINTR;
        c->intercept_cr |= INTERCEPT_CR8_WRITE;
    } else {
        c->int_control &= ~virq;
        c->intercept_misc1 &= ~INTERCEPT_VINTR;
        if (!vcpu->vm->lapic) /* whose CR8 writes are always intercepted */
            c->intercept_cr &= ~INTERCEPT_CR8_WRITE;
    }
}

void svm_set_guest_debug(struct vcpu *vcpu, uint32_t old)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    vmcb->save.rflags = vcpu_debug_rflags(vcpu, old, vmcb->save.rflags);
}

/* VMRUN switches DR6 and DR7 with the VMCB, so kept registers need only
 * the MOVs that reach DR0-DR3 or change DR7 (DR5 is DR7 without CR4.DE).
 * Under DEBUG_GUEST the guest's DR6 and DR7 are kept aside as well, and
 * #DB belongs to the VMM. */
void svm_set_debugreg_exits(struct vcpu *vcpu, int exits)
{
    struct vmcb_control *c = &vmcb_of(vcpu)->control;
    const uint32_t dr0_3 = INTERCEPT_DR_READ(0) | INTERCEPT_DR_READ(1) |
                           INTERCEPT_DR_READ(2) | INTERCEPT_DR_READ(3) |
                           INTERCEPT_DR_WRITE(0) | INTERCEPT_DR_WRITE(1) |
                           INTERCEPT_DR_WRITE(2) | INTERCEPT_DR_WRITE(3);
    if (exits == DEBUGREG_EXITS_KEPT)
        c->intercept_dr = dr0_3 | INTERCEPT_DR_WRITE(5) | INTERCEPT_DR_WRITE(7);
    else if (exits == DEBUGREG_EXITS_DEBUG)
        c->intercept_dr = 0x00ff00ffu; /* every MOV of DR0-DR7 */
    else
        c->intercept_dr = 0;
    if (exits == DEBUGREG_EXITS_DEBUG)
        c->intercept_exceptions |= 1u << VECTOR_DEBUG;
    else
        c->intercept_exceptions &= ~(1u << VECTOR_DEBUG);
}

void svm_get_entry_dr67(struct vcpu *vcpu, uint64_t *dr6, uint64_t *dr7)
{
    const struct vmcb_save *save = &vmcb_of(vcpu)->save;
    *dr6 = save->dr6;
    *dr7 = save->dr7;
}

void svm_set_entry_dr67(struct vcpu *vcpu, uint64_t dr6, uint64_t dr7)
{
    struct vmcb_save *save = &vmcb_of(vcpu)->save;
    save->dr6 = dr6;
    save->dr7 = dr7;
}

/* A #DB exit: the CPU wrote the cause to the guest's DR6, which is reset
 * for the next one. After a breakpoint, RF lets the next RUN execute the
 * instruction instead of stopping at it again. */
void svm_decode_debug(struct vcpu *vcpu, struct exit_record *exit)
{
    struct vmcb_save *save = &vmcb_of(vcpu)->save;
    exit->kind = EXIT_DEBUG;
    exit->info1 = save->dr6;
    exit->info2 = save->dr7;
    save->dr6 = DR6_RESET;
    if (exit->info1 & DR6_B0_B3)
        save->rflags |= RFLAGS_RF;
}
