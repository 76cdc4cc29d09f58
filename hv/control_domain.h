/* The control domain: built from the first boot module, it gets the system
 * handle and one vcpu per physical CPU, pinned. Each CPU then spends its life
 * in control_domain_run_this_cpu(), running its control-domain vcpu and
 * serving that vcpu's hypercalls (RUN among them, which runs a child vcpu on
 * this same CPU). */
#ifndef HV_CONTROL_DOMAIN_H
#define HV_CONTROL_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/boot_info.h"
#include "hv/hypercall.h"
#include "hv/vcpu.h"

/* Builds the control domain. Returns 0 or a negative error after saying
 * what went wrong. */
int control_domain_create(const struct boot_info *boot, uint64_t memory_size);

/* Set once the control domain exists: the APs wait for it. */
extern volatile int control_domain_ready;

__attribute__((noreturn)) void control_domain_run_this_cpu(void);

struct vcpu;

/* The hypercall fast path: a backend that recognises a hypercall exit
 * cheaply calls this directly (RIP already past the instruction, call number
 * from the guest's RAX) and puts the result in the guest's RAX. */
static inline long control_domain_hypercall(struct vcpu *vcpu, uint64_t nr)
{
    return hypercall_dispatch(vcpu->vm, nr, &vcpu->gprs);
}

#endif
