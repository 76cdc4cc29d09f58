/* VMX's exit reasons as the exit profile's kinds (hv/exit_profile.h), in
 * a bench build only. */
#ifdef HV_EXIT_PROFILE
#include "hv/exit_profile.h"
#include "hv/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_instructions.h"

static unsigned profile_class(uint32_t reason)
{
    switch (reason & 0xffff) {
    case EXIT_REASON_IO: return EXIT_PROFILE_IO;
    case EXIT_REASON_EPT_VIOLATION:
    case EXIT_REASON_EPT_MISCONFIG:
    case EXIT_REASON_APIC_ACCESS:
    case EXIT_REASON_APIC_WRITE: return EXIT_PROFILE_MMIO; /* the xAPIC's, virtualized */
    case EXIT_REASON_CPUID: return EXIT_PROFILE_CPUID;
    case EXIT_REASON_RDMSR: return EXIT_PROFILE_RDMSR;
    case EXIT_REASON_WRMSR: return EXIT_PROFILE_WRMSR;
    case EXIT_REASON_HLT: return EXIT_PROFILE_HLT;
    case EXIT_REASON_EXTERNAL_INTERRUPT:
    case EXIT_REASON_PREEMPTION_TIMER: return EXIT_PROFILE_INTERRUPT;
    case EXIT_REASON_INTERRUPT_WINDOW: return EXIT_PROFILE_IRQ_WINDOW;
    case EXIT_REASON_CR_ACCESS: return EXIT_PROFILE_CR;
    case EXIT_REASON_XSETBV: return EXIT_PROFILE_XSETBV;
    case EXIT_REASON_EXCEPTION_NMI: return EXIT_PROFILE_EXCEPTION;
    case EXIT_REASON_VMCALL: return EXIT_PROFILE_HYPERCALL;
    default: return EXIT_PROFILE_OTHER;
    }
}

/* vmx_guest_loop.S's hook after each VM exit (the host's state is the
 * VMCS's host area, loaded by the exit itself). */
void vmx_exit_profile(struct vcpu *vcpu);
void vmx_exit_profile(struct vcpu *vcpu)
{
    exit_profile_on_exit(vcpu, profile_class((uint32_t)vmread(VMCS_EXIT_REASON)));
}
#endif
