/* SET_REGS (abi/README.md, section 7) as a template, the way GET_REGS is
 * one (hv/get_regs_call.h): the generic handler (call_set_regs) gives it
 * the backend's set_regs op, and each backend's entry (struct
 * virt_backend's pinned_set_regs) its own set_regs inlined, so that the
 * exit path reaches the check of the argument, the claim, the copy from
 * the caller's memory and the release in one function. SET_REGS is what
 * a VMM answers an emulated instruction, a hypercall or a string I/O
 * with. */
#ifndef HV_SET_REGS_CALL_H
#define HV_SET_REGS_CALL_H

#include "abi/hv_abi.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/memory.h"
#include "hv/vcpu.h"
#include "hv/virt.h"
#include "hv/vm.h"

/* The registers at `gpa` in the calling domain `cd` to `vcpu`: 0,
 * -HV_EINVAL or -HV_EFAULT for the address (abi/README.md, section 3),
 * -HV_EBUSY while the vcpu runs elsewhere. Read straight from the
 * caller's memory, as GET_REGS writes there: `set` reads each field once
 * and checks nothing a second read could undo (RFLAGS is masked after its
 * one read). */
static inline __attribute__((always_inline)) long
vcpu_set_regs_call_with(struct vm *cd, struct vcpu *vcpu, uint64_t gpa,
                        void (*set)(struct vcpu *vcpu, const struct hv_regs *regs))
{
    long err = control_range_check(cd, gpa, sizeof(struct hv_regs), 8);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    const struct hv_regs *regs = control_pointer(cd, gpa);
    /* A single step over the instruction that exited (hv/single_step.h)
     * stays pending while RIP stays: the VMM answering a hypercall or an
     * I/O exit writes the registers back as they are. Compared on a copy,
     * so that the RIP compared is the RIP set. */
    struct hv_regs copy;
    bool step_kept = false;
    if (__builtin_expect(vcpu->state == VCPU_STEP_PENDING, 0)) {
        struct hv_regs now;
        memory_copy(&copy, regs, sizeof(copy));
        regs = &copy;
        virt->get_regs(vcpu, &now);
        step_kept = now.rip == copy.rip;
    }
    set(vcpu, regs);
    /* A new RIP abandons an RDMSR/WRMSR or a decoded MMIO access waiting
     * for the VMM's answer, as it abandons an unfinished IN. */
    if (vcpu->state != VCPU_SHUTDOWN && !step_kept)
        vcpu->state = VCPU_RUNNABLE;
    vcpu_release(vcpu);
    return 0;
}

/* Defines `name`, a backend's SET_REGS entry from the exit path (struct
 * virt_backend's pinned_set_regs): hypercall_pinned_with around the
 * template above with the backend's `set` (its set_regs, a static inline
 * function) inlined. */
#define PINNED_SET_REGS(name, set)                                                     \
    static inline __attribute__((always_inline)) long name##_call(                     \
        struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)        \
    {                                                                                  \
        return vcpu_set_regs_call_with(cd, slot->object, call->rsi, set);              \
    }                                                                                  \
    int name(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,            \
             uint64_t state)                                                           \
    {                                                                                  \
        return hypercall_pinned_with(control, rax, slot, state, name##_call);          \
    }

#endif
