/* GET_REGS (abi/README.md, section 7) as one function per backend, the
 * way RUN is one (hv/vcpu_run.h): the backend's call_get_regs handler is
 * vcpu_get_regs_call_with() below with its own copy of the registers
 * inlined, and the hypercall table points at it (hypercall_bind_backend),
 * so that the dispatch reaches the check of the argument, the claim, the
 * copy into the caller's memory and the release in one call, in one
 * frame, instead of jumping through the backend's ops for the call and
 * calling its get_regs op for the copy. GET_REGS is the call a VMM makes
 * most after RUN (an MMIO or I/O string exit's emulation starts with it). */
#ifndef HV_GET_REGS_CALL_H
#define HV_GET_REGS_CALL_H

#include "abi/hv_abi.h"
#include "hv/guest_access.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

/* The registers of `vcpu` to `gpa` in the calling domain `cd`: 0,
 * -HV_EINVAL or -HV_EFAULT for the address (abi/README.md, section 3),
 * -HV_EBUSY while the vcpu runs elsewhere. Written straight into the
 * caller's memory: nothing is read back from it, so there is nothing a
 * concurrent writer could spoil. `copy` is the backend's (its get_regs
 * op), called with the vcpu claimed; it returns the vcpu, so that one
 * whose rare case calls out of line need not keep the vcpu in a register
 * of its own across that call (a push and a pop on every GET_REGS). */
static inline __attribute__((always_inline)) long
vcpu_get_regs_call_with(struct vm *cd, struct vcpu *vcpu, uint64_t gpa,
                        struct vcpu *(*copy)(struct vcpu *vcpu, struct hv_regs *regs))
{
    long err = control_range_check(cd, gpa, sizeof(struct hv_regs), 8);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    vcpu = copy(vcpu, control_pointer(cd, gpa));
    vcpu_release(vcpu);
    return 0;
}

#endif
