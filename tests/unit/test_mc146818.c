// sources: guest-tools/vmm/devices/mc146818.c guest-tools/vmm/devices/calendar.c guest-tools/vmm/devices/pc_cmos.c
/* Unit tests for the RTC/CMOS model (guest-tools/vmm/devices/mc146818.c)
 * and the PC's CMOS bytes (pc_cmos.c): the register sequences of
 * Linux's mc146818_get_time and mc146818_set_time, BCD/binary and 12-hour
 * formats, date roll-overs across leap days, years and centuries, the
 * periodic, alarm and update-ended interrupts, the CMOS bytes the VMM
 * fills, and a seeded fuzz loop over both ports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest-tools/vmm/devices/mc146818.h"
#include "guest-tools/vmm/devices/pc_cmos.h"

#define US 1000ull
#define MS 1000000ull
#define SECOND 1000000000ull

/* Seconds since 1970 (UTC) of the dates the tests start from. */
#define T_2026_11_30_171528 1796058928ull /* a Monday */
#define T_2024_02_28_235958 1709164798ull /* a Wednesday */
#define T_2023_02_28_235959 1677628799ull
#define T_2099_12_31_235959 4102444799ull /* a Thursday */
#define T_2100_02_28_235959 4107542399ull

struct harness {
    struct mc146818 rtc;
    bool irq;
    unsigned irq_raised;
    uint64_t now;
};

static void record_irq(void *ctx, unsigned line, bool level)
{
    struct harness *h = ctx;

    assert_int_equal(line, MC146818_IRQ);
    assert_true(level != h->irq);
    h->irq = level;
    if (level)
        h->irq_raised++;
}

static struct harness *harness_new(uint64_t wall_clock)
{
    struct harness *h = calloc(1, sizeof(*h));

    assert_non_null(h);
    mc146818_init(&h->rtc, (struct irq_line){ .set = record_irq, .ctx = h, .line = MC146818_IRQ },
                  wall_clock);
    return h;
}

/* CMOS_READ / CMOS_WRITE as Linux does them, each access taking 1 us. */
static uint8_t cmos_read(struct harness *h, uint8_t index)
{
    mc146818_write(&h->rtc, 0, 1, index, h->now);
    h->now += US;
    return (uint8_t)mc146818_read(&h->rtc, 1, 1, h->now);
}

static void cmos_write(struct harness *h, uint8_t index, uint8_t value)
{
    mc146818_write(&h->rtc, 0, 1, index, h->now);
    h->now += US;
    mc146818_write(&h->rtc, 1, 1, value, h->now);
}

struct rtc_reading {
    unsigned second, minute, hour, day, month, year, century;
    uint8_t control;
    unsigned loops;
};

/* mc146818_get_time's protocol: read the seconds, retry after 100 us while
 * UIP is set, read everything, and accept it only if UIP is still clear
 * and the seconds have not moved. Values stay raw (BCD or binary). */
static struct rtc_reading linux_get_time(struct harness *h)
{
    struct rtc_reading r = { 0 };

    for (r.loops = 1; r.loops < 100; r.loops++) {
        uint8_t seconds = cmos_read(h, RTC_SECONDS);
        if (cmos_read(h, RTC_REG_A) & RTC_A_UIP) {
            h->now += 100 * US;
            continue;
        }
        if (seconds != cmos_read(h, RTC_SECONDS))
            continue;
        r.second = seconds;
        r.minute = cmos_read(h, RTC_MINUTES);
        r.hour = cmos_read(h, RTC_HOURS);
        r.day = cmos_read(h, RTC_DAY_OF_MONTH);
        r.month = cmos_read(h, RTC_MONTH);
        r.year = cmos_read(h, RTC_YEAR);
        r.century = cmos_read(h, RTC_CENTURY);
        r.control = cmos_read(h, RTC_REG_B);
        if (cmos_read(h, RTC_REG_A) & RTC_A_UIP)
            continue;
        if (seconds != cmos_read(h, RTC_SECONDS))
            continue;
        return r;
    }
    fail_msg("UIP never fell");
    return r;
}

/* The first read lands in the UIP window before the update at 1 s: the
 * loop waits it out and returns the new second, in BCD. */
