// sources: guest-tools/vmm/devices/i8259.c
/* Unit tests for the 8259A PIC pair (guest-tools/vmm/devices/i8259.c): the
 * initialisation sequences of Linux and SeaBIOS, priority and cascade, EOI
 * and rotation commands, edge and level lines, spurious vectors, poll and
 * special mask modes, the ELCR, and garbage on every port. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "guest-tools/vmm/devices/i8259.h"

struct intr_probe {
    bool level;
    unsigned changes;
};

static void record_intr(void *ctx, unsigned line, bool level)
{
    struct intr_probe *probe = ctx;
    assert_int_equal(line, 0);
    assert_true(level != probe->level);          /* only changes are reported */
    probe->level = level;
    probe->changes++;
}

static struct i8259_pair pic;
static struct intr_probe probe;

static void out(uint16_t port, uint8_t value)
{
    i8259_write(&pic, port, 1, value, 0);
}

static uint8_t in(uint16_t port)
{
    return (uint8_t)i8259_read(&pic, port, 1, 0);
}

static void power_on(void)
{
    probe = (struct intr_probe){0};
    i8259_init(&pic, (struct irq_line){ .set = record_intr, .ctx = &probe });
}

/* arch/x86/kernel/i8259.c, init_8259A(): vectors 0x30 and 0x38. */
static void linux_init(void)
{
    power_on();
    out(0x21, 0xff);
    out(0xa1, 0xff);
    out(0x20, 0x11);                             /* ICW1: edge, cascade, ICW4 */
    out(0x21, 0x30);                             /* ICW2 */
    out(0x21, 0x04);                             /* ICW3: slave on IR2 */
    out(0x21, 0x01);                             /* ICW4: 8086, normal EOI */
    out(0xa0, 0x11);
    out(0xa1, 0x38);
    out(0xa1, 0x02);                             /* ICW3: slave ID 2 */
    out(0xa1, 0x01);
    out(0x21, 0x00);                             /* unmask everything */
    out(0xa1, 0x00);
}

static int setup_linux(void **state)
{
    (void)state;
    linux_init();
    return 0;
}

/* Linux's mask_and_ack for a line: specific EOI to the chip(s). */
static void linux_eoi(unsigned line)
{
    if (line >= 8) {
        out(0xa0, (uint8_t)(0x60 + (line & 7)));
        out(0x20, 0x62);
    } else {
        out(0x20, (uint8_t)(0x60 + line));
    }
}

static uint8_t read_isr(uint16_t command_port)
{
    out(command_port, 0x0b);
    uint8_t isr = in(command_port);
    out(command_port, 0x0a);
    return isr;
}

static void pulse(unsigned line)
{
    i8259_set_irq(&pic, line, true);
    i8259_set_irq(&pic, line, false);
}

static void test_linux_init_and_vectors(void **state)
{
    (void)state;
    assert_false(i8259_intr(&pic));
    out(0x21, 0x0f);                             /* Linux's probe: IMR reads back */
    assert_int_equal(in(0x21), 0x0f);
    out(0x21, 0x00);
    pulse(0);
    assert_true(i8259_intr(&pic));
    assert_true(probe.level);
    assert_int_equal(i8259_acknowledge(&pic), 0x30);
    assert_false(i8259_intr(&pic));
    assert_int_equal(read_isr(0x20), 0x01);
    linux_eoi(0);
    assert_int_equal(read_isr(0x20), 0x00);

    pulse(12);
    assert_true(i8259_intr(&pic));
    assert_int_equal(i8259_acknowledge(&pic), 0x3c);
    assert_int_equal(read_isr(0x20), 0x04);       /* cascade line in service */
    assert_int_equal(read_isr(0xa0), 0x10);
    linux_eoi(12);
    assert_int_equal(read_isr(0x20), 0x00);
    assert_int_equal(read_isr(0xa0), 0x00);
    assert_int_equal(probe.changes, 4);
}

/* SeaBIOS src/hw/pic.c: vectors 0x08 and 0x70, all masked but the cascade,
 * and non-specific EOIs. */
