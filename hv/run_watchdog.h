/* The run watchdog: a bound on a child's RUN that does not rely on the
 * CPU running it taking interrupts (issue 13, problem 5).
 *
 * A RUN ends at the latest at its slice's end because the host's timer
 * interrupt ends the guest's run (the INTR intercept, external-interrupt
 * exiting). Three RUNs under QEMU 7.2 never ended so: the CPU looped in
 * the child with the timer and kick vectors in its IRR, never accepted
 * (README, known limits). An NMI still ends a guest's run when nothing
 * else does: so a CPU idle in the control domain's HLT wakes every
 * RUN_WATCHDOG_SLICES slices, whether or not another CPU is in a RUN
 * when it goes to sleep (one may enter its RUN just after), and sends an
 * NMI to a CPU whose RUN is that far past its slice's end. The NMI's
 * exit finds the slice over (vcpu_after_interrupt) and the RUN returns
 * HV_EXIT_INTR. Such NMIs are not counted in GET_STATS' `nmis`.
 *
 * A CPU's percpu.slice_end is 0 outside a child's RUN and while its
 * halted vcpu sleeps in the hypervisor (vcpu_wait), so that only a CPU
 * meant to be in its guest is ever suspected. Locking: none; slice_end
 * is read by other CPUs without order (a stale read delays or wastes one
 * NMI, no more), and the NMI flag is exchanged atomically. */
#ifndef HV_RUN_WATCHDOG_H
#define HV_RUN_WATCHDOG_H

#include <stdbool.h>

#define RUN_WATCHDOG_SLICES 10

/* Before the control domain's idle HLT: arms this CPU's timer for
 * RUN_WATCHDOG_SLICES slices where there is another CPU. Returns whether
 * it did. */
bool run_watchdog_arm(void);

/* After that HLT: stops the timer if `armed`, and sends an NMI to each CPU
 * whose RUN is RUN_WATCHDOG_SLICES slices past its end. */
void run_watchdog_check(bool armed);

/* The NMI handler: whether this NMI is the watchdog's (then cleared). */
bool run_watchdog_nmi_taken(void);

/* The test option `lost_slice_interrupts` (hv/cmdline.h): a child's
 * interrupt and slice-timer exits end nothing, as if the CPU had not taken
 * the interrupt, so that a guest that makes no exit of its own keeps its
 * CPU until the watchdog's NMI, as the stuck RUNs did. */
extern bool run_watchdog_lost_slice_interrupts;

#endif
