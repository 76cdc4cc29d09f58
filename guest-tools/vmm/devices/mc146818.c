/*
 * MC146818A RTC model; the interface and its limits are in mc146818.h.
 *
 * Everything timed derives from one counter, the 32.768 kHz divider chain,
 * computed from guest time when needed: seconds are every 32768 ticks and
 * periodic interrupts every 2^(rate-1) ticks of the same chain, so they
 * stay in phase as on the chip and never drift. The model is lazy: each
 * call first accounts for the ticks since the last one (catch_up), so a
 * guest that polls register C sees the flags a timely model would have set.
 */
#include "guest-tools/vmm/devices/mc146818.h"

#include "guest-tools/vmm/devices/byte_ports.h"

#define NS_PER_SECOND      1000000000ull
#define CHAIN_HZ           32768ull
#define TICKS_PER_SECOND_SHIFT 15
#define HALF_SECOND_TICKS  16384
#define UIP_WINDOW_NS      2228000ull /* 244 us set-up + 1984 us update cycle */
#define POWER_ON_REG_A     0x26       /* 32.768 kHz time base, 1024 Hz rate */
#define POWER_ON_REG_B     RTC_B_24H

static uint64_t ticks_from_ns(uint64_t ns)
{
    return ns / NS_PER_SECOND * CHAIN_HZ + ns % NS_PER_SECOND * CHAIN_HZ / NS_PER_SECOND;
}

/* The first nanosecond at which the chain has counted `ticks` since it
 * started: the inverse of ticks_from_ns, rounded up. */
static uint64_t ns_from_ticks(uint64_t ticks)
{
    return ticks / CHAIN_HZ * NS_PER_SECOND +
           (ticks % CHAIN_HZ * NS_PER_SECOND + CHAIN_HZ - 1) / CHAIN_HZ;
}

static uint64_t chain_ticks(const struct mc146818 *rtc)
{
    return rtc->chain_start_ticks + ticks_from_ns(rtc->now_ns - rtc->chain_start_ns);
}

static uint64_t time_of_tick(const struct mc146818 *rtc, uint64_t tick)
{
    return rtc->chain_start_ns + ns_from_ticks(tick - rtc->chain_start_ticks);
}

/* Periodic interrupt rate as a power-of-two divisor of the chain: RS 1
 * and 2 repeat RS 8 and 9 (256 and 128 Hz) at this time base; 0 is off. */
static unsigned periodic_shift(const struct mc146818 *rtc)
{
    unsigned rate = rtc->ram[RTC_REG_A] & RTC_A_RATE;

    if (rate == 0)
        return 0;
    return rate <= 2 ? rate + 6 : rate - 1;
}

static bool binary_mode(const struct mc146818 *rtc)
{
    return (rtc->ram[RTC_REG_B] & RTC_B_DM_BINARY) != 0;
}

static bool twelve_hour_mode(const struct mc146818 *rtc)
{
    return !(rtc->ram[RTC_REG_B] & RTC_B_24H);
}

static uint8_t encode(const struct mc146818 *rtc, unsigned value)
{
    if (binary_mode(rtc))
        return (uint8_t)value;
    return (uint8_t)((value / 10 % 16) << 4 | value % 10);
}

static unsigned decode(const struct mc146818 *rtc, uint8_t value)
{
    if (binary_mode(rtc))
        return value;
    return (value >> 4) * 10 + (value & 0x0f);
}

/* In 12-hour mode the hour is 1-12 with bit 7 set for PM. */
static uint8_t encode_hour(const struct mc146818 *rtc, unsigned hour)
{
    unsigned hour12 = hour % 12 ? hour % 12 : 12;

    if (!twelve_hour_mode(rtc))
        return encode(rtc, hour);
    return (uint8_t)(encode(rtc, hour12) | (hour % 24 >= 12 ? 0x80 : 0));
}

static unsigned decode_hour(const struct mc146818 *rtc, uint8_t value)
{
    unsigned hour;

    if (!twelve_hour_mode(rtc))
        return decode(rtc, value);
    hour = decode(rtc, value & 0x7f);
    if (hour == 12)
        hour = 0;
    return (value & 0x80) ? hour + 12 : hour;
}

static int64_t floor_mod_100(int64_t value)
{
    int64_t rest = value % 100;

    return rest < 0 ? rest + 100 : rest;
}

static unsigned century(const struct mc146818 *rtc)
{
    return (unsigned)floor_mod_100((rtc->clock.year - floor_mod_100(rtc->clock.year)) / 100);
}

