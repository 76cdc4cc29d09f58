/* The extended-state calls on a vcpu handle: GET/SET_FPU, GET/SET_XSAVE and
 * GET/SET_XCRS (KVM_GET/SET_FPU, KVM_GET/SET_XSAVE2, KVM_GET/SET_XCRS).
 * A claimed vcpu is not running, so its state is in its image (hv/fpu.h). */
#include "hv/hypercall_calls.h"

#include "hv/fpu.h"
#include "hv/guest_access.h"
#include "hv/handle.h"
#include "hv/memory.h"
#include "hv/vcpu.h"
#include "hv/xstate_check.h"

long call_get_fpu(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    long err = control_range_check(cd, call->rsi, sizeof(struct hv_fpu), 8);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    fpu_get(vcpu, control_pointer(cd, call->rsi));
    vcpu_release(vcpu);
    return 0;
}

long call_set_fpu(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    struct hv_fpu fpu;
    long err = copy_from_control(cd, &fpu, call->rsi, sizeof(fpu));
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    err = fpu_set(vcpu, &fpu);
    vcpu_release(vcpu);
    return err;
}

/* The buffer size (argument 2) must hold an image; only the image's bytes
 * are checked and moved. */
static long xsave_buffer_check(struct vm *cd, const struct guest_gprs *call)
{
    uint64_t size = call->rdx;
    if (size > HV_MAX_XSAVE_SIZE)
        return -HV_E2BIG;
    if (size < fpu_xsave_size())
        return -HV_EINVAL;
    return control_range_check(cd, call->rsi, fpu_xsave_size(), 8);
}

long call_get_xsave(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    long err = xsave_buffer_check(cd, call);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    fpu_get_xsave(vcpu, control_pointer(cd, call->rsi));
    vcpu_release(vcpu);
    return 0;
}

/* The legacy region and the header are what XRSTOR checks: they are copied
 * in and checked as one, so a concurrent writer in the control domain
 * cannot change them after the check. The components beyond take any
 * bytes and are copied straight. */
long call_set_xsave(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    uint8_t head[FXSAVE_SIZE + XSAVE_HEADER_SIZE];
    long err = xsave_buffer_check(cd, call);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    const uint8_t *image = control_pointer(cd, call->rsi);
    memory_copy(head, image, sizeof(head));
    err = fpu_set_xsave(vcpu, head, image + sizeof(head));
    vcpu_release(vcpu);
    return err;
}

long call_get_xcrs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    long err = control_range_check(cd, call->rsi, sizeof(struct hv_xcrs), 8);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    struct hv_xcrs *out = control_pointer(cd, call->rsi);
    memory_zero(out, sizeof(*out));
    out->nr_xcrs = 1;
    out->xcrs[0].xcr = 0;
    out->xcrs[0].value = fpu_get_xcr0(vcpu);
    vcpu_release(vcpu);
    return 0;
}

/* Every entry is checked before any is applied. */
long call_set_xcrs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    struct hv_xcrs xcrs;
    long err = copy_from_control(cd, &xcrs, call->rsi, sizeof(xcrs));
    if (err)
        return err;
    if (xcrs.flags)
        return -HV_EINVAL;
    if (xcrs.nr_xcrs > HV_MAX_XCRS)
        return -HV_E2BIG;
    for (uint32_t i = 0; i < xcrs.nr_xcrs; i++)
        if (xcrs.xcrs[i].xcr != 0 || !xcr0_valid(xcrs.xcrs[i].value, fpu_supported_xcr0()))
            return -HV_EINVAL;
    err = vcpu_claim(vcpu);
    if (err)
        return err;
    for (uint32_t i = 0; i < xcrs.nr_xcrs; i++)
        fpu_set_xcr0(vcpu, xcrs.xcrs[i].value);
    vcpu_release(vcpu);
    return 0;
}
