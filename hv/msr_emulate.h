/* RDMSR/WRMSR from a guest for the MSRs the hypervisor intercepts. MSRs the
 * CPU holds for the running vcpu are not intercepted: FS/GS bases and
 * SYSENTER MSRs (switched by entry and exit), KERNEL_GS_BASE (SVM: VMLOAD;
 * VMX: hv/msr_switch.c), on SVM the other SYSCALL MSRs too, and reads of
 * them on VMX, of SPEC_CTRL (where the CPU has it) and of the TSC. The
 * others reach the vcpu's MSRs (hv/vcpu_msrs.h), so the guest sees what
 * SET_MSRS set; any other raises #GP in the guest, as on a CPU without
 * it. */
#ifndef HV_MSR_EMULATE_H
#define HV_MSR_EMULATE_H

#include "hv/exit.h"

struct vcpu;

/* Returns -1 to resume the guest, or the HV_EXIT_* a RUN must return (the
 * EOI of a level-triggered vector through the x2APIC). */
int msr_emulate(struct vcpu *vcpu, const struct exit_record *exit);

/* The next RUN after HV_EXIT_X86_RDMSR/WRMSR: the VMM's answer in the run
 * page (error: #GP; else RDMSR's data) completes the instruction. */
struct hv_run;
void msr_complete_user_exit(struct vcpu *vcpu, const struct hv_run *run);

#endif
