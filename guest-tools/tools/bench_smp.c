/*
 * bench, second table: what a vcpu call costs when several control-domain
 * CPUs make calls at once. With k = 1, 2, 4 CPUs (as many as exist) each
 * CPU runs BENCH_SMP_CALLS GET_REGS
 *   - on its own vcpu of one VM (the design: no line shared between CPUs
 *     but the VM's, which a per-vcpu call does not write), and
 *   - all on vcpu 0 (a shared vcpu: the CPUs contend for its lock, and a
 *     call that finds it taken returns -HV_EBUSY at once; such calls count
 *     as calls and their share is printed).
 * Per row: the median ticks of one call on each CPU (RDTSC on that CPU)
 * and the calls of all CPUs per million ticks of the slowest CPU's loop.
 * Under QEMU -icount a tick is an instruction; without it, wall TSC.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/tools/bench.h"
#include "guest-tools/vmm/vmm.h"

#define BENCH_SMP_CALLS   1000
#define BENCH_SMP_MAX     4         /* CPUs in the widest row */
#define BENCH_SMP_RAM     2         /* MiB: the vcpus never run */

/* One CPU's part of a row; a cache line each, so the CPUs measure calls,
 * not the bench's own bookkeeping. */
struct cpu_part {
    hv_handle_t vcpu;
    uint64_t median;
    uint64_t loop_ticks;
    unsigned busy;
} __attribute__((aligned(64)));

static struct cpu_part parts[BENCH_SMP_MAX];
static uint64_t samples[BENCH_SMP_MAX][BENCH_SMP_CALLS];
static volatile unsigned ready __attribute__((aligned(64)));
static unsigned row_cpus;

/* Runs on CPU cpu: wait for the row's other CPUs, then time the loop. */
static void get_regs_loop(unsigned cpu, void *arg)
{
    struct cpu_part *part = arg;
    struct hv_regs regs;

    /* A start line so that the CPUs' loops overlap. */
    __atomic_add_fetch(&ready, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) < row_cpus)
        __asm__ volatile("pause");

    uint64_t loop_start = rdtsc();
    for (unsigned i = 0; i < BENCH_SMP_CALLS; i++) {
        uint64_t start = rdtsc();
        long rc = hv_get_regs(part->vcpu, &regs);
        uint64_t end = rdtsc();
        samples[cpu][i] = end - start;
        part->busy += rc == -HV_EBUSY;
    }
    part->loop_ticks = rdtsc() - loop_start;
    part->median = bench_median(samples[cpu], BENCH_SMP_CALLS);
}

/* One row: k CPUs, CPU c on vcpus[c] (own) or all on vcpus[0] (shared). */
static void run_row(const struct vm_instance *vm, unsigned k, int shared)
{
    ready = 0;
    row_cpus = k;
    for (unsigned c = 0; c < k; c++)
        parts[c] = (struct cpu_part){ .vcpu = vm->vcpus[shared ? 0 : c].handle };
    /* CPU 0 runs its part inline: hand out the others first. */
    for (unsigned c = k; c-- > 0;)
        smp_call(c, get_regs_loop, &parts[c]);
    for (unsigned c = 1; c < k; c++)
        smp_wait(c);
}

static void print_row(unsigned k, const char *variant)
{
    char medians[BENCH_SMP_MAX * 21 + 1];
    uint64_t slowest = 1;
    unsigned busy = 0;
    int used = 0;

    for (unsigned c = 0; c < k; c++) {
        used += snprintf(medians + used, sizeof(medians) - used, "%s%lu",
                         c ? " " : "", parts[c].median);
        if (parts[c].loop_ticks > slowest)
            slowest = parts[c].loop_ticks;
        busy += parts[c].busy;
    }
    ctl_printf("bench: %4u  %-7s %-24s %10lu %6u.%u%%\n", k, variant, medians,
               (uint64_t)k * BENCH_SMP_CALLS * 1000000 / slowest,
               busy * 100 / (k * BENCH_SMP_CALLS),
               busy * 1000 / (k * BENCH_SMP_CALLS) % 10);
}

int bench_smp_table(hv_handle_t sys)
{
    unsigned cpus = smp_cpu_count();
    unsigned vcpus = cpus < BENCH_SMP_MAX ? cpus : BENCH_SMP_MAX;
    struct vm_instance vm;

    /* GET_REGS needs no guest: the vcpus stay in their reset state. */
    if (vmm_create_smp(&vm, sys, "bench_smp", BENCH_SMP_RAM, vcpus) < 0)
        return 1;
    ctl_printf("bench: GET_REGS from k CPUs at once, %u calls each; ticks "
               "per call (median, per CPU) and calls per 1M ticks (all CPUs)\n",
               BENCH_SMP_CALLS);
    ctl_printf("bench: %4s  %-7s %-24s %10s %8s\n", "CPUs", "vcpus",
               "ticks/call per CPU", "calls/1M", "EBUSY");
    for (unsigned k = 1; k <= BENCH_SMP_MAX; k *= 2) {
        if (k > cpus) {
            ctl_printf("bench: %4u  skipped: %u CPU%s\n", k, cpus,
                       cpus == 1 ? "" : "s");
            continue;
        }
        run_row(&vm, k, 0);
        print_row(k, "own");
        run_row(&vm, k, 1);
        print_row(k, "shared");
    }
    vmm_destroy(&vm);
    return 0;
}
