/*
 * The control domain's per-CPU work runtime, checked on the booted system:
 * a job handed to control-domain vcpu k runs on physical CPU k, every CPU
 * runs its job, and a wake made before the CPU halts is not lost. Under
 * -smp 1 there is nothing to hand out, and the tests say so and pass.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/tools/hvtest.h"

#define ROUNDS 200

struct cpu_report {
    unsigned cpu;
    uint32_t apic_id;
    unsigned runs;
} __attribute__((aligned(64)));

static struct cpu_report reports[64];

static uint32_t initial_apic_id(void)
{
    uint32_t a = 1, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return b >> 24;
}

static void report_job(unsigned cpu, void *arg)
{
    (void)arg;
    reports[cpu].cpu = cpu;
    reports[cpu].apic_id = initial_apic_id();
    reports[cpu].runs++;
}

static void smp_runs_job_on_each_cpu(void)
{
    unsigned n = smp_cpu_count();
    if (!hvt_true(n == hvt_info()->cpu_count, "smp_cpu_count matches the boot info"))
        return;
    for (unsigned cpu = 0; cpu < n && cpu < 64; cpu++)
        reports[cpu] = (struct cpu_report){ .cpu = ~0u };
    for (unsigned cpu = 0; cpu < n && cpu < 64; cpu++)
        hvt_true(smp_call(cpu, report_job, NULL), "smp_call");
    for (unsigned cpu = 0; cpu < n && cpu < 64; cpu++) {
        smp_wait(cpu);
        hvt_eq(reports[cpu].cpu, cpu, "the CPU a job ran on");
        hvt_eq(reports[cpu].runs, 1, "runs of the job");
        /* Each control-domain vcpu is pinned: distinct CPUs, distinct APICs. */
        for (unsigned other = 0; other < cpu; other++)
            hvt_true(reports[other].apic_id != reports[cpu].apic_id,
                     "two control-domain vcpus on one physical CPU");
    }
    hvt_true(!smp_call(n, report_job, NULL), "smp_call on a CPU that does not exist");
}

/* Many jobs in a row: every wake is answered, none is lost to the race
 * between a CPU checking its mailbox and halting. */
static void smp_many_jobs_no_lost_wakeup(void)
{
    unsigned n = smp_cpu_count();
    for (unsigned cpu = 0; cpu < n && cpu < 64; cpu++)
        reports[cpu].runs = 0;
    for (unsigned round = 0; round < ROUNDS; round++)
        for (unsigned cpu = 0; cpu < n && cpu < 64; cpu++)
            smp_call(cpu, report_job, NULL);
    for (unsigned cpu = 0; cpu < n && cpu < 64; cpu++) {
        smp_wait(cpu);
        hvt_eq(reports[cpu].runs, ROUNDS, "jobs run on one CPU");
    }
}

static void wake_cpu_checks_its_argument(void)
{
    hvt_err(hv_wake_cpu(hvt_sys(), hvt_info()->cpu_count), -HV_ERANGE,
            "WAKE_CPU beyond the last CPU");
    hvt_err(hv_wake_cpu(hvt_sys(), 0), 0, "WAKE_CPU of the calling CPU");
    hvt_err(hv_call(HV_CALL_WAKE_CPU, (uint64_t)hvt_sys(), ~0ull, 0, 0, 0, 0), -HV_ERANGE,
            "WAKE_CPU with a huge index");
}

const struct hvtest_case hvtest_smp_cases[] = {
    { "smp_runs_job_on_each_cpu", smp_runs_job_on_each_cpu },
    { "smp_many_jobs_no_lost_wakeup", smp_many_jobs_no_lost_wakeup },
    { "wake_cpu_checks_its_argument", wake_cpu_checks_its_argument },
    { NULL, NULL },
};
