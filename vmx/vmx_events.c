/* VMX mechanism for INTERRUPT and DEBUG_GUEST (policy in hv/vcpu_events.c):
 * external interrupts through the VM-entry interruption information, the
 * interrupt window through interrupt-window exiting (SDM 3C 25.2), guest
 * debugging through the #DB exception-bitmap bit, RFLAGS.TF and the
 * VMCS's DR7, and MOV-DR exiting for the guest's own debug registers,
 * with the reflection of its #DBs while they are kept. Each op makes the
 * VMCS current if it is not (a state call between RUNs), and is cheap
 * inside the run loop, where it is. */
#include "hv/debugregs.h"
#include "hv/rflags.h"
#include "hv/vcpu.h"
#include "hv/virt.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_exit.h"
#include "vmx/vmx_instructions.h"

bool vmx_interrupt_allowed(struct vcpu *vcpu, bool *if_flag)
{
    bool acquired = vmcs_acquire(vcpu);
    *if_flag = (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) != 0;
    bool allowed = *if_flag &&
                   !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_STI_MOV_SS) &&
                   !(vmread(VMCS_ENTRY_INTERRUPTION_INFO) & INTR_INFO_VALID);
    vmcs_release(vcpu, acquired);
    return allowed;
}

/* The guest's interruptibility state. A guest blocks NMIs only because
 * the hypervisor made it (nmi_blocking_ours), so a blocking-by-NMI bit an
 * exit saved without that is not the guest's: it goes, from the VMCS too,
 * whose entry would refuse it beside an NMI to inject (SDM 3C 26.3.1.5).
 * A CPU never saves one so; Bochs 2.7 does. Its VM entry sets NMI
 * blocking from the VMCS but never clears it (fixed after 2.7, Bochs
 * bug #1456), so a child's blocking, once the control domain ran while
 * the child was in its NMI handler, went into the control domain's VMCS
 * and from there into every child's exit on that CPU: trusted, it kept a
 * pending NMI out until the guest's next IRET, which a guest waiting for
 * its NMI with interrupts off never makes. VMCS current. */
static uint64_t vmx_guest_interruptibility(struct vcpu *vcpu)
{
    uint64_t blocking = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if ((blocking & INTERRUPTIBILITY_NMI) && !vcpu->nmi_blocking_ours) {
        blocking &= ~(uint64_t)INTERRUPTIBILITY_NMI;
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, blocking);
    }
    return blocking;
}

/* Blocking by NMI is the guest's own (until its IRET); entry also refuses
 * an NMI under STI or MOV SS blocking on some CPUs (SDM 3C 26.3.1.5). */
bool vmx_nmi_allowed(struct vcpu *vcpu)
{
    bool acquired = vmcs_acquire(vcpu);
    bool allowed = !(vmx_guest_interruptibility(vcpu) &
                     (INTERRUPTIBILITY_STI_MOV_SS | INTERRUPTIBILITY_NMI)) &&
                   !(vmread(VMCS_ENTRY_INTERRUPTION_INFO) & INTR_INFO_VALID);
    vmcs_release(vcpu, acquired);
    return allowed;
}

void vmx_inject_nmi(struct vcpu *vcpu)
{
    bool acquired = vmcs_acquire(vcpu);
    vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | 2);
    vcpu->nmi_blocking_ours = 1;
    vmcs_release(vcpu, acquired);
}

void vmx_reset_vcpu(struct vcpu *vcpu)
{
    bool acquired = vmcs_acquire(vcpu);
    vmx_reset_state(vcpu);
    vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, 0);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vcpu->nmi_blocking_ours = 0;
    vmcs_release(vcpu, acquired);
}

void vmx_inject_interrupt(struct vcpu *vcpu, uint8_t vector)
{
    bool acquired = vmcs_acquire(vcpu);
    vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | vector);
    vmcs_release(vcpu, acquired);
}

void vmx_set_interrupt_window(struct vcpu *vcpu, bool on)
{
    bool acquired = vmcs_acquire(vcpu);
    uint64_t proc = vmread(VMCS_PROC_CONTROLS);
    if (on)
        proc |= PROC_INTERRUPT_WINDOW_EXITING;
    else
        proc &= ~(uint64_t)PROC_INTERRUPT_WINDOW_EXITING;
    vmwrite(VMCS_PROC_CONTROLS, proc);
    vmcs_release(vcpu, acquired);
}

/* TF changes here between RUNs. Under an STI or MOV SS shadow VM entry
 * insists that a pending single step agree with TF (SDM 3C 27.3.1.5: BS
 * set with TF, clear without), so the pending trap follows TF there: a
 * step started in the shadow is taken after the next instruction, and one
 * that vmx_decode_debug left pending goes with the single-stepping. */
