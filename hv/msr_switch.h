/* The MSRs that VM entry and exit leave alone on this backend (VMX: STAR,
 * LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, TSC_AUX; SVM: TSC_AUX), switched
 * by software when a CPU goes from its control-domain vcpu into a child's
 * RUN and back.
 *
 * Why at RUN boundaries and not on every entry: the hypervisor itself never
 * executes SYSCALL, SWAPGS, RDTSCP or RDPID, so these MSRs only have to
 * hold the values of whichever vcpu runs on the CPU. The control domain's
 * vcpu owns them from the CPU's start; a child's RUN, which the hypervisor
 * serves inside the control domain's exit on the same CPU, borrows them
 * until it returns. Exits handled inside RUN (CPUID, MSRs, interrupts)
 * cost nothing extra.
 *
 * Cost, `make bench` (RUN round trip, instructions; median of 1000),
 * compared with VMX's MSR load/store lists (SDM 3C 24.7.2, 24.8.2),
 * which load the child's six on every entry and store them and load the
 * control domain's on every exit: see msr_switch.c.
 *
 * Which vcpu's values are in the CPU is vcpu->msrs_live: the control
 * domain's vcpu from msr_switch_load until its CPU starts a child's RUN,
 * the child's until that RUN ends. Everything here runs on the CPU that
 * has claimed the vcpus involved, with interrupts off. */
#ifndef HV_MSR_SWITCH_H
#define HV_MSR_SWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vcpu.h"

/* Bits of enum kept_msr, for virt_backend.software_switched_msrs. */
#define KEPT_BIT(k)           (1u << (k))
#define KEPT_SYSCALL_MSRS     (KEPT_BIT(KEPT_STAR) | KEPT_BIT(KEPT_LSTAR) |      \
                               KEPT_BIT(KEPT_CSTAR) | KEPT_BIT(KEPT_SFMASK) |    \
                               KEPT_BIT(KEPT_KERNEL_GS_BASE))

/* Picks the MSRs to switch from the backend's list and the CPU (TSC_AUX
 * only exists with RDTSCP or RDPID). On the BSP, after virt_select. */
void msr_switch_probe(void);

/* Whether `index` is one of the MSRs the backend leaves to software (the
 * others live in its VMCB or VMCS), and its value: the CPU's while the
 * vcpu's values are live, else the copy. A write to a live vcpu's MSR goes
 * to the CPU as well. */
bool msr_switch_owns(uint32_t index);
uint64_t msr_switch_get(const struct vcpu *vcpu, uint32_t index);
void msr_switch_set(struct vcpu *vcpu, uint32_t index, uint64_t value);

/* The control-domain vcpu `control` takes the CPU's MSRs: on its CPU,
 * before it first runs. */
void msr_switch_load(struct vcpu *control);
/* RUN: `child` borrows the MSRs from `control`, and gives them back. */
void msr_switch_to_child(struct vcpu *control, struct vcpu *child);
void msr_switch_to_control(struct vcpu *child, struct vcpu *control);

#endif
