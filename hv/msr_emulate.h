/* RDMSR/WRMSR from a guest for the MSRs the hypervisor intercepts. MSRs that
 * the hardware switches itself (FS/GS bases, SYSENTER MSRs and, on SVM, the
 * SYSCALL MSRs and KERNEL_GS_BASE; reads of the TSC) are not intercepted at
 * all; the others reach the vcpu's MSRs (hv/vcpu_msrs.h), so the guest sees
 * what SET_MSRS set; any other raises #GP in the guest, as on a CPU without
 * it. */
#ifndef HV_MSR_EMULATE_H
#define HV_MSR_EMULATE_H

#include "hv/exit.h"

struct vcpu;

/* Returns -1 to resume the guest, or the HV_EXIT_* a RUN must return (the
 * EOI of a level-triggered vector through the x2APIC). */
int msr_emulate(struct vcpu *vcpu, const struct exit_record *exit);

#endif