void vmx_set_guest_debug(struct vcpu *vcpu, uint32_t old)
{
    bool acquired = vmcs_acquire(vcpu);
    uint64_t rflags = vcpu_debug_rflags(vcpu, old, vmread(VMCS_GUEST_RFLAGS));
    vmwrite(VMCS_GUEST_RFLAGS, rflags);
    if (vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_STI_MOV_SS) {
        uint64_t pending = vmread(VMCS_GUEST_PENDING_DEBUG) & ~(uint64_t)DR6_BS;
        vmwrite(VMCS_GUEST_PENDING_DEBUG, pending | (rflags & RFLAGS_TF ? DR6_BS : 0));
    }
    vmcs_release(vcpu, acquired);
}

/* MOV-DR exiting is one control for all registers. While the guest's DR6
 * is kept (not live), its #DBs exit too: delivered in the guest they
 * would write the CPU's DR6, which is the control domain's then. */
void vmx_set_debugreg_exits(struct vcpu *vcpu, int exits)
{
    bool acquired = vmcs_acquire(vcpu);
    uint64_t proc = vmread(VMCS_PROC_CONTROLS) & ~(uint64_t)PROC_MOV_DR_EXITING;
    uint64_t bitmap = vmread(VMCS_EXCEPTION_BITMAP) & ~(1ull << VECTOR_DEBUG);
    if (exits != DEBUGREG_EXITS_LIVE) {
        proc |= PROC_MOV_DR_EXITING;
        bitmap |= 1ull << VECTOR_DEBUG;
    }
    vmwrite(VMCS_PROC_CONTROLS, proc);
    vmwrite(VMCS_EXCEPTION_BITMAP, bitmap);
    vmcs_release(vcpu, acquired);
}

void vmx_get_entry_dr67(struct vcpu *vcpu, uint64_t *dr6, uint64_t *dr7)
{
    bool acquired = vmcs_acquire(vcpu);
    *dr6 = vcpu->dr.dr6; /* VM entry does not load DR6 */
    *dr7 = vmread(VMCS_GUEST_DR7);
    vmcs_release(vcpu, acquired);
}

void vmx_set_entry_dr67(struct vcpu *vcpu, uint64_t dr6, uint64_t dr7)
{
    (void)dr6;
    bool acquired = vmcs_acquire(vcpu);
    vmwrite(VMCS_GUEST_DR7, dr7);
    vmcs_release(vcpu, acquired);
}

/* The guest's own #DB while its DR6 is kept: what the CPU would have
 * written to DR6 (the exit qualification's B0-B3, BD, BS; SDM 3C 27.2.1)
 * goes to the kept DR6, and the exception to the guest. INT1 (ICEBP)
 * reports no cause and is a trap: RIP moves past it first. An event whose
 * delivery the #DB interrupted is re-injected instead (vmx_exit), and the
 * #DB is then lost with its causes kept: a data breakpoint on an IDT or
 * stack access, rare enough. Called while decoding an exit (VMCS
 * current). */
bool vmx_reflect_debug(struct vcpu *vcpu, const struct exit_record *exit)
{
    uint32_t info = (uint32_t)exit->info2;
    if ((info & INTR_TYPE_MASK) != INTR_TYPE_HARDWARE_EXCEPTION &&
        (info & INTR_TYPE_MASK) != INTR_TYPE_PRIVILEGED_SOFTWARE)
        return false;
    if (vcpu->dr.live)
        return false; /* no #DB exits then: not the guest's own */
    if ((info & INTR_TYPE_MASK) == INTR_TYPE_PRIVILEGED_SOFTWARE)
        vmwrite(VMCS_GUEST_RIP, vmx_rip_after(exit->rip, exit->instruction_length));
    else
        debugregs_guest_debug_exception(vcpu, exit->info1);
    if (vmread(VMCS_ENTRY_INTERRUPTION_INFO) & INTR_INFO_VALID)
        return true;
    /* Delivered at entry, before any instruction: an STI or MOV SS shadow
     * has nothing left to hold back, and entry would refuse TF with it. */
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
            vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~(uint64_t)INTERRUPTIBILITY_STI_MOV_SS);
    vmwrite(VMCS_ENTRY_INTERRUPTION_INFO,
            INTR_INFO_VALID | INTR_TYPE_HARDWARE_EXCEPTION | VECTOR_DEBUG);
    return true;
}

/* A #DB exit: the exit qualification holds DR6's B0-B3, BD and BS (SDM 3C
 * 27.2.1); the guest's DR6 is not written. After a breakpoint, RF lets the
 * next RUN execute the instruction instead of stopping at it again. */
void vmx_decode_debug(struct exit_record *exit)
{
    exit->kind = EXIT_DEBUG;
    exit->info1 = DR6_RESET | (exit->info1 & 0x600f);
    exit->info2 = vmread(VMCS_GUEST_DR7);
    uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);
    if (exit->info1 & DR6_B0_B3)
        vmwrite(VMCS_GUEST_RFLAGS, rflags | RFLAGS_RF);
    /* A step onto the instruction after STI or MOV SS: entry refuses TF
     * with that blocking unless the single-step trap is left pending (SDM
     * 3C 26.3.1.5), and then delivers it after that instruction. */
    if ((rflags & RFLAGS_TF) &&
        (vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_STI_MOV_SS))
        vmwrite(VMCS_GUEST_PENDING_DEBUG, DR6_BS);
}