static void test_seabios_init(void **state)
{
    (void)state;
    power_on();
    out(0x20, 0x11);
    out(0x21, 0x08);
    out(0x21, 0x04);
    out(0x21, 0x01);
    out(0xa0, 0x11);
    out(0xa1, 0x70);
    out(0xa1, 0x02);
    out(0xa1, 0x01);
    out(0x21, 0xfb);
    out(0xa1, 0xff);
    assert_int_equal(in(0x21), 0xfb);
    assert_int_equal(in(0xa1), 0xff);
    pulse(0);
    pulse(8);
    assert_false(i8259_intr(&pic));              /* masked: latched, not signalled */
    assert_int_equal(in(0x20), 0x01);            /* IRR */
    assert_int_equal(in(0xa0), 0x01);
    out(0x21, 0xfa);                             /* unmask IRQ0 */
    assert_int_equal(i8259_acknowledge(&pic), 0x08);
    out(0x20, 0x20);                             /* non-specific EOI */
    out(0xa1, 0xfe);                             /* unmask IRQ8 */
    assert_int_equal(i8259_acknowledge(&pic), 0x70);
    out(0xa0, 0x20);
    out(0x20, 0x20);
    assert_false(i8259_intr(&pic));
    assert_int_equal(read_isr(0x20) | read_isr(0xa0), 0);
}

static void test_priority_and_nesting(void **state)
{
    (void)state;
    pulse(3);
    pulse(1);
    assert_int_equal(i8259_acknowledge(&pic), 0x31);    /* lower line first */
    assert_false(i8259_intr(&pic));                     /* 3 waits behind 1 */
    pulse(0);
    assert_true(i8259_intr(&pic));                      /* 0 outranks 1: nests */
    assert_int_equal(i8259_acknowledge(&pic), 0x30);
    assert_int_equal(read_isr(0x20), 0x03);
    out(0x20, 0x20);                                    /* ends 0, the highest */
    assert_false(i8259_intr(&pic));
    out(0x20, 0x20);                                    /* ends 1 */
    assert_int_equal(i8259_acknowledge(&pic), 0x33);
    out(0x20, 0x20);
    assert_false(i8259_intr(&pic));
}

/* Slave lines rank at IR2 of the master: above 3-7, below 0 and 1. */
static void test_cascade_priority(void **state)
{
    (void)state;
    pulse(5);
    pulse(10);
    pulse(8);
    assert_int_equal(i8259_acknowledge(&pic), 0x38);
    assert_false(i8259_intr(&pic));                     /* 10 behind 8, 5 behind IR2 */
    out(0xa0, 0x20);
    assert_false(i8259_intr(&pic));                     /* master IR2 still in service */
    out(0x20, 0x20);
    assert_int_equal(i8259_acknowledge(&pic), 0x3a);
    linux_eoi(10);
    assert_int_equal(i8259_acknowledge(&pic), 0x35);
    linux_eoi(5);
    pulse(1);
    pulse(15);
    assert_int_equal(i8259_acknowledge(&pic), 0x31);
    pulse(9);                                           /* IR2 ranks below 1 in service */
    assert_false(i8259_intr(&pic));
    linux_eoi(1);
    assert_int_equal(i8259_acknowledge(&pic), 0x39);
    linux_eoi(9);
    assert_int_equal(i8259_acknowledge(&pic), 0x3f);
    linux_eoi(15);
    assert_false(i8259_intr(&pic));
}

static void test_masked_lines(void **state)
{
    (void)state;
    out(0x21, 0x10);
    pulse(4);
    assert_false(i8259_intr(&pic));
    assert_int_equal(in(0x20), 0x10);
    out(0x21, 0x04);                                    /* mask the cascade instead */
    assert_int_equal(i8259_acknowledge(&pic), 0x34);
    linux_eoi(4);
    pulse(11);
    assert_false(i8259_intr(&pic));
    out(0x21, 0x00);
    assert_true(i8259_intr(&pic));
    assert_int_equal(i8259_acknowledge(&pic), 0x3b);
    linux_eoi(11);
    /* Masked at the slave while pending: the slave's INTR falls, but the
     * master latched IR2's edge, so the acknowledge is a spurious IRQ15. */
    pulse(11);
    out(0xa1, 0x08);
    assert_true(i8259_intr(&pic));
    assert_int_equal(i8259_acknowledge(&pic), 0x3f);
    out(0x20, 0x62);
    assert_false(i8259_intr(&pic));
    out(0xa1, 0x00);
    assert_int_equal(i8259_acknowledge(&pic), 0x3b);
    linux_eoi(11);
}

