// sources: guest-tools/vmm/pc/io_bus.c
/* Unit tests for the VMM's address-range bus (guest-tools/vmm/pc/io_bus.c):
 * dispatch by the first byte's address, overlap refusal, unclaimed addresses floating high, the size
 * contract and 8-byte accesses split in two. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "guest-tools/vmm/pc/io_bus.h"

struct recorder {
    unsigned reads, writes;
    uint64_t last_address, last_now;
    unsigned last_size;
    uint32_t last_value;
};

static uint32_t record_read(void *device, uint64_t address, unsigned size, uint64_t now)
{
    struct recorder *r = device;
    r->reads++;
    r->last_address = address;
    r->last_size = size;
    r->last_now = now;
    return 0x11223344u + (uint32_t)(address & 0xff);
}

static void record_write(void *device, uint64_t address, unsigned size, uint32_t value, uint64_t now)
{
    struct recorder *r = device;
    r->writes++;
    r->last_address = address;
    r->last_size = size;
    r->last_value = value;
    r->last_now = now;
}

static void test_dispatch_by_range(void **state)
{
    struct io_bus bus;
    struct recorder pic = { 0 }, uart = { 0 };
    uint64_t value;
    (void)state;
    io_bus_init(&bus);
    assert_int_equal(io_bus_add(&bus, 0x20, 2, record_read, record_write, &pic, "pic"), 0);
    assert_int_equal(io_bus_add(&bus, 0x3f8, 8, record_read, record_write, &uart, "com1"), 0);
    assert_true(io_bus_read(&bus, 0x3fd, 1, 77, &value));
    assert_int_equal(value, 0x41); /* the low byte of the device's answer */
    assert_int_equal(uart.last_address, 0x3fd);
    assert_int_equal(uart.last_size, 1);
    assert_int_equal(uart.last_now, 77);
    assert_true(io_bus_write(&bus, 0x21, 2, 0xabcd, 5));
    assert_int_equal(pic.writes, 1);
    assert_int_equal(pic.last_address, 0x21);
    assert_int_equal(pic.last_value, 0xabcd);
    /* The device gets only the bytes of the access. */
    assert_true(io_bus_write(&bus, 0x3f8, 1, 0x1ff, 0));
    assert_int_equal(uart.last_value, 0xff);
    assert_ptr_equal(io_bus_find(&bus, 0x3ff)->device, &uart);
    assert_null(io_bus_find(&bus, 0x400));
    assert_null(io_bus_find(&bus, 0x1f));
}

static void test_unclaimed_floats_high(void **state)
{
    struct io_bus bus;
    uint64_t value = 0;
    (void)state;
    io_bus_init(&bus);
    assert_false(io_bus_read(&bus, 0x2f8, 1, 0, &value));
    assert_int_equal(value, 0xff);
    assert_false(io_bus_read(&bus, 0x2f8, 2, 0, &value));
    assert_int_equal(value, 0xffff);
    assert_false(io_bus_read(&bus, 0x2f8, 4, 0, &value));
    assert_int_equal(value, 0xffffffffu);
    assert_false(io_bus_write(&bus, 0x80, 1, 0x55, 0));
    /* Sizes outside the contract reach nothing. */
    assert_false(io_bus_read(&bus, 0, 3, 0, &value));
    assert_int_equal(value, ~0ull);
}

static void test_ranges_without_handlers(void **state)
{
    struct io_bus bus;
    uint64_t value;
    (void)state;
    io_bus_init(&bus);
    /* Port 0x80: claimed (so not "unemulated") but does nothing. */
    assert_int_equal(io_bus_add(&bus, 0x80, 1, NULL, NULL, NULL, "post"), 0);
    assert_true(io_bus_write(&bus, 0x80, 1, 0x12, 0));
    assert_true(io_bus_read(&bus, 0x80, 1, 0, &value));
    assert_int_equal(value, 0xff);
}

static void test_overlaps_refused(void **state)
{
    struct io_bus bus;
    (void)state;
    io_bus_init(&bus);
    assert_int_equal(io_bus_add(&bus, 0x40, 4, NULL, NULL, NULL, "pit"), 0);
    assert_int_equal(io_bus_add(&bus, 0x43, 1, NULL, NULL, NULL, "x"), -HV_EEXIST);
    assert_int_equal(io_bus_add(&bus, 0x3c, 5, NULL, NULL, NULL, "x"), -HV_EEXIST);
    assert_int_equal(io_bus_add(&bus, 0x30, 0x20, NULL, NULL, NULL, "x"), -HV_EEXIST);
    assert_int_equal(io_bus_add(&bus, 0x44, 1, NULL, NULL, NULL, "next"), 0);
    assert_int_equal(io_bus_add(&bus, 0x3f, 1, NULL, NULL, NULL, "before"), 0);
    assert_int_equal(io_bus_add(&bus, 0x100, 0, NULL, NULL, NULL, "empty"), -HV_EINVAL);
    assert_int_equal(io_bus_add(&bus, ~0ull, 2, NULL, NULL, NULL, "wraps"), -HV_EINVAL);
    for (unsigned i = bus.count; i < IO_BUS_MAX_RANGES; i++)
        assert_int_equal(io_bus_add(&bus, 0x1000 + i, 1, NULL, NULL, NULL, "fill"), 0);
    assert_int_equal(io_bus_add(&bus, 0x5000, 1, NULL, NULL, NULL, "full"), -HV_ENOSPC);
}

static void test_eight_byte_access_splits(void **state)
{
    struct io_bus bus;
    struct recorder ioapic = { 0 };
    uint64_t value;
    (void)state;
    io_bus_init(&bus);
    assert_int_equal(io_bus_add(&bus, 0xfec00000u, 0x1000, record_read, record_write, &ioapic,
                                "ioapic"), 0);
    assert_true(io_bus_read(&bus, 0xfec00010u, 8, 0, &value));
    assert_int_equal(ioapic.reads, 2);
    assert_int_equal(value, (uint64_t)(0x11223344u + 0x14) << 32 | (0x11223344u + 0x10));
    assert_true(io_bus_write(&bus, 0xfec00000u, 8, 0x0000000500000007ull, 0));
    assert_int_equal(ioapic.writes, 2);
    assert_int_equal(ioapic.last_address, 0xfec00004u);
    assert_int_equal(ioapic.last_value, 5);
    /* Half inside, half outside: still claimed; the outside half floats. */
    assert_true(io_bus_read(&bus, 0xfec00ffcu, 8, 0, &value));
    assert_int_equal(value >> 32, 0xffffffffu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch_by_range),
        cmocka_unit_test(test_unclaimed_floats_high),
        cmocka_unit_test(test_ranges_without_handlers),
        cmocka_unit_test(test_overlaps_refused),
        cmocka_unit_test(test_eight_byte_access_splits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
