// sources: hv/exit_profile.c
/* Unit tests for hv/exit_profile.c, the bench build's accounting of where
 * a child's exits spend the hypervisor: each sequence is what the guest
 * loops' hooks see on one CPU, with made-up TSC and idle values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/exit_profile.h"

#define BY_HV  EXIT_PROFILE_BY_HYPERVISOR
#define BY_VMM EXIT_PROFILE_BY_VMM

static struct exit_profile fresh(void)
{
    struct exit_profile p;
    memset(&p, 0, sizeof(p));
    return p;
}

static void assert_cell(const struct exit_profile *p, unsigned cls, unsigned by,
                        uint64_t exits, uint64_t ticks)
{
    assert_int_equal(p->cells[cls][by].exits, exits);
    assert_int_equal(p->cells[cls][by].ticks, ticks);
}

static uint64_t total_exits(const struct exit_profile *p)
{
    uint64_t n = 0;
    for (unsigned c = 0; c < EXIT_PROFILE_CLASSES; c++)
        for (unsigned b = 0; b < EXIT_PROFILE_BY_COUNT; b++)
            n += p->cells[c][b].exits;
    return n;
}

static void test_exit_completed_in_the_hypervisor(void **state)
{
    (void)state;
    struct exit_profile p = fresh();
    exit_profile_child_exit(&p, EXIT_PROFILE_CPUID, 100, 0);
    exit_profile_child_enter(&p, 180, 0);
    assert_cell(&p, EXIT_PROFILE_CPUID, BY_HV, 1, 80);
    exit_profile_child_exit(&p, EXIT_PROFILE_CPUID, 500, 0);
    exit_profile_child_enter(&p, 590, 0);
    assert_cell(&p, EXIT_PROFILE_CPUID, BY_HV, 2, 170);
    assert_int_equal(total_exits(&p), 2);
}

/* Out to the VMM: the exit to RUN's return, then RUN's call to the entry;
 * the VMM's time and its other calls in between are not the exit's. */
static void test_exit_to_the_vmm_counts_both_ways_not_the_vmm(void **state)
{
    (void)state;
    struct exit_profile p = fresh();
    exit_profile_child_exit(&p, EXIT_PROFILE_IO, 1000, 0);
    exit_profile_control_enter(&p, 1100, 0);      /* RUN returns */
    exit_profile_control_exit(&p, 1300, 0);       /* another call of the VMM's */
    exit_profile_control_enter(&p, 1350, 0);
    exit_profile_control_exit(&p, 1500, 0);       /* the next RUN */
    exit_profile_child_enter(&p, 1560, 0);
    assert_cell(&p, EXIT_PROFILE_IO, BY_VMM, 1, 100 + 60);
    assert_cell(&p, EXIT_PROFILE_IO, BY_HV, 0, 0);
    assert_int_equal(total_exits(&p), 1);
}

/* A RUN that returns without entering (immediate exit, a deadline
 * passed): the way back in is the last RUN's. */
static void test_run_without_entry_moves_the_way_back_to_the_next_run(void **state)
{
    (void)state;
    struct exit_profile p = fresh();
    exit_profile_child_exit(&p, EXIT_PROFILE_MMIO, 0, 0);
    exit_profile_control_enter(&p, 200, 0);
    exit_profile_control_exit(&p, 1000, 0);       /* RUN, returns at once */
    exit_profile_control_enter(&p, 1040, 0);
    exit_profile_control_exit(&p, 2000, 0);       /* RUN that enters */
    exit_profile_child_enter(&p, 2070, 0);
    assert_cell(&p, EXIT_PROFILE_MMIO, BY_VMM, 1, 200 + 70);
    assert_int_equal(total_exits(&p), 1);
}

static void test_sleep_for_a_halted_vcpu_is_taken_out(void **state)
{
    (void)state;
    struct exit_profile p = fresh();
    exit_profile_child_exit(&p, EXIT_PROFILE_HLT, 10000, 5000);
    exit_profile_child_enter(&p, 20000, 14900);   /* slept 9900 of 10000 */
    assert_cell(&p, EXIT_PROFILE_HLT, BY_HV, 1, 100);
    /* Asleep on the VMM's side of an exit as well. */
    exit_profile_child_exit(&p, EXIT_PROFILE_HLT, 30000, 14900);
    exit_profile_control_enter(&p, 30100, 14950);
    assert_cell(&p, EXIT_PROFILE_HLT, BY_VMM, 1, 50);
}

static void test_first_entry_counts_nothing(void **state)
{
    (void)state;
    struct exit_profile p = fresh();
    exit_profile_child_enter(&p, 100, 0);
    exit_profile_control_enter(&p, 200, 0);
    assert_int_equal(total_exits(&p), 0);
    /* Nor does a control domain's call with no child exit pending. */
    exit_profile_control_exit(&p, 300, 0);
    exit_profile_control_enter(&p, 400, 0);
    exit_profile_child_enter(&p, 500, 0);
    assert_int_equal(total_exits(&p), 0);
}

static void test_clear_keeps_the_exit_in_progress(void **state)
{
    (void)state;
    struct exit_profile p = fresh();
    exit_profile_child_exit(&p, EXIT_PROFILE_WRMSR, 0, 0);
    exit_profile_child_enter(&p, 10, 0);
    exit_profile_child_exit(&p, EXIT_PROFILE_WRMSR, 100, 0);
    exit_profile_clear(&p);
    assert_int_equal(total_exits(&p), 0);
    exit_profile_child_enter(&p, 130, 0);
    assert_cell(&p, EXIT_PROFILE_WRMSR, BY_HV, 1, 30);
}

static void test_unknown_class_counts_as_other(void **state)
{
    (void)state;
    struct exit_profile p = fresh();
    exit_profile_child_exit(&p, 999, 0, 0);
    exit_profile_child_enter(&p, 5, 0);
    assert_cell(&p, EXIT_PROFILE_OTHER, BY_HV, 1, 5);
    assert_string_equal(exit_profile_class_name(999), "other");
    for (unsigned c = 0; c < EXIT_PROFILE_CLASSES; c++)
        assert_non_null(exit_profile_class_name(c));
    assert_string_equal(exit_profile_class_name(EXIT_PROFILE_IO), "io");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_completed_in_the_hypervisor),
        cmocka_unit_test(test_exit_to_the_vmm_counts_both_ways_not_the_vmm),
        cmocka_unit_test(test_run_without_entry_moves_the_way_back_to_the_next_run),
        cmocka_unit_test(test_sleep_for_a_halted_vcpu_is_taken_out),
        cmocka_unit_test(test_first_entry_counts_nothing),
        cmocka_unit_test(test_clear_keeps_the_exit_in_progress),
        cmocka_unit_test(test_unknown_class_counts_as_other),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
