// sources: guest-tools/vmm/devices/i8042.c
/* Unit tests for the i8042 model (guest-tools/vmm/devices/i8042.c): the
 * probe Linux's i8042 driver runs (flush, self-test, command byte, aux
 * loopback and tests), devices that answer nothing but 0xfe with TIMEOUT,
 * the reset line (0xfe, pulse commands, output port), A20, and a seeded
 * fuzz loop over both ports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest-tools/vmm/devices/i8042.h"

struct harness {
    struct i8042 kbc;
    bool irq[16];
    unsigned irq_raised[16];
    unsigned resets;
};

static void record_irq(void *ctx, unsigned line, bool level)
{
    struct harness *h = ctx;

    assert_true(line == I8042_KEYBOARD_IRQ || line == I8042_AUX_IRQ);
    assert_true(level != h->irq[line]);
    h->irq[line] = level;
    if (level)
        h->irq_raised[line]++;
}

static void record_request(void *ctx, enum platform_request request)
{
    struct harness *h = ctx;

    assert_int_equal(request, PLATFORM_REQUEST_RESET);
    h->resets++;
}

static struct harness *harness_new(void)
{
    struct harness *h = calloc(1, sizeof(*h));

    assert_non_null(h);
    i8042_init(&h->kbc, (struct irq_line){ .set = record_irq, .ctx = h, .line = 1 },
               (struct irq_line){ .set = record_irq, .ctx = h, .line = 12 },
               (struct platform_request_sink){ .request = record_request, .ctx = h });
    return h;
}

static uint8_t status(struct harness *h)
{
    return (uint8_t)i8042_read(&h->kbc, I8042_STATUS, 1, 0);
}

static uint8_t data(struct harness *h)
{
    return (uint8_t)i8042_read(&h->kbc, I8042_DATA, 1, 0);
}

static void command(struct harness *h, uint8_t value)
{
    i8042_write(&h->kbc, I8042_COMMAND, 1, value, 0);
}

static void write_data(struct harness *h, uint8_t value)
{
    i8042_write(&h->kbc, I8042_DATA, 1, value, 0);
}

/* i8042_command: the command, its parameter bytes, then each answer byte
 * once OBF is set (Linux gives up if it never is). */
static int linux_command(struct harness *h, uint8_t cmd, const uint8_t *params, unsigned nparams,
                         uint8_t *answers, unsigned nanswers, uint8_t *answer_status)
{
    assert_int_equal(status(h) & I8042_STR_IBF, 0);
    command(h, cmd);
    for (unsigned i = 0; i < nparams; i++)
        write_data(h, params[i]);
    for (unsigned i = 0; i < nanswers; i++) {
        uint8_t str = status(h);
        if (!(str & I8042_STR_OBF))
            return -1;
        if (answer_status)
            *answer_status = str;
        answers[i] = data(h);
    }
    return 0;
}

