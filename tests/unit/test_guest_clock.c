// sources: guest-tools/vmm/pc/guest_clock.c
/* Unit tests for guest time from the TSC (guest-tools/vmm/pc/guest_clock.c):
 * exact conversions at round rates, no overflow at large uptimes and fast
 * TSCs, and deadlines that never come before the time they stand for. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "guest-tools/vmm/pc/guest_clock.h"

static void test_round_rates(void **state)
{
    struct guest_clock c = { .start_tsc = 1000, .tsc_khz = 2000000 }; /* 2 GHz */
    (void)state;
    assert_int_equal(guest_clock_ns(&c, 0), 0);
    assert_int_equal(guest_clock_ns(&c, 1000), 0);
    assert_int_equal(guest_clock_ns(&c, 1002), 1);
    assert_int_equal(guest_clock_ns(&c, 1000 + 2000000000ull), 1000000000ull);
    assert_int_equal(guest_clock_tsc(&c, 1000000000ull), 1000 + 2000000000ull);
    assert_int_equal(guest_clock_tsc(&c, 0), 1000);
}

static void test_large_values(void **state)
{
    /* 5 GHz for ten years: the naive d * 10^6 would overflow long before. */
    struct guest_clock c = { .start_tsc = 123456789, .tsc_khz = 5000000 };
    uint64_t ten_years_ns = 10ull * 365 * 86400 * 1000000000ull;
    (void)state;
    uint64_t tsc = guest_clock_tsc(&c, ten_years_ns);
    assert_int_equal(guest_clock_ns(&c, tsc), ten_years_ns);
    assert_int_equal(guest_clock_tsc(&c, UINT64_MAX), UINT64_MAX);
    assert_int_equal(guest_clock_tsc(&c, UINT64_MAX - 1), UINT64_MAX);
    assert_true(guest_clock_ns(&c, UINT64_MAX) > ten_years_ns);
}

/* At an odd rate (QEMU's measured 2623.417 MHz), the deadline for t is the
 * first TSC value whose guest time is t or later. */
static void test_deadline_is_first_tick_at_or_after(void **state)
{
    struct guest_clock c = { .start_tsc = 99, .tsc_khz = 2623417 };
    (void)state;
    for (uint64_t ns = 0; ns < 3000000; ns += 997) {
        uint64_t tsc = guest_clock_tsc(&c, ns);
        assert_true(guest_clock_ns(&c, tsc) >= ns);
        assert_true(tsc == c.start_tsc || guest_clock_ns(&c, tsc - 1) < ns);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_rates),
        cmocka_unit_test(test_large_values),
        cmocka_unit_test(test_deadline_is_first_tick_at_or_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
