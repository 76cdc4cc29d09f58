/* RDMSR/WRMSR from a guest for the MSRs the hypervisor intercepts. MSRs that
 * the hardware switches itself (FS/GS bases, SYSCALL and SYSENTER MSRs,
 * KERNEL_GS_BASE, TSC) are not intercepted at all; the ones here are kept per
 * vcpu; any other raises #GP in the guest, as on a CPU without it. */
#ifndef HV_MSR_EMULATE_H
#define HV_MSR_EMULATE_H

#include "hv/exit.h"

struct vcpu;

void msr_emulate(struct vcpu *vcpu, const struct exit_record *exit);

#endif