static void test_linux_probe(void **state)
{
    (void)state;
    struct harness *h = harness_new();
    uint8_t ctr[2], answer, str;

    /* i8042_flush: nothing buffered. */
    assert_int_equal(status(h) & I8042_STR_OBF, 0);
    assert_int_equal(status(h) & ~I8042_STR_SYS, I8042_STR_KEYLOCK);

    /* i8042_controller_selftest */
    assert_int_equal(linux_command(h, 0xaa, NULL, 0, &answer, 1, NULL), 0);
    assert_int_equal(answer, 0x55);

    /* i8042_controller_init: read the CTR until two reads agree, write it. */
    assert_int_equal(linux_command(h, 0x20, NULL, 0, &ctr[0], 1, NULL), 0);
    assert_int_equal(linux_command(h, 0x20, NULL, 0, &ctr[1], 1, NULL), 0);
    assert_int_equal(ctr[0], ctr[1]);
    uint8_t new_ctr = (uint8_t)((ctr[0] | I8042_CTR_KBDDIS | I8042_CTR_AUXDIS) &
                                ~(I8042_CTR_KBDINT | I8042_CTR_AUXINT));
    assert_int_equal(linux_command(h, 0x60, &new_ctr, 1, NULL, 0, NULL), 0);
    assert_int_equal(linux_command(h, 0x20, NULL, 0, &answer, 1, NULL), 0);
    assert_int_equal(answer, new_ctr);

    /* i8042_check_aux: the aux loopback answers as aux data. */
    uint8_t param = 0x5a;
    assert_int_equal(linux_command(h, 0xd3, &param, 1, &answer, 1, &str), 0);
    assert_int_equal(answer, 0x5a);
    assert_true(str & I8042_STR_AUXDATA);
    assert_int_equal(linux_command(h, 0xa9, NULL, 0, &answer, 1, NULL), 0);
    assert_int_equal(answer, 0x00);
    command(h, 0xa7);
    assert_int_equal(linux_command(h, 0x20, NULL, 0, &answer, 1, NULL), 0);
    assert_true(answer & I8042_CTR_AUXDIS);
    command(h, 0xa8);
    assert_int_equal(linux_command(h, 0x20, NULL, 0, &answer, 1, NULL), 0);
    assert_false(answer & I8042_CTR_AUXDIS);

    /* The AUX IRQ test: loopback with IRQ 12 enabled interrupts. */
    new_ctr = (uint8_t)(new_ctr | I8042_CTR_AUXINT | I8042_CTR_KBDINT);
    new_ctr &= (uint8_t)~(I8042_CTR_KBDDIS | I8042_CTR_AUXDIS);
    assert_int_equal(linux_command(h, 0x60, &new_ctr, 1, NULL, 0, NULL), 0);
    param = 0xa5;
    command(h, 0xd3);
    write_data(h, param);
    assert_true(h->irq[12]);
    assert_false(h->irq[1]);
    assert_int_equal(data(h), 0xa5);
    assert_false(h->irq[12]);

    /* atkbd: GETID to the keyboard is answered 0xfe with TIMEOUT on IRQ 1. */
    write_data(h, 0xf2);
    assert_true(h->irq[1]);
    str = status(h);
    assert_int_equal(str & (I8042_STR_OBF | I8042_STR_TIMEOUT | I8042_STR_AUXDATA),
                     I8042_STR_OBF | I8042_STR_TIMEOUT);
    assert_int_equal(data(h), 0xfe);
    assert_false(h->irq[1]);
    assert_int_equal(status(h) & (I8042_STR_OBF | I8042_STR_TIMEOUT), 0);

    /* psmouse: a byte for the aux device, likewise on IRQ 12. */
    command(h, 0xd4);
    write_data(h, 0xf2);
    assert_true(h->irq[12]);
    assert_int_equal(status(h) & 0x61, I8042_STR_OBF | I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
    assert_int_equal(data(h), 0xfe);
    assert_false(h->irq[12]);

    /* An empty buffer repeats its last byte; the flush loop ends. */
    assert_int_equal(data(h), 0xfe);
    assert_int_equal(status(h) & I8042_STR_OBF, 0);
    assert_int_equal(h->resets, 0);
    free(h);
}

/* Reset: command 0xfe (and any pulse command with bit 0 clear), or the
 * output port written with bit 0 clear. A20 through the output port. */
static void test_reset_and_a20(void **state)
{
    (void)state;
    struct harness *h = harness_new();

    command(h, 0xfe);
    assert_int_equal(h->resets, 1);
    command(h, 0xf0);
    assert_int_equal(h->resets, 2);
    command(h, 0xff); /* pulses nothing */
    command(h, 0xf1);
    assert_int_equal(h->resets, 2);

    assert_true(i8042_a20_enabled(&h->kbc));
    command(h, 0xd1);
    write_data(h, 0xdd); /* A20 off, reset line high */
    assert_false(i8042_a20_enabled(&h->kbc));
    assert_int_equal(h->resets, 2);
    command(h, 0xd0);
    assert_int_equal(data(h) & 0x03, 0x01);
    command(h, 0xdf);
    assert_true(i8042_a20_enabled(&h->kbc));
    command(h, 0xd1);
    write_data(h, 0xfe); /* reset line low */
    assert_int_equal(h->resets, 3);
    command(h, 0xd0);
    assert_int_equal(data(h) & 0x03, 0x03);
    free(h);
}

/* The status register: SYS from the command byte, CMDDAT from the last
 * write; bytes beside the two ports float; a new command drops a pending
 * one. */
static void test_status_and_ports(void **state)
{
    (void)state;
    struct harness *h = harness_new();

    command(h, 0x60);
    assert_true(status(h) & I8042_STR_CMDDAT);
    write_data(h, 0x00);
    assert_int_equal(status(h), I8042_STR_KEYLOCK);
    command(h, 0x60);
    command(h, 0xaa); /* replaces the pending write */
    assert_int_equal(data(h), 0x55);
    command(h, 0x20);
    assert_int_equal(data(h), 0x00);
    assert_int_equal(i8042_read(&h->kbc, I8042_DATA, 2, 0), 0xff00);
    assert_int_equal(i8042_read(&h->kbc, I8042_STATUS, 4, 0) & 0xffffff00, 0xffffff00);
    assert_int_equal(i8042_read(&h->kbc, I8042_DATA, 3, 0), 0xffffffff);
    free(h);
}

static void test_fuzz(void **state)
{
    (void)state;
    struct harness *h = harness_new();
    static const unsigned sizes[] = { 1, 1, 2, 4, 0 };

    srand(8042);
    for (int i = 0; i < 200000; i++) {
        unsigned offset = (unsigned)rand() % 8;
        unsigned size = sizes[rand() % 5];
        if (rand() % 2)
            i8042_read(&h->kbc, offset, size, 0);
        else
            i8042_write(&h->kbc, offset, size, (uint32_t)rand(), 0);
        uint8_t str = status(h);
        uint8_t ctr = h->kbc.command_byte;
        bool full = str & I8042_STR_OBF, aux = str & I8042_STR_AUXDATA;
        assert_true(h->irq[1] == (full && !aux && (ctr & I8042_CTR_KBDINT)));
        assert_true(h->irq[12] == (full && aux && (ctr & I8042_CTR_AUXINT)));
        assert_int_equal(str & I8042_STR_IBF, 0);
    }
    assert_true(h->resets > 0);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_probe),
        cmocka_unit_test(test_reset_and_a20),
        cmocka_unit_test(test_status_and_ports),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
