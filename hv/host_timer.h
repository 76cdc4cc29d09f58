/* This CPU's APIC timer, with when it fires kept beside it
 * (percpu.host_timer_end), so that a RUN may leave running a timer that
 * fires no later than the RUN needs, instead of writing the timer's
 * count at each RUN's start and end: two APIC writes a RUN (an MMIO
 * write each in xAPIC mode, and under QEMU each under its big lock).
 * A timer that fires early, during a later RUN, costs that RUN one exit,
 * after which vcpu_after_interrupt arms it for the RUN's own end. The
 * timer's interrupt handler (hv/main.c) forgets the expiry. All on the
 * CPU itself, with interrupts off. */
#ifndef HV_HOST_TIMER_H
#define HV_HOST_TIMER_H

#include <stdint.h>

#include "hv/apic.h"
#include "hv/percpu.h"

/* Arms the timer for `ticks` of its own, which end at TSC `end`. */
static inline void host_timer_start(struct percpu *cpu, uint32_t ticks, uint64_t end)
{
    apic_timer_start(ticks);
    cpu->host_timer_end = end;
}

static inline void host_timer_stop(struct percpu *cpu)
{
    apic_timer_stop();
    cpu->host_timer_end = 0;
}

/* A RUN's slice timer: left as it is if it fires by the slice's end. */
static inline void host_timer_for_slice(struct percpu *cpu)
{
    uint64_t end = cpu->host_timer_end;
    if (!end || end > cpu->slice_end)
        host_timer_start(cpu, cpu->slice_ticks, cpu->slice_end);
}

#endif
