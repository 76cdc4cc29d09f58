// sources: guest-tools/vmm/pc/console_switch.c
/* Unit tests for the routing of console input to PC guests
 * (guest-tools/vmm/pc/console_switch.c): plain bytes pass, Ctrl-A digit
 * switches and splits the read there, Ctrl-A Ctrl-A is a literal, an
 * escape split across reads, digits naming no guest. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest-tools/vmm/pc/console_switch.h"

static struct console_switch sw;
static uint8_t out[64];
static size_t out_count;
static int switched;

static size_t step(const char *text)
{
    return console_switch_step(&sw, (const uint8_t *)text, strlen(text), out, &out_count,
                               &switched);
}

static void test_plain_bytes_go_to_the_running_guest(void **state)
{
    (void)state;
    console_switch_init(&sw, 3);
    assert_int_equal(step("hello\r"), 6);
    assert_int_equal(out_count, 6);
    assert_memory_equal(out, "hello\r", 6);
    assert_int_equal(switched, CONSOLE_SWITCH_NONE);
    /* Focus 0 (the default): every guest that runs gets it. */
    assert_true(console_switch_targets(&sw, 1));
    assert_true(console_switch_targets(&sw, 3));
}

static void test_escape_digit_switches_and_splits(void **state)
{
    (void)state;
    console_switch_init(&sw, 3);
    /* "ab" for the old focus, then the switch; "cd" is left for the caller. */
    assert_int_equal(step("ab\x01" "2cd"), 4);
    assert_int_equal(out_count, 2);
    assert_memory_equal(out, "ab", 2);
    assert_int_equal(switched, 2);
    assert_false(console_switch_targets(&sw, 1));
    assert_true(console_switch_targets(&sw, 2));
    assert_int_equal(step("cd"), 2);
    assert_int_equal(out_count, 2);
    assert_memory_equal(out, "cd", 2);
    /* Ctrl-A 0: back to whichever runs. */
    assert_int_equal(step("\x01" "0"), 2);
    assert_int_equal(switched, 0);
    assert_true(console_switch_targets(&sw, 1));
}

static void test_double_escape_is_a_literal(void **state)
{
    (void)state;
    console_switch_init(&sw, 2);
    assert_int_equal(step("x\x01\x01y"), 4);
    assert_int_equal(out_count, 3);
    assert_memory_equal(out, "x\x01y", 3);
    assert_int_equal(switched, CONSOLE_SWITCH_NONE);
    assert_int_equal(sw.focus, 0);
}

static void test_escape_split_across_reads(void **state)
{
    (void)state;
    console_switch_init(&sw, 2);
    assert_int_equal(step("a\x01"), 2);
    assert_int_equal(out_count, 1);
    assert_int_equal(switched, CONSOLE_SWITCH_NONE);
    assert_int_equal(step("1b"), 1);
    assert_int_equal(out_count, 0);
    assert_int_equal(switched, 1);
    assert_int_equal(sw.focus, 1);
}

static void test_digit_beyond_the_guests_and_other_bytes(void **state)
{
    (void)state;
    console_switch_init(&sw, 2);
    /* Guest 3 does not exist: consumed, nothing changes, no split. */
    assert_int_equal(step("\x01" "3z"), 3);
    assert_int_equal(out_count, 1);
    assert_memory_equal(out, "z", 1);
    assert_int_equal(switched, CONSOLE_SWITCH_NONE);
    assert_int_equal(sw.focus, 0);
    /* Ctrl-A then a letter: both dropped. */
    assert_int_equal(step("\x01qr"), 3);
    assert_int_equal(out_count, 1);
    assert_memory_equal(out, "r", 1);
    /* At most 9 guests can be chosen. */
    console_switch_init(&sw, 12);
    assert_int_equal(sw.guests, 9);
    /* In place (out == in) works: the output never overtakes the input. */
    uint8_t buf[] = "p\x01\x01q";
    assert_int_equal(console_switch_step(&sw, buf, 4, buf, &out_count, &switched), 4);
    assert_int_equal(out_count, 3);
    assert_memory_equal(buf, "p\x01q", 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_bytes_go_to_the_running_guest),
        cmocka_unit_test(test_escape_digit_switches_and_splits),
        cmocka_unit_test(test_double_escape_is_a_literal),
        cmocka_unit_test(test_escape_split_across_reads),
        cmocka_unit_test(test_digit_beyond_the_guests_and_other_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
