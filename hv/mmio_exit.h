/* Decoded MMIO exits (CREATE_VM's HV_VM_DECODED_MMIO, abi/README.md
 * section 8), KVM_EXIT_MMIO's model: the hypervisor decodes the guest's
 * MOV, MOVZX or MOVSX (hv/mmio_decode.h) and hands the VMM the access --
 * its size and, for a write, the value -- instead of the instruction's
 * bytes; the next RUN completes the instruction (a read's register loaded
 * from the run page, RIP past it), as it completes a user-space MSR exit.
 * The VMM then needs neither GET_REGS nor SET_REGS nor a decoder. */
#ifndef HV_MMIO_EXIT_H
#define HV_MMIO_EXIT_H

#include "abi/hv_abi.h"
#include "hv/exit.h"
#include "hv/mmio_decode.h"
#include "hv/run_page.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

/* For an HV_EXIT_MMIO whose run page holds the instruction's bytes, in
 * code of `mode`: the access decoded into it (mmio.decoded 1, len, data)
 * and kept for the next RUN (VCPU_MMIO_EXIT), when the instruction is one
 * the decoder knows, makes the access the fault reports without running
 * past its page, and names a register the hypervisor keeps (not RSP);
 * else the run page stays undecoded. */
void vcpu_mmio_decode_for_vmm(struct vcpu *vcpu, struct hv_run *run,
                              const struct exit_record *exit, enum mmio_mode mode);

/* The backends' fast path for the same (svm_child_mmio_decoded,
 * vmx_child_mmio_decoded): a fault in a decoded VM that is the VMM's
 * (not the APIC page's, no dirty-logged slot), no event being delivered,
 * in a guest without paging whose code is the last decoded there
 * (vcpu_cached_code): `code` its 15 bytes in code of `mode` (16- or
 * 32-bit: without paging there is no REX, so only registers 0-7), `rax`
 * the guest's RAX wherever the backend keeps it. Fills the run page as
 * vcpu_mmio_exit and the above do and returns true; false, with nothing
 * changed, for what only the general path decodes or hands over. */
bool vcpu_mmio_decoded_fast(struct vcpu *vcpu, uint64_t guest_phys, bool write,
                            const uint8_t *code, enum mmio_mode mode, uint64_t rax);

/* Whether a nested page fault at guest_phys in a VM with
 * HV_VM_DECODED_MMIO (the caller's first test) is one for that fast path
 * to look at (hv/run_page.h's vcpu_mmio_for_vmm, but for the decoded VM). */
static inline bool vcpu_mmio_decoded_for_vmm(const struct vcpu *vcpu, uint64_t guest_phys)
{
    /* Relaxed, as in vcpu_mmio_for_vmm (which says why). */
    return !__atomic_load_n(&vcpu->vm->dirty_logged, __ATOMIC_RELAXED) &&
           !vcpu_fault_on_apic_page(vcpu, guest_phys);
}

/* The next RUN's half: a read's data from the run page into its
 * register, and RIP past the instruction. */
void vcpu_mmio_complete(struct vcpu *vcpu, const struct hv_run *run);

#endif
