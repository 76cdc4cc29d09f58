/*
 * bench, second table: what a path costs when several control-domain CPUs
 * take it at once, and how its throughput scales from 1 CPU to 2 (and 4).
 * With k CPUs, each runs BENCH_SMP_OPS operations of one workload:
 *
 *   spin          no exit at all: a loop of arithmetic in the control
 *                 domain, the emulator's own ceiling for k CPUs
 *   unknown call  a hypercall with an unknown number: an exit and an
 *                 entry that touch no hypervisor data, the ceiling for
 *                 any path with an exit
 *   GET_REGS      on the CPU's own vcpu of one VM (the design: no line
 *                 shared between CPUs but the VM's, which a per-vcpu call
 *                 does not write), and all on vcpu 0 (shared)
 *   RUN OUT       RUN of a guest looping on OUT, own vcpu or shared
 *   RUN MMIO      RUN of a guest looping on an MMIO write, each CPU on
 *                 its own vcpu of one VM (the write-fault path's slot
 *                 lookup is what the VM shares); the VMM moves RIP past
 *                 the write with GET_REGS and SET_REGS, counted in the op
 *
 * A shared vcpu lets one CPU in at a time: a call that finds it taken
 * returns -HV_EBUSY at once and counts as an op, its share printed.
 * Per row: the median ticks of one op on each CPU (RDTSC on that CPU) and
 * the ops of all CPUs per 10^9 ticks of the slowest CPU's loop. Under
 * QEMU -icount a tick is an instruction and the CPUs take turns, so only
 * the per-op ticks mean anything; without -icount (multi-threaded TCG) a
 * tick is wall time and the scaling lines say how throughput grows with
 * the CPUs, for each path also as a fraction of the unknown call's
 * growth (issue 14: per-vcpu paths at >= 0.9 of it).
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/tools/bench.h"
#include "guest-tools/vmm/vmm.h"

#define BENCH_SMP_OPS     5000
#define BENCH_SMP_MAX     4         /* CPUs in the widest row */
#define BENCH_SMP_RAM     2         /* MiB for each VM */
#define BENCH_SMP_MMIO    0xd0000000u
#define BENCH_SMP_SPIN    200       /* arithmetic steps in one spin op */
#define BENCH_SMP_LOOP_PORT 0x80

/* Flat 32-bit code at the load address, the same on every vcpu. */
static const uint8_t out_loop[] = {
    0xe6, BENCH_SMP_LOOP_PORT,      /* out %al, $0x80 */
    0xeb, 0xfc,                     /* jmp back to the out */
};
static const uint8_t mmio_loop[] = {
    0xa3, 0x00, 0x00, 0x00, 0xd0,   /* mov %eax, 0xd0000000 */
    0xeb, 0xf9,                     /* jmp back to the mov */
};
#define MMIO_WRITE_LENGTH 5

enum workload { SPIN, UNKNOWN_CALL, GET_REGS, RUN_OUT, RUN_MMIO, WORKLOADS };

static const char *const workload_names[WORKLOADS] = {
    "spin", "unknown call", "GET_REGS", "RUN OUT", "RUN MMIO",
};

/* One CPU's part of a row; a cache line each, so the CPUs measure the
 * path, not the bench's own bookkeeping. */
struct cpu_part {
    const struct vm_instance *vm;
    unsigned vcpu;
    enum workload workload;
    uint64_t median;
    uint64_t loop_ticks;
    unsigned busy;
    unsigned failed;                /* ops that did not do what they should */
} __attribute__((aligned(64)));

static struct cpu_part parts[BENCH_SMP_MAX];
static uint64_t samples[BENCH_SMP_MAX][BENCH_SMP_OPS];
static volatile unsigned ready __attribute__((aligned(64)));
static unsigned row_cpus;

static void spin_op(void)
{
    uint64_t x = 1;
    for (unsigned i = 0; i < BENCH_SMP_SPIN; i++)
        __asm__ volatile("imul $3, %0, %0\n\tadd $1, %0" : "+r"(x));
}

/* RUN once; an exit that is not the loop's (a time slice's end) is not an
 * error but repeats nothing: the op still counts, as the exit was real. */
