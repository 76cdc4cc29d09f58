// sources: hv/handle.c
/* Unit tests for hv/handle.c: the four distinct errors for bad handles,
 * rights and types, DUP-like reopening, and the deferred release that keeps
 * an object alive for a call in flight while its handle is closed. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hv/handle.h"

static struct handle_slot slots[HANDLE_TABLE_SIZE];
static struct handle_table table;
static int released[4];
static void *last_released;

static void count_release(void *object, enum hv_handle_type type)
{
    released[type]++;
    last_released = object;
}

static int setup(void **state)
{
    (void)state;
    handle_table_init(&table, slots, count_release);
    for (int i = 0; i < 4; i++)
        released[i] = 0;
    last_released = NULL;
    return 0;
}

static int object_a, object_b;

static void close_handle(hv_handle_t h)
{
    long err = 0;
    struct handle_slot *s = handle_get(&table, h, HV_HANDLE_NONE, 0, &err);
    assert_non_null(s);
    assert_int_equal(handle_close(&table, s), 0);
    handle_put(&table, s);
}

static void test_open_and_get(void **state)
{
    (void)state;
    hv_handle_t h = handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_a);
    assert_true(h > 0);
    long err = 0;
    struct handle_slot *s = handle_get(&table, h, HV_HANDLE_VM, HV_RIGHT_CREATE, &err);
    assert_non_null(s);
    assert_ptr_equal(s->object, &object_a);
    assert_int_equal(handle_slot_users(s), 2);
    handle_put(&table, s);
    assert_int_equal(handle_slot_users(s), 1);
    assert_int_equal(table.open_count, 1);
}

static void test_bad_values_are_ebadf(void **state)
{
    (void)state;
    hv_handle_t h = handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_a);
    long err = 0;
    assert_null(handle_get(&table, 0, HV_HANDLE_NONE, 0, &err));
    assert_int_equal(err, -HV_EBADF);
    assert_null(handle_get(&table, -5, HV_HANDLE_NONE, 0, &err));
    assert_int_equal(err, -HV_EBADF);
    /* index beyond the table */
    assert_null(handle_get(&table, (1 << 16) | HANDLE_TABLE_SIZE, HV_HANDLE_NONE, 0, &err));
    assert_int_equal(err, -HV_EBADF);
    /* a generation never issued for the slot: a forged value */
    assert_null(handle_get(&table, h + (5 << 16), HV_HANDLE_NONE, 0, &err));
    assert_int_equal(err, -HV_EBADF);
    /* an index never used at all */
    assert_null(handle_get(&table, (1 << 16) | 77, HV_HANDLE_NONE, 0, &err));
    assert_int_equal(err, -HV_EBADF);
}

static void test_wrong_type_and_rights(void **state)
{
    (void)state;
    hv_handle_t h = handle_open(&table, HV_HANDLE_VCPU, HV_RIGHT_READ | HV_RIGHT_RUN,
                                &object_a);
    long err = 0;
    assert_null(handle_get(&table, h, HV_HANDLE_VM, 0, &err));
    assert_int_equal(err, -HV_EBADTYPE);
    assert_null(handle_get(&table, h, HV_HANDLE_VCPU, HV_RIGHT_WRITE, &err));
    assert_int_equal(err, -HV_EPERM);
    struct handle_slot *s = handle_get(&table, h, HV_HANDLE_VCPU, HV_RIGHT_RUN, &err);
    assert_non_null(s);
    handle_put(&table, s);
}

static void test_closed_then_stale(void **state)
{
    (void)state;
    hv_handle_t h = handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_a);
    close_handle(h);
    assert_int_equal(released[HV_HANDLE_VM], 1);
    assert_ptr_equal(last_released, &object_a);
    long err = 0;
    assert_null(handle_get(&table, h, HV_HANDLE_NONE, 0, &err));
    assert_int_equal(err, -HV_ECLOSED);

    /* The slot is reused (it is at the head of the free list) with a new
     * generation: the old value is now stale, not closed. */
    hv_handle_t h2 = handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_b);
    assert_int_equal(h2 & 0xffff, h & 0xffff);
    assert_true(h2 != h);
    assert_null(handle_get(&table, h, HV_HANDLE_NONE, 0, &err));
    assert_int_equal(err, -HV_ESTALE);
    struct handle_slot *s = handle_get(&table, h2, HV_HANDLE_VM, 0, &err);
    assert_non_null(s);
    assert_ptr_equal(s->object, &object_b);
    handle_put(&table, s);
}

static void test_close_during_call_defers_release(void **state)
{
    (void)state;
    hv_handle_t h = handle_open(&table, HV_HANDLE_VCPU, HV_RIGHTS_ALL, &object_a);
    long err = 0;
    /* A call pins the handle (say RUN on another CPU)... */
    struct handle_slot *in_flight = handle_get(&table, h, HV_HANDLE_VCPU, 0, &err);
    assert_non_null(in_flight);
    /* ...and the handle is closed meanwhile. */
    close_handle(h);
    assert_int_equal(released[HV_HANDLE_VCPU], 0);
    assert_null(handle_get(&table, h, HV_HANDLE_NONE, 0, &err));
    assert_int_equal(err, -HV_ECLOSED);
    /* The slot is not reusable until the call is done. */
    hv_handle_t other = handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_b);
    assert_true((other & 0xffff) != (h & 0xffff));
    assert_ptr_equal(in_flight->object, &object_a);
    handle_put(&table, in_flight);
    assert_int_equal(released[HV_HANDLE_VCPU], 1);
}

static void test_double_close(void **state)
{
    (void)state;
    hv_handle_t h = handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_a);
    long err = 0;
    struct handle_slot *a = handle_get(&table, h, HV_HANDLE_NONE, 0, &err);
    struct handle_slot *b = handle_get(&table, h, HV_HANDLE_NONE, 0, &err);
    assert_int_equal(handle_close(&table, a), 0);
    assert_int_equal(handle_close(&table, b), -HV_ECLOSED);
    handle_put(&table, a);
    handle_put(&table, b);
    assert_int_equal(released[HV_HANDLE_VM], 1);
    assert_int_equal(table.open_count, 0);
}

static void test_table_full(void **state)
{
    (void)state;
    for (int i = 0; i < HANDLE_TABLE_SIZE; i++)
        assert_true(handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_a) > 0);
    assert_int_equal(handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_a),
                     -HV_ENOSPC);
    assert_int_equal(table.open_count, HANDLE_TABLE_SIZE);
}

static void test_slots_do_not_share_cache_lines(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct handle_slot) % 64, 0);
    assert_int_equal((uintptr_t)&slots[1] % 64, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_open_and_get, setup),
        cmocka_unit_test_setup(test_bad_values_are_ebadf, setup),
        cmocka_unit_test_setup(test_wrong_type_and_rights, setup),
        cmocka_unit_test_setup(test_closed_then_stale, setup),
        cmocka_unit_test_setup(test_close_during_call_defers_release, setup),
        cmocka_unit_test_setup(test_double_close, setup),
        cmocka_unit_test_setup(test_table_full, setup),
        cmocka_unit_test_setup(test_slots_do_not_share_cache_lines, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