static void test_eoi_and_rotation(void **state)
{
    (void)state;
    pulse(2 + 4);
    pulse(4);
    assert_int_equal(i8259_acknowledge(&pic), 0x34);
    out(0x20, 0x66);                                    /* specific EOI of a line not in service */
    assert_int_equal(read_isr(0x20), 0x10);
    out(0x20, 0x64);
    assert_int_equal(read_isr(0x20), 0x00);

    /* Rotate on non-specific EOI: 6 ends and becomes the lowest, so 7 is
     * the highest and 0 ranks below it. */
    assert_int_equal(i8259_acknowledge(&pic), 0x36);
    out(0x20, 0xa0);
    pulse(0);
    pulse(7);
    assert_int_equal(i8259_acknowledge(&pic), 0x37);
    out(0x20, 0xe7);                                    /* rotate on specific EOI: 7 lowest */
    assert_int_equal(i8259_acknowledge(&pic), 0x30);
    out(0x20, 0x60);

    /* Set priority: 3 lowest, so 4 is served before 1. */
    out(0x20, 0xc3);
    pulse(1);
    pulse(4);
    assert_int_equal(i8259_acknowledge(&pic), 0x34);
    out(0x20, 0x20);
    assert_int_equal(i8259_acknowledge(&pic), 0x31);
    out(0x20, 0x20);
    out(0x20, 0x40);                                    /* no operation */
    out(0x20, 0xc7);
    assert_false(i8259_intr(&pic));
    assert_int_equal(read_isr(0x20), 0);
}

static void test_auto_eoi_and_rotation(void **state)
{
    (void)state;
    out(0x20, 0x11);
    out(0x21, 0x30);
    out(0x21, 0x04);
    out(0x21, 0x03);                                    /* ICW4: AEOI */
    pulse(3);
    pulse(5);
    assert_int_equal(i8259_acknowledge(&pic), 0x33);
    assert_int_equal(read_isr(0x20), 0);
    assert_true(i8259_intr(&pic));                      /* nothing in service holds 5 */
    assert_int_equal(i8259_acknowledge(&pic), 0x35);

    out(0x20, 0x80);                                    /* rotate in AEOI mode */
    pulse(1);
    assert_int_equal(i8259_acknowledge(&pic), 0x31);    /* 1 becomes the lowest */
    pulse(0);
    pulse(3);
    assert_int_equal(i8259_acknowledge(&pic), 0x33);
    assert_int_equal(i8259_acknowledge(&pic), 0x30);
    out(0x20, 0x00);                                    /* rotation off */
    out(0x20, 0xc7);
    pulse(1);
    pulse(0);
    assert_int_equal(i8259_acknowledge(&pic), 0x30);
    assert_int_equal(i8259_acknowledge(&pic), 0x31);
}

static void test_level_and_edge(void **state)
{
    (void)state;
    out(0x4d1, 0x04);                                   /* IRQ10 level */
    assert_int_equal(in(0x4d1), 0x04);
    i8259_set_irq(&pic, 10, true);
    assert_int_equal(i8259_acknowledge(&pic), 0x3a);
    linux_eoi(10);
    assert_true(i8259_intr(&pic));                      /* still high: asks again */
    assert_int_equal(i8259_acknowledge(&pic), 0x3a);
    i8259_set_irq(&pic, 10, false);                     /* the handler quiets the device */
    linux_eoi(10);
    assert_false(i8259_intr(&pic));

    i8259_set_irq(&pic, 3, true);                       /* edge line held high */
    assert_int_equal(i8259_acknowledge(&pic), 0x33);
    linux_eoi(3);
    assert_false(i8259_intr(&pic));                     /* one edge, one interrupt */
    i8259_set_irq(&pic, 3, true);
    assert_false(i8259_intr(&pic));
    i8259_set_irq(&pic, 3, false);
    i8259_set_irq(&pic, 3, true);
    assert_int_equal(i8259_acknowledge(&pic), 0x33);
    linux_eoi(3);
}

