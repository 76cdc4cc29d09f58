/* MOV to and from CR8 on SVM, where the hypervisor intercepts them.
 *
 * In a VM with local APICs CR8 is the APIC's TPR[7:4] (SDM 10.8.6.1,
 * APM vol. 2 16.6.4): both directions are intercepted for good and go to
 * the TPR (vcpu_lapic_cr8), so that a guest raising its priority with CR8
 * (Windows x64's IRQL) masks what it means to, and reads back what the
 * APIC holds. The VMCB's V_TPR follows the writes.
 *
 * Otherwise a guest's CR8 is the VMCB's V_TPR (V_INTR_MASKING) and its
 * writes need no help from the hypervisor, except while a window is
 * awaited: the VMCB also holds a pending virtual interrupt (V_IRQ,
 * svm_events.c), and QEMU 7.2's TCG, on a guest CR8 write, re-raises or
 * drops that interrupt from the vCPU thread without its iothread lock: an
 * assertion in tcg_handle_interrupt then kills the emulator. For that
 * time only the write is intercepted and done here.
 *
 * Both with the CPU's rules (APM vol. 2, MOV CRn and the CR8
 * description): CR8 bits 63:4 are reserved (#GP(0)), the CPL must be 0
 * (the CPU checks that before the intercept), and outside 64-bit mode the
 * access is LOCK MOV CR0 (AltMovCr8). A new priority changes nothing
 * else: a lower one lets the window open, or a vector in, on the next
 * entry. */
#include "hv/insn_length.h"
#include "hv/msr.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/vm.h"
#include "svm/svm.h"
#include "svm/svm_insn.h"
#include "svm/vmcb_layout.h"

#define VECTOR_GP 13
#define CR8_PRIORITY 0xfull

static struct vmcb *vmcb_of(struct vcpu *vcpu) { return vcpu->arch; }

/* The register and length of the MOV to (`write`) or from CR8 at RIP (or
 * LOCK MOV CR0 outside 64-bit mode); 0 if RIP no longer holds one. */
static unsigned cr8_operand(struct vcpu *vcpu, bool write, unsigned *gpr)
{
    unsigned cr;
    bool locked;
    unsigned length = write ? svm_mov_to_cr_source(vcpu, 8, &cr, gpr, &locked)
                            : svm_mov_from_cr_destination(vcpu, 8, &cr, gpr, &locked);
    return length && (cr == 8 || (cr == 0 && locked)) ? length : 0;
}

void svm_cr8_write(struct vcpu *vcpu)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    struct vmcb_save *s = &vmcb->save;
    unsigned gpr;
    unsigned length = cr8_operand(vcpu, true, &gpr);
    if (!length)
        return; /* the guest runs whatever is at RIP now */
    bool mode64 = (s->efer & EFER_LMA) && (s->cs.attrib & SEG_ATTR_L);
    uint64_t value = gpr == 4 ? s->rsp : *vcpu_gpr(vcpu, gpr);
    if (!mode64)
        value &= 0xffffffffull;
    if (s->cpl != 0 || (value & ~CR8_PRIORITY)) {
        svm_inject_exception(vcpu, VECTOR_GP, true, 0);
        return;
    }
    vmcb->control.int_control = (vmcb->control.int_control & ~CR8_PRIORITY) | value;
    svm_complete_instruction(vcpu, length);
    if (vcpu->vm->lapic) {
        /* A lower priority may let a vector in, at this entry. */
        vcpu_lapic_set_cr8(vcpu, value);
        vcpu_prepare_events(vcpu, vcpu->run);
    }
}

/* The intercepted read (VMEXIT_CR8_READ, a VM with local APICs): the
 * APIC's TPR[7:4] into the register, all of it (a MOV from a control
 * register writes the whole register in 64-bit mode, and zero-extends
 * the 32 bits it writes outside it). */
void svm_cr8_read(struct vcpu *vcpu)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    unsigned gpr;
    unsigned length = cr8_operand(vcpu, false, &gpr);
    if (!length)
        return; /* the guest runs whatever is at RIP now */
    uint64_t value = vcpu_lapic_cr8(vcpu);
    /* RAX and RSP live in the VMCB; the exit's copy of RAX is not put
     * back on this path. */
    if (gpr == 4)
        vmcb->save.rsp = value;
    else if (gpr == 0)
        vmcb->save.rax = vcpu->gprs.rax = value;
    else
        *vcpu_gpr(vcpu, gpr) = value;
    svm_complete_instruction(vcpu, length);
}
