/* Segment registers in the VMCS: the ABI's hv_segment to and from the
 * selector, base, limit and access-rights fields (SDM 3C 25.4.1), on the
 * current VMCS. */
#include "abi/hv_abi.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_instructions.h"

/* VMX access rights: the descriptor's bits 40-47 and 52-55 at 0-7 and
 * 12-15, and "unusable" at bit 16. An unusable SS keeps its DPL, which is
 * the CPL whatever SS holds (SDM 3C 25.4.1): a 64-bit guest at CPL 3 may
 * run with a null SS.
 *
 * VM entry ignores an unusable segment's other bits, but a real-mode
 * segment load makes it usable again and changes only its selector, base,
 * S and P (Bochs, as the SDM leaves the rest to the CPU): the type it
 * enters with is the one it keeps. So it enters as accessed read/write
 * data, which the entry checks accept once the guest sets CR0.PE (seen by
 * the fuzz tool on Bochs: a real-mode guest with an unusable DS ran POP DS
 * and MOV CR0, and the next entry failed on "DS not accessed"). */
#define AR_UNUSABLE_DATA (AR_UNUSABLE | 0x3u | 1u << 4)
static uint32_t access_rights(unsigned seg, const struct hv_segment *s)
{
    if (s->unusable)
        return AR_UNUSABLE_DATA | (seg == SEG_SS ? (uint32_t)(s->dpl & 3) << AR_DPL_SHIFT : 0);
    return (s->type & 0xf) | (s->s & 1) << 4 | (s->dpl & 3) << AR_DPL_SHIFT |
           (s->present & 1) << 7 | (s->avl & 1) << 12 | (s->l & 1) << 13 |
           (s->db & 1) << 14 | (s->g & 1) << 15;
}

void vmx_write_segment(unsigned seg, const struct hv_segment *s)
{
    vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * seg, s->selector);
    vmwrite(VMCS_GUEST_ES_LIMIT + 2 * seg, s->limit);
    vmwrite(VMCS_GUEST_ES_ACCESS + 2 * seg, access_rights(seg, s));
    vmwrite(VMCS_GUEST_ES_BASE + 2 * seg, s->base);
}

/* The other access-rights bits of an unusable segment are undefined
 * after a VM exit: they read as zeros, but SS's DPL (the CPL). */
void vmx_read_segment(unsigned seg, struct hv_segment *s)
{
    uint32_t ar = (uint32_t)vmread(VMCS_GUEST_ES_ACCESS + 2 * seg);
    *s = (struct hv_segment){
        .base = vmread(VMCS_GUEST_ES_BASE + 2 * seg),
        .limit = (uint32_t)vmread(VMCS_GUEST_ES_LIMIT + 2 * seg),
        .selector = (uint16_t)vmread(VMCS_GUEST_ES_SELECTOR + 2 * seg),
        .dpl = (ar >> AR_DPL_SHIFT) & 3,
    };
    if (ar & AR_UNUSABLE) {
        s->unusable = 1;
        if (seg != SEG_SS)
            s->dpl = 0;
        return;
    }
    s->type = ar & 0xf;
    s->s = (ar >> 4) & 1;
    s->present = (ar >> 7) & 1;
    s->avl = (ar >> 12) & 1;
    s->l = (ar >> 13) & 1;
    s->db = (ar >> 14) & 1;
    s->g = (ar >> 15) & 1;
}

void vmx_set_segment(unsigned seg, uint16_t selector, uint32_t ar,
                     uint32_t limit, uint64_t base)
{
    vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * seg, selector);
    vmwrite(VMCS_GUEST_ES_LIMIT + 2 * seg, limit);
    vmwrite(VMCS_GUEST_ES_ACCESS + 2 * seg, ar);
    vmwrite(VMCS_GUEST_ES_BASE + 2 * seg, base);
}
