/*
 * Hypervisor discovery. The calls themselves are inline in libhv.h: each is
 * one trapping instruction with the arguments placed as abi/hv_abi.h says,
 * so that a call costs the caller no more than a function call would.
 */
#include "guest-tools/libhv/libhv.h"

uint32_t hv_backend_in_use;    /* HV_BACKEND_*, 0 until hv_init succeeds */

/* Where HV_CALL_INSN put each call site's address (guest-tools/runtime/ctl.ld). */
extern uint8_t *const hv_call_sites_start[], *const hv_call_sites_end[];
#define VMMCALL_THIRD_BYTE 0xd9     /* VMCALL is 0f 01 c1, VMMCALL 0f 01 d9 */
static uint32_t api_version;

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c,
                  uint32_t *d)
{
    __asm__ volatile("cpuid"
                     : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
                     : "a"(leaf), "c"(0));
}

int hv_init(void)
{
    uint32_t a, b, c, d;

    cpuid(HV_CPUID_SIGNATURE, &a, &b, &c, &d);
    if (b != HV_SIGNATURE_EBX || c != HV_SIGNATURE_ECX || d != HV_SIGNATURE_EDX)
        return -HV_ENODEV;
    if (a < HV_CPUID_FEATURES)
        return -HV_ENOTSUP;
    cpuid(HV_CPUID_FEATURES, &a, &b, &c, &d);
    if (b != HV_BACKEND_SVM && b != HV_BACKEND_VMX)
        return -HV_ENOTSUP;
    if (a != HV_API_VERSION)
        return -HV_ENOTSUP;
    api_version = a;
    hv_backend_in_use = b;
    if (b == HV_BACKEND_SVM)
        for (uint8_t *const *site = hv_call_sites_start; site < hv_call_sites_end; site++)
            (*site)[2] = VMMCALL_THIRD_BYTE;
    return 0;
}

uint32_t hv_backend(void)
{
    return hv_backend_in_use;
}

uint32_t hv_cpuid_api_version(void)
{
    return api_version;
}

const char *hv_backend_name(uint32_t which)
{
    switch (which) {
    case HV_BACKEND_SVM: return "svm";
    case HV_BACKEND_VMX: return "vmx";
    default:             return "none";
    }
}
