/*
 * Per-CPU work for the control domain: vcpu 0 hands a function to control-
 * domain vcpu k, which runs it on physical CPU k (each control-domain vcpu
 * is pinned to its CPU), so that a VMM can run child vcpu k from CPU k as
 * the design wants. Idle vcpus sleep in HLT; WAKE_CPU wakes them.
 *
 * One job per CPU at a time; smp_call on a CPU whose job is not finished
 * waits for it first. CPU 0 (the caller) runs a job for itself inline.
 *
 * A long job may lend its CPU (smp_lend): while it does, smp_call hands
 * further jobs for that CPU to it, and the long job runs them between
 * its own units of work (smp_serve), so that a tool on CPU 0 can use a
 * CPU that another tool's long job holds (the `pc` tool's guests beside
 * the conformance suite). Only CPU 0 lends and calls, so a lend never
 * races a call.
 */
#ifndef GUEST_TOOLS_RUNTIME_SMP_H
#define GUEST_TOOLS_RUNTIME_SMP_H

#include <stdbool.h>

#include "abi/hv_abi.h"

typedef void (*smp_job)(unsigned cpu, void *arg);

/* Called once by vcpu 0 before any smp_call; cpu_count from boot info. */
void smp_init(hv_handle_t system_handle, unsigned cpu_count);

/* Every vcpu but 0 ends up here from ctl_main and never returns. */
__attribute__((noreturn)) void smp_idle_loop(unsigned cpu);

unsigned smp_cpu_count(void);

/* Starts `job(cpu, arg)` on `cpu`; returns false if there is no such CPU. */
bool smp_call(unsigned cpu, smp_job job, void *arg);

/* Waits until the job last started on `cpu` has returned. */
void smp_wait(unsigned cpu);

/* From CPU 0, with `cpu`'s long job started: jobs for `cpu` go to that
 * job (lent) or again to the CPU's idle loop (not lent; waits for the
 * jobs handed over so far). */
void smp_lend(unsigned cpu, bool lent);

/* On `cpu`, from its long job: runs the job handed over meanwhile, if
 * any; true if it ran one. */
bool smp_serve(unsigned cpu);

#endif
