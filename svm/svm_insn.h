/* The length of the instruction an SVM exit was for: next-RIP save gives it
 * where the CPU has it (APM vol. 2, 15.7.1); without it (QEMU's TCG, CPUs
 * before family 10h) it is decoded from the guest's bytes, prefixes
 * counted (hv/insn_length.h, hv/insn_fetch.h). The control domain's
 * hypercall and any guest's CPUID are the hottest exits, so their common
 * case -- no prefix, bytes at hand -- is checked inline first.
 * Every function returns 0 when the bytes at RIP are no longer that
 * instruction (another vcpu rewrote or remapped them): the exit is then
 * not emulated, and the guest runs whatever is there now. */
#ifndef SVM_SVM_INSN_H
#define SVM_SVM_INSN_H

#include "hv/exit.h"
#include "hv/guest_access.h"
#include "hv/insn_fetch.h"
#include "hv/insn_length.h"
#include "hv/msr.h"
#include "hv/sregs_check.h"
#include "svm/svm.h"
#include "svm/vmcb_layout.h"

/* The guest runs 64-bit code: IA-32e mode and CS.L. */
static inline bool svm_code64(const struct vmcb *vmcb)
{
    return (vmcb->save.efer & EFER_LMA) && (vmcb->save.cs.attrib & SEG_ATTR_L);
}

/* `next`, a RIP after the instruction at the guest's RIP, wrapped at
 * 4 GiB outside 64-bit code (hv/exit.h): the sum of RIP and a length, or
 * a next RIP the CPU gave (next-RIP save, IOIO's EXITINFO2), which Bochs
 * at least does not wrap. */
static inline uint64_t svm_wrap_rip(const struct vmcb *vmcb, uint64_t next)
{
    if (__builtin_expect(rip_carried_out_of_32_bits(vmcb->save.rip, next), 0) &&
        !svm_code64(vmcb))
        next = (uint32_t)next;
    return next;
}

/* RIP past the instruction of `length` bytes at the guest's RIP. */
static inline uint64_t svm_rip_after(const struct vmcb *vmcb, uint64_t length)
{
    return svm_wrap_rip(vmcb, vmcb->save.rip + length);
}

/* Decodes the length from the guest's bytes (svm_insn.c). */
uint64_t svm_insn_length_decoded(struct vcpu *vcpu, const struct insn_opcode *opcode);

/* Where the instruction at the guest's RIP is, from the VMCB; and the
 * backend op (virt->insn_site). */
void svm_insn_site(const struct vmcb *vmcb, struct insn_site *site);
void svm_insn_site_op(struct vcpu *vcpu, struct insn_site *site);

static inline uint64_t svm_insn_length(struct vcpu *vcpu, const struct vmcb *vmcb,
                                       const struct insn_opcode *opcode)
{
    if (svm_features.next_rip)
        return vmcb->control.next_rip - vmcb->save.rip;
    return svm_insn_length_decoded(vcpu, opcode);
}

/* Unaligned loads of two bytes. */
typedef uint16_t unaligned_u16 __attribute__((aligned(1), may_alias));

/* The hottest two, their common case inline: bytes at RIP that are
 * exactly the instruction give its length with or without next-RIP save.
 * A control domain's VMMCALL exit (the exit code says it was 0f 01 d9,
 * after prefixes if any) is three bytes long when the byte at RIP + 2
 * is d9: with a prefix that byte is 0f, 01 or another prefix, never d9.
 * Read where the identity map puts RIP (hv/insn_fetch.h). */
static inline bool svm_is_control_vmmcall(const struct vm *cd, uint64_t rip)
{
    return rip + 3 <= cd->memory_size && ((const uint8_t *)control_pointer(cd, rip))[2] == 0xd9;
}

/* CPUID, 0f a2, and the RIP after it (*next): in a guest without paging,
 * so not in 64-bit code (EIP wraps at 4 GiB), at the place of its last
 * decoded instruction (a child's CPUID loop); else, with next-RIP save,
 * any CPUID exit two bytes long (a prefix would make it longer), paging
 * or not; else in the control domain (which always pages, in 64-bit
 * code). The cached code first:
 * the next-RIP test costs the CPUs without it. */
static inline bool svm_is_plain_cpuid(const struct vcpu *vcpu, const struct vmcb *vmcb,
                                      uint64_t *next)
{
    const struct vm *vm = vcpu->vm;
    uint64_t rip = vmcb->save.rip;
    if (!(vmcb->save.cr0 & CR0_PG)) {
        const uint8_t *p = vcpu_cached_code(vcpu, (vmcb->save.cs.base + rip) & 0xffffffffull);
        if (p) {
            *next = (uint32_t)(rip + 2);
            return *(const unaligned_u16 *)p == 0xa20f;
        }
    }
    /* Paging on: RIP + 2, except for a CPUID ending at 4 GiB, which goes
     * the general way (svm_rip_after asks the mode). */
    *next = rip + 2;
    if (svm_features.next_rip)
        return vmcb->control.next_rip == rip + 2 && (uint32_t)rip < 0xfffffffeu;
    return vm->is_control && rip + 2 <= vm->memory_size &&
           *(const unaligned_u16 *)control_pointer(vm, rip) == 0xa20f;
}

#endif
