/* MOV to CR4 on SVM. The write is intercepted so that a guest can set only
 * the CR4 bits of features the hypervisor offers -- the set SET_SREGS
 * accepts and VMX enforces through its CR4 guest/host mask -- and a value
 * the CPU itself would refuse gives the guest #GP(0) as on hardware
 * (hv/cr_write.h). It also keeps QEMU's TCG, which turns a reserved CR4
 * bit written by a guest into VMEXIT_INVALID, from failing the guest's
 * entry (PLATFORM.md). CR0 is not intercepted: its rules are the CPU's. */
#include "hv/cr_write.h"
#include "hv/insn_length.h"
#include "hv/msr.h"
#include "hv/vcpu.h"
#include "svm/svm.h"
#include "svm/svm_insn.h"
#include "svm/vmcb_layout.h"

#define VECTOR_GP 13
#define EXITINFO1_GPR_VALID (1ull << 63)
#define PREFIX_LOCK 0xf0

static struct vmcb *vmcb_of(struct vcpu *vcpu) { return vcpu->arch; }

/* The register of the MOV to (`to_cr`) or from a control register at
 * RIP, the CR and the instruction's length: from the decode assist and
 * next-RIP where the CPU gives both (the CR is then the intercept's,
 * `intercepted`), else decoded, *locked saying whether a LOCK prefix came
 * first (AMD's LOCK MOV CR0 is CR8 outside 64-bit mode). 0: no such MOV
 * at RIP any more. */
static unsigned mov_cr_operand(struct vcpu *vcpu, bool to_cr, unsigned intercepted,
                               unsigned *cr, unsigned *gpr, bool *locked)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    uint64_t info = vmcb->control.exit_info1;
    *locked = false;
    if (svm_features.decode_assists && svm_features.next_rip && (info & EXITINFO1_GPR_VALID)) {
        *cr = intercepted;
        *gpr = info & 15;
        return (unsigned)(vmcb->control.next_rip - vmcb->save.rip);
    }
    struct insn_site site;
    uint8_t buffer[INSN_MAX_LENGTH];
    const uint8_t *bytes;
    svm_insn_site(vmcb, &site);
    unsigned available = vcpu_insn_bytes(vcpu, &site, buffer, &bytes);
    bool mode64 = insn_site_mode64(&site);
    unsigned length = to_cr ? insn_decode_mov_to_cr(bytes, available, mode64, cr, gpr)
                            : insn_decode_mov_from_cr(bytes, available, mode64, cr, gpr);
    for (unsigned i = 0; i + 3 < length; i++) /* the prefixes before 0f 22 or 20 /r */
        *locked |= bytes[i] == PREFIX_LOCK;
    return length;
}

unsigned svm_mov_to_cr_source(struct vcpu *vcpu, unsigned intercepted, unsigned *cr,
                              unsigned *gpr, bool *locked)
{
    return mov_cr_operand(vcpu, true, intercepted, cr, gpr, locked);
}

unsigned svm_mov_from_cr_destination(struct vcpu *vcpu, unsigned intercepted, unsigned *cr,
                                     unsigned *gpr, bool *locked)
{
    return mov_cr_operand(vcpu, false, intercepted, cr, gpr, locked);
}

/* The register MOV to CR4 wrote and the instruction's length; 0: no MOV
 * to CR4 at RIP any more. */
static unsigned mov_to_cr4_source(struct vcpu *vcpu, unsigned *gpr)
{
    unsigned cr;
    bool locked;
    unsigned length = svm_mov_to_cr_source(vcpu, 4, &cr, gpr, &locked);
    return length && cr == 4 ? length : 0;
}

/* Carries out the intercepted write (VMEXIT_CR4_WRITE), or gives #GP(0).
 * vcpu->gprs.rax must hold the guest's RAX. */
void svm_cr4_write(struct vcpu *vcpu)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    struct vmcb_save *s = &vmcb->save;
    unsigned gpr;
    unsigned length = mov_to_cr4_source(vcpu, &gpr);
    if (!length)
        return; /* the guest runs whatever is at RIP now */
    bool mode64 = (s->efer & EFER_LMA) && (s->cs.attrib & SEG_ATTR_L);
    uint64_t value = gpr == 4 ? s->rsp : *vcpu_gpr(vcpu, gpr);
    if (!mode64)
        value &= 0xffffffffull; /* a 32-bit register outside 64-bit mode */
    struct cr_write_context c = {
        .cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4, .efer = s->efer,
        .cs_l = (s->cs.attrib & SEG_ATTR_L) != 0,
        .cr4_allowed = cpu_limits()->cr4_allowed,
    };
    if (!cr4_write_allowed(&c, value)) {
        svm_inject_exception(vcpu, VECTOR_GP, true, 0);
        return;
    }
    /* The CPU flushes on such a change; written behind its back, the
     * guest's translations must go explicitly. */
    if (cr_write_flushes_tlb(s->cr0, s->cr0, s->cr4, value))
        svm_flush_at_next_entry(vcpu, svm_features.flush_by_asid ? TLB_CONTROL_FLUSH_ASID
                                                                 : TLB_CONTROL_FLUSH_ALL);
    s->cr4 = value;
    svm_complete_instruction(vcpu, length);
}