static void test_linux_get_time_bcd(void **state)
{
    (void)state;
    struct harness *h = harness_new(T_2026_11_30_171528);

    h->now = SECOND - 2 * MS;
    struct rtc_reading r = linux_get_time(h);
    assert_true(r.loops > 1);
    assert_true(h->now >= SECOND && h->now < SECOND + 2 * MS);
    assert_int_equal(r.control & (RTC_B_DM_BINARY | RTC_B_24H), RTC_B_24H);
    assert_int_equal(r.second, 0x29);
    assert_int_equal(r.minute, 0x15);
    assert_int_equal(r.hour, 0x17);
    assert_int_equal(r.day, 0x30);
    assert_int_equal(r.month, 0x11);
    assert_int_equal(r.year, 0x26);
    assert_int_equal(r.century, 0x20);
    assert_int_equal(cmos_read(h, RTC_DAY_OF_WEEK), 2);
    assert_int_equal(cmos_read(h, RTC_REG_D), RTC_D_VRT);
    free(h);
}

/* Binary mode, and 12-hour mode in both encodings: 12 AM, noon, 11 PM. */
static void test_get_time_binary_and_12_hour(void **state)
{
    (void)state;
    struct harness *h = harness_new(T_2026_11_30_171528);

    cmos_write(h, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_24H);
    struct rtc_reading r = linux_get_time(h);
    assert_int_equal(r.loops, 1);
    assert_true(r.second == 28 && r.minute == 15 && r.hour == 17);
    assert_true(r.day == 30 && r.month == 11 && r.year == 26 && r.century == 20);

    static const struct {
        unsigned hour;
        uint8_t bcd, binary;
    } cases[] = { { 0, 0x12, 12 }, { 11, 0x11, 11 }, { 12, 0x92, 0x8c }, { 23, 0x91, 0x8b } };
    for (unsigned i = 0; i < 4; i++) {
        cmos_write(h, RTC_REG_B, RTC_B_24H);
        cmos_write(h, RTC_HOURS, (uint8_t)(cases[i].hour / 10 << 4 | cases[i].hour % 10));
        cmos_write(h, RTC_REG_B, 0);
        assert_int_equal(cmos_read(h, RTC_HOURS), cases[i].bcd);
        cmos_write(h, RTC_REG_B, RTC_B_DM_BINARY);
        assert_int_equal(cmos_read(h, RTC_HOURS), cases[i].binary);
        /* A 12-hour write reads back as the same 24-hour time. */
        cmos_write(h, RTC_HOURS, cases[i].binary);
        cmos_write(h, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_24H);
        assert_int_equal(cmos_read(h, RTC_HOURS), cases[i].hour);
    }
    free(h);
}

/* mc146818_set_time: SET held (and on Intel the divider in reset) while
 * the fields are written year first; the new time holds until the next
 * update, 500 ms after the divider leaves reset. */
static void linux_set_time(struct harness *h, bool divider_reset)
{
    uint8_t control = cmos_read(h, RTC_REG_B);
    cmos_write(h, RTC_REG_B, control | RTC_B_SET);
    uint8_t freq_select = cmos_read(h, RTC_REG_A);
    cmos_write(h, RTC_REG_A, divider_reset ? freq_select | 0x70 : freq_select & ~0x10);
    cmos_write(h, RTC_YEAR, 0x25);
    cmos_write(h, RTC_MONTH, 0x02); /* 31 February until the day is written */
    cmos_write(h, RTC_DAY_OF_MONTH, 0x14);
    cmos_write(h, RTC_HOURS, 0x08);
    cmos_write(h, RTC_MINUTES, 0x30);
    cmos_write(h, RTC_SECONDS, 0x00);
    cmos_write(h, RTC_CENTURY, 0x20);
    cmos_write(h, RTC_REG_B, control);
    cmos_write(h, RTC_REG_A, freq_select);
}