static int64_t days_of(int64_t seconds)
{
    int64_t days = seconds / CALENDAR_SECONDS_PER_DAY;

    return seconds % CALENDAR_SECONDS_PER_DAY < 0 ? days - 1 : days;
}

/* The clock moves on by whole seconds; the weekday register is its own
 * counter on the chip (whatever the guest wrote into it), stepped at each
 * midnight through 1-7. */
static void clock_add_seconds(struct mc146818 *rtc, uint64_t seconds)
{
    int64_t before = calendar_seconds_from_time(&rtc->clock);
    int64_t after = before + (int64_t)seconds;
    int64_t midnights = days_of(after) - days_of(before);

    calendar_time_from_seconds(after, &rtc->clock);
    rtc->weekday = (unsigned)(((int64_t)(rtc->weekday + 6) % 7 + midnights % 7 + 7) % 7) + 1;
}

/* An alarm field: its value, ALARM_ANY for a don't-care byte, or a value
 * no time reaches. */
#define ALARM_ANY 0xffffu

static unsigned alarm_field(const struct mc146818 *rtc, unsigned reg)
{
    uint8_t value = rtc->ram[reg];

    if ((value & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE)
        return ALARM_ANY;
    return reg == RTC_HOURS_ALARM ? decode_hour(rtc, value) : decode(rtc, value);
}

/* The first value >= from that the field accepts, or `limit` if none. */
static unsigned first_match(unsigned want, unsigned from, unsigned limit)
{
    if (want == ALARM_ANY)
        return from < limit ? from : limit;
    return want >= from && want < limit ? want : limit;
}

/* Seconds from the clock's time to the next one the alarm matches (1 to
 * 86400), or 0 if it never does. The hour, minute and second alarms each
 * match one value or all, so the search visits at most 25 hours and the
 * matching minutes of one of them. */
static unsigned seconds_until_alarm(const struct mc146818 *rtc)
{
    unsigned want_hour = alarm_field(rtc, RTC_HOURS_ALARM);
    unsigned want_minute = alarm_field(rtc, RTC_MINUTES_ALARM);
    unsigned want_second = alarm_field(rtc, RTC_SECONDS_ALARM);
    uint64_t second_of_day = ((uint64_t)rtc->clock.hour * 3600 + rtc->clock.minute * 60u +
                              rtc->clock.second) % CALENDAR_SECONDS_PER_DAY;
    unsigned hour0 = (unsigned)(second_of_day / 3600);
    unsigned minute0 = (unsigned)(second_of_day / 60 % 60);
    unsigned second0 = (unsigned)(second_of_day % 60);

    for (unsigned step = 0; step <= 24; step++) {
        unsigned hour = (hour0 + step) % 24;
        if (want_hour != ALARM_ANY && want_hour != hour)
            continue;
        for (unsigned minute = first_match(want_minute, step ? 0 : minute0, 60); minute < 60;
             minute = first_match(want_minute, minute + 1, 60)) {
            bool now_minute = step == 0 && minute == minute0;
            unsigned second = first_match(want_second, now_minute ? second0 + 1 : 0, 60);
            if (second < 60)
                return step * 3600 + minute * 60 + second - (minute0 * 60 + second0);
        }
    }
    return 0;
}

static void update_irq(struct mc146818 *rtc)
{
    uint8_t flags = rtc->ram[RTC_REG_C] & (RTC_C_PF | RTC_C_AF | RTC_C_UF);
    bool level = (flags & rtc->ram[RTC_REG_B]) != 0;

    rtc->ram[RTC_REG_C] = (uint8_t)(flags | (level ? RTC_C_IRQF : 0));
    if (level != rtc->irq_level) {
        rtc->irq_level = level;
        irq_line_set(&rtc->irq, level);
    }
}

/* Account for the chain's ticks up to now_ns: updates (unless SET holds
 * them) with their alarm and update-ended flags, and periodic edges. Any
 * number of missed events sets each flag once, as on the chip. */
static void catch_up(struct mc146818 *rtc, uint64_t now_ns)
{
    uint64_t ticks, seconds;
    unsigned shift;

    if (now_ns > rtc->now_ns)
        rtc->now_ns = now_ns;
    if (rtc->divider_held)
        return;
    ticks = chain_ticks(rtc);
    seconds = ticks >> TICKS_PER_SECOND_SHIFT;
    if (seconds != rtc->seconds_seen) {
        uint64_t elapsed = seconds - rtc->seconds_seen;
        rtc->seconds_seen = seconds;
        if (!(rtc->ram[RTC_REG_B] & RTC_B_SET)) {
            unsigned alarm = seconds_until_alarm(rtc);
            if (alarm && alarm <= elapsed)
                rtc->ram[RTC_REG_C] |= RTC_C_AF;
            clock_add_seconds(rtc, elapsed);
            rtc->ram[RTC_REG_C] |= RTC_C_UF;
        }
    }
    shift = periodic_shift(rtc);
    if (shift && (ticks >> shift) != rtc->periodic_seen) {
        rtc->periodic_seen = ticks >> shift;
        rtc->ram[RTC_REG_C] |= RTC_C_PF;
    }
}

/* After a rate change or a chain restart, count periodic edges from now. */
static void resync_periodic(struct mc146818 *rtc)
{
    unsigned shift = periodic_shift(rtc);

    rtc->periodic_seen = shift ? chain_ticks(rtc) >> shift : 0;
}

static bool update_in_progress(const struct mc146818 *rtc)
{
    uint64_t next_second = (rtc->seconds_seen + 1) << TICKS_PER_SECOND_SHIFT;

    if (rtc->divider_held || (rtc->ram[RTC_REG_B] & RTC_B_SET))
        return false;
    return time_of_tick(rtc, next_second) - rtc->now_ns <= UIP_WINDOW_NS;
}

static void write_reg_a(struct mc146818 *rtc, uint8_t value)
{
    bool held = (value & RTC_A_DIVIDER_RESET) == RTC_A_DIVIDER_RESET;

    rtc->ram[RTC_REG_A] = value & (RTC_A_DIVIDER | RTC_A_RATE);
    if (held == rtc->divider_held) {
        resync_periodic(rtc);
        return;
    }
    rtc->divider_held = held;
    if (!held) {
        /* Leaving reset, the chain starts half way through a second. */
        rtc->chain_start_ns = rtc->now_ns;
        rtc->chain_start_ticks = HALF_SECOND_TICKS;
        rtc->seconds_seen = 0;
        resync_periodic(rtc);
    }
}

static void write_reg_b(struct mc146818 *rtc, uint8_t value)
{
    /* Setting SET also clears UIE (data sheet, register B). */
    if (value & RTC_B_SET)
        value &= (uint8_t)~RTC_B_UIE;
    rtc->ram[RTC_REG_B] = value;
}

static uint8_t read_register(struct mc146818 *rtc, uint8_t index)
{
    uint8_t value;

    switch (index) {
    case RTC_SECONDS:      return encode(rtc, rtc->clock.second);
    case RTC_MINUTES:      return encode(rtc, rtc->clock.minute);
    case RTC_HOURS:        return encode_hour(rtc, rtc->clock.hour);
    case RTC_DAY_OF_WEEK:  return encode(rtc, rtc->weekday);
    case RTC_DAY_OF_MONTH: return encode(rtc, rtc->clock.day);
    case RTC_MONTH:        return encode(rtc, rtc->clock.month);
    case RTC_YEAR:         return encode(rtc, (unsigned)floor_mod_100(rtc->clock.year));
    case RTC_CENTURY:      return encode(rtc, century(rtc));
    case RTC_REG_A:
        return (uint8_t)(rtc->ram[RTC_REG_A] | (update_in_progress(rtc) ? RTC_A_UIP : 0));
    case RTC_REG_C:
        /* Reading C clears the flags and releases the IRQ. */
        value = rtc->ram[RTC_REG_C];
        rtc->ram[RTC_REG_C] = 0;
        return value;
    case RTC_REG_D:
        return RTC_D_VRT;
    default:
        return rtc->ram[index];
    }
}

static void write_register(struct mc146818 *rtc, uint8_t index, uint8_t value)
{
    switch (index) {
    case RTC_SECONDS:      rtc->clock.second = decode(rtc, value); break;
    case RTC_MINUTES:      rtc->clock.minute = decode(rtc, value); break;
    case RTC_HOURS:        rtc->clock.hour = decode_hour(rtc, value); break;
    case RTC_DAY_OF_WEEK:  rtc->weekday = decode(rtc, value); break;
    case RTC_DAY_OF_MONTH: rtc->clock.day = decode(rtc, value); break;
    case RTC_MONTH:        rtc->clock.month = decode(rtc, value); break;
    case RTC_YEAR:
        rtc->clock.year = (int64_t)century(rtc) * 100 + decode(rtc, value);
        break;
    case RTC_CENTURY:
        rtc->clock.year = (int64_t)decode(rtc, value) * 100 + floor_mod_100(rtc->clock.year);
        break;
    case RTC_REG_A:        write_reg_a(rtc, value); break;
    case RTC_REG_B:        write_reg_b(rtc, value); break;
    case RTC_REG_C:
    case RTC_REG_D:        break; /* read-only */
    default:               rtc->ram[index] = value; break;
    }
}

static uint8_t read_byte(void *chip, unsigned offset, uint64_t now_ns)
{
    struct mc146818 *rtc = chip;
    uint8_t value;

    if (offset != 1)
        return 0xff; /* the index port is write-only on a PC */
    catch_up(rtc, now_ns);
    update_irq(rtc);
    value = read_register(rtc, rtc->index);
    update_irq(rtc);
    return value;
}

static void write_byte(void *chip, unsigned offset, uint8_t value, uint64_t now_ns)
{
    struct mc146818 *rtc = chip;

    if (offset == 0) {
        rtc->index = value & 0x7f;
        rtc->nmi_disabled = (value & RTC_INDEX_NMI_DISABLE) != 0;
        return;
    }
    if (offset != 1)
        return;
    catch_up(rtc, now_ns);
    write_register(rtc, rtc->index, value);
    update_irq(rtc);
}

void mc146818_init(struct mc146818 *rtc, struct irq_line irq, uint64_t wall_clock_seconds)
{
    *rtc = (struct mc146818){ .irq = irq };
    rtc->ram[RTC_REG_A] = POWER_ON_REG_A;
    rtc->ram[RTC_REG_B] = POWER_ON_REG_B;
    calendar_time_from_seconds((int64_t)(wall_clock_seconds & INT64_MAX), &rtc->clock);
    rtc->weekday = calendar_weekday((int64_t)(wall_clock_seconds / CALENDAR_SECONDS_PER_DAY)) + 1;
}

uint32_t mc146818_read(struct mc146818 *rtc, unsigned offset, unsigned size, uint64_t now_ns)
{
    return byte_port_read(rtc, read_byte, offset, size, now_ns);
}

void mc146818_write(struct mc146818 *rtc, unsigned offset, unsigned size, uint32_t value,
                    uint64_t now_ns)
{
    byte_port_write(rtc, write_byte, offset, size, value, now_ns);
}

void mc146818_advance(struct mc146818 *rtc, uint64_t now_ns)
{
    catch_up(rtc, now_ns);
    update_irq(rtc);
}

/* The earliest enabled event; none while the IRQ is already raised, since
 * nothing can change the line until the guest reads register C (the flags
 * that fall meanwhile are found by catch_up when it does). */
uint64_t mc146818_next_event_ns(const struct mc146818 *rtc)
{
    uint8_t enables = rtc->ram[RTC_REG_B];
    uint64_t next = DEVICE_TIME_NEVER;
    unsigned shift = periodic_shift(rtc);

    if (rtc->divider_held || rtc->irq_level)
        return DEVICE_TIME_NEVER;
    if ((enables & RTC_B_PIE) && shift)
        next = time_of_tick(rtc, (rtc->periodic_seen + 1) << shift);
    if (enables & RTC_B_SET)
        return next;
    if (enables & RTC_B_UIE) {
        uint64_t update = time_of_tick(rtc, (rtc->seconds_seen + 1) << TICKS_PER_SECOND_SHIFT);
        next = update < next ? update : next;
    }
    if (enables & RTC_B_AIE) {
        unsigned seconds = seconds_until_alarm(rtc);
        uint64_t alarm =
            time_of_tick(rtc, (rtc->seconds_seen + seconds) << TICKS_PER_SECOND_SHIFT);
        if (seconds && alarm < next)
            next = alarm;
    }
    return next;
}

bool mc146818_nmi_disabled(const struct mc146818 *rtc)
{
    return rtc->nmi_disabled;
}

/* The VMM's access to RAM: the clock registers and the century are the
 * clock's, not bytes to fill. */
static bool is_ram(uint8_t index)
{
    return index > RTC_REG_D && index < MC146818_CMOS_SIZE && index != RTC_CENTURY;
}

void mc146818_cmos_set(struct mc146818 *rtc, uint8_t index, uint8_t value)
{
    if (is_ram(index))
        rtc->ram[index] = value;
}

uint8_t mc146818_cmos_get(const struct mc146818 *rtc, uint8_t index)
{
    return is_ram(index) ? rtc->ram[index] : 0xff;
}
