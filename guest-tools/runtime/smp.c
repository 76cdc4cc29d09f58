#include "guest-tools/runtime/smp.h"

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/stacks.h"

/* One mailbox a CPU, on its own cache line: the only lines the CPUs share
 * are these, written once per job by each side. */
struct mailbox {
    smp_job job;
    void *arg;
    volatile unsigned posted;   /* jobs handed to this CPU */
    volatile unsigned done;     /* jobs it has finished */
    /* Jobs handed to the CPU's running job while it lends the CPU
     * (smp_lend): the same protocol on a second slot. */
    smp_job lent_job;
    void *lent_arg;
    volatile unsigned lent_posted, lent_done;
    volatile bool lent;
} __attribute__((aligned(64)));

static struct mailbox mailboxes[CTL_MAX_CPUS];
static hv_handle_t system;
static unsigned count = 1;

void smp_init(hv_handle_t system_handle, unsigned cpu_count)
{
    system = system_handle;
    count = cpu_count < CTL_MAX_CPUS ? cpu_count : CTL_MAX_CPUS;
}

unsigned smp_cpu_count(void) { return count; }

__attribute__((noreturn)) void smp_idle_loop(unsigned cpu)
{
    struct mailbox *box = &mailboxes[cpu];
    for (;;) {
        /* The HLT returns on WAKE_CPU, also on one made before it. */
        while (__atomic_load_n(&box->posted, __ATOMIC_ACQUIRE) == box->done)
            __asm__ volatile("hlt" ::: "memory");
        box->job(cpu, box->arg);
        __atomic_store_n(&box->done, box->done + 1, __ATOMIC_RELEASE);
    }
}

void smp_wait(unsigned cpu)
{
    struct mailbox *box = &mailboxes[cpu];
    if (box->lent) {
        while (__atomic_load_n(&box->lent_done, __ATOMIC_ACQUIRE) != box->lent_posted)
            __asm__ volatile("pause" ::: "memory");
        return;
    }
    while (__atomic_load_n(&box->done, __ATOMIC_ACQUIRE) != box->posted)
        __asm__ volatile("pause" ::: "memory");
}

void smp_lend(unsigned cpu, bool lent)
{
    struct mailbox *box = &mailboxes[cpu];

    if (cpu == 0 || cpu >= count)
        return;
    if (!lent)
        smp_wait(cpu);       /* what was handed over runs before the flag goes */
    box->lent = lent;
}

bool smp_serve(unsigned cpu)
{
    struct mailbox *box = &mailboxes[cpu];

    if (__atomic_load_n(&box->lent_posted, __ATOMIC_ACQUIRE) == box->lent_done)
        return false;
    box->lent_job(cpu, box->lent_arg);
    __atomic_store_n(&box->lent_done, box->lent_done + 1, __ATOMIC_RELEASE);
    return true;
}

bool smp_call(unsigned cpu, smp_job job, void *arg)
{
    if (cpu >= count)
        return false;
    if (cpu == 0) {
        job(0, arg);
        return true;
    }
    struct mailbox *box = &mailboxes[cpu];
    smp_wait(cpu);
    if (box->lent) {
        box->lent_job = job;
        box->lent_arg = arg;
        __atomic_store_n(&box->lent_posted, box->lent_posted + 1, __ATOMIC_RELEASE);
        hv_wake_cpu(system, cpu);    /* in case it waits in HLT for work */
        return true;
    }
    box->job = job;
    box->arg = arg;
    __atomic_store_n(&box->posted, box->posted + 1, __ATOMIC_RELEASE);
    hv_wake_cpu(system, cpu);
    return true;
}
