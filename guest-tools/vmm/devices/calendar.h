/*
 * Proleptic Gregorian calendar arithmetic for the RTC model, without libc:
 * dates to day numbers and back, counted from 1970-01-01 (day 0, a
 * Thursday). Leap years: every fourth year, except centuries not divisible
 * by 400 (1900 and 2100 are common years, 2000 is a leap year).
 *
 * The conversions to day and second numbers take out-of-range fields and
 * carry them into the next larger unit (month 13 is January of the next
 * year, day 0 the last day of the previous month, minute 75 is 15 minutes
 * into the next hour), so that whatever a guest writes into the clock
 * registers still names one instant. Years before -399 are not supported
 * (the RTC's century and year registers cannot name them).
 *
 * Pure functions: no state, no locking.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_CALENDAR_H
#define GUEST_TOOLS_VMM_DEVICES_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#define CALENDAR_SECONDS_PER_DAY 86400

struct calendar_time {
    int64_t year;
    unsigned month;  /* 1-12 */
    unsigned day;    /* 1-31 */
    unsigned hour;   /* 0-23 */
    unsigned minute; /* 0-59 */
    unsigned second; /* 0-59 */
};

bool calendar_is_leap_year(int64_t year);
unsigned calendar_days_in_month(int64_t year, unsigned month);
int64_t calendar_days_from_date(int64_t year, unsigned month, unsigned day);
void calendar_date_from_days(int64_t days, struct calendar_time *date);
unsigned calendar_weekday(int64_t days); /* 0 Sunday .. 6 Saturday */

int64_t calendar_seconds_from_time(const struct calendar_time *time);
void calendar_time_from_seconds(int64_t seconds, struct calendar_time *time);

#endif