static long run_op(struct cpu_part *part, uint32_t want_exit)
{
    const struct vmm_vcpu *vcpu = &part->vm->vcpus[part->vcpu];
    long rc = hv_run(vcpu->handle);
    if (rc < 0)
        return rc;
    uint32_t reason = vcpu->run->exit_reason;
    if (reason == HV_EXIT_INTR)
        return 0;
    if (reason != want_exit)
        return -HV_EINVAL;
    if (reason == HV_EXIT_MMIO) {
        struct hv_regs regs;
        if (hv_get_regs(vcpu->handle, &regs) < 0)
            return -HV_EINVAL;
        regs.rip += MMIO_WRITE_LENGTH;
        if (hv_set_regs(vcpu->handle, &regs) < 0)
            return -HV_EINVAL;
    }
    return 0;
}

static long one_op(struct cpu_part *part)
{
    struct hv_regs regs;

    switch (part->workload) {
    case SPIN:
        spin_op();
        return 0;
    case UNKNOWN_CALL:
        return hv_call(0xffff, 0, 0, 0, 0, 0, 0) == -HV_ENOSYS ? 0 : -HV_EINVAL;
    case GET_REGS:
        return hv_get_regs(part->vm->vcpus[part->vcpu].handle, &regs);
    case RUN_OUT:
        return run_op(part, HV_EXIT_IO);
    case RUN_MMIO:
        return run_op(part, HV_EXIT_MMIO);
    default:
        return -HV_EINVAL;
    }
}

/* Runs on CPU cpu: wait for the row's other CPUs, then time the loop. */
static void op_loop(unsigned cpu, void *arg)
{
    struct cpu_part *part = arg;

    /* A start line so that the CPUs' loops overlap. */
    __atomic_add_fetch(&ready, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) < row_cpus)
        __asm__ volatile("pause");

    uint64_t loop_start = rdtsc();
    for (unsigned i = 0; i < BENCH_SMP_OPS; i++) {
        uint64_t start = rdtsc();
        long rc = one_op(part);
        uint64_t end = rdtsc();
        samples[cpu][i] = end - start;
        part->busy += rc == -HV_EBUSY;
        part->failed += rc < 0 && rc != -HV_EBUSY;
    }
    part->loop_ticks = rdtsc() - loop_start;
    part->median = bench_median(samples[cpu], BENCH_SMP_OPS);
}

/* One row: k CPUs, CPU c on vcpu c (own) or all on vcpu 0 (shared).
 * Returns the ops of all CPUs per 10^9 ticks of the slowest loop. */
static uint64_t run_row(const struct vm_instance *vm, enum workload workload,
                        unsigned k, int shared)
{
    ready = 0;
    row_cpus = k;
    for (unsigned c = 0; c < k; c++)
        parts[c] = (struct cpu_part){ .vm = vm, .vcpu = shared ? 0 : c,
                                      .workload = workload };
    /* CPU 0 runs its part inline: hand out the others first. */
    for (unsigned c = k; c-- > 0;)
        smp_call(c, op_loop, &parts[c]);
    for (unsigned c = 1; c < k; c++)
        smp_wait(c);

    char medians[BENCH_SMP_MAX * 21 + 1];
    uint64_t slowest = 1;
    unsigned busy = 0, failed = 0;
    int used = 0;
    for (unsigned c = 0; c < k; c++) {
        used += snprintf(medians + used, sizeof(medians) - used, "%s%lu",
                         c ? " " : "", parts[c].median);
        if (parts[c].loop_ticks > slowest)
            slowest = parts[c].loop_ticks;
        busy += parts[c].busy;
        failed += parts[c].failed;
    }
    uint64_t per_billion = (uint64_t)k * BENCH_SMP_OPS * 1000000000 / slowest;
    ctl_printf("bench: %-13s %4u  %-7s %-24s %10lu %6u.%u%%%s\n",
               workload_names[workload], k, shared ? "shared" : "own", medians,
               per_billion, busy * 100 / (k * BENCH_SMP_OPS),
               busy * 1000 / (k * BENCH_SMP_OPS) % 10,
               failed ? "  FAILED OPS" : "");
    return failed ? 0 : per_billion;
}

/* A VM of `vcpus` vcpus all starting `code` (flat 32-bit, at the load
 * address) or left in their reset state when code is NULL. */
