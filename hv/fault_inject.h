/* Allocation fault injection, a test option (`fault_inject` on the
 * hypervisor's command line, then the FAULT_INJECT call): the k-th
 * allocation after the call is armed fails as if memory had run out, so
 * that a test can walk every allocation of a call and check that each
 * failure is -HV_ENOMEM with nothing lost. Counted allocations: every
 * hypervisor page run (pages_alloc_zeroed: nested tables, dirty bitmaps,
 * VMCB/VMCS, extended state, CPUID tables, slabs) and every VM and vcpu
 * object. Without the option nothing is counted and nothing fails. */
#ifndef HV_FAULT_INJECT_H
#define HV_FAULT_INJECT_H

#include <stdbool.h>
#include <stdint.h>

/* Set once at boot from the command line, before the control domain runs. */
extern bool fault_inject_enabled;

/* True when the allocation about to be made is the armed one: it must then
 * fail. Costs one load when nothing is armed. */
bool fault_inject_fails(void);

/* FAULT_INJECT's work: k >= 1 arms the k-th allocation from now (once) and
 * returns 0; k = 0 disarms and returns the allocations counted since the
 * last arming. */
long fault_inject_arm(uint64_t k);

#endif
