/* The calls on a vcpu handle (abi/README.md, section 7), but those of
 * hypercall_xstate.c and hypercall_lapic.c: each looks at its arguments,
 * claims the vcpu (vcpu_claim: -HV_EBUSY while it runs elsewhere), acts
 * and releases it. hypercall_dispatch has checked the handle's type and
 * rights and keeps it pinned. */
#include "abi/hv_errno.h"
#include "hv/cpuid.h"
#include "hv/debugregs.h"
#include "hv/guest_access.h"
#include "hv/guest_memory.h"
#include "hv/hypercall_calls.h"
#include "hv/memory.h"
#include "hv/set_regs_call.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/vcpu_msrs.h"
#include "hv/virt.h"
#include "hv/vlapic.h"
#include "hv/vm.h"
#include "mmu/guest_walk.h"

/* Arguments 1 and 2 of a call, in the registers the ABI names. */
#define ARG1(r) ((r)->rsi)
#define ARG2(r) ((r)->rdx)

/* RUN and GET_REGS are the backend's own handlers (struct virt_backend:
 * call_run, call_get_regs; hypercall_bind_backend). */

long call_set_regs(struct vm *cd, struct handle_slot *slot,
                   const struct guest_gprs *call)
{
    return vcpu_set_regs_call_with(cd, slot->object, ARG1(call), virt->set_regs);
}

long call_get_sregs(struct vm *cd, struct handle_slot *slot,
                    const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    long err = control_range_check(cd, ARG1(call), sizeof(struct hv_sregs), 8);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    struct hv_sregs *out = control_pointer(cd, ARG1(call));
    virt->get_sregs(vcpu, out);
    if (vcpu->vm->lapic) {
        out->apic_base = vcpu->lapic.apic_base;
        out->cr8 = vcpu_lapic_cr8(vcpu);
    }
    vcpu_release(vcpu);
    return 0;
}

long call_set_sregs(struct vm *cd, struct handle_slot *slot,
                    const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    struct hv_sregs sregs;
    long err = copy_from_control(cd, &sregs, ARG1(call), sizeof(sregs));
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    /* With an APIC, apic_base is checked as the guest's WRMSR would be,
     * before anything changes; 0 (a state built from scratch) keeps it,
     * and without an APIC it is ignored. */
    bool new_base = vcpu->vm->lapic && sregs.apic_base &&
                    sregs.apic_base != vcpu->lapic.apic_base;
    /* Checked in place, not by a change to a copy: a copy's `posting`
     * count, taken while another CPU posted, would never fall, and the
     * copy's disable (a reset) would wait for it forever. */
    if (new_base && !vlapic_base_allowed(&vcpu->lapic, sregs.apic_base))
        err = -HV_EINVAL;
    err = err ?: virt->set_sregs(vcpu, &sregs);
    if (!err && new_base) {
        vlapic_set_base(&vcpu->lapic, sregs.apic_base);
        vcpu_lapic_base_changed(vcpu);
    }
    if (!err && vcpu->vm->lapic)
        vcpu_lapic_set_cr8(vcpu, sregs.cr8);
    if (!err) {
        vcpu->state = VCPU_RUNNABLE; /* a new state lifts a shutdown */
        vcpu->pending_in_size = 0;   /* and abandons an unfinished IN, as SET_REGS */
    }
    vcpu_release(vcpu);
    return err;
}

/* GET_MSRS and SET_MSRS. The header is copied in first and its count
 * bounded, which fixes the array's extent; the whole array is then checked
 * and each entry copied in before it is used. Returns the number of
 * entries processed: it stops at the first MSR not virtualised or (SET) a
 * value refused. */
static long msrs_call(struct vm *cd, struct handle_slot *slot,
                      const struct guest_gprs *call, bool set)
{
    struct vcpu *vcpu = slot->object;
    uint64_t gpa = ARG1(call);
    struct hv_msrs header;
    long err = copy_from_control(cd, &header, gpa, sizeof(header));
    if (err)
        return err;
    if (header.count > HV_MAX_MSRS)
        return -HV_E2BIG;
    err = control_range_check(cd, gpa, sizeof(header) +
                              (uint64_t)header.count * sizeof(struct hv_msr_entry), 8);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    struct hv_msr_entry *entries = control_pointer(cd, gpa + sizeof(header));
    uint32_t done;
    for (done = 0; done < header.count; done++) {
        struct hv_msr_entry entry;
        memory_copy(&entry, &entries[done], sizeof(entry));
        if (set ? !vcpu_set_msr(vcpu, entry.index, entry.data)
                : !vcpu_get_msr(vcpu, entry.index, &entry.data))
            break;
        if (!set)
            entries[done].data = entry.data;
    }
    vcpu_release(vcpu);
    return done;
}