static int make_vm(struct vm_instance *vm, hv_handle_t sys, const char *name,
                   unsigned vcpus, const uint8_t *code, uint64_t size)
{
    if (vmm_create_smp(vm, sys, name, BENCH_SMP_RAM, vcpus) < 0)
        return -1;
    if (code && vmm_load_image(vm, code, size, "") < 0) {
        vmm_destroy(vm);
        return -1;
    }
    return 0;
}

/* ops per 10^9 ticks for [workload][k index][own, shared] */
static uint64_t throughput[WORKLOADS][3][2];

static void print_scaling(unsigned widest)
{
    uint64_t ceiling_1 = throughput[UNKNOWN_CALL][0][0];
    uint64_t ceiling_k = throughput[UNKNOWN_CALL][widest][0];

    ctl_printf("bench: scaling from 1 to %u CPUs (throughput ratio; ideal %u.00) "
               "and as a fraction of the unknown call's\n", 1u << widest, 1u << widest);
    for (enum workload w = SPIN; w < WORKLOADS; w++)
        for (int shared = 0; shared < 2; shared++) {
            uint64_t one = throughput[w][0][0], many = throughput[w][widest][shared];
            if (!one || !many)
                continue;
            uint64_t ratio = many * 100 / one;
            ctl_printf("bench: %-13s %-7s %lu.%02lu", workload_names[w],
                       shared ? "shared" : "own", ratio / 100, ratio % 100);
            if (w != SPIN && ceiling_1 && ceiling_k) {
                uint64_t ceiling_ratio = ceiling_k * 100 / ceiling_1;
                uint64_t fraction = ratio * 100 / (ceiling_ratio ? ceiling_ratio : 1);
                ctl_printf(" (%lu.%02lu of the exit ceiling)", fraction / 100, fraction % 100);
            }
            ctl_printf("\n");
        }
}

int bench_smp_table(hv_handle_t sys)
{
    unsigned cpus = smp_cpu_count();
    unsigned vcpus = cpus < BENCH_SMP_MAX ? cpus : BENCH_SMP_MAX;
    struct vm_instance regs_vm, out_vm, mmio_vm;
    const struct vm_instance *vm_of[WORKLOADS] = {
        [GET_REGS] = &regs_vm, [RUN_OUT] = &out_vm, [RUN_MMIO] = &mmio_vm,
    };
    int status = 0;

    /* GET_REGS needs no guest: its vcpus stay in their reset state. */
    if (make_vm(&regs_vm, sys, "bench_smp", vcpus, NULL, 0) < 0)
        return 1;
    if (make_vm(&out_vm, sys, "bench_out", vcpus, out_loop, sizeof(out_loop)) < 0) {
        vmm_destroy(&regs_vm);
        return 1;
    }
    if (make_vm(&mmio_vm, sys, "bench_mmio", vcpus, mmio_loop, sizeof(mmio_loop)) < 0) {
        vmm_destroy(&out_vm);
        vmm_destroy(&regs_vm);
        return 1;
    }
    ctl_printf("bench: k CPUs at once, %u ops each; ticks per op (median, per "
               "CPU) and ops per 10^9 ticks (all CPUs)\n", BENCH_SMP_OPS);
    ctl_printf("bench: %-13s %4s  %-7s %-24s %10s %8s\n", "path", "CPUs", "vcpus",
               "ticks/op per CPU", "ops/1G", "EBUSY");
    unsigned widest = 0;
    for (enum workload w = SPIN; w < WORKLOADS; w++)
        for (unsigned k = 1, ki = 0; k <= BENCH_SMP_MAX; k *= 2, ki++) {
            if (k > cpus)
                continue;
            widest = ki > widest ? ki : widest;
            const struct vm_instance *vm = vm_of[w];
            throughput[w][ki][0] = run_row(vm, w, k, 0);
            status |= throughput[w][ki][0] == 0;
            /* Sharing means something only where there is a vcpu to share;
             * MMIO is measured per vcpu (its shared part is the VM). */
            if (k > 1 && (w == GET_REGS || w == RUN_OUT)) {
                throughput[w][ki][1] = run_row(vm, w, k, 1);
                status |= throughput[w][ki][1] == 0;
            }
        }
    if (cpus == 1)
        ctl_printf("bench: 1 CPU: no scaling to show\n");
    else
        print_scaling(widest);
    vmm_destroy(&mmio_vm);
    vmm_destroy(&out_vm);
    vmm_destroy(&regs_vm);
    return status;
}
