/*
 * Hypercall wrappers. Discovery runs once in hv_init; after that a call is
 * one trapping instruction with the arguments placed as abi/hv_abi.h says.
 */
#include "guest-tools/libhv/libhv.h"

static uint32_t backend;       /* HV_BACKEND_*, 0 until hv_init succeeds */
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
    backend = b;
    return 0;
}

uint32_t hv_backend(void)
{
    return backend;
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

long hv_call(uint64_t nr, uint64_t handle, uint64_t a1, uint64_t a2,
             uint64_t a3, uint64_t a4, uint64_t a5)
{
    /* Arguments 3..5 travel in R10, R8, R9, which have no constraint
     * letters: bind them with register variables. */
    register uint64_t r10 __asm__("r10") = a3;
    register uint64_t r8 __asm__("r8") = a4;
    register uint64_t r9 __asm__("r9") = a5;
    uint64_t rax = nr;

    /* The two instructions differ only in their encoding; a VMX CPU raises
     * #UD on VMMCALL and an SVM CPU on VMCALL, hence the choice. The
     * hypervisor preserves every register but RAX; "memory" because it
     * reads and writes the structures the arguments point at. */
    if (backend == HV_BACKEND_SVM)
        __asm__ volatile("vmmcall"
                         : "+a"(rax)
                         : "D"(handle), "S"(a1), "d"(a2), "r"(r10), "r"(r8),
                           "r"(r9)
                         : "memory");
    else if (backend == HV_BACKEND_VMX)
        __asm__ volatile("vmcall"
                         : "+a"(rax)
                         : "D"(handle), "S"(a1), "d"(a2), "r"(r10), "r"(r8),
                           "r"(r9)
                         : "memory");
    else
        return -HV_ENODEV;
    return (long)rax;
}

/* Pointers become guest-physical addresses as they are (identity map). */
static uint64_t gpa(const volatile void *p)
{
    return (uint64_t)(uintptr_t)p;
}

long hv_get_api_version(hv_handle_t sys)
{
    return hv_call(HV_CALL_GET_API_VERSION, (uint64_t)sys, 0, 0, 0, 0, 0);
}

long hv_check_extension(hv_handle_t sys, uint64_t extension)
{
    return hv_call(HV_CALL_CHECK_EXTENSION, (uint64_t)sys, extension, 0, 0, 0, 0);
}

long hv_create_vm(hv_handle_t sys)
{
    return hv_call(HV_CALL_CREATE_VM, (uint64_t)sys, 0, 0, 0, 0, 0);
}

long hv_console_write(hv_handle_t sys, uint64_t text_gpa, uint64_t len)
{
    return hv_call(HV_CALL_CONSOLE_WRITE, (uint64_t)sys, text_gpa, len, 0, 0, 0);
}

long hv_get_stats(hv_handle_t sys, struct hv_stats *stats)
{
    return hv_call(HV_CALL_GET_STATS, (uint64_t)sys, gpa(stats), 0, 0, 0, 0);
}

long hv_create_vcpu(hv_handle_t vm, uint32_t slot, struct hv_run *run_page)
{
    return hv_call(HV_CALL_CREATE_VCPU, (uint64_t)vm, slot, gpa(run_page),
                   0, 0, 0);
}

long hv_set_memory_region(hv_handle_t vm, const struct hv_memory_region *region)
{
    return hv_call(HV_CALL_SET_MEMORY_REGION, (uint64_t)vm, gpa(region),
                   0, 0, 0, 0);
}

long hv_run(hv_handle_t vcpu)
{
    return hv_call(HV_CALL_RUN, (uint64_t)vcpu, 0, 0, 0, 0, 0);
}

long hv_get_regs(hv_handle_t vcpu, struct hv_regs *regs)
{
    return hv_call(HV_CALL_GET_REGS, (uint64_t)vcpu, gpa(regs), 0, 0, 0, 0);
}

long hv_set_regs(hv_handle_t vcpu, const struct hv_regs *regs)
{
    return hv_call(HV_CALL_SET_REGS, (uint64_t)vcpu, gpa(regs), 0, 0, 0, 0);
}

long hv_get_sregs(hv_handle_t vcpu, struct hv_sregs *sregs)
{
    return hv_call(HV_CALL_GET_SREGS, (uint64_t)vcpu, gpa(sregs), 0, 0, 0, 0);
}

long hv_set_sregs(hv_handle_t vcpu, const struct hv_sregs *sregs)
{
    return hv_call(HV_CALL_SET_SREGS, (uint64_t)vcpu, gpa(sregs), 0, 0, 0, 0);
}

long hv_close(hv_handle_t handle)
{
    return hv_call(HV_CALL_CLOSE, (uint64_t)handle, 0, 0, 0, 0, 0);
}

long hv_dup(hv_handle_t handle, uint32_t rights)
{
    return hv_call(HV_CALL_DUP, (uint64_t)handle, rights, 0, 0, 0, 0);
}