static void test_spurious_vectors(void **state)
{
    (void)state;
    out(0x4d0, 0x20);                                   /* IRQ5 level */
    i8259_set_irq(&pic, 5, true);
    assert_true(i8259_intr(&pic));
    i8259_set_irq(&pic, 5, false);                      /* gone before the acknowledge */
    assert_false(i8259_intr(&pic));
    assert_int_equal(i8259_acknowledge(&pic), 0x37);    /* spurious IRQ7 */
    assert_int_equal(read_isr(0x20), 0);

    out(0x4d1, 0x08);                                   /* IRQ11 level */
    i8259_set_irq(&pic, 11, true);
    i8259_set_irq(&pic, 11, false);
    assert_true(i8259_intr(&pic));                      /* the master latched IR2's edge */
    assert_int_equal(i8259_acknowledge(&pic), 0x3f);    /* spurious IRQ15 */
    assert_int_equal(read_isr(0xa0), 0);
    assert_int_equal(read_isr(0x20), 0x04);             /* Linux EOIs the master for it */
    out(0x20, 0x62);
    assert_false(i8259_intr(&pic));
}

static void test_poll_mode(void **state)
{
    (void)state;
    /* A guest polling runs with interrupts off at the CPU: INTR is ignored. */
    pulse(6);
    pulse(4);
    out(0x20, 0x0c);
    assert_int_equal(in(0x20), 0x84);
    assert_int_equal(read_isr(0x20), 0x10);
    out(0x21, 0x40);
    out(0x20, 0x0c);
    assert_int_equal(in(0x20), 0x00);                   /* 6 is masked */
    out(0x21, 0x00);
    out(0x20, 0x0c);
    assert_int_equal(in(0x21), 0x00);                   /* 6 waits behind 4 */
    out(0x20, 0x20);
    out(0x20, 0x0c);
    assert_int_equal(in(0x21), 0x86);                   /* either port reads the poll */
    assert_int_equal(in(0x21), 0x00);                   /* one read per poll command: IMR */
    out(0x20, 0x20);
}

static void test_special_mask_mode(void **state)
{
    (void)state;
    pulse(1);
    assert_int_equal(i8259_acknowledge(&pic), 0x31);
    out(0x21, 0x02);                                    /* the handler masks its own line */
    pulse(5);
    assert_false(i8259_intr(&pic));                     /* fully nested: 1 holds 5 off */
    out(0x20, 0x68);                                    /* enter special mask mode */
    assert_true(i8259_intr(&pic));
    assert_int_equal(i8259_acknowledge(&pic), 0x35);
    out(0x20, 0x65);
    out(0x20, 0x48);                                    /* leave it */
    out(0x21, 0x00);
    out(0x20, 0x61);
    assert_false(i8259_intr(&pic));
}

static void test_special_fully_nested(void **state)
{
    (void)state;
    out(0x20, 0x11);
    out(0x21, 0x30);
    out(0x21, 0x04);
    out(0x21, 0x11);                                    /* ICW4: SFNM */
    pulse(12);
    assert_int_equal(i8259_acknowledge(&pic), 0x3c);
    pulse(9);                                           /* higher on the same slave */
    assert_true(i8259_intr(&pic));
    assert_int_equal(i8259_acknowledge(&pic), 0x39);
    assert_int_equal(read_isr(0xa0), 0x12);
}

