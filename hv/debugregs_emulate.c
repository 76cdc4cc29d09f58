/* A guest's MOV to or from a debug register while DEBUG_GUEST is on: the
 * CPU holds the VMM's breakpoints, so the instruction is carried out here
 * on the guest's own values, kept aside (KVM keeps them apart the same
 * way). A read gives the guest's value; a write changes only the kept
 * value, which the CPU uses once DEBUG_GUEST is turned off.
 *
 * It runs after the guest loop has stopped, because inside the loop the
 * guest's R12-R15 are still in the CPU's registers (svm_guest_loop.S,
 * vmx_guest_loop.S), and any general register may be the operand. Not
 * emulated: general detect (DR7.GD) raises no #DB here. */
#include "abi/hv_errno.h"
#include "hv/debugreg_decode.h"
#include "hv/debugregs.h"
#include "hv/single_step.h"
#include "hv/guest_memory.h"
#include "hv/msr.h"
#include "hv/rflags.h"
#include "hv/sregs_check.h"
#include "hv/trap.h"
#include "hv/virt.h"

#define CR4_DE (1ull << 3)
#define VECTOR_GENERAL_PROTECTION 13

/* The exit named the register in encoding order (RAX RCX RDX RBX RSP RBP
 * RSI RDI R8-R15); struct hv_regs keeps another. */
static uint64_t *gpr_of(struct hv_regs *regs, unsigned encoding)
{
    static const uint8_t index_of[16] = { 0, 2, 3, 1, 6, 7, 4, 5,
                                          8, 9, 10, 11, 12, 13, 14, 15 };
    return &(&regs->rax)[index_of[encoding & 15]];
}

/* Fills in what the exit did not say (SVM without decode assists or
 * next-RIP save) from the instruction's bytes. false: the bytes there are
 * no MOV DR to that register (the guest changed them meanwhile). */
static bool complete_decoding(struct vcpu *vcpu, struct debugreg_access *a, bool long_mode)
{
    uint8_t bytes[15];
    uint64_t linear;
    struct debugreg_insn insn;
    unsigned n = vcpu_fetch_instruction(vcpu, bytes, &linear);
    if (debugreg_decode(bytes, n, long_mode, &insn) != 0 || insn.number != a->number ||
        insn.write != a->write)
        return false;
    if (a->gpr == 0xff)
        a->gpr = insn.gpr;
    if (!a->length)
        a->length = insn.length;
    return true;
}

static uint64_t *kept_register(struct vcpu *vcpu, unsigned n)
{
    if (n < 4)
        return &vcpu->dr.db[n];
    return n == 6 ? &vcpu->dr.dr6 : &vcpu->dr.dr7;
}

/* The fault the instruction takes, or -1 when it is carried out. A VMX
 * MOV-DR exit comes before the CPU's own checks of CPL and of DR4/DR5
 * with CR4.DE (SDM 3C, "Instructions That Cause VM Exits
 * Conditionally"), so they are all made here. */
static int carry_out(struct vcpu *vcpu, const struct debugreg_access *a,
                     const struct hv_sregs *sregs, bool long_mode)
{
    unsigned cpl = sregs->cr0 & CR0_PE ? sregs->ss.dpl : 0;
    unsigned n = a->number;
    if (cpl != 0)
        return VECTOR_GENERAL_PROTECTION;
    if (n == 4 || n == 5) {
        if (sregs->cr4 & CR4_DE)
            return VECTOR_INVALID_OPCODE;
        n += 2; /* aliases of DR6 and DR7 without CR4.DE */
    }
    if (n > 7)
        return VECTOR_INVALID_OPCODE;

    struct hv_regs regs;
    virt->get_regs(vcpu, &regs);
    uint64_t *gpr = gpr_of(&regs, a->gpr);
    uint64_t *kept = kept_register(vcpu, n);
    if (a->write) {
        /* Outside 64-bit mode the operand is 32 bits (SDM 2B MOV DR). */
        uint64_t value = long_mode ? *gpr : (uint32_t)*gpr;
        if (n >= 6 && (value >> 32))
            return VECTOR_GENERAL_PROTECTION;
        if (n == 6)
            value = debugregs_dr6_normal(value);
        else if (n == 7)
            value = debugregs_dr7_normal(value);
        *kept = value;
    } else {
        *gpr = long_mode ? *kept : (uint32_t)*kept;
        virt->set_regs(vcpu, &regs);
    }
    struct exit_record done = { .kind = EXIT_DEBUGREG_ACCESS, .instruction_length = a->length };
    virt->skip_instruction(vcpu, &done);
    return -1;
}

int debugregs_emulate(struct vcpu *vcpu)
{
    struct debugreg_access a = vcpu->dr.pending;
    struct hv_sregs sregs;
    virt->get_sregs(vcpu, &sregs);
    bool long_mode = (sregs.efer & EFER_LMA) && sregs.cs.l;
    if ((a.gpr == 0xff || !a.length) && !complete_decoding(vcpu, &a, long_mode))
        return -1; /* enter again: the guest meets whatever is there now */

    int fault = carry_out(vcpu, &a, &sregs, long_mode);
    if (fault >= 0) {
        virt->inject_exception(vcpu, (uint8_t)fault, fault == VECTOR_GENERAL_PROTECTION, 0);
        return -1;
    }
    /* The instruction is done, so is a step over it (hv/single_step.h). */
    return vcpu->state == VCPU_STEP_PENDING ? vcpu_single_step_deliver(vcpu) : -1;
}
