/* The platform calls on a vcpu handle for a VM with local APICs
 * (HV_VM_LAPIC): SIGNAL_MSI, GET/SET_LAPIC and GET/SET_MP_STATE, the
 * counterparts of KVM_SIGNAL_MSI, KVM_GET/SET_LAPIC and
 * KVM_GET/SET_MP_STATE. On a VM created without HV_VM_LAPIC they give
 * -HV_ENODEV. (GET/SET_VCPU_EVENTS work on every vcpu:
 * hypercall_events.c.) */
#include "hv/hypercall_calls.h"

#include "hv/guest_access.h"
#include "hv/handle.h"
#include "hv/memory.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include "hv/x86.h"

/* No claim: an MSI is meant for vcpus that may be running; delivery only
 * sets IRR bits and posts, as a device's write would. */
long call_signal_msi(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    (void)cd;
    struct vcpu *vcpu = slot->object;
    if (!vcpu->vm->lapic)
        return -HV_ENODEV;
    if (call->rdx >> 32)
        return -HV_EINVAL;
    return vcpu_lapic_signal_msi(vcpu->vm, call->rsi, (uint32_t)call->rdx);
}

long call_get_lapic(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    if (!vcpu->vm->lapic)
        return -HV_ENODEV;
    long err = control_range_check(cd, call->rsi, sizeof(struct hv_lapic_state), 8);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    vlapic_get_page(&vcpu->lapic, control_pointer(cd, call->rsi), rdtsc());
    vcpu_release(vcpu);
    return 0;
}

long call_set_lapic(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    if (!vcpu->vm->lapic)
        return -HV_ENODEV;
    struct hv_lapic_state state;
    long err = copy_from_control(cd, &state, call->rsi, sizeof(state));
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    /* Any image: what the CPU computes is recomputed, the rest is the
     * state as given (KVM_SET_LAPIC checks no more). */
    vlapic_set_page(&vcpu->lapic, state.regs, rdtsc());
    __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
    vcpu_release(vcpu);
    return 0;
}

long call_get_mp_state(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    if (!vcpu->vm->lapic)
        return -HV_ENODEV;
    long err = control_range_check(cd, call->rsi, sizeof(uint32_t), 4);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    *(uint32_t *)control_pointer(cd, call->rsi) = vcpu->mp_state;
    vcpu_release(vcpu);
    return 0;
}

long call_set_mp_state(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    (void)cd;
    struct vcpu *vcpu = slot->object;
    if (!vcpu->vm->lapic)
        return -HV_ENODEV;
    uint64_t state = call->rsi;
    /* SIPI_RECEIVED is a passing state KVM reports; it cannot be set. */
    if (state != HV_MP_STATE_RUNNABLE && state != HV_MP_STATE_UNINITIALIZED &&
        state != HV_MP_STATE_INIT_RECEIVED && state != HV_MP_STATE_HALTED)
        return -HV_EINVAL;
    long err = vcpu_claim(vcpu);
    if (err)
        return err;
    vcpu->mp_state = (uint8_t)state;
    vcpu_release(vcpu);
    return 0;
}
