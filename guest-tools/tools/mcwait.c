/*
 * mcwait: the control domain's half of the machine-check system test
 * (tests/system/machine_check_tests.sh). The harness injects machine
 * checks into CPU 1 through QEMU's monitor (`mce`) while this tool, on
 * CPU 0, watches GET_STATS `machine_checks`: first a recoverable one, after
 * which CPU 1 must still run a job, then one that is not, after which the
 * hypervisor halts CPU 1 and the count still grows. Each step is announced
 * on the console for the harness to act on. CPU 1 sits idle in the
 * hypervisor (its vcpu's HLT) meanwhile, where an injected machine check
 * reaches the hypervisor's own vector-18 handler.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/tools/tool.h"

#define WAIT_TICKS 200000000000ull  /* TSC ticks: about a minute under TCG */
#define TARGET_CPU 1

static uint64_t read_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* GET_STATS `machine_checks`, or ~0 if the call fails. */
static uint64_t machine_checks(hv_handle_t sys)
{
    struct hv_stats stats;
    return hv_get_stats(sys, &stats) == 0 ? stats.machine_checks : ~0ull;
}

/* Waits until the hypervisor has counted `want` machine checks. */
static int wait_for(hv_handle_t sys, uint64_t want)
{
    uint64_t deadline = read_tsc() + WAIT_TICKS, now;
    while ((now = machine_checks(sys)) < want && now != ~0ull && read_tsc() < deadline)
        for (int i = 0; i < 1000; i++)
            __asm__ volatile("pause");
    ctl_printf("mcwait: machine_checks %lu\n", now);
    return now == want;
}

static void mark_ran(unsigned cpu, void *arg)
{
    (void)cpu;
    *(volatile int *)arg = 1;
}

int mcwait_main(const struct hv_boot_info *info, int argc, char **argv)
{
    hv_handle_t sys = info->system_handle;
    volatile int ran = 0;
    (void)argc, (void)argv;

    if (info->cpu_count <= TARGET_CPU) {
        ctl_printf("mcwait: needs at least %u CPUs\n", TARGET_CPU + 1);
        return 1;
    }
    uint64_t start = machine_checks(sys);
    ctl_printf("mcwait: ready for a recoverable machine check on CPU %u\n", TARGET_CPU);
    if (!wait_for(sys, start + 1))
        return 1;
    if (!smp_call(TARGET_CPU, mark_ran, (void *)&ran))
        return 1;
    smp_wait(TARGET_CPU);
    if (!ran)
        return 1;
    ctl_printf("mcwait: CPU %u ran a job after the machine check\n", TARGET_CPU);
    ctl_printf("mcwait: ready for an unrecoverable machine check on CPU %u\n", TARGET_CPU);
    return wait_for(sys, start + 2) ? 0 : 1;
}
