/* The length of the instruction an SVM exit was for: next-RIP save gives it
 * where the CPU has it (APM vol. 2, 15.7.1); without it (QEMU's TCG, CPUs
 * before family 10h) it is decoded from the guest's bytes, prefixes
 * counted (hv/insn_length.h, hv/insn_fetch.h). The control domain's
 * hypercall and any guest's CPUID are the hottest exits, so their common
 * case -- no prefix, bytes at hand -- is checked inline.
 * Every function returns 0 when the bytes at RIP are no longer that
 * instruction (another vcpu rewrote or remapped them): the exit is then
 * not emulated, and the guest runs whatever is there now. */
#ifndef SVM_SVM_INSN_H
#define SVM_SVM_INSN_H

#include "hv/guest_access.h"
#include "hv/insn_fetch.h"
#include "hv/insn_length.h"
#include "hv/sregs_check.h"
#include "svm/svm.h"
#include "svm/vmcb_layout.h"

/* Decodes the length from the guest's bytes (svm_insn.c). */
unsigned svm_insn_length_decoded(struct vcpu *vcpu, const struct insn_opcode *opcode);

/* Where the instruction at the guest's RIP is, from the VMCB. */
void svm_insn_site(const struct vmcb *vmcb, struct insn_site *site);

static inline unsigned svm_insn_length(struct vcpu *vcpu, const struct vmcb *vmcb,
                                       const struct insn_opcode *opcode)
{
    if (svm_features.next_rip)
        return (unsigned)(vmcb->control.next_rip - vmcb->save.rip);
    return svm_insn_length_decoded(vcpu, opcode);
}

/* Two bytes may be read unaligned in one load. */
typedef uint16_t unaligned_u16 __attribute__((aligned(1), may_alias));

/* A control domain's VMMCALL, 0f 01 d9, read where its identity map puts
 * RIP (hv/insn_fetch.h). */
static inline unsigned svm_control_vmmcall_length(struct vcpu *vcpu,
                                                  const struct vmcb *vmcb)
{
    if (svm_features.next_rip)
        return (unsigned)(vmcb->control.next_rip - vmcb->save.rip);
    const struct vm *cd = vcpu->vm;
    uint64_t rip = vmcb->save.rip;
    if (rip < cd->memory_size - 3) {
        const uint8_t *p = control_pointer(cd, rip);
        if (*(const unaligned_u16 *)p == 0x010f && p[2] == 0xd9)
            return 3;
    }
    return svm_insn_length_decoded(vcpu, &INSN_VMMCALL);
}

/* CPUID, 0f a2, in the control domain or in a child without paging whose
 * code page is cached. */
static inline unsigned svm_cpuid_length(struct vcpu *vcpu, const struct vmcb *vmcb)
{
    if (svm_features.next_rip)
        return (unsigned)(vmcb->control.next_rip - vmcb->save.rip);
    const struct vm *vm = vcpu->vm;
    const uint8_t *p = NULL;
    uint64_t rip = vmcb->save.rip;
    if (vm->is_control) {
        if (rip < vm->memory_size - 2)
            p = control_pointer(vm, rip);
    } else if (!(vmcb->save.cr0 & CR0_PG)) {
        uint64_t linear = (vmcb->save.cs.base + rip) & 0xffffffffull;
        if ((linear & 0xfff) < 0xfff)
            p = vcpu_cached_code(vcpu, linear);
    }
    if (p && *(const unaligned_u16 *)p == 0xa20f)
        return 2;
    return svm_insn_length_decoded(vcpu, &INSN_CPUID);
}

#endif
