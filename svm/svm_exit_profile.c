/* SVM's exit codes as the exit profile's kinds (hv/exit_profile.h), in a
 * bench build only. */
#ifdef HV_EXIT_PROFILE
#include "hv/exit_profile.h"
#include "hv/vcpu.h"
#include "svm/vmcb_layout.h"

static unsigned profile_class(const struct vmcb *vmcb)
{
    uint64_t code = vmcb->control.exit_code;
    switch (code) {
    case VMEXIT_IOIO: return EXIT_PROFILE_IO;
    case VMEXIT_NPF: return EXIT_PROFILE_MMIO;
    case VMEXIT_CPUID: return EXIT_PROFILE_CPUID;
    case VMEXIT_MSR: return vmcb->control.exit_info1 ? EXIT_PROFILE_WRMSR : EXIT_PROFILE_RDMSR;
    case VMEXIT_HLT: return EXIT_PROFILE_HLT;
    case VMEXIT_INTR: return EXIT_PROFILE_INTERRUPT;
    case VMEXIT_VINTR: return EXIT_PROFILE_IRQ_WINDOW;
    case VMEXIT_XSETBV: return EXIT_PROFILE_XSETBV;
    case VMEXIT_VMMCALL: return EXIT_PROFILE_HYPERCALL;
    default:
        if (code < VMEXIT_DR_READ_BASE)
            return EXIT_PROFILE_CR; /* 0x00-0x1f: CR reads and writes */
        if (code >= VMEXIT_EXCEPTION_BASE && code < VMEXIT_EXCEPTION_BASE + 32)
            return EXIT_PROFILE_EXCEPTION;
        return EXIT_PROFILE_OTHER;
    }
}

/* svm_guest_loop.S's hook after #VMEXIT, once the host's state is back. */
void svm_exit_profile(struct vcpu *vcpu);
void svm_exit_profile(struct vcpu *vcpu)
{
    exit_profile_on_exit(vcpu, profile_class(vcpu->arch));
}
#endif