static void test_linux_set_time(void **state)
{
    (void)state;
    struct harness *h = harness_new(1798761599); /* 2026-12-31 23:59:59 */

    cmos_write(h, RTC_MONTH, 0x01); /* January 31st, so a 31 February */
    h->now = 300 * MS;
    linux_set_time(h, true);
    uint64_t set_at = h->now;
    struct rtc_reading r = linux_get_time(h);
    assert_true(r.year == 0x25 && r.month == 0x02 && r.day == 0x14);
    assert_true(r.hour == 0x08 && r.minute == 0x30 && r.second == 0x00);
    h->now = set_at + 500 * MS - 3 * MS;
    assert_int_equal(cmos_read(h, RTC_SECONDS), 0x00);
    h->now = set_at + 500 * MS;
    assert_int_equal(cmos_read(h, RTC_SECONDS), 0x01);
    assert_int_equal(cmos_read(h, RTC_DAY_OF_MONTH), 0x14);

    /* AMD's register A: no divider reset, so the updates keep their phase
     * (every second from set_at + 500 ms) instead of restarting it. */
    h->now = set_at + 5200 * MS;
    linux_set_time(h, false);
    assert_int_equal(cmos_read(h, RTC_SECONDS), 0x00);
    h->now = set_at + 5500 * MS - 3 * MS;
    assert_int_equal(cmos_read(h, RTC_SECONDS), 0x00);
    h->now = set_at + 5500 * MS;
    assert_int_equal(cmos_read(h, RTC_SECONDS), 0x01);
    free(h);
}

static void check_rollover(uint64_t start, unsigned seconds, const uint8_t expect[7])
{
    struct harness *h = harness_new(start);

    h->now = seconds * SECOND;
    assert_int_equal(cmos_read(h, RTC_SECONDS), expect[0]);
    assert_int_equal(cmos_read(h, RTC_HOURS), expect[1]);
    assert_int_equal(cmos_read(h, RTC_DAY_OF_WEEK), expect[2]);
    assert_int_equal(cmos_read(h, RTC_DAY_OF_MONTH), expect[3]);
    assert_int_equal(cmos_read(h, RTC_MONTH), expect[4]);
    assert_int_equal(cmos_read(h, RTC_YEAR), expect[5]);
    assert_int_equal(cmos_read(h, RTC_CENTURY), expect[6]);
    free(h);
}

/* Leap day in 2024, none in 2023, the year and century at 2099's end, no
 * leap day in 2100; the weekday counter steps at each midnight. */
static void test_date_rollover(void **state)
{
    (void)state;
    static const uint8_t leap_day[7] = { 0x00, 0x00, 5, 0x29, 0x02, 0x24, 0x20 };
    static const uint8_t march_2023[7] = { 0x00, 0x00, 4, 0x01, 0x03, 0x23, 0x20 };
    static const uint8_t new_century[7] = { 0x00, 0x00, 6, 0x01, 0x01, 0x00, 0x21 };
    static const uint8_t march_2100[7] = { 0x00, 0x00, 2, 0x01, 0x03, 0x00, 0x21 };
    static const uint8_t march_2024[7] = { 0x02, 0x00, 6, 0x01, 0x03, 0x24, 0x20 };

    check_rollover(T_2024_02_28_235958, 2, leap_day);
    check_rollover(T_2023_02_28_235959, 1, march_2023);
    check_rollover(T_2099_12_31_235959, 1, new_century);
    check_rollover(T_2100_02_28_235959, 1, march_2100);
    check_rollover(T_2024_02_28_235958, 2 + 86400 + 2, march_2024);
}

/* Serve the model as the VMM would: advance at each deadline, and answer
 * every interrupt by reading C. Returns how many interrupts came by `end`. */
static unsigned run_until(struct harness *h, uint64_t end, uint8_t *flags_seen)
{
    unsigned count = 0;

    for (;;) {
        uint64_t next = mc146818_next_event_ns(&h->rtc);
        if (next > end)
            break;
        assert_true(next >= h->now);
        h->now = next;
        mc146818_advance(&h->rtc, h->now);
        assert_true(h->irq);
        uint8_t c = cmos_read(h, RTC_REG_C);
        assert_true(c & RTC_C_IRQF);
        if (flags_seen)
            *flags_seen |= c;
        assert_false(h->irq);
        count++;
    }
    h->now = end;
    return count;
}