void vmx_set_nmi_window(struct vcpu *vcpu, bool on)
{
    bool acquired = vmcs_acquire(vcpu);
    uint64_t proc = vmread(VMCS_PROC_CONTROLS);
    if (!on) {
        proc &= ~(uint64_t)PROC_NMI_WINDOW_EXITING;
    } else if (vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_STI) {
        /* Under STI blocking some CPUs give the NMI-window exit at once,
         * before any instruction (SDM 3C 25.2), where entry still refuses
         * the NMI: that would repeat until the slice ends. The interrupt
         * window (IF is set under STI blocking) opens after the shadow's
         * instruction instead, and the next entry looks again (as KVM's
         * vmx_enable_nmi_window). */
        proc = (proc & ~(uint64_t)PROC_NMI_WINDOW_EXITING) | PROC_INTERRUPT_WINDOW_EXITING;
        vcpu->irq_window = 1;
    } else {
        proc |= PROC_NMI_WINDOW_EXITING;
    }
    vmwrite(VMCS_PROC_CONTROLS, proc);
    vmcs_release(vcpu, acquired);
}

static const uint8_t event_type_of[8] = {
    [0] = EVENT_EXTERNAL, [2] = EVENT_NMI, [3] = EVENT_EXCEPTION,
    [4] = EVENT_SOFT_INTERRUPT, [5] = EVENT_SOFT_EXCEPTION, [6] = EVENT_SOFT_EXCEPTION,
};

void vmx_get_event_state(struct vcpu *vcpu, struct event_state *state)
{
    bool acquired = vmcs_acquire(vcpu);
    uint32_t info = (uint32_t)vmread(VMCS_ENTRY_INTERRUPTION_INFO);
    uint64_t blocking = vmx_guest_interruptibility(vcpu);
    *state = (struct event_state){
        .type = info & INTR_INFO_VALID ? event_type_of[(info >> 8) & 7] : EVENT_NONE,
        .vector = (uint8_t)info,
        .has_error = (info & INTR_INFO_VALID) && (info & INTR_INFO_DELIVER_ERROR),
        .error_code = (uint32_t)vmread(VMCS_ENTRY_EXCEPTION_ERROR),
        .shadow = (uint8_t)(blocking & INTERRUPTIBILITY_STI_MOV_SS),
        .nmi_masked = blocking & INTERRUPTIBILITY_NMI,
    };
    vmcs_release(vcpu, acquired);
}

/* The caller refused what entry would (a shadow with an NMI or external
 * interrupt to inject, STI's without IF, an error code in real mode). A
 * software event is never set here: one in the field (an INT n whose
 * delivery an exit interrupted, with its instruction length) stays. */
void vmx_set_event_state(struct vcpu *vcpu, const struct event_state *state)
{
    static const uint32_t type_bits[] = {
        [EVENT_EXTERNAL] = INTR_TYPE_EXTERNAL, [EVENT_NMI] = INTR_TYPE_NMI,
        [EVENT_EXCEPTION] = INTR_TYPE_HARDWARE_EXCEPTION,
    };
    bool acquired = vmcs_acquire(vcpu);
    if (state->type != EVENT_SOFT_INTERRUPT && state->type != EVENT_SOFT_EXCEPTION) {
        uint32_t info = 0;
        if (state->type != EVENT_NONE)
            info = INTR_INFO_VALID | type_bits[state->type] | state->vector |
                   (state->has_error ? INTR_INFO_DELIVER_ERROR : 0);
        vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, info);
        vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, state->has_error ? state->error_code : 0);
    }
    uint64_t blocking = vmread(VMCS_GUEST_INTERRUPTIBILITY) &
                        ~(uint64_t)(INTERRUPTIBILITY_STI_MOV_SS | INTERRUPTIBILITY_NMI);
    blocking |= state->shadow & INTERRUPTIBILITY_STI_MOV_SS;
    if (state->nmi_masked)
        blocking |= INTERRUPTIBILITY_NMI;
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, blocking);
    vcpu->nmi_blocking_ours = state->nmi_masked ||
        (vmread(VMCS_ENTRY_INTERRUPTION_INFO) & (INTR_INFO_VALID | INTR_TYPE_MASK)) ==
            (INTR_INFO_VALID | INTR_TYPE_NMI);
    /* Entry wants a pending single step to agree with TF under a shadow
     * (SDM 3C 26.3.1.5); a shadow set here starts with none pending. */
    if (state->shadow)
        vmwrite(VMCS_GUEST_PENDING_DEBUG,
                vmread(VMCS_GUEST_RFLAGS) & RFLAGS_TF ? DR6_BS : 0);
    vmcs_release(vcpu, acquired);
}
