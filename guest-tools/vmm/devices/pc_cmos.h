/*
 * What a PC keeps in CMOS RAM besides the clock: the bytes an AT BIOS,
 * SeaBIOS and older operating systems read for the equipment, the memory
 * size and the CPU count. The VMM fills them once, after mc146818_init and
 * before the guest runs; the guest may rewrite them as it likes.
 *
 * pc_cmos_fill: `ram_below_4g` is the top of RAM below 4 GiB (RAM from 0,
 * the PCI hole excluded), `ram_above_4g` the RAM mapped from 4 GiB up,
 * `cpu_count` the number of vcpus.
 *
 * Locking: as the mc146818 it fills.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_PC_CMOS_H
#define GUEST_TOOLS_VMM_DEVICES_PC_CMOS_H

#include "guest-tools/vmm/devices/mc146818.h"

/* CMOS RAM bytes a PC BIOS and OS read (IBM AT layout; 0x5b-0x5f are the
 * QEMU/SeaBIOS extensions). */
#define CMOS_SHUTDOWN_STATUS   0x0f
#define CMOS_EQUIPMENT         0x14
#define CMOS_BASE_MEMORY_KB    0x15 /* 16 bits, low byte first */
#define CMOS_EXT_MEMORY_KB     0x17 /* 1 MiB-65 MiB in KiB, 16 bits */
#define CMOS_CHECKSUM          0x2e /* 16 bits, high byte first: 0x10-0x2d */
#define CMOS_EXT_MEMORY_KB_2   0x30 /* copy of 0x17-0x18 */
#define CMOS_MEMORY_ABOVE_16M  0x34 /* 16 MiB-4 GiB in 64 KiB units, 16 bits */
#define CMOS_MEMORY_ABOVE_4G   0x5b /* above 4 GiB in 64 KiB units, 24 bits */
#define CMOS_CPU_COUNT_MINUS_1 0x5f

void pc_cmos_fill(struct mc146818 *rtc, uint64_t ram_below_4g, uint64_t ram_above_4g,
                  unsigned cpu_count);

#endif
