/*
 * Calendar arithmetic (see calendar.h). Day numbers are counted internally
 * from 1 March of year -400: starting each counted year in March puts the
 * leap day at its end, so the days before a month never depend on the
 * year, and the 400-year shift (one whole Gregorian cycle, which repeats
 * exactly) keeps every intermediate value non-negative.
 */
#include "guest-tools/vmm/devices/calendar.h"

#define ORIGIN_YEARS_BEFORE_0 400
#define DAYS_PER_400_YEARS    146097 /* 400 * 365 + 97 leap days */
#define DAYS_PER_100_YEARS    36524  /* a century not ending in a 400th year */
#define DAYS_PER_4_YEARS      1461
#define DAYS_PER_YEAR         365
/* 1970-01-01 counted from the origin, 1 March -400. */
#define EPOCH_FROM_ORIGIN     865565

/* March, April, ..., December, January, February. */
static const uint16_t days_before_month_from_march[12] = {
    0, 31, 61, 92, 122, 153, 184, 214, 245, 275, 306, 337,
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if (a % b != 0 && (a < 0) != (b < 0))
        q--;
    return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

bool calendar_is_leap_year(int64_t year)
{
    return floor_mod(year, 4) == 0 && (floor_mod(year, 100) != 0 || floor_mod(year, 400) == 0);
}

unsigned calendar_days_in_month(int64_t year, unsigned month)
{
    static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    if (month < 1 || month > 12)
        return 0;
    if (month == 2 && calendar_is_leap_year(year))
        return 29;
    return days[month - 1];
}

/* Days from the origin to 1 March of the year `march_years` after it: the
 * leap days before then are those of years 1..march_years of the cycle. */
static int64_t days_before_march_year(int64_t march_years)
{
    return march_years * DAYS_PER_YEAR + march_years / 4 - march_years / 100 + march_years / 400;
}

int64_t calendar_days_from_date(int64_t year, unsigned month, unsigned day)
{
    int64_t months = year * 12 + (int64_t)month - 1;
    int64_t march_years;
    unsigned march_month;

    year = floor_div(months, 12);
    month = (unsigned)floor_mod(months, 12) + 1;
    /* January and February belong to the counted year that began the
     * March before. */
    march_years = year + ORIGIN_YEARS_BEFORE_0 - (month <= 2 ? 1 : 0);
    if (march_years < 0)
        march_years = 0;
    march_month = (month + 9) % 12;
    return days_before_march_year(march_years) + days_before_month_from_march[march_month] +
           (int64_t)day - 1 - EPOCH_FROM_ORIGIN;
}

void calendar_date_from_days(int64_t days, struct calendar_time *date)
{
    int64_t from_origin = days + EPOCH_FROM_ORIGIN;
    uint64_t rest, cycles, centuries, quads, years;
    unsigned march_month = 11;

    rest = from_origin < 0 ? 0 : (uint64_t)from_origin;
    cycles = rest / DAYS_PER_400_YEARS;
    rest %= DAYS_PER_400_YEARS;
    /* The fourth century of a cycle is a day longer (its last year is a
     * 400th year): its last day would otherwise count as a fifth century. */
    centuries = rest / DAYS_PER_100_YEARS;
    if (centuries > 3)
        centuries = 3;
    rest -= centuries * DAYS_PER_100_YEARS;
    quads = rest / DAYS_PER_4_YEARS;
    rest -= quads * DAYS_PER_4_YEARS;
    /* Likewise the fourth year of a group of four holds the leap day. */
    years = rest / DAYS_PER_YEAR;
    if (years > 3)
        years = 3;
    rest -= years * DAYS_PER_YEAR;

    while (days_before_month_from_march[march_month] > rest)
        march_month--;
    date->day = (unsigned)(rest - days_before_month_from_march[march_month]) + 1;
    date->month = march_month < 10 ? march_month + 3 : march_month - 9;
    date->year = (int64_t)(cycles * 400 + centuries * 100 + quads * 4 + years) -
                 ORIGIN_YEARS_BEFORE_0 + (date->month <= 2 ? 1 : 0);
    date->hour = date->minute = date->second = 0;
}

unsigned calendar_weekday(int64_t days)
{
    /* Day 0, 1970-01-01, was a Thursday. */
    return (unsigned)floor_mod(days + 4, 7);
}

int64_t calendar_seconds_from_time(const struct calendar_time *time)
{
    int64_t days = calendar_days_from_date(time->year, time->month, time->day);

    return days * CALENDAR_SECONDS_PER_DAY + (int64_t)time->hour * 3600 +
           (int64_t)time->minute * 60 + time->second;
}

void calendar_time_from_seconds(int64_t seconds, struct calendar_time *time)
{
    int64_t second_of_day = floor_mod(seconds, CALENDAR_SECONDS_PER_DAY);

    calendar_date_from_days(floor_div(seconds, CALENDAR_SECONDS_PER_DAY), time);
    time->hour = (unsigned)(second_of_day / 3600);
    time->minute = (unsigned)(second_of_day / 60 % 60);
    time->second = (unsigned)(second_of_day % 60);
}
