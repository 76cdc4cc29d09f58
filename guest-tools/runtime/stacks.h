/*
 * Per-vcpu stacks of the control domain, shared by start.S (which carves
 * them) and C (which may want to know the limits). 64 vcpus x 16 KiB keeps
 * .bss at 1 MiB; a vcpu whose index is beyond CTL_MAX_CPUS is parked.
 */
#ifndef GUEST_TOOLS_RUNTIME_STACKS_H
#define GUEST_TOOLS_RUNTIME_STACKS_H

#define CTL_MAX_CPUS    64
#define CTL_STACK_SHIFT 14
#define CTL_STACK_SIZE  (1 << CTL_STACK_SHIFT) /* 16 KiB */

#endif
