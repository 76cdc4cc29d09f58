/* CPUID as every guest sees it: the host's answer, minus the virtualization
 * features the hypervisor does not offer nested, plus the hypervisor's own
 * leaves at 0x40000000 (signature and ABI; see abi/hv_abi.h). */
#include "abi/hv_abi.h"
#include "hv/vcpu.h"
#include "hv/virt.h"
#include "hv/x86.h"

#define CPUID_1_ECX_VMX        (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_EXT1_ECX_SVM     (1u << 2)

void cpuid_emulate(struct vcpu *vcpu)
{
    struct guest_gprs *g = &vcpu->gprs;
    uint32_t leaf = (uint32_t)g->rax, subleaf = (uint32_t)g->rcx;
    uint32_t a, b, c, d;

    if (leaf == HV_CPUID_SIGNATURE) {
        a = HV_CPUID_FEATURES;
        b = HV_SIGNATURE_EBX;
        c = HV_SIGNATURE_ECX;
        d = HV_SIGNATURE_EDX;
    } else if (leaf == HV_CPUID_FEATURES) {
        a = HV_API_VERSION;
        b = virt->abi_backend;
        c = d = 0;
    } else if (leaf == 0x8000000a || (leaf > HV_CPUID_FEATURES && leaf < 0x40000100)) {
        a = b = c = d = 0;
    } else {
        cpuid_count(leaf, subleaf, &a, &b, &c, &d);
        if (leaf == 1) {
            c &= ~CPUID_1_ECX_VMX;
            c |= CPUID_1_ECX_HYPERVISOR;
        } else if (leaf == 0x80000001) {
            c &= ~CPUID_EXT1_ECX_SVM;
        }
    }
    g->rax = a;
    g->rbx = b;
    g->rcx = c;
    g->rdx = d;
}
