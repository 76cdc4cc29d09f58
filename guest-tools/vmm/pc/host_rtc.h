/*
 * The host's time of day, read from the machine's own MC146818 RTC at
 * ports 0x70/0x71, which the hypervisor passes through to the control
 * domain (it intercepts only its console UART). A guest's RTC starts from
 * it, so a guest reads the time the host's firmware keeps (UTC under
 * QEMU's default -rtc base=utc).
 *
 * Locking: the index port is machine-wide state; only the control
 * domain's CPU that creates VMs calls this.
 */
#ifndef GUEST_TOOLS_VMM_PC_HOST_RTC_H
#define GUEST_TOOLS_VMM_PC_HOST_RTC_H

#include <stdbool.h>
#include <stdint.h>

/* Seconds since 1970-01-01 00:00:00 as the RTC counts them; false if no
 * RTC answers sensibly (then *seconds is 0). */
bool host_rtc_read(uint64_t *seconds);

/* The same at the moment the RTC's seconds advance (waiting for it up to
 * about 1.5 s, measured with the TSC at tsc_khz), so that the reading is
 * the time of day to within the reading's own cost, not up to a second
 * behind it: a guest RTC started from it at once keeps the host's second
 * boundaries. If the seconds never advance, the plain reading. */
bool host_rtc_read_at_edge(uint64_t *seconds, uint64_t tsc_khz);

#endif