static void test_elcr_fixed_bits_and_buses(void **state)
{
    (void)state;
    out(0x4d0, 0xff);
    out(0x4d1, 0xff);
    assert_int_equal(in(0x4d0), 0xf8);                  /* IRQ0-2 edge only */
    assert_int_equal(in(0x4d1), 0xde);                  /* IRQ8 and IRQ13 edge only */
    assert_int_equal(i8259_read(&pic, 0x4d0, 2, 0), 0xdef8);
    i8259_write(&pic, 0x4d0, 2, 0, 0);
    assert_int_equal(i8259_read(&pic, 0x4d0, 2, 0), 0);
    assert_int_equal(in(0x22), 0xff);                   /* nothing decodes it */
    assert_int_equal(i8259_read(&pic, 0x21, 2, 0), 0xff00);
    i8259_write(&pic, 0x20, 2, 0x1260, 0);              /* 0x60 (EOI) to 0x20, 0x12 to 0x21 */
    assert_int_equal(in(0x21), 0x12);
    i8259_set_irq(&pic, 2, true);                       /* the cascade pin is the slave's */
    i8259_set_irq(&pic, 16, true);
    i8259_set_irq(&pic, ~0u, true);
    assert_false(i8259_intr(&pic));
}

/* The data sheet's edge sense reset: after ICW1 a line that stayed high
 * must fall and rise again. */
static void test_reinit_resets_edges(void **state)
{
    (void)state;
    i8259_set_irq(&pic, 4, true);
    assert_true(i8259_intr(&pic));
    out(0x20, 0x11);
    assert_false(i8259_intr(&pic));
    out(0x21, 0x30);
    out(0x21, 0x04);
    out(0x21, 0x01);
    assert_false(i8259_intr(&pic));
    i8259_set_irq(&pic, 4, false);
    i8259_set_irq(&pic, 4, true);
    assert_int_equal(i8259_acknowledge(&pic), 0x34);
}

static uint32_t random_state = 12345;

static uint32_t next_random(void)
{
    random_state = random_state * 1103515245u + 12345u;
    return random_state >> 8;
}

/* Whatever is written where, the model stays consistent: INTR as reported
 * matches the chips, an acknowledge always returns, and a fresh Linux
 * initialisation brings back normal behaviour. */
static void test_garbage_on_every_port(void **state)
{
    (void)state;
    static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
    for (unsigned round = 0; round < 200000; round++) {
        uint32_t r = next_random();
        switch (r % 8) {
        case 0: case 1: case 2: case 3:
            out(ports[(r >> 3) % 6], (uint8_t)(r >> 8));
            break;
        case 4:
            (void)i8259_read(&pic, ports[(r >> 3) % 6], 1 + (r >> 8) % 4, 0);
            break;
        case 5:
            i8259_set_irq(&pic, (r >> 3) % 17, (r >> 8) & 1);
            break;
        case 6:
            if (i8259_intr(&pic))
                (void)i8259_acknowledge(&pic);
            break;
        default:
            (void)i8259_acknowledge(&pic);
            break;
        }
        assert_true(probe.level == i8259_intr(&pic));
    }
    for (unsigned line = 0; line < 16; line++)
        i8259_set_irq(&pic, line, false);
    out(0x4d0, 0);
    out(0x4d1, 0);
    linux_init();
    pulse(14);
    assert_int_equal(i8259_acknowledge(&pic), 0x3e);
    linux_eoi(14);
    assert_false(i8259_intr(&pic));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_linux_init_and_vectors, setup_linux),
        cmocka_unit_test(test_seabios_init),
        cmocka_unit_test_setup(test_priority_and_nesting, setup_linux),
        cmocka_unit_test_setup(test_cascade_priority, setup_linux),
        cmocka_unit_test_setup(test_masked_lines, setup_linux),
        cmocka_unit_test_setup(test_eoi_and_rotation, setup_linux),
        cmocka_unit_test_setup(test_auto_eoi_and_rotation, setup_linux),
        cmocka_unit_test_setup(test_level_and_edge, setup_linux),
        cmocka_unit_test_setup(test_spurious_vectors, setup_linux),
        cmocka_unit_test_setup(test_poll_mode, setup_linux),
        cmocka_unit_test_setup(test_special_mask_mode, setup_linux),
        cmocka_unit_test_setup(test_special_fully_nested, setup_linux),
        cmocka_unit_test_setup(test_elcr_fixed_bits_and_buses, setup_linux),
        cmocka_unit_test_setup(test_reinit_resets_edges, setup_linux),
        cmocka_unit_test_setup(test_garbage_on_every_port, setup_linux),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
