#include "hv/run_watchdog.h"

#include "hv/apic.h"
#include "hv/console.h"
#include "hv/host_timer.h"
#include "hv/nmi.h"
#include "hv/percpu.h"
#include "hv/x86.h"

bool run_watchdog_lost_slice_interrupts;

/* Whatever the other CPUs do at this moment: one that enters a RUN just
 * after a look would go unwatched for as long as this CPU sleeps, which
 * with nothing else to wake it is for ever (hvtest's watchdog case hung
 * so, twice: its GET_REGS saw the vcpu claimed, its HLT came before the
 * RUN had set slice_end). */
bool run_watchdog_arm(void)
{
    struct percpu *cpu = this_cpu();
    if (!cpu->slice_ticks || cpu_count < 2)
        return false;
    host_timer_start(cpu, RUN_WATCHDOG_SLICES * cpu->slice_ticks,
                     rdtsc() + RUN_WATCHDOG_SLICES * cpu->slice_tsc);
    return true;
}

void run_watchdog_check(bool armed)
{
    struct percpu *cpu = this_cpu();
    if (!armed)
        return;
    host_timer_stop(cpu);
    uint64_t now = rdtsc();
    uint64_t overrun = RUN_WATCHDOG_SLICES * cpu->slice_tsc;
    for (unsigned i = 0; i < cpu_count; i++) {
        struct percpu *other = percpu_of[i];
        if (i == cpu->index || !other)
            continue;
        uint64_t end = __atomic_load_n(&other->slice_end, __ATOMIC_RELAXED);
        if (!end || now < end + overrun)
            continue;
        /* One NMI outstanding per CPU: its handler clears the flag. */
        if (__atomic_exchange_n(&other->watchdog_nmi, true, __ATOMIC_ACQ_REL))
            continue;
        pr_warn("run watchdog: CPU %u is %llu ms past its RUN's slice without an exit: NMI",
                i, (unsigned long long)((now - end) / (cpu->slice_tsc / (TIME_SLICE_US / 1000))));
        nmi_send(i);
    }
}

bool run_watchdog_nmi_taken(void)
{
    return __atomic_exchange_n(&this_cpu()->watchdog_nmi, false, __ATOMIC_ACQ_REL);
}
