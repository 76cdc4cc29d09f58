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

/* The control domain's hypercall fast path, the same for both backends:
 * a backend that recognises the exit of a hypercall of a control-domain
 * vcpu cheaply (an unprefixed VMMCALL or VMCALL) moves RIP past it and
 * calls this with the place where it keeps the guest's RAX, which holds
 * the call number and receives the result. Returns 0: the exit handler
 * returns it (resume the guest). The exits it does not take this way are
 * decoded and reach control_domain_exit. */
static inline int control_domain_hypercall(struct vcpu *vcpu, uint64_t *rax)
{
    return hypercall_dispatch(vcpu, rax);
}

#endif
