/* Decoding an exit's instruction length from the guest's bytes on SVM
 * without next-RIP save (svm/svm_insn.h has the inline fast paths). */
#include "svm/svm_insn.h"

static struct vmcb *vmcb_of(struct vcpu *vcpu) { return vcpu->arch; }

void svm_insn_site(const struct vmcb *vmcb, struct insn_site *site)
{
    const struct vmcb_save *s = &vmcb->save;
    *site = (struct insn_site){
        .rip = s->rip,
        .cs_base = s->cs.base,
        .cs_l = (s->cs.attrib & SEG_ATTR_L) != 0,
        .cs_db = (s->cs.attrib & SEG_ATTR_DB) != 0,
        .paging = { s->cr0, s->cr3, s->cr4, s->efer },
    };
}

uint64_t svm_insn_length_decoded(struct vcpu *vcpu, const struct insn_opcode *opcode)
{
    struct insn_site site;
    uint8_t buffer[INSN_MAX_LENGTH];
    const uint8_t *bytes;
    svm_insn_site(vmcb_of(vcpu), &site);
    unsigned available = vcpu_insn_bytes(vcpu, &site, buffer, &bytes);
    return insn_length(bytes, available, insn_site_mode64(&site), opcode);
}

void svm_insn_site_op(struct vcpu *vcpu, struct insn_site *site)
{
    svm_insn_site(vmcb_of(vcpu), site);
}
