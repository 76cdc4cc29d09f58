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
#include "hv/vcpu.h"

/* For an HV_EXIT_MMIO whose run page holds the instruction's bytes, in
 * code of `mode`: the access decoded into it (mmio.decoded 1, len, data)
 * and kept for the next RUN (VCPU_MMIO_EXIT), when the instruction is one
 * the decoder knows, makes the access the fault reports without running
 * past its page, and names a register the hypervisor keeps (not RSP);
 * else the run page stays undecoded. */
void vcpu_mmio_decode_for_vmm(struct vcpu *vcpu, struct hv_run *run,
                              const struct exit_record *exit, enum mmio_mode mode);

/* The next RUN's half: a read's data from the run page into its
 * register, and RIP past the instruction. */
void vcpu_mmio_complete(struct vcpu *vcpu, const struct hv_run *run);

#endif
