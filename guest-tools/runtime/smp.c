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
    while (__atomic_load_n(&box->done, __ATOMIC_ACQUIRE) != box->posted)
        __asm__ volatile("pause" ::: "memory");
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
    box->job = job;
    box->arg = arg;
    __atomic_store_n(&box->posted, box->posted + 1, __ATOMIC_RELEASE);
    hv_wake_cpu(system, cpu);
    return true;
}
