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

/* The unpin decrements the users count alone (a 16-bit locked subtract
 * on the state word's low half): generation, open bit, type and rights
 * come back as they were after any number of calls. */
static void test_unpin_touches_only_the_users_count(void **state)
{
    (void)state;
    hv_handle_t h = handle_open(&table, HV_HANDLE_VCPU, HV_RIGHT_READ | HV_RIGHT_RUN, &object_a);
    long err = 0;
    struct handle_slot *slot = handle_slot_of(&table, (uint64_t)h);
    uint64_t idle = slot->state;
    assert_int_equal(handle_slot_users(slot), 1);
    struct handle_slot *pins[3];
    for (unsigned i = 0; i < 3; i++)
        assert_non_null(pins[i] = handle_get(&table, h, HV_HANDLE_VCPU, HV_RIGHT_RUN, &err));
    assert_int_equal(slot->state, idle + 3);
    for (unsigned i = 0; i < 3; i++)
        assert_false(handle_unpin_was_last(pins[i]));
    assert_int_equal(slot->state, idle);
    for (unsigned i = 0; i < 70000; i++) { /* past 16 bits of calls, one at a time */
        struct handle_slot *s = handle_get(&table, h, HV_HANDLE_VCPU, HV_RIGHT_READ, &err);
        assert_non_null(s);
        handle_put(&table, s);
    }
    assert_int_equal(slot->state, idle);
    assert_int_equal(released[HV_HANDLE_VCPU], 0);
    close_handle(h);
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

/* A slot that issued the last generation is retired: no later handle
 * reuses it, so a value kept from before can never name a new object
 * (a wrap to generation 1 would). */
static void test_slot_retires_at_the_last_generation(void **state)
{
    (void)state;
    hv_handle_t h = handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_a);
    uint32_t index = h & 0xffff;
    close_handle(h);
    /* As if the slot had been opened and closed 2^31 - 2 times. */
    slots[index].state = (slots[index].state & ~HANDLE_STATE_GEN_MASK) |
                         (HANDLE_GENERATION_LAST - 1) << HANDLE_STATE_GEN_SHIFT;
    hv_handle_t last = handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_a);
    assert_int_equal(last & 0xffff, index);
    assert_int_equal((uint64_t)last >> HANDLE_INDEX_BITS, HANDLE_GENERATION_LAST);
    close_handle(last);
    long before = table.open_count;
    hv_handle_t next = handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_b);
    assert_true(next > 0);
    assert_int_not_equal(next & 0xffff, index);
    assert_int_equal(table.open_count, before + 1);
    long err = 0;
    assert_null(handle_get(&table, last, HV_HANDLE_NONE, 0, &err));
    assert_int_equal(err, -HV_ECLOSED);
    struct handle_slot *s = handle_get(&table, next, HV_HANDLE_VM, 0, &err);
    assert_non_null(s);
    assert_ptr_equal(s->object, &object_b);
    handle_put(&table, s);
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

/* The two-step open: a reserved slot answers no call until it is
 * published, counts as taken (the table fills), and goes back whole. */
static void test_reserve_then_publish_or_give_back(void **state)
{
    (void)state;
    hv_handle_t first = handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_a);
    close_handle(first);
    long index = handle_reserve(&table);
    assert_true(index >= 0);
    assert_int_equal(table.open_count, 1);
    long err = 0;
    /* The slot's last handle stays closed while it is reserved. */
    assert_null(handle_get(&table, first, HV_HANDLE_NONE, 0, &err));
    assert_int_equal(err, -HV_ECLOSED);
    hv_handle_t h = handle_publish(&table, (uint32_t)index, HV_HANDLE_VCPU, HV_RIGHTS_ALL,
                                   &object_b);
    assert_true(h > 0);
    struct handle_slot *s = handle_get(&table, h, HV_HANDLE_VCPU, HV_RIGHT_RUN, &err);
    assert_non_null(s);
    assert_ptr_equal(s->object, &object_b);
    handle_put(&table, s);

    for (int i = 1; i < HANDLE_TABLE_SIZE; i++)
        assert_true(handle_reserve(&table) >= 0);
    assert_int_equal(handle_reserve(&table), -HV_ENOSPC);
    assert_int_equal(handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_a), -HV_ENOSPC);
    handle_unreserve(&table, 5);
    assert_int_equal(table.open_count, HANDLE_TABLE_SIZE - 1);
    assert_true(handle_open(&table, HV_HANDLE_VM, HV_RIGHTS_ALL, &object_a) > 0);
    assert_int_equal(table.open_count, HANDLE_TABLE_SIZE);
}