static void test_periodic_interrupt_rates(void **state)
{
    (void)state;
    static const struct {
        uint8_t rate;
        unsigned per_second;
    } cases[] = { { 6, 1024 }, { 15, 2 }, { 3, 8192 }, { 1, 256 }, { 2, 128 } };

    for (unsigned i = 0; i < 5; i++) {
        struct harness *h = harness_new(T_2026_11_30_171528);
        uint8_t flags = 0;
        cmos_write(h, RTC_REG_A, (uint8_t)(0x20 | cases[i].rate));
        h->now = 0;
        cmos_write(h, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
        assert_int_equal(run_until(h, SECOND, &flags), cases[i].per_second);
        assert_int_equal(flags & (RTC_C_PF | RTC_C_AF), RTC_C_PF);
        assert_int_equal(run_until(h, 3 * SECOND, NULL), 2 * cases[i].per_second);
        free(h);
    }
}

/* The alarm at a given time, once; with don't-care bytes, every second;
 * with only the minute given, once an hour, 60 times in a row. */
static void test_alarm_interrupt(void **state)
{
    (void)state;
    struct harness *h = harness_new(T_2026_11_30_171528);
    uint8_t flags = 0;

    cmos_write(h, RTC_HOURS_ALARM, 0x17);
    cmos_write(h, RTC_MINUTES_ALARM, 0x15);
    cmos_write(h, RTC_SECONDS_ALARM, 0x33);
    cmos_write(h, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
    assert_int_equal(mc146818_next_event_ns(&h->rtc), 5 * SECOND);
    assert_int_equal(run_until(h, 24 * 3600 * SECOND - SECOND, &flags), 1);
    assert_int_equal(flags & (RTC_C_AF | RTC_C_UF), RTC_C_AF | RTC_C_UF);

    cmos_write(h, RTC_HOURS_ALARM, 0xff);
    cmos_write(h, RTC_MINUTES_ALARM, 0xc0);
    cmos_write(h, RTC_SECONDS_ALARM, 0xc5);
    assert_int_equal(run_until(h, h->now + 10 * SECOND, NULL), 10);

    /* 12-hour mode: 5 PM is 0x85. It is 17:15:36 the next day now. */
    cmos_write(h, RTC_REG_B, RTC_B_AIE);
    cmos_write(h, RTC_HOURS_ALARM, 0x85);
    cmos_write(h, RTC_MINUTES_ALARM, 0x16);
    assert_int_equal(run_until(h, h->now + 3600 * SECOND, NULL), 60);

    /* A value no clock reaches never fires. */
    cmos_write(h, RTC_SECONDS_ALARM, 0x61);
    assert_int_equal(mc146818_next_event_ns(&h->rtc), DEVICE_TIME_NEVER);
    free(h);
}

static void test_update_interrupt(void **state)
{
    (void)state;
    struct harness *h = harness_new(T_2026_11_30_171528);
    uint8_t flags = 0;

    cmos_write(h, RTC_REG_A, 0x20); /* no periodic flag to mask */
    h->now = 400 * MS;
    cmos_write(h, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    assert_int_equal(mc146818_next_event_ns(&h->rtc), SECOND);
    assert_int_equal(run_until(h, 10 * SECOND + 500 * MS, &flags), 10);
    assert_int_equal(flags, RTC_C_IRQF | RTC_C_UF);
    assert_int_equal(cmos_read(h, RTC_SECONDS), 0x38);

    /* SET holds the updates and clears UIE. */
    cmos_write(h, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_SET);
    assert_int_equal(cmos_read(h, RTC_REG_B), RTC_B_24H | RTC_B_SET);
    assert_int_equal(run_until(h, 20 * SECOND, NULL), 0);
    assert_int_equal(cmos_read(h, RTC_SECONDS), 0x38);
    assert_int_equal(cmos_read(h, RTC_REG_C), 0);
    free(h);
}

/* Flags set without their enables show in C without IRQF and no IRQ;
 * reading C clears them; enabling a flag already set raises the IRQ. */
static void test_register_c(void **state)
{
    (void)state;
    struct harness *h = harness_new(T_2026_11_30_171528);

    h->now = 1500 * MS;
    assert_int_equal(cmos_read(h, RTC_REG_C), RTC_C_PF | RTC_C_UF);
    assert_int_equal(cmos_read(h, RTC_REG_C), 0);
    assert_int_equal(mc146818_next_event_ns(&h->rtc), DEVICE_TIME_NEVER);
    h->now += 2 * MS;
    assert_false(h->irq);
    cmos_write(h, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
    assert_true(h->irq);
    assert_int_equal(mc146818_next_event_ns(&h->rtc), DEVICE_TIME_NEVER);
    assert_int_equal(cmos_read(h, RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
    assert_false(h->irq);
    assert_int_equal(cmos_read(h, RTC_REG_C), 0);
    free(h);
}

/* UIP: set for the 2228 us before each update, never while SET is held
 * or the divider is in reset. */
static void test_update_in_progress(void **state)
{
    (void)state;
    struct harness *h = harness_new(T_2026_11_30_171528);

    mc146818_write(&h->rtc, 0, 1, RTC_REG_A, 0);
    assert_int_equal(mc146818_read(&h->rtc, 1, 1, 3 * SECOND - 2229 * US), 0x26);
    assert_int_equal(mc146818_read(&h->rtc, 1, 1, 3 * SECOND - 2228 * US), 0xa6);
    assert_int_equal(mc146818_read(&h->rtc, 1, 1, 3 * SECOND - 1), 0xa6);
    assert_int_equal(mc146818_read(&h->rtc, 1, 1, 3 * SECOND), 0x26);
    h->now = 4 * SECOND - MS;
    cmos_write(h, RTC_REG_B, RTC_B_24H | RTC_B_SET);
    assert_int_equal(cmos_read(h, RTC_REG_A), 0x26);
    cmos_write(h, RTC_REG_B, RTC_B_24H);
    cmos_write(h, RTC_REG_A, 0x66);
    h->now = 5 * SECOND - MS;
    assert_int_equal(cmos_read(h, RTC_REG_A), 0x66);
    free(h);
}

/* The index port's NMI bit, RAM bytes, read-only registers, wide access,
 * and the bytes the VMM fills for the BIOS. */
static void test_cmos_ram(void **state)
{
    (void)state;
    struct harness *h = harness_new(0);

    mc146818_write(&h->rtc, 0, 1, 0x80 | 0x40, 0);
    assert_true(mc146818_nmi_disabled(&h->rtc));
    mc146818_write(&h->rtc, 1, 1, 0x5a, 0);
    mc146818_write(&h->rtc, 0, 1, 0x40, 0);
    assert_false(mc146818_nmi_disabled(&h->rtc));
    assert_int_equal(mc146818_read(&h->rtc, 1, 1, 0), 0x5a);
    assert_int_equal(mc146818_read(&h->rtc, 0, 1, 0), 0xff);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x40), 0x5a);
    /* outw 0x70: index and data in one access. */
    mc146818_write(&h->rtc, 0, 2, 0xa57f, 0);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x7f), 0xa5);
    assert_int_equal(mc146818_read(&h->rtc, 0, 2, 0), 0xa5ff);
    cmos_write(h, RTC_REG_D, 0);
    cmos_write(h, RTC_REG_C, 0xff);
    assert_int_equal(cmos_read(h, RTC_REG_D), RTC_D_VRT);
    assert_int_equal(cmos_read(h, RTC_REG_C), 0);
    assert_int_equal(cmos_read(h, RTC_YEAR), 0x70);
    assert_int_equal(cmos_read(h, RTC_CENTURY), 0x19);
    mc146818_cmos_set(&h->rtc, RTC_SECONDS, 0x42);
    mc146818_cmos_set(&h->rtc, RTC_CENTURY, 0x42);
    assert_int_equal(cmos_read(h, RTC_SECONDS), 0x00);
    assert_int_equal(cmos_read(h, RTC_CENTURY), 0x19);

    /* 3 GiB below 4 GiB, 2 GiB above it, 4 CPUs. */
    pc_cmos_fill(&h->rtc, 3ull << 30, 2ull << 30, 4);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x14), 0x02);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x15), 0x80);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x16), 0x02);
    for (uint8_t i = 0x17; i <= 0x31; i += 0x30 - 0x17) {
        assert_int_equal(mc146818_cmos_get(&h->rtc, i), 0xff);
        assert_int_equal(mc146818_cmos_get(&h->rtc, i + 1), 0xff);
    }
    /* (3 GiB - 16 MiB) / 64 KiB = 0xbf00 */
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x34), 0x00);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x35), 0xbf);
    /* 2 GiB / 64 KiB = 0x8000 */
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x5b), 0x00);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x5c), 0x80);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x5d), 0x00);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x5f), 3);
    unsigned sum = 0;
    for (uint8_t i = 0x10; i < 0x2e; i++)
        sum += mc146818_cmos_get(&h->rtc, i);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x2e) << 8 | mc146818_cmos_get(&h->rtc, 0x2f),
                     sum);

    /* 16 MiB of RAM: nothing above 16 MiB. */
    pc_cmos_fill(&h->rtc, 16ull << 20, 0, 1);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x17) | mc146818_cmos_get(&h->rtc, 0x18) << 8,
                     15 * 1024);
    assert_int_equal(mc146818_cmos_get(&h->rtc, 0x34) | mc146818_cmos_get(&h->rtc, 0x35), 0);
    free(h);
}

