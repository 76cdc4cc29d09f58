// sources: hv/fault_inject.c
/* Unit tests for the allocation fault injector (hv/fault_inject.c): the
 * armed allocation fails once, the others succeed, and the count since
 * arming is what FAULT_INJECT(0) returns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hv/fault_inject.h"

static void test_nothing_fails_unarmed(void **state)
{
    (void)state;
    for (int i = 0; i < 100; i++)
        assert_false(fault_inject_fails());
    /* Nothing was counted either: the count starts at arming. */
    assert_int_equal(fault_inject_arm(0), 0);
}

static void test_kth_fails_once(void **state)
{
    (void)state;
    for (uint64_t k = 1; k <= 5; k++) {
        assert_int_equal(fault_inject_arm(k), 0);
        for (uint64_t n = 1; n <= 8; n++)
            assert_int_equal(fault_inject_fails(), n == k);
        assert_int_equal(fault_inject_arm(0), 8);
        assert_false(fault_inject_fails());
    }
}

static void test_rearming_restarts_the_count(void **state)
{
    (void)state;
    assert_int_equal(fault_inject_arm(3), 0);
    assert_false(fault_inject_fails());
    assert_false(fault_inject_fails());
    assert_int_equal(fault_inject_arm(1), 0);
    assert_true(fault_inject_fails());
    assert_int_equal(fault_inject_arm(0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_fails_unarmed),
        cmocka_unit_test(test_kth_fails_once),
        cmocka_unit_test(test_rearming_restarts_the_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