static void test_slots_do_not_share_cache_lines(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct handle_slot) % 64, 0);
    assert_int_equal((uintptr_t)&slots[1] % 64, 0);
}

/* The hypercall fast path's check (hv/hypercall.h): a value without
 * HANDLE_INVALID_BITS, then one masked compare with the slot's state word.
 * It must accept exactly what handle_get accepts. */
static bool fast_allows(hv_handle_t h, enum hv_handle_type type, uint16_t rights)
{
    if ((uint64_t)h & HANDLE_INVALID_BITS)
        return false;
    const struct handle_slot *slot = handle_slot_of(&table, (uint64_t)h);
    return handle_state_allows(slot->state, (uint64_t)h, HANDLE_STATE_WANT(type, rights),
                               HANDLE_STATE_MASK(type, rights));
}

static bool get_allows(hv_handle_t h, enum hv_handle_type type, uint16_t rights)
{
    long err = 0;
    struct handle_slot *s = handle_get(&table, h, type, rights, &err);
    if (s)
        handle_put(&table, s);
    return s != NULL;
}

static void test_state_word_check_refuses_forgeries(void **state)
{
    (void)state;
    hv_handle_t h = handle_open(&table, HV_HANDLE_VCPU, HV_RIGHT_READ | HV_RIGHT_RUN,
                                &object_a);
    assert_true(fast_allows(h, HV_HANDLE_VCPU, HV_RIGHT_READ));
    assert_true(fast_allows(h, HV_HANDLE_NONE, 0));
    assert_false(fast_allows(h, HV_HANDLE_VM, 0));            /* type */
    assert_false(fast_allows(h, HV_HANDLE_VCPU, HV_RIGHT_WRITE)); /* rights */
    assert_false(fast_allows(h + (1 << 16), HV_HANDLE_VCPU, 0)); /* generation */
    /* Bits a handle never has: above the generation, where the state
     * word keeps the open bit, type and rights; index bits beyond the
     * table, which the slot lookup masks away. */
    for (int bit = 47; bit < 63; bit++)
        assert_false(fast_allows(h | (hv_handle_t)(1ll << bit), HV_HANDLE_VCPU,
                                 HV_RIGHT_READ));
    for (int bit = 10; bit < 16; bit++)
        assert_false(fast_allows(h | (1 << bit), HV_HANDLE_VCPU, HV_RIGHT_READ));
    close_handle(h);
    assert_false(fast_allows(h, HV_HANDLE_VCPU, 0));          /* closed */
}

/* Random values and requests: the fast check and handle_get agree. */
static void test_state_word_check_agrees_with_handle_get(void **state)
{
    (void)state;
    hv_handle_t open[8];
    for (int i = 0; i < 8; i++)
        open[i] = handle_open(&table, (enum hv_handle_type)(1 + i % 3),
                              (uint16_t)(HV_RIGHTS_ALL >> (i % 4)), &object_a);
    close_handle(open[7]);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int n = 0; n < 100000; n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        hv_handle_t h = (n & 1) ? open[x % 8] ^ (hv_handle_t)((x >> 8) & (x >> 20) & (x >> 40))
                                : (hv_handle_t)x;
        enum hv_handle_type type = (enum hv_handle_type)((x >> 3) % 4);
        uint16_t rights = (uint16_t)((x >> 5) & HV_RIGHTS_ALL);
        assert_int_equal(fast_allows(h, type, rights), get_allows(h, type, rights));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_open_and_get, setup),
        cmocka_unit_test_setup(test_bad_values_are_ebadf, setup),
        cmocka_unit_test_setup(test_wrong_type_and_rights, setup),
        cmocka_unit_test_setup(test_closed_then_stale, setup),
        cmocka_unit_test_setup(test_close_during_call_defers_release, setup),
        cmocka_unit_test_setup(test_unpin_touches_only_the_users_count, setup),
        cmocka_unit_test_setup(test_double_close, setup),
        cmocka_unit_test_setup(test_table_full, setup),
        cmocka_unit_test_setup(test_slot_retires_at_the_last_generation, setup),
        cmocka_unit_test_setup(test_reserve_then_publish_or_give_back, setup),
        cmocka_unit_test_setup(test_slots_do_not_share_cache_lines, setup),
        cmocka_unit_test_setup(test_state_word_check_refuses_forgeries, setup),
        cmocka_unit_test_setup(test_state_word_check_agrees_with_handle_get, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
