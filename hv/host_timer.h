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

#include <stdbool.h>
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

/* Whether the timer armed fires after `now` and by `end`: then it may
 * stay. One whose time has passed is armed again, whether or not its
 * interrupt came: one that waits in the APIC for a CPU that does not
 * take it (Bochs, a guest with IF clear) would otherwise leave a RUN
 * with no timer. */
static inline bool host_timer_fires_by(const struct percpu *cpu, uint64_t now, uint64_t end)
{
    uint64_t armed = cpu->host_timer_end;
    return armed > now && armed <= end;
}

/* A RUN's slice timer, left as it is if it fires by the slice's end. */
static inline void host_timer_for_slice(struct percpu *cpu, uint64_t now)
{
    if (!host_timer_fires_by(cpu, now, cpu->slice_end))
        host_timer_start(cpu, cpu->slice_ticks, cpu->slice_end);
}

#endif
