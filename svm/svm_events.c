/* SVM mechanism for INTERRUPT and DEBUG_GUEST (policy in hv/vcpu_events.c):
 * external interrupts through EVENTINJ, the interrupt window through a
 * virtual interrupt (V_IRQ) whose delivery is intercepted (VINTR), guest
 * debugging through the #DB intercept, RFLAGS.TF and the VMCB's DR7. */
#include "hv/rflags.h"
#include "hv/vcpu.h"
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

/* SVM keeps no readable record of the guest's NMI blocking: an NMI is
 * injected when no other event is, so one that arrives while the guest is
 * still in its NMI handler nests (KVM intercepts IRET to avoid that). */
bool svm_nmi_allowed(struct vcpu *vcpu)
{
    const struct vmcb *vmcb = vmcb_of(vcpu);
    return !(vmcb->control.event_inject & EVENT_VALID) &&
           !(vmcb->control.int_state & INT_STATE_SHADOW);
}

void svm_inject_nmi(struct vcpu *vcpu)
{
    vmcb_of(vcpu)->control.event_inject = EVENT_VALID | EVENT_TYPE_NMI | 2;
}

/* The virtual interrupt is never delivered: its intercept exits first,
 * and the exit takes it away again (as KVM's svm_set_vintr does). */
void svm_set_interrupt_window(struct vcpu *vcpu, bool on)
{
    struct vmcb_control *c = &vmcb_of(vcpu)->control;
    const uint64_t virq = V_IRQ | V_INTR_PRIO_MAX | V_IGN_TPR;
    if (on) {
        c->int_control |= virq;
        c->intercept_misc1 |= INTERCEPT_VINTR;
    } else {
        c->int_control &= ~virq;
        c->intercept_misc1 &= ~INTERCEPT_VINTR;
    }
}

void svm_set_guest_debug(struct vcpu *vcpu, uint32_t old)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    if (vcpu->debug.control)
        vmcb->control.intercept_exceptions |= 1u << VECTOR_DEBUG;
    else
        vmcb->control.intercept_exceptions &= ~(1u << VECTOR_DEBUG);
    vmcb->save.rflags = vcpu_debug_rflags(vcpu, old, vmcb->save.rflags);
    vmcb->save.dr7 = vcpu_debug_dr7(vcpu, old, vmcb->save.dr7);
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

/* QEMU's TCG before 9.1 arms a breakpoint only when an instruction writes
 * DR0-DR7, not when VMRUN loads DR7 from the VMCB, so a guest breakpoint
 * set there alone never fires. The host therefore writes the breakpoints
 * into its own DR7 before VMRUN (svm_run_loop), and back to none after:
 * harmless on hardware, where #VMEXIT disables host breakpoints anyway.
 * Only execute breakpoints outside the hypervisor's text are armed, so
 * the host cannot hit one on its way to VMRUN. Returns whether it armed. */
bool svm_arm_breakpoints(const struct vcpu *vcpu)
{
    extern char __text_start[], __text_end[];
    uint64_t text_start = (uint64_t)(uintptr_t)__text_start;
    uint64_t text_end = (uint64_t)(uintptr_t)__text_end;
    uint64_t dr7 = vcpu->debug.dr7, host = DR7_RESET;
    for (int i = 0; i < 4; i++) {
        uint64_t enables = 3ull << (2 * i), condition = 0xfull << (16 + 4 * i);
        uint64_t addr = vcpu->debug.addr[i];
        if ((dr7 & enables) && !(dr7 & condition) &&
            (addr + 1 <= text_start || addr >= text_end))
            host |= (dr7 & enables) | (dr7 & condition);
    }
    if (host == DR7_RESET)
        return false;
    __asm__ volatile("mov %0, %%dr7" ::"r"(host));
    return true;
}

void svm_disarm_breakpoints(void)
{
    __asm__ volatile("mov %0, %%dr7" ::"r"(DR7_RESET));
}
