/*
 * pc_rtc: the MC146818 RTC/CMOS keeps the host's time of day. The test
 * tells the guest the host's UTC time on COM1 when the guest asks (the
 * prompt "rtc: waiting for the host's UTC time on COM1", the answer
 * `date +%s.%3N` and CR); the guest then takes the RTC at a seconds
 * boundary (where its value is exact to the update) and compares, the
 * TSC carrying the host's time forward from the answer's arrival:
 *   register D says the time is valid;
 *   the RTC is within a second of the host clock;
 *   consecutive seconds updates are a second apart (950-1050 ms).
 * Binary or BCD, 12- or 24-hour mode as register B says; the century
 * from the CMOS byte the FADT names, else 20.
 */
#include "guest-tools/guests/lib/acpi.h"
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/timing.h"
#include "guest-tools/guests/lib/uart.h"

#define CMOS_INDEX     0x70
#define CMOS_DATA      0x71
#define RTC_SECONDS    0x00
#define RTC_MINUTES    0x02
#define RTC_HOURS      0x04
#define RTC_DAY        0x07
#define RTC_MONTH      0x08
#define RTC_YEAR       0x09
#define RTC_REG_A      0x0a
#define RTC_REG_B      0x0b
#define RTC_REG_D      0x0d
#define REG_A_UIP      0x80     /* update in progress */
#define REG_B_24_HOUR  0x02
#define REG_B_BINARY   0x04
#define REG_D_VALID    0x80
#define HOUR_PM        0x80
#define FADT_CENTURY   108

struct rtc_time {
    uint32_t year, month, day, hour, minute, second;
};

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static uint32_t from_bcd(uint8_t value, int binary)
{
    return binary ? value : (uint32_t)(value >> 4) * 10 + (value & 0xf);
}

/* The registers outside an update (UIP clear), read until two reads
 * agree so that no update slipped in between. */
static void rtc_read_raw(uint8_t raw[7], uint8_t century_reg)
{
    static const uint8_t regs[6] = { RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY,
                                     RTC_MONTH, RTC_YEAR };
    uint8_t again[7];
    int same;

    do {
        while (cmos_read(RTC_REG_A) & REG_A_UIP)
            cpu_relax();
        for (int i = 0; i < 6; i++)
            raw[i] = cmos_read(regs[i]);
        raw[6] = century_reg ? cmos_read(century_reg) : 0x20;
        while (cmos_read(RTC_REG_A) & REG_A_UIP)
            cpu_relax();
        for (int i = 0; i < 6; i++)
            again[i] = cmos_read(regs[i]);
        again[6] = century_reg ? cmos_read(century_reg) : 0x20;
        same = 1;
        for (int i = 0; i < 7; i++)
            same &= raw[i] == again[i];
    } while (!same);
}

static void rtc_read(struct rtc_time *t, uint8_t century_reg)
{
    uint8_t raw[7], reg_b = cmos_read(RTC_REG_B);
    int binary = (reg_b & REG_B_BINARY) != 0;
    uint32_t hour;

    rtc_read_raw(raw, century_reg);
    t->second = from_bcd(raw[0], binary);
    t->minute = from_bcd(raw[1], binary);
    hour = from_bcd(raw[2] & (uint8_t)~HOUR_PM, binary);
    if ((reg_b & REG_B_24_HOUR) == 0)       /* 12-hour: 12 AM is 0 h */
        hour = hour % 12 + ((raw[2] & HOUR_PM) ? 12 : 0);
    t->hour = hour;
    t->day = from_bcd(raw[3], binary);
    t->month = from_bcd(raw[4], binary);
    t->year = from_bcd(raw[6], binary) * 100 + from_bcd(raw[5], binary);
}

static int leap(uint32_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static uint64_t seconds_since_1970(const struct rtc_time *t)
{
    static const uint16_t days_before_month[12] = { 0, 31, 59, 90, 120, 151, 181, 212,
                                                    243, 273, 304, 334 };
    uint32_t days = 0;

    for (uint32_t y = 1970; y < t->year; y++)
        days += leap(y) ? 366 : 365;
    if (t->month >= 1 && t->month <= 12)
        days += days_before_month[t->month - 1];
    if (t->month > 2 && leap(t->year))
        days++;
    days += t->day - 1;
    return (uint64_t)days * 86400 + t->hour * 3600 + t->minute * 60 + t->second;
}

/* "seconds.milliseconds" -> milliseconds; missing digits count as 0. */
static uint64_t parse_host_ms(const char *s)
{
    uint64_t seconds = 0;
    uint32_t ms = 0, digits = 0;

    for (; *s >= '0' && *s <= '9'; s++)
        seconds = seconds * 10 + (uint32_t)(*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9' && digits < 3; s++, digits++)
            ms = ms * 10 + (uint32_t)(*s - '0');
    for (; digits < 3; digits++)
        ms *= 10;
    return seconds * 1000 + ms;
}

/* Spins until the seconds register changes; returns the TSC then, or 0
 * if it does not within 1.5 s. */
static uint64_t wait_for_seconds_update(void)
{
    uint8_t first = cmos_read(RTC_SECONDS);
    uint64_t end = rdtsc() + ms_to_tsc(1500);

    while (rdtsc() < end) {
        if (!(cmos_read(RTC_REG_A) & REG_A_UIP) && cmos_read(RTC_SECONDS) != first)
            return rdtsc();
        cpu_relax();
    }
    return 0;
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    const struct acpi_header *fadt;
    uint8_t century_reg = 0;
    char answer[32];
    uint64_t answered, host_ms, edge, next_edge;
    int64_t difference;
    struct rtc_time now;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_rtc: the RTC keeps the host's time of day");
    fadt = acpi_find_table("FACP");
    if (fadt != 0 && fadt->length > FADT_CENTURY)
        century_reg = acpi_read8(fadt, FADT_CENTURY);
    check("rtc: register D says the time is valid", (cmos_read(RTC_REG_D) & REG_D_VALID) != 0);

    outb(UART_MCR, MCR_DTR | MCR_RTS);     /* ready for the answer */
    serial_puts("rtc: waiting for the host's UTC time on COM1\n");
    if (!check("rtc: the host's time arrived", serial_read_line(answer, sizeof(answer), 60000) > 0))
        pc_finish();
    answered = rdtsc();
    host_ms = parse_host_ms(answer);

    edge = wait_for_seconds_update();
    rtc_read(&now, century_reg);
    next_edge = wait_for_seconds_update();
    difference = (int64_t)(seconds_since_1970(&now) * 1000) -
                 (int64_t)(host_ms + tsc_to_us(edge - answered) / 1000);
    if (difference < 0)
        difference = -difference;
    check_range("rtc: within a second of the host clock (difference in ms)",
                edge == 0 ? 100000 : (uint32_t)(difference > 100000 ? 100000 : difference), 0, 999);
    check_range("rtc: seconds updates a second apart (950-1050 ms)",
                edge == 0 || next_edge == 0 ? 0 : tsc_to_us(next_edge - edge) / 1000, 950, 1050);
    pc_finish();
}
