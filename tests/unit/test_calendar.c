// sources: guest-tools/vmm/devices/calendar.c
/* Unit tests for the calendar arithmetic of the RTC model
 * (guest-tools/vmm/devices/calendar.c): known day numbers and leap-year
 * rules, every day of eight centuries converted both ways, and the
 * carrying of out-of-range fields a guest can write into the clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "guest-tools/vmm/devices/calendar.h"

#define T_2099_12_31_235959 4102444799ll

static void test_calendar_known_dates(void **state)
{
    (void)state;
    struct calendar_time t;

    assert_int_equal(calendar_days_from_date(1970, 1, 1), 0);
    assert_int_equal(calendar_days_from_date(2024, 2, 29), 19782);
    assert_int_equal(calendar_days_from_date(2000, 3, 1), 11017);
    assert_int_equal(calendar_days_from_date(1900, 3, 1), -25508);
    assert_int_equal(calendar_days_from_date(2100, 3, 1), 47541);
    assert_int_equal(calendar_days_from_date(1, 1, 1), -719162);
    assert_true(calendar_is_leap_year(2000));
    assert_true(calendar_is_leap_year(2024));
    assert_false(calendar_is_leap_year(1900));
    assert_false(calendar_is_leap_year(2100));
    assert_false(calendar_is_leap_year(2023));
    assert_int_equal(calendar_days_in_month(2024, 2), 29);
    assert_int_equal(calendar_days_in_month(2100, 2), 28);
    assert_int_equal(calendar_days_in_month(2023, 4), 30);
    assert_int_equal(calendar_days_in_month(2023, 13), 0);
    assert_int_equal(calendar_weekday(0), 4);     /* Thursday */
    assert_int_equal(calendar_weekday(19782), 4); /* 2024-02-29, Thursday */
    assert_int_equal(calendar_weekday(-1), 3);

    calendar_time_from_seconds(T_2099_12_31_235959, &t);
    assert_true(t.year == 2099 && t.month == 12 && t.day == 31);
    assert_true(t.hour == 23 && t.minute == 59 && t.second == 59);
    assert_int_equal(calendar_seconds_from_time(&t), T_2099_12_31_235959);
}

/* Every day from 1600 to 2400 converts to a date and back, and each day's
 * date follows the previous one by the month-length rules. */
static void test_calendar_every_day(void **state)
{
    (void)state;
    struct calendar_time prev, next;
    int64_t first = calendar_days_from_date(1600, 1, 1), last = calendar_days_from_date(2400, 12, 31);

    calendar_date_from_days(first, &prev);
    assert_true(prev.year == 1600 && prev.month == 1 && prev.day == 1);
    for (int64_t day = first + 1; day <= last; day++) {
        calendar_date_from_days(day, &next);
        assert_int_equal(calendar_days_from_date(next.year, next.month, next.day), day);
        if (prev.day < calendar_days_in_month(prev.year, prev.month)) {
            assert_true(next.year == prev.year && next.month == prev.month &&
                        next.day == prev.day + 1);
        } else if (prev.month < 12) {
            assert_true(next.year == prev.year && next.month == prev.month + 1 && next.day == 1);
        } else {
            assert_true(next.year == prev.year + 1 && next.month == 1 && next.day == 1);
        }
        assert_int_equal(calendar_weekday(day), (calendar_weekday(day - 1) + 1) % 7);
        prev = next;
    }
    assert_true(prev.year == 2400 && prev.month == 12 && prev.day == 31);
}

/* Out-of-range fields carry into the next unit instead of failing. */
static void test_calendar_carries_out_of_range_fields(void **state)
{
    (void)state;
    struct calendar_time t = { .year = 2023, .month = 13, .day = 1 };
    struct calendar_time u;

    calendar_time_from_seconds(calendar_seconds_from_time(&t), &u);
    assert_true(u.year == 2024 && u.month == 1 && u.day == 1);
    t = (struct calendar_time){ .year = 2024, .month = 3, .day = 0 };
    calendar_time_from_seconds(calendar_seconds_from_time(&t), &u);
    assert_true(u.year == 2024 && u.month == 2 && u.day == 29);
    t = (struct calendar_time){ .year = 2024, .month = 0, .day = 31, .hour = 24, .minute = 75 };
    calendar_time_from_seconds(calendar_seconds_from_time(&t), &u);
    assert_true(u.year == 2024 && u.month == 1 && u.day == 1 && u.hour == 1 && u.minute == 15);
    t = (struct calendar_time){ .year = 0, .month = 0, .day = 0 };
    calendar_time_from_seconds(calendar_seconds_from_time(&t), &u);
    assert_true(u.year == -1 && u.month == 11 && u.day == 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar_known_dates),
        cmocka_unit_test(test_calendar_every_day),
        cmocka_unit_test(test_calendar_carries_out_of_range_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
