/*
 * Guest time for the device models: nanoseconds since the VM started,
 * derived from the TSC, which the control domain and the hypervisor read
 * alike (RUN's deadline_tsc is a TSC value) and which ticks at
 * CHECK_EXTENSION(HV_CAP_TSC_KHZ) kHz. Integer arithmetic only, split so
 * that no product overflows 64 bits for any realistic rate and uptime.
 *
 * guest_clock_tsc() is the inverse rounded up: the TSC value at which
 * guest_clock_ns() first reaches `ns`, so a deadline set from a model's
 * next event never fires before it.
 *
 * Pure; a clock is written once, when the VM starts, and only read after.
 */
#ifndef GUEST_TOOLS_VMM_PC_GUEST_CLOCK_H
#define GUEST_TOOLS_VMM_PC_GUEST_CLOCK_H

#include <stdint.h>

struct guest_clock {
    uint64_t start_tsc;   /* guest time 0 */
    uint64_t tsc_khz;     /* > 0 */
};

/* 0 for a TSC value before the start. */
uint64_t guest_clock_ns(const struct guest_clock *clock, uint64_t tsc);

/* The first TSC value at which guest time is at least `ns`; UINT64_MAX
 * for DEVICE_TIME_NEVER (UINT64_MAX) or a time beyond the TSC's range. */
uint64_t guest_clock_tsc(const struct guest_clock *clock, uint64_t ns);

#endif
