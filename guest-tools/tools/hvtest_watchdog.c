/*
 * The run watchdog (hv/run_watchdog.h), seen from the control domain: a
 * child that spins without an exit in a RUN on CPU 1, while CPU 0 waits
 * in HLT (an idle CPU is the watchdog). On an ordinary hypervisor the
 * RUN ends at its slice, and the watchdog, armed by each of CPU 0's HLTs,
 * leaves it alone. With the test option `lost_slice_interrupts` the RUN's
 * interrupt exits end nothing, as the stuck RUNs under QEMU (issue 13,
 * problem 5): only the watchdog's NMI ends it, 10 slices past its end.
 * Either way RUN returns HV_EXIT_INTR; the case prints how long it took,
 * which the system tests check against the mode they booted. A second
 * case has CPU 1 enter its RUN only after CPU 0 went to sleep: the
 * watchdog once armed CPU 0's timer only when it saw a RUN under way at
 * its HLT, so that CPU slept for ever (the first case hung so twice in
 * full test runs, its HLT a few instructions ahead of the RUN's start).
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
    uint64_t delay_tsc;          /* the late case: after CPU 0's `halting` */
    uint32_t halting;
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

/* The late case's job: the RUN once CPU 0 is on its way to sleep, and a
 * moment more (`delay_tsc`). */
static void run_after_halt_job(unsigned cpu, void *arg)
{
    struct watched_run *w = arg;
    while (!__atomic_load_n(&w->halting, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause" ::: "memory");
    uint64_t until = conc_tsc() + w->delay_tsc;
    while (conc_tsc() < until)
        __asm__ volatile("pause" ::: "memory");
    run_once_job(cpu, arg);
}

/* `late`: CPU 1 enters its RUN 20 ms after this CPU starts to halt;
 * else this CPU halts once it sees the RUN under way. */
static void spinning_run_ends_with_intr(bool late, const char *what)
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
    watched.delay_tsc = (uint64_t)khz * 20;
    smp_call(1, late ? run_after_halt_job : run_once_job, &watched);
    /* GET_REGS refused with -HV_EBUSY says the RUN is under way. */
    struct hv_regs regs;
    while (!late && !__atomic_load_n(&watched.done, __ATOMIC_ACQUIRE) &&
           hv_get_regs(watched.vm.vcpu, &regs) != -HV_EBUSY)
        __asm__ volatile("pause" ::: "memory");
    __atomic_store_n(&watched.halting, 1, __ATOMIC_RELEASE);
    uint64_t give_up = conc_tsc() + (uint64_t)khz * 1000 * WATCHDOG_WAIT_SECONDS;
    while (!__atomic_load_n(&watched.done, __ATOMIC_ACQUIRE) && conc_tsc() < give_up)
        __asm__ volatile("hlt" ::: "memory"); /* until the wake, or the watchdog's timer */
    if (!__atomic_load_n(&watched.done, __ATOMIC_ACQUIRE)) {
        hvt_fail("%s on CPU 1 did not end in %d s", what, WATCHDOG_WAIT_SECONDS);
        return; /* its CPU is lost to the tests that follow */
    }
    smp_wait(1);
    uint64_t us = (watched.end_tsc - watched.start_tsc) * 1000 / (uint64_t)khz;
    ctl_printf("hvtest: run watchdog: %s on CPU 1 ended after %lu us\n", what, us);
    if (hvt_err(watched.rc, 0, "the spinning RUN on CPU 1") &&
        hvt_eq(watched.exit_reason, HV_EXIT_INTR, "its exit reason (HV_EXIT_INTR)") &&
        hvt_err(hv_close(watched.vm.vcpu), 0, "CLOSE of the vcpu") &&
        hvt_err(hv_close(watched.vm.vm), 0, "CLOSE of the VM"))
        hvt_stats_unchanged(&before, "after closing the VM");
}

static void spinning_run_on_another_cpu_ends_with_intr(void)
{
    spinning_run_ends_with_intr(false, "the spinning RUN");
}

static void run_entered_after_this_cpu_halted_ends_with_intr(void)
{
    spinning_run_ends_with_intr(true, "the spinning RUN entered after CPU 0 halted");
}

const struct hvtest_case hvtest_watchdog_cases[] = {
    { "run_watchdog_spinning_run_on_another_cpu_ends_with_intr",
      spinning_run_on_another_cpu_ends_with_intr },
    { "run_watchdog_run_entered_after_this_cpu_halted_ends_with_intr",
      run_entered_after_this_cpu_halted_ends_with_intr },
    { NULL, NULL },
};
