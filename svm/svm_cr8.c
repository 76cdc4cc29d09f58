/* MOV to CR8 on SVM while the hypervisor waits for an interrupt window.
 *
 * With V_INTR_MASKING a guest's CR8 is the VMCB's V_TPR and its writes
 * need no help from the hypervisor. But while a window is awaited the
 * VMCB also holds a pending virtual interrupt (V_IRQ, svm_events.c), and
 * QEMU 7.2's TCG, on a guest CR8 write, re-raises or drops that interrupt
 * from the vCPU thread without its iothread lock: an assertion in
 * tcg_handle_interrupt then kills the emulator. For that time only the
 * write is intercepted and done here, with the CPU's rules (APM vol. 2,
 * MOV CRn and the CR8 description): CR8 bits 63:4 are reserved (#GP(0)),
 * the CPL must be 0 (the CPU checks that before the intercept), and
 * outside 64-bit mode the write is LOCK MOV CR0 (AltMovCr8). The new
 * priority changes nothing else: a lower one lets the window open on
 * the next entry as it would have. */
#include "hv/insn_length.h"
#include "hv/msr.h"
#include "hv/vcpu.h"
#include "svm/svm.h"
#include "svm/svm_insn.h"
#include "svm/vmcb_layout.h"

#define VECTOR_GP 13
#define CR8_PRIORITY 0xfull

static struct vmcb *vmcb_of(struct vcpu *vcpu) { return vcpu->arch; }

/* The source register and length of the MOV to CR8 at RIP; 0 if RIP no
 * longer holds one. */
static unsigned mov_to_cr8_source(struct vcpu *vcpu, unsigned *gpr)
{
    unsigned cr;
    bool locked;
    unsigned length = svm_mov_to_cr_source(vcpu, 8, &cr, gpr, &locked);
    return length && (cr == 8 || (cr == 0 && locked)) ? length : 0;
}

void svm_cr8_write(struct vcpu *vcpu)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    struct vmcb_save *s = &vmcb->save;
    unsigned gpr;
    unsigned length = mov_to_cr8_source(vcpu, &gpr);
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
}
