/*
 * Which control-domain CPU runs which PC guests' vcpus (see pc_vm.h):
 * one guest alone, or several at once sharing the CPUs.
 *
 * Each guest gets runners on the same CPUs (pc_prepare_run), so vcpu k of
 * every guest runs on the group's (k % n)-th CPU, and each guest's BSP
 * with its devices' time on the first. A CPU that runs one vcpu in all
 * runs it to the guest's end; a CPU with more takes the guests' runners
 * in turn, one quantum each (pc_run_turn), skipping guests that ended,
 * until all have. A halted vcpu's turn is a short look, so a busy guest
 * loses little to an idle one.
 *
 * With a tool beside (pc_vms_run_beside) the guests keep off CPU 0, which
 * runs the tool, and lend theirs (smp_lend): the tool's jobs for those
 * CPUs run between the guests' quanta, on the same CPUs as the guests'
 * vcpus, and after the guests' end until the tool's.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/vmm/pc/pc_internal.h"

/* What one CPU runs: a runner of each guest that has vcpus there. */
struct cpu_share {
    unsigned cpu;
    unsigned count;
    struct pc_runner *runners[PC_GROUP_MAX];
    bool lent;                   /* serves the tool's jobs (smp_serve) */
};

/* The group being run (one at a time: the pc tool runs on CPU 0). */
static struct cpu_share shares[CTL_MAX_CPUS];
static int tool_done;            /* the tool beside has returned (atomic) */

static void cpu_job(unsigned cpu, void *arg)
{
    struct cpu_share *share = arg;
    unsigned live;

    (void)cpu;
    /* Runner 0's CPU reads the console (CONSOLE_READ makes its caller the
     * reader), and takes what was typed ahead. */
    for (unsigned i = 0; i < share->count; i++)
        if (share->runners[i] == &share->runners[i]->pc->runners[0])
            pc_console_poll(share->runners[i]->pc, share->runners[i]);
    do {
        live = 0;
        for (unsigned i = 0; i < share->count; i++) {
            struct pc_runner *r = share->runners[i];

            if (pc_stopping(r->pc))
                continue;
            live++;
            pc_run_turn(r->pc, r, pc_next_vcpu(r->pc, r));
            if (share->lent)
                smp_serve(share->cpu);
        }
    } while (live != 0);
    for (unsigned i = 0; i < share->count; i++)
        __atomic_store_n(&share->runners[i]->current, -1, __ATOMIC_RELEASE);
    /* The guests ended before the tool: its jobs still come here. The HLT
     * returns on WAKE_CPU, which smp_call and the tool's end make. */
    while (share->lent && !__atomic_load_n(&tool_done, __ATOMIC_ACQUIRE))
        if (!smp_serve(share->cpu))
            __asm__ volatile("hlt" ::: "memory");
}

/* Runners of every guest on CPUs first .. first + cpus - 1, grouped by
 * CPU; shared when a CPU gets more than one vcpu in all. */
static void share_out(struct pc_vm *const *pcs, unsigned count, unsigned first, unsigned cpus,
                      bool lend)
{
    unsigned vcpus_on[CTL_MAX_CPUS] = { 0 };

    for (unsigned c = 0; c < cpus; c++)
        shares[c] = (struct cpu_share){ .cpu = first + c, .lent = lend };
    for (unsigned g = 0; g < count; g++)
        for (unsigned k = 0; k < pcs[g]->vm.vcpu_count; k++)
            vcpus_on[k % cpus]++;
    for (unsigned g = 0; g < count; g++) {
        pc_prepare_run(pcs[g], first, cpus, false);
        for (unsigned r = 0; r < pcs[g]->runner_count; r++) {
            struct cpu_share *share = &shares[r];

            /* A lent CPU needs quanta to serve the tool's jobs. */
            pcs[g]->runners[r].shared = lend || vcpus_on[r] > 1;
            share->runners[share->count++] = &pcs[g]->runners[r];
        }
    }
}

/* How many CPUs from `first` the guests use: no more than the most vcpus
 * of one guest (more would leave CPUs idle). */
static unsigned cpus_for(struct pc_vm *const *pcs, unsigned count, unsigned first)
{
    unsigned available = smp_cpu_count() - first, most = 1;

    for (unsigned g = 0; g < count; g++)
        if (pcs[g]->vm.vcpu_count > most)
            most = pcs[g]->vm.vcpu_count;
    return most < available ? most : available;
}

int pc_vms_run(struct pc_vm *const *pcs, unsigned count, struct pc_result *results)
{
    unsigned cpus = cpus_for(pcs, count, 0);

    if (count == 0 || count > PC_GROUP_MAX)
        return -HV_EINVAL;
    share_out(pcs, count, 0, cpus, false);
    /* CPU 0 runs its own share inline, so hand out the others first. */
    for (unsigned c = cpus; c-- > 0;)
        smp_call(c, cpu_job, &shares[c]);
    for (unsigned c = 1; c < cpus; c++)
        smp_wait(c);
    for (unsigned g = 0; g < count; g++)
        pc_finish_run(pcs[g], &results[g]);
    return 0;
}

int pc_vm_run(struct pc_vm *pc, struct pc_result *result)
{
    return pc_vms_run(&pc, 1, result);
}

int pc_vms_run_beside(struct pc_vm *const *pcs, unsigned count, struct pc_result *results,
                      void (*tool)(void *arg), void *arg)
{
    unsigned cpus;

    if (count == 0 || count > PC_GROUP_MAX || smp_cpu_count() < 2)
        return -HV_EINVAL;
    cpus = cpus_for(pcs, count, 1);
    share_out(pcs, count, 1, cpus, true);
    __atomic_store_n(&tool_done, 0, __ATOMIC_RELEASE);
    for (unsigned c = 0; c < cpus; c++) {
        smp_call(1 + c, cpu_job, &shares[c]);
        smp_lend(1 + c, true);
    }
    tool(arg);
    __atomic_store_n(&tool_done, 1, __ATOMIC_RELEASE);
    for (unsigned c = 0; c < cpus; c++) {
        smp_lend(1 + c, false);       /* the tool's last jobs there ran */
        hv_wake_cpu(pcs[0]->vm.sys, 1 + c);
        smp_wait(1 + c);
    }
    for (unsigned g = 0; g < count; g++)
        pc_finish_run(pcs[g], &results[g]);
    return 0;
}
