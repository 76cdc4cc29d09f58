/* SVM mechanism for INTERRUPT and DEBUG_GUEST (policy in hv/vcpu_events.c):
 * external interrupts through EVENTINJ, the interrupt window through a
 * virtual interrupt (V_IRQ) whose delivery is intercepted (VINTR), guest
 * debugging through the #DB intercept, RFLAGS.TF and the VMCB's DR7, and
 * the MOV DR intercepts of the guest's own debug registers. */
#include "hv/debugregs.h"
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

/* An emulator workaround, harmless on hardware. The hypervisor's own
 * mechanism is the architectural one: DEBUG_GUEST's DR0-DR3 loaded into
 * the CPU, its DR7 in the VMCB. But QEMU's TCG (7.2 here) keeps a list of
 * breakpoints that only an instruction writing DR0-DR7 updates; VMRUN
 * loads DR7 from the VMCB without touching it, so a breakpoint set there
 * alone never fires. Nothing but a MOV to DR7 with the breakpoints
 * enabled arms them, and the guest's MOVs are the guest's: so the host
 * writes them into its own DR7 before VMRUN (svm_run_loop) and back to
 * none after the loop. On hardware #VMEXIT disables host breakpoints
 * anyway, and the few instructions up to VMRUN are the hypervisor's.
 * Kept narrow: only execute breakpoints outside the hypervisor's text, so
 * the host cannot hit one, and only for a guest whose CS base is 0,
 * because QEMU compares a breakpoint with EIP rather than CS.base + EIP
 * and crashes on a hit anywhere else (so under QEMU a VMM's breakpoint
 * does not fire in code with a CS base, e.g. real mode). The guest's own
 * breakpoints are never copied here. */
void svm_arm_breakpoints(const struct vcpu *vcpu)
{
    extern char __text_start[], __text_end[];
    uint64_t text_start = (uint64_t)(uintptr_t)__text_start;
    uint64_t text_end = (uint64_t)(uintptr_t)__text_end;
    uint64_t dr7 = vcpu->debug.dr7, host = DR7_RESET;
    if (((const struct vmcb *)vcpu->arch)->save.cs.base != 0)
        return;
    for (int i = 0; i < 4; i++) {
        uint64_t enables = 3ull << (2 * i), condition = 0xfull << (16 + 4 * i);
        uint64_t addr = vcpu->debug.addr[i];
        if ((dr7 & enables) && !(dr7 & condition) &&
            (addr + 1 <= text_start || addr >= text_end))
            host |= (dr7 & enables) | (dr7 & condition);
    }
    if (host != DR7_RESET)
        __asm__ volatile("mov %0, %%dr7" ::"r"(host));
}

void svm_disarm_breakpoints(void)
{
    __asm__ volatile("mov %0, %%dr7" ::"r"(DR7_RESET));
}
