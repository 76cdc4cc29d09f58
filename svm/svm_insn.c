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
    /* A child without paging whose code page is at hand (the common case
     * of a guest's WRMSR, HLT or RDMSR loop): the opcode right at RIP
     * means no prefix, so its length is the opcode's. */
    const struct vmcb *vmcb = vmcb_of(vcpu);
    if (!(vmcb->save.cr0 & CR0_PG)) {
        const uint8_t *p = vcpu_cached_code(vcpu, (vmcb->save.cs.base + vmcb->save.rip) & 0xffffffffull);
        unsigned i = 0;
        while (p && i < opcode->length && p[i] == opcode->bytes[i])
            i++;
        if (p && i == opcode->length)
            return opcode->length;
    }
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
