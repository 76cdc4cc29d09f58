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

#endif
