// sources:
/* Unit tests of the struct layouts issue 14 asks for (the headers also
 * check them with _Static_assert): read-mostly fields, per-call writes and
 * writes from other CPUs on separate cache lines, so that calls on
 * different vcpus, or a KICK of one, do not take each other's lines. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hv/handle.h"
#include "hv/hypercall.h"
#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

#define LINE 64u

static unsigned line_of(size_t offset) { return (unsigned)(offset / LINE); }

/* Every hypercall reads the handle table's slots; only opens and closes
 * write its lock and counts. */
static void test_handle_table_read_line_apart(void **state)
{
    (void)state;
    assert_int_equal(line_of(offsetof(struct handle_table, slots)), 0);
    assert_int_equal(line_of(offsetof(struct handle_table, release)), 0);
    assert_int_equal(line_of(offsetof(struct handle_table, lock)), 1);
    assert_int_equal(line_of(offsetof(struct handle_table, free_head)), 1);
    assert_int_equal(line_of(offsetof(struct handle_table, open_count)), 1);
    /* One slot a line: a call on one handle touches no other's line. */
    assert_int_equal(sizeof(struct handle_slot), LINE);
}

/* The control domain's hypercalls and a child's RUN read the first line;
 * region changes write tlb_generation; VM-wide calls and handles the lock
 * and references. */
static void test_vm_lines(void **state)
{
    (void)state;
    unsigned read_mostly[] = {
        line_of(offsetof(struct vm, id)), line_of(offsetof(struct vm, is_control)),
        line_of(offsetof(struct vm, lapic)), line_of(offsetof(struct vm, memory_base)),
        line_of(offsetof(struct vm, memory_size)), line_of(offsetof(struct vm, npt)),
    };
    for (unsigned i = 0; i < sizeof(read_mostly) / sizeof(read_mostly[0]); i++)
        assert_int_equal(read_mostly[i], 0);
    assert_int_equal(offsetof(struct vm, tlb_generation) % LINE, 0);
    assert_int_equal(line_of(offsetof(struct vm, tlb_generation)), 1);
    assert_int_equal(line_of(offsetof(struct vm, lock)), 2);
    assert_int_equal(line_of(offsetof(struct vm, refs)), 2);
    assert_int_equal(offsetof(struct vm, handles) % LINE, 0);
    assert_true(line_of(offsetof(struct vm, handles.slots)) >
                line_of(offsetof(struct vm, refs)));
}

/* Other CPUs write a vcpu's claim, kick and LAPIC events; the exit paths
 * use its registers. */
static void test_vcpu_cross_cpu_line(void **state)
{
    (void)state;
    assert_int_equal(line_of(offsetof(struct vcpu, owner)), 0);
    assert_int_equal(line_of(offsetof(struct vcpu, kick)), 0);
    assert_int_equal(line_of(offsetof(struct vcpu, lapic_events)), 0);
    assert_int_equal(offsetof(struct vcpu, gprs), VCPU_GPRS);
    assert_int_equal(offsetof(struct vcpu, gprs) % LINE, 0);
    assert_true(offsetof(struct vcpu, gprs) >= LINE);
    assert_int_equal(sizeof(struct vcpu) % LINE, 0);
}

/* Other CPUs write a CPU's WAKE_CPU flag and VMCLEAR mailbox. */
static void test_percpu_mailbox_line(void **state)
{
    (void)state;
    size_t mailbox = offsetof(struct percpu, wake_pending);
    assert_int_equal(mailbox % LINE, 0);
    assert_int_equal(line_of(offsetof(struct percpu, vmclear_request)), line_of(mailbox));
    assert_true(line_of(offsetof(struct percpu, owner_id)) < line_of(mailbox));
    assert_true(line_of(offsetof(struct percpu, control_vcpu)) < line_of(mailbox));
    assert_true(line_of(offsetof(struct percpu, slice_end)) < line_of(mailbox));
}

/* A dispatch table entry is 32 bytes: its address is a shift of the call
 * number. */
static void test_call_spec_size(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct call_spec), 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handle_table_read_line_apart),
        cmocka_unit_test(test_vm_lines),
        cmocka_unit_test(test_vcpu_cross_cpu_line),
        cmocka_unit_test(test_percpu_mailbox_line),
        cmocka_unit_test(test_call_spec_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
