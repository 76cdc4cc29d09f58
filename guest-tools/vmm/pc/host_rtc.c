/*
 * Reading the host RTC (see host_rtc.h), as a BIOS does (MC146818 data
 * sheet): wait until no update is in progress, read the time registers,
 * and read again until two readings agree, so that a second boundary
 * between two registers cannot give a time that never was. The registers
 * are BCD unless register B's DM bit says binary, and the hour is 12-hour
 * with bit 7 for PM unless B's 24/12 bit is set. The century comes from
 * CMOS byte 0x32 (the PC convention, also the FADT's), or 20 if it does
 * not hold a believable one.
 */
#include "guest-tools/runtime/port_io.h"
#include "guest-tools/vmm/devices/calendar.h"
#include "guest-tools/vmm/devices/mc146818.h"
#include "guest-tools/vmm/pc/host_rtc.h"

#define UIP_WAIT_LOOPS 1000000   /* an update lasts under 2 ms */
#define READ_ATTEMPTS  10

struct rtc_reading {
    uint8_t second, minute, hour, day, month, year, century, b;
};

static uint8_t cmos_read(uint8_t index)
{
    outb(MC146818_PORT_BASE, index);   /* bit 7 clear: NMIs stay enabled */
    return inb(MC146818_PORT_BASE + 1);
}

static bool wait_no_update(void)
{
    for (unsigned i = 0; i < UIP_WAIT_LOOPS; i++)
        if (!(cmos_read(RTC_REG_A) & RTC_A_UIP))
            return true;
    return false;
}

static void read_once(struct rtc_reading *r)
{
    r->second = cmos_read(RTC_SECONDS);
    r->minute = cmos_read(RTC_MINUTES);
    r->hour = cmos_read(RTC_HOURS);
    r->day = cmos_read(RTC_DAY_OF_MONTH);
    r->month = cmos_read(RTC_MONTH);
    r->year = cmos_read(RTC_YEAR);
    r->century = cmos_read(RTC_CENTURY);
    r->b = cmos_read(RTC_REG_B);
}

static bool same(const struct rtc_reading *a, const struct rtc_reading *b)
{
    return a->second == b->second && a->minute == b->minute && a->hour == b->hour &&
           a->day == b->day && a->month == b->month && a->year == b->year &&
           a->century == b->century && a->b == b->b;
}

static unsigned decode(uint8_t value, bool binary)
{
    return binary ? value : (unsigned)(value >> 4) * 10 + (value & 0xf);
}

bool host_rtc_read_at_edge(uint64_t *seconds, uint64_t tsc_khz)
{
    uint64_t first, now, give_up = __builtin_ia32_rdtsc() + tsc_khz * 1500;

    if (!host_rtc_read(&first))
        return host_rtc_read(seconds);
    *seconds = first;
    while (__builtin_ia32_rdtsc() < give_up)
        if (host_rtc_read(&now) && now != first) {
            *seconds = now;
            break;
        }
    return true;
}

bool host_rtc_read(uint64_t *seconds)
{
    struct rtc_reading a, b;
    struct calendar_time t;
    bool binary, agreed = false;
    unsigned hour, century;

    *seconds = 0;
    for (unsigned i = 0; i < READ_ATTEMPTS && !agreed; i++) {
        if (!wait_no_update())
            return false;
        read_once(&a);
        if (!wait_no_update())
            return false;
        read_once(&b);
        agreed = same(&a, &b);
    }
    if (!agreed || a.b == 0xff)        /* nothing on the bus reads 0xff */
        return false;
    binary = a.b & RTC_B_DM_BINARY;
    hour = decode(a.hour & 0x7f, binary);
    if (!(a.b & RTC_B_24H)) {
        hour %= 12;                    /* 12 AM is 0 h, 12 PM 12 h */
        if (a.hour & 0x80)
            hour += 12;
    }
    century = decode(a.century, binary);
    if (century < 19 || century > 21)
        century = 20;
    t = (struct calendar_time){
        .year = (int64_t)century * 100 + decode(a.year, binary),
        .month = decode(a.month, binary),
        .day = decode(a.day, binary),
        .hour = hour,
        .minute = decode(a.minute, binary),
        .second = decode(a.second, binary),
    };
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour > 23 ||
        t.minute > 59 || t.second > 59)
        return false;
    *seconds = (uint64_t)calendar_seconds_from_time(&t);
    return true;
}
