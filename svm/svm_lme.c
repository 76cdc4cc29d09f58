/* EFER.LME while the guest's paging is off, on SVM.
 *
 * With CR0.PG clear, EFER.LME has no architectural effect: it only says
 * that the next MOV to CR0 setting PG enters long mode (APM vol. 2,
 * 14.6.1; SDM 3A 9.8.5). QEMU 7.2's TCG, though, cannot leave a guest in
 * that state: at #VMEXIT it reloads the host's CR0 (PG set) while the
 * guest's EFER.LME is still loaded, takes that for long-mode activation,
 * and without CR4.PAE drops the host's CR0 altogether, so the control
 * domain then runs with the guest's paging off (a spurious #PF, then a
 * triple fault). So while the guest's PG is clear, LME is the vcpu's
 * (svm_lme_shadowed) and not the VMCB's, which holds the equivalent
 * EFER without it; RDMSR, GET_SREGS and GET_MSRS still see the guest's
 * LME. CR0 writes are intercepted for that time only, so that the MOV
 * that sets PG puts LME and LMA into the VMCB, exactly as the CPU would
 * have activated long mode. The run path is unchanged: a guest that
 * never sets LME with paging off never takes this intercept.
 *
 * The CR0 write intercept also stops CLTS and LMSW (APM 15.9.1): neither
 * can set PG, so each is done here with its own rules; an LMSW with a
 * memory operand is not decoded here but given back to the CPU with LME
 * in the VMCB for that one instruction (paging stays off through it). */
#include "hv/cr_write.h"
#include "hv/insn_length.h"
#include "hv/msr.h"
#include "hv/vcpu.h"
#include "svm/svm.h"
#include "svm/svm_insn.h"
#include "svm/vmcb_layout.h"

#define VECTOR_GP 13
#define CR0_TS (1ull << 3)
#define CR0_LMSW_BITS 0xfull        /* PE, MP, EM, TS */

static struct vmcb *vmcb_of(struct vcpu *vcpu) { return vcpu->arch; }

/* LMA follows LME and CR0.PG, as the CPU would set it; SVME must stay set
 * in a guest's EFER or VMRUN refuses it; LME with paging off is kept out
 * of the VMCB (above). */
void svm_write_efer(struct vcpu *vcpu, uint64_t value)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    struct vmcb_save *s = &vmcb->save;
    uint64_t efer = value & ~EFER_LMA;
    bool shadow = (efer & EFER_LME) && !(s->cr0 & CR0_PG);
    if (shadow)
        efer &= ~EFER_LME;
    else if (efer & EFER_LME)
        efer |= EFER_LMA;
    s->efer = efer | EFER_SVME;
    vcpu->svm_lme_shadowed = shadow;
    if (shadow)
        vmcb->control.intercept_cr |= INTERCEPT_CR0_WRITE;
    else
        vmcb->control.intercept_cr &= ~INTERCEPT_CR0_WRITE;
}

uint64_t svm_guest_efer(struct vcpu *vcpu)
{
    uint64_t efer = vmcb_of(vcpu)->save.efer & ~EFER_SVME;
    return vcpu->svm_lme_shadowed ? efer | EFER_LME : efer;
}

/* The value CLTS or a register LMSW at RIP gives CR0, with its length in
 * *length; false if the instruction is neither (*length 0: nothing there
 * any more; else an LMSW with a memory operand). */
static bool clts_or_lmsw(struct vcpu *vcpu, uint64_t cr0, uint64_t *value, unsigned *length)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    struct insn_site site;
    uint8_t buffer[INSN_MAX_LENGTH];
    const uint8_t *bytes;
    svm_insn_site(vmcb, &site);
    unsigned available = vcpu_insn_bytes(vcpu, &site, buffer, &bytes);
    unsigned p = insn_prefix_length(bytes, available, false);
    *length = 0;
    if (p + 2 > available || bytes[p] != 0x0f)
        return false;
    if (bytes[p + 1] == 0x06) { /* CLTS */
        *value = cr0 & ~CR0_TS;
        *length = p + 2;
        return true;
    }
    if (bytes[p + 1] != 0x01 || p + 3 > available || ((bytes[p + 2] >> 3) & 7) != 6)
        return false;
    *length = p + 3;
    if (bytes[p + 2] >> 6 != 3)
        return false; /* LMSW m16 */
    /* LMSW r16 loads PE, MP, EM and TS, but cannot clear PE. */
    uint64_t source = *vcpu_gpr(vcpu, bytes[p + 2] & 7);
    if ((bytes[p + 2] & 7) == 4)
        source = vmcb->save.rsp;
    *value = (cr0 & ~CR0_LMSW_BITS) | (source & CR0_LMSW_BITS) | (cr0 & CR0_PE);
    return true;
}

/* VMEXIT_CR0_WRITE, taken only while LME is shadowed. vcpu->gprs.rax
 * must hold the guest's RAX. */
void svm_cr0_write(struct vcpu *vcpu)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    struct vmcb_save *s = &vmcb->save;
    unsigned cr, gpr, length;
    bool locked;
    uint64_t value;
    if (!vcpu->svm_lme_shadowed) {
        vmcb->control.intercept_cr &= ~INTERCEPT_CR0_WRITE;
        return; /* the guest runs its instruction again, unintercepted */
    }
    if (s->cpl != 0) {
        svm_inject_exception(vcpu, VECTOR_GP, true, 0);
        return;
    }
    length = svm_mov_to_cr_source(vcpu, 0, &cr, &gpr, &locked);
    if (length && cr == 0 && !locked) {
        /* Paging is off, so this is not 64-bit mode: a 32-bit register. */
        value = (gpr == 4 ? s->rsp : *vcpu_gpr(vcpu, gpr)) & 0xffffffffull;
        struct cr_write_context c = {
            .cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4, .efer = svm_guest_efer(vcpu),
            .cs_l = (s->cs.attrib & SEG_ATTR_L) != 0,
            .cr4_allowed = cpu_limits()->cr4_allowed,
        };
        if (!cr0_write_allowed(&c, value, &value)) {
            svm_inject_exception(vcpu, VECTOR_GP, true, 0);
            return;
        }
    } else if (!clts_or_lmsw(vcpu, s->cr0, &value, &length)) {
        if (length) { /* LMSW m16: the CPU runs it, LME in the VMCB meanwhile */
            s->efer |= EFER_LME;
            vcpu->svm_lme_shadowed = 0;
            vmcb->control.intercept_cr &= ~INTERCEPT_CR0_WRITE;
        }
        return;
    }
    if (cr_write_flushes_tlb(s->cr0, value, s->cr4, s->cr4))
        svm_flush_at_next_entry(vcpu, svm_features.flush_by_asid ? TLB_CONTROL_FLUSH_ASID
                                                                 : TLB_CONTROL_FLUSH_ALL);
    s->cr0 = value;
    if (value & CR0_PG) /* long mode activates: LME and LMA into the VMCB */
        svm_write_efer(vcpu, svm_guest_efer(vcpu));
    svm_complete_instruction(vcpu, length);
}
