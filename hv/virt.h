/* The hardware virtualization backend behind one ops table: svm/ and vmx/
 * each provide a `struct virt_backend`; common code never tests which one it
 * has. This part of the table turns virtualization on per CPU; the
 * vcpu operations join it with the control domain. */
#ifndef HV_VIRT_H
#define HV_VIRT_H

#include <stddef.h>

#include "hv/percpu.h"

struct virt_backend {
    const char *name;
    /* Checks the calling CPU. On failure returns a negative error and writes
     * a message for the user (what is missing and how to fix it) to `why`. */
    int (*probe)(char *why, size_t why_size);
    /* Turns virtualization on for the calling CPU. */
    int (*enable_cpu)(struct percpu *cpu, char *why, size_t why_size);
    /* One line of the features in use, for the boot log. */
    void (*describe)(char *buf, size_t size);
};

extern const struct virt_backend svm_backend;
extern const struct virt_backend vmx_backend;

/* The backend chosen at boot (NULL before virt_select succeeds). */
extern const struct virt_backend *virt;

/* Picks the backend for this machine from CPUID. Returns 0, or a negative
 * error after printing why the machine cannot run the hypervisor. */
int virt_select(void);
/* Enables the chosen backend on the calling CPU, logging the result. */
int virt_enable_this_cpu(void);

#endif
