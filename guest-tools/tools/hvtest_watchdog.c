/*
 * The run watchdog (hv/run_watchdog.h), seen from the control domain: a
 * child that spins without an exit in a RUN on CPU 1, while CPU 0 waits
 * in HLT (an idle CPU is the watchdog). On an ordinary hypervisor the
 * RUN ends at its slice, and the watchdog, armed by each of CPU 0's HLTs,
 * leaves it alone. With the test option `lost_slice_interrupts` the RUN's
 * interrupt exits end nothing, as the stuck RUNs under QEMU (issue 13,
 * problem 5): only the watchdog's NMI ends it, 10 slices past its end.
 * Either way RUN returns HV_EXIT_INTR; the case prints how long it took,
 * which the system tests check against the mode they booted.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"
#include "guest-tools/tools/hvtest_concurrency.h"

/* Long enough for the watchdog (10 to 20 slices of 10 ms) under Bochs. */
#define WATCHDOG_WAIT_SECONDS 30

struct watched_run {
    struct vm_instance vm;
    long rc;
    uint32_t exit_reason;
    uint64_t start_tsc, end_tsc;
    uint32_t done;
} __attribute__((aligned(64)));

static struct watched_run watched;

static void run_once_job(unsigned cpu, void *arg)
{
    struct watched_run *w = arg;
    (void)cpu;
    /* CPU 0's GET_REGS, which watches for this RUN, holds the vcpu for a
     * moment now and then: a RUN that meets it is refused (-HV_EBUSY) and
     * tried again (seen once in make test, -smp 4). */
    do {
        w->start_tsc = conc_tsc();
        w->rc = hv_run(w->vm.vcpu);
    } while (w->rc == -HV_EBUSY);
    w->end_tsc = conc_tsc();
    w->exit_reason = w->vm.run->exit_reason;
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    hv_wake_cpu(hvt_sys(), 0);
}

static void spinning_run_on_another_cpu_ends_with_intr(void)
{
    struct hv_stats before;
    long khz = hv_check_extension(hvt_sys(), HV_CAP_TSC_KHZ);

    if (conc_cpus() < 2) {
        ctl_printf("hvtest: run watchdog: one CPU, nothing to watch from\n");
        return;
    }
    memset(&watched, 0, sizeof(watched));
    if (!hvt_true(khz > 0, "CHECK_EXTENSION(TSC_KHZ)") || !hvt_stats(&before) ||
        conc_spin_guest(&watched.vm) < 0)
        return;
    smp_call(1, run_once_job, &watched);
    /* CPU 1 must be in its RUN before this CPU halts, or no HLT arms the
     * watchdog: GET_REGS refused with -HV_EBUSY says it is. */
    struct hv_regs regs;
    while (!__atomic_load_n(&watched.done, __ATOMIC_ACQUIRE) &&
           hv_get_regs(watched.vm.vcpu, &regs) != -HV_EBUSY)
        __asm__ volatile("pause" ::: "memory");
    uint64_t give_up = conc_tsc() + (uint64_t)khz * 1000 * WATCHDOG_WAIT_SECONDS;
    while (!__atomic_load_n(&watched.done, __ATOMIC_ACQUIRE) && conc_tsc() < give_up)
        __asm__ volatile("hlt" ::: "memory"); /* until the wake, or the watchdog's timer */
    if (!__atomic_load_n(&watched.done, __ATOMIC_ACQUIRE)) {
        hvt_fail("the spinning RUN on CPU 1 did not end in %d s", WATCHDOG_WAIT_SECONDS);
        return; /* its CPU is lost to the tests that follow */
    }
    smp_wait(1);
    uint64_t us = (watched.end_tsc - watched.start_tsc) * 1000 / (uint64_t)khz;
    ctl_printf("hvtest: run watchdog: the spinning RUN on CPU 1 ended after %lu us\n", us);
    if (hvt_err(watched.rc, 0, "the spinning RUN on CPU 1") &&
        hvt_eq(watched.exit_reason, HV_EXIT_INTR, "its exit reason (HV_EXIT_INTR)") &&
        hvt_err(hv_close(watched.vm.vcpu), 0, "CLOSE of the vcpu") &&
        hvt_err(hv_close(watched.vm.vm), 0, "CLOSE of the VM"))
        hvt_stats_unchanged(&before, "after closing the VM");
}

const struct hvtest_case hvtest_watchdog_cases[] = {
    { "run_watchdog_spinning_run_on_another_cpu_ends_with_intr",
      spinning_run_on_another_cpu_ends_with_intr },
    { NULL, NULL },
};
