/*
 * The fuzzer's model of abi/README.md: the call table of sections 4-12 and
 * the common error order of section 3. Written from the document, not
 * from the hypervisor's tables, so that the two can disagree.
 */
#include "guest-tools/tools/fuzz.h"

#define R HV_RIGHT_READ
#define W HV_RIGHT_WRITE
#define SYS HV_HANDLE_SYSTEM
#define VM HV_HANDLE_VM
#define VCPU HV_HANDLE_VCPU

#define CALL(nr, t, r, name) [nr] = { 1, 0, t, r, 0, 0, name }
#define PTR(nr, t, r, align, size, name) [nr] = { 1, 0, t, r, align, size, name }

static const struct fuzz_call calls[FUZZ_CALL_COUNT] = {
    CALL(HV_CALL_GET_API_VERSION, SYS, 0, "GET_API_VERSION"),
    CALL(HV_CALL_CHECK_EXTENSION, SYS, 0, "CHECK_EXTENSION"),
    CALL(HV_CALL_CREATE_VM, SYS, HV_RIGHT_CREATE, "CREATE_VM"),
    CALL(HV_CALL_CONSOLE_WRITE, SYS, W, "CONSOLE_WRITE"),
    PTR(HV_CALL_GET_STATS, SYS, R, 8, sizeof(struct hv_stats), "GET_STATS"),
    CALL(HV_CALL_WAKE_CPU, SYS, HV_RIGHT_RUN, "WAKE_CPU"),
    PTR(HV_CALL_GET_SUPPORTED_CPUID, SYS, R, 8, sizeof(struct hv_cpuid), "GET_SUPPORTED_CPUID"),
    CALL(HV_CALL_SEND_NMI, SYS, HV_RIGHT_RUN, "SEND_NMI"),
    CALL(HV_CALL_CONSOLE_READ, SYS, R, "CONSOLE_READ"),
    CALL(HV_CALL_FAULT_INJECT, SYS, W, "FAULT_INJECT"),
    CALL(HV_CALL_CREATE_VCPU, VM, HV_RIGHT_CREATE, "CREATE_VCPU"),
    PTR(HV_CALL_SET_MEMORY_REGION, VM, W, 8, sizeof(struct hv_memory_region), "SET_MEMORY_REGION"),
    CALL(HV_CALL_GET_DIRTY_LOG, VM, R, "GET_DIRTY_LOG"),
    CALL(HV_CALL_RUN, VCPU, HV_RIGHT_RUN, "RUN"),
    PTR(HV_CALL_GET_REGS, VCPU, R, 8, sizeof(struct hv_regs), "GET_REGS"),
    PTR(HV_CALL_SET_REGS, VCPU, W, 8, sizeof(struct hv_regs), "SET_REGS"),
    PTR(HV_CALL_GET_SREGS, VCPU, R, 8, sizeof(struct hv_sregs), "GET_SREGS"),
    PTR(HV_CALL_SET_SREGS, VCPU, W, 8, sizeof(struct hv_sregs), "SET_SREGS"),
    PTR(HV_CALL_GET_MSRS, VCPU, R, 8, sizeof(struct hv_msrs), "GET_MSRS"),
    PTR(HV_CALL_SET_MSRS, VCPU, W, 8, sizeof(struct hv_msrs), "SET_MSRS"),
    PTR(HV_CALL_TRANSLATE, VCPU, R, 8, sizeof(struct hv_translation), "TRANSLATE"),
    CALL(HV_CALL_INTERRUPT, VCPU, W, "INTERRUPT"),
    PTR(HV_CALL_DEBUG_GUEST, VCPU, W, 8, sizeof(struct hv_guest_debug), "DEBUG_GUEST"),
    CALL(HV_CALL_KICK, VCPU, HV_RIGHT_RUN, "KICK"),
    PTR(HV_CALL_GET_FPU, VCPU, R, 8, sizeof(struct hv_fpu), "GET_FPU"),
    PTR(HV_CALL_SET_FPU, VCPU, W, 8, sizeof(struct hv_fpu), "SET_FPU"),
    CALL(HV_CALL_GET_XSAVE, VCPU, R, "GET_XSAVE"),
    CALL(HV_CALL_SET_XSAVE, VCPU, W, "SET_XSAVE"),
    PTR(HV_CALL_GET_XCRS, VCPU, R, 8, sizeof(struct hv_xcrs), "GET_XCRS"),
    PTR(HV_CALL_SET_XCRS, VCPU, W, 8, sizeof(struct hv_xcrs), "SET_XCRS"),
    PTR(HV_CALL_GET_DEBUGREGS, VCPU, R, 8, sizeof(struct hv_debugregs), "GET_DEBUGREGS"),
    PTR(HV_CALL_SET_DEBUGREGS, VCPU, W, 8, sizeof(struct hv_debugregs), "SET_DEBUGREGS"),
    PTR(HV_CALL_GET_CPUID, VCPU, R, 8, sizeof(struct hv_cpuid), "GET_CPUID"),
    PTR(HV_CALL_SET_CPUID, VCPU, W, 8, sizeof(struct hv_cpuid), "SET_CPUID"),
    CALL(HV_CALL_SIGNAL_MSI, VCPU, W, "SIGNAL_MSI"),
    CALL(HV_CALL_GET_LAPIC, VCPU, R, "GET_LAPIC"),
    CALL(HV_CALL_SET_LAPIC, VCPU, W, "SET_LAPIC"),
    PTR(HV_CALL_GET_VCPU_EVENTS, VCPU, R, 8, sizeof(struct hv_vcpu_events), "GET_VCPU_EVENTS"),
    CALL(HV_CALL_SET_VCPU_EVENTS, VCPU, W, "SET_VCPU_EVENTS"),
    CALL(HV_CALL_GET_MP_STATE, VCPU, R, "GET_MP_STATE"),
    CALL(HV_CALL_SET_MP_STATE, VCPU, W, "SET_MP_STATE"),
    CALL(HV_CALL_CLOSE, HV_HANDLE_NONE, 0, "CLOSE"),
    CALL(HV_CALL_DUP, HV_HANDLE_NONE, HV_RIGHT_DUP, "DUP"),
};

const struct fuzz_call *fuzz_call_of(uint64_t nr)
{
    static const struct fuzz_call unknown;

    return nr < FUZZ_CALL_COUNT ? &calls[nr] : &unknown;
}

long fuzz_expected_common(uint64_t nr, const struct fuzz_handle *h, int slot_live)
{
    const struct fuzz_call *c = fuzz_call_of(nr);

    if (!c->exists)
        return -HV_ENOSYS;
    if (h->state == FUZZ_FORGED)
        return -HV_EBADF;
    if (h->state == FUZZ_CLOSED)
        return slot_live ? -HV_ESTALE : -HV_ECLOSED;
    if (c->type != HV_HANDLE_NONE && c->type != h->type)
        return -HV_EBADTYPE;
    if (c->rights & ~h->rights)
        return -HV_EPERM;
    return 0;
}

long fuzz_expected_pointer(uint64_t gpa, uint64_t size, uint64_t align,
                           uint64_t memory_size)
{
    if (align > 1 && gpa % align != 0)
        return -HV_EINVAL;
    if (gpa + size < gpa || gpa + size > memory_size)
        return -HV_EFAULT;
    return 0;
}