/* Garbage through both ports with time jumps (and attempts to go back):
 * the clock keeps working and the IRQ follows IRQF. Then a sane guest
 * setting still gets sane times and interrupts. */
static void test_fuzz(void **state)
{
    (void)state;
    struct harness *h = harness_new(T_2026_11_30_171528);
    static const unsigned sizes[] = { 1, 1, 1, 2, 4, 0 };

    srand(146818);
    for (int i = 0; i < 300000; i++) {
        unsigned offset = (unsigned)rand() % 3;
        unsigned size = sizes[rand() % 6];
        uint32_t value = (uint32_t)rand();
        if (rand() % 4 == 0)
            value = (value & 0xff00) | (RTC_REG_A + (unsigned)rand() % 6);
        switch (rand() % 4) {
        case 0:
            mc146818_read(&h->rtc, offset, size, h->now);
            break;
        case 1:
        case 2:
            mc146818_write(&h->rtc, offset, size, value, h->now);
            break;
        default: {
            uint64_t next = mc146818_next_event_ns(&h->rtc);
            assert_true(next == DEVICE_TIME_NEVER || next >= h->rtc.now_ns);
            mc146818_advance(&h->rtc, h->now);
            break;
        }
        }
        assert_true(h->irq == h->rtc.irq_level);
        assert_true(h->irq == ((h->rtc.ram[RTC_REG_C] & RTC_C_IRQF) != 0));
        h->now = rand() % 100 ? h->now + (uint64_t)(rand() % 5000000)
                              : h->now + (uint64_t)rand() * 1000000;
        if (rand() % 1000 == 0)
            h->now /= 2;
    }

    uint64_t start = h->rtc.now_ns;
    h->now = start;
    cmos_write(h, RTC_REG_A, 0x26);
    cmos_write(h, RTC_REG_B, RTC_B_24H | RTC_B_SET);
    cmos_write(h, RTC_YEAR, 0x30);
    cmos_write(h, RTC_CENTURY, 0x20);
    cmos_write(h, RTC_MONTH, 0x06);
    cmos_write(h, RTC_DAY_OF_MONTH, 0x30);
    cmos_write(h, RTC_HOURS, 0x23);
    cmos_write(h, RTC_MINUTES, 0x59);
    cmos_write(h, RTC_SECONDS, 0x59);
    cmos_write(h, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    cmos_read(h, RTC_REG_C);
    assert_int_equal(run_until(h, h->now + 3 * SECOND, NULL), 3);
    struct rtc_reading r = linux_get_time(h);
    assert_true(r.month == 0x07 && r.day == 0x01 && r.hour == 0x00 && r.minute == 0x00);
    assert_true(r.second >= 0x02 && r.second <= 0x03);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_get_time_bcd),
        cmocka_unit_test(test_get_time_binary_and_12_hour),
        cmocka_unit_test(test_linux_set_time),
        cmocka_unit_test(test_date_rollover),
        cmocka_unit_test(test_periodic_interrupt_rates),
        cmocka_unit_test(test_alarm_interrupt),
        cmocka_unit_test(test_update_interrupt),
        cmocka_unit_test(test_register_c),
        cmocka_unit_test(test_update_in_progress),
        cmocka_unit_test(test_cmos_ram),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
