/* The MSRs of a vcpu that GET_MSRS/SET_MSRS name, and that the guest's own
 * RDMSR/WRMSR reach when they exit: which ones the hypervisor virtualises
 * and which values it accepts, decided here once for both backends (the
 * backend then holds the value: virt->get_msr/set_msr).
 *
 * Called with the vcpu claimed, or from its own run loop. */
#ifndef HV_VCPU_MSRS_H
#define HV_VCPU_MSRS_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* Whether the hypervisor virtualises the MSR (the speculation controls
 * count, also where the CPU lacks them and they give #GP). */
bool vcpu_msr_known(uint32_t index);
/* false if the hypervisor does not virtualise the MSR. */
bool vcpu_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value);
/* false if it does not virtualise the MSR or refuses the value (where a CPU
 * would raise #GP); nothing changes then. */
bool vcpu_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value);

#endif