long call_get_msrs(struct vm *cd, struct handle_slot *slot,
                   const struct guest_gprs *call)
{
    return msrs_call(cd, slot, call, false);
}

long call_set_msrs(struct vm *cd, struct handle_slot *slot,
                   const struct guest_gprs *call)
{
    return msrs_call(cd, slot, call, true);
}

/* No translation (not present, a table outside guest memory, a
 * non-canonical address) is a valid answer, not an error: valid = 0. */
long call_translate(struct vm *cd, struct handle_slot *slot,
                    const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    struct hv_translation tr;
    long err = copy_from_control(cd, &tr, ARG1(call), sizeof(tr));
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    struct guest_translation t;
    bool valid = vcpu_translate(vcpu, tr.linear_address, &t) == 0;
    vcpu_release(vcpu);
    tr = (struct hv_translation){
        .linear_address = tr.linear_address,
        .physical_address = valid ? t.guest_phys : ~0ull,
        .valid = valid,
        .writeable = valid && t.writable,
        .usermode = valid && t.user,
        .executable = valid && t.executable,
    };
    memory_copy(control_pointer(cd, ARG1(call)), &tr, sizeof(tr));
    return 0;
}

long call_interrupt(struct vm *cd, struct handle_slot *slot,
                    const struct guest_gprs *call)
{
    (void)cd;
    struct vcpu *vcpu = slot->object;
    uint64_t vector = ARG1(call);
    if (vector > HV_MAX_INTERRUPT_VECTOR)
        return -HV_EINVAL;
    long err = vcpu_claim(vcpu);
    if (err)
        return err;
    err = vcpu_queue_interrupt(vcpu, (uint8_t)vector);
    vcpu_release(vcpu);
    return err;
}

long call_debug_guest(struct vm *cd, struct handle_slot *slot,
                      const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    struct hv_guest_debug debug;
    long err = copy_from_control(cd, &debug, ARG1(call), sizeof(debug));
    if (err)
        return err;
    /* DR7's bits 63:32 are reserved (MOV to DR7 gives #GP for them), as
     * SET_DEBUGREGS refuses them too; bits 11-15 it ignores. */
    if ((debug.control & ~HV_GUESTDBG_VALID) || (debug.debugreg[7] >> 32))
        return -HV_EINVAL;
    err = vcpu_claim(vcpu);
    if (err)
        return err;
    err = vcpu_set_guest_debug(vcpu, &debug);
    vcpu_release(vcpu);
    return err;
}

/* GET_CPUID and SET_CPUID claim the vcpu themselves (hv/vcpu_cpuid.c):
 * SET checks the new table before, to hold the vcpu only for the swap. */
long call_get_cpuid(struct vm *cd, struct handle_slot *slot,
                    const struct guest_gprs *call)
{
    return vcpu_get_cpuid(cd, slot->object, ARG1(call));
}

long call_set_cpuid(struct vm *cd, struct handle_slot *slot,
                    const struct guest_gprs *call)
{
    return vcpu_set_cpuid(cd, slot->object, ARG1(call));
}

long call_get_debugregs(struct vm *cd, struct handle_slot *slot,
                        const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    long err = control_range_check(cd, ARG1(call), sizeof(struct hv_debugregs), 8);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    debugregs_get(vcpu, control_pointer(cd, ARG1(call)));
    vcpu_release(vcpu);
    return 0;
}

long call_set_debugregs(struct vm *cd, struct handle_slot *slot,
                        const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    struct hv_debugregs regs;
    long err = copy_from_control(cd, &regs, ARG1(call), sizeof(regs));
    err = err ?: debugregs_check(&regs);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    debugregs_set(vcpu, &regs);
    vcpu_release(vcpu);
    return 0;
}

/* No claim: a kick is meant for a vcpu that is running elsewhere. */
long call_kick(struct vm *cd, struct handle_slot *slot,
               const struct guest_gprs *call)
{
    (void)cd, (void)call;
    vcpu_kick(slot->object);
    return 0;
}
