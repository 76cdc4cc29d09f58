/*
 * TSC <-> guest nanoseconds (see guest_clock.h). A TSC delta d at f kHz is
 * d * 10^6 / f ns; it is computed as (d / f) * 10^6 plus the remainder's
 * share, whose product stays below f * 10^6 < 2^63 for any f below 9 THz.
 */
#include "guest-tools/vmm/pc/guest_clock.h"

#define NS_PER_MS 1000000ull

uint64_t guest_clock_ns(const struct guest_clock *clock, uint64_t tsc)
{
    uint64_t d, khz = clock->tsc_khz;

    if (tsc <= clock->start_tsc)
        return 0;
    d = tsc - clock->start_tsc;
    return d / khz * NS_PER_MS + d % khz * NS_PER_MS / khz;
}

uint64_t guest_clock_tsc(const struct guest_clock *clock, uint64_t ns)
{
    uint64_t ms = ns / NS_PER_MS, rest = ns % NS_PER_MS, khz = clock->tsc_khz;
    uint64_t whole, delta, tsc;

    /* ms * khz overflowing means centuries away: as good as never. */
    if (ns == UINT64_MAX || (ms != 0 && ms > UINT64_MAX / khz))
        return UINT64_MAX;
    whole = ms * khz;
    delta = whole + (rest * khz + NS_PER_MS - 1) / NS_PER_MS;
    tsc = clock->start_tsc + delta;
    return delta < whole || tsc < delta ? UINT64_MAX : tsc;
}
