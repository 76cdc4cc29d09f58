/*
 * PC CMOS RAM layout (see pc_cmos.h). The sizes are as an AT BIOS reports
 * them, each field saturating rather than wrapping when the RAM is larger
 * than it can say, so that a reader sees "at least this much".
 */
#include "guest-tools/vmm/devices/pc_cmos.h"

#define KIB 1024ull
#define MIB (1024 * KIB)

static void set16(struct mc146818 *rtc, uint8_t index, uint64_t value)
{
    if (value > 0xffff)
        value = 0xffff;
    mc146818_cmos_set(rtc, index, (uint8_t)value);
    mc146818_cmos_set(rtc, (uint8_t)(index + 1), (uint8_t)(value >> 8));
}

/*
 * 640 KiB base memory; KiB from 1 MiB up (to 64 MiB) in 0x17-0x18 and again
 * in 0x30-0x31; 64 KiB units from 16 MiB to the top of RAM below 4 GiB in
 * 0x34-0x35; 64 KiB units above 4 GiB in 0x5b-0x5d. The equipment byte
 * says: math coprocessor, EGA/VGA display, no floppy drive. 0x5f is the CPU
 * count less one (SeaBIOS waits for that many APs). The AT checksum covers
 * 0x10-0x2d, high byte first.
 */
void pc_cmos_fill(struct mc146818 *rtc, uint64_t ram_below_4g, uint64_t ram_above_4g,
                  unsigned cpu_count)
{
    uint64_t above_4g_units = ram_above_4g / (64 * KIB);
    uint64_t extended_kib = ram_below_4g > MIB ? (ram_below_4g - MIB) / KIB : 0;
    unsigned checksum = 0;

    mc146818_cmos_set(rtc, CMOS_EQUIPMENT, 0x02);
    set16(rtc, CMOS_BASE_MEMORY_KB, 640);
    set16(rtc, CMOS_EXT_MEMORY_KB, extended_kib);
    set16(rtc, CMOS_EXT_MEMORY_KB_2, extended_kib);
    set16(rtc, CMOS_MEMORY_ABOVE_16M,
          ram_below_4g > 16 * MIB ? (ram_below_4g - 16 * MIB) / (64 * KIB) : 0);
    if (above_4g_units > 0xffffff)
        above_4g_units = 0xffffff;
    mc146818_cmos_set(rtc, CMOS_MEMORY_ABOVE_4G, (uint8_t)above_4g_units);
    mc146818_cmos_set(rtc, CMOS_MEMORY_ABOVE_4G + 1, (uint8_t)(above_4g_units >> 8));
    mc146818_cmos_set(rtc, CMOS_MEMORY_ABOVE_4G + 2, (uint8_t)(above_4g_units >> 16));
    mc146818_cmos_set(rtc, CMOS_CPU_COUNT_MINUS_1, (uint8_t)(cpu_count ? cpu_count - 1 : 0));
    for (uint8_t index = 0x10; index < CMOS_CHECKSUM; index++)
        checksum += mc146818_cmos_get(rtc, index);
    mc146818_cmos_set(rtc, CMOS_CHECKSUM, (uint8_t)(checksum >> 8));
    mc146818_cmos_set(rtc, CMOS_CHECKSUM + 1, (uint8_t)checksum);
}
