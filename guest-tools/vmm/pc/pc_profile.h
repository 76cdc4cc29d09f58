/*
 * Where a PC guest's run spends its instructions, for `make bench`: the
 * guest module's `profile` option. Under QEMU -icount shift=0 the TSC
 * counts executed instructions, except while a CPU sleeps in the
 * hypervisor for a halted vcpu (the emulator's clock then jumps to the
 * next timer): GET_STATS' idle_tsc counts those ticks, so TSC less idle
 * ticks is the instructions executed, on a one-CPU machine all of them
 * (guest, hypervisor and VMM).
 *   pc_profile_start   before the first RUN
 *   pc_profile_exit    each RUN's return the VMM sees, with the VMM's ticks
 *                      on it (from RUN's return to the next RUN), and
 *                      whether an exit ended it (a RUN may return without
 *                      entering: a deadline passed, a kick)
 *   pc_profile_end     when the end is decided (the first pc_vm_stop)
 *   pc_profile_report  the lines "guest <name> profile: ..."
 * Counters are atomics: any runner may add to them.
 */
#ifndef GUEST_TOOLS_VMM_PC_PC_PROFILE_H
#define GUEST_TOOLS_VMM_PC_PC_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"

#define PC_PROFILE_REASONS 33   /* HV_EXIT_* are below this */

struct pc_profile {
    bool on;
    uint64_t start_tsc, start_idle;
    uint64_t end_tsc, end_idle;
    uint64_t exits[PC_PROFILE_REASONS];     /* RUN returns, by exit reason */
    uint64_t vmm_ticks[PC_PROFILE_REASONS];
    uint64_t returns_after_exit;            /* of those, the ones an exit ended */
};

void pc_profile_start(struct pc_profile *p, hv_handle_t sys);
void pc_profile_exit(struct pc_profile *p, uint32_t reason, bool after_exit, uint64_t vmm_ticks);
void pc_profile_end(struct pc_profile *p, hv_handle_t sys);
/* `all_exits`: the vcpus' exits as the run pages' exit_count has them:
 * those the hypervisor handled itself included, except what its fast
 * paths finish before its exit handler (plain CPUID, x2APIC EOI and
 * self-IPI writes), which that count leaves out. */
void pc_profile_report(const struct pc_profile *p, const char *name, uint64_t all_exits);

#endif
