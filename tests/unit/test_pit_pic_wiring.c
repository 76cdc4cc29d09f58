// sources: guest-tools/vmm/devices/i8259.c guest-tools/vmm/devices/i8254.c guest-tools/vmm/devices/i8254_counter.c
/* The 8254's IRQ0 wired to the 8259 pair as a VMM wires them, and the VMM's
 * loop as i8254.h and i8259.h describe it: RUN until the PIT's next event,
 * update the PIT there, and when INTR is up and the guest can take an
 * interrupt, acknowledge and inject the vector. The guest is a stand-in
 * that EOIs each timer interrupt as Linux does, sometimes late. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "guest-tools/vmm/devices/i8254.h"
#include "guest-tools/vmm/devices/i8259.h"

#define NS 1000000000ull
#define MS 1000000ull

static struct i8259_pair pic;
static struct i8254 pit;
static uint64_t now;

static void intr_changed(void *ctx, unsigned line, bool level)
{
    (void)ctx; (void)line; (void)level;          /* a VMM would kick the vcpu */
}

static void outb(uint16_t port, uint8_t value)
{
    if (port >= 0x40 && port <= 0x43)
        i8254_write(&pit, port, 1, value, now);
    else
        i8259_write(&pic, port, 1, value, now);
}

static void boot(uint8_t pit_control, uint16_t divisor)
{
    now = 0;
    i8259_init(&pic, (struct irq_line){ .set = intr_changed });
    i8254_init(&pit, (struct irq_line){ .set = i8259_irq_input, .ctx = &pic, .line = 0 });
    static const uint8_t linux_pic[][2] = {
        { 0x21, 0xff }, { 0xa1, 0xff }, { 0x20, 0x11 }, { 0x21, 0x30 }, { 0x21, 0x04 },
        { 0x21, 0x01 }, { 0xa0, 0x11 }, { 0xa1, 0x38 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
    };
    for (unsigned i = 0; i < sizeof(linux_pic) / sizeof(linux_pic[0]); i++)
        outb(linux_pic[i][0], linux_pic[i][1]);
    outb(0x43, pit_control);
    outb(0x40, (uint8_t)divisor);
    outb(0x40, (uint8_t)(divisor >> 8));
    outb(0x21, 0xfe);                            /* only the timer */
    if (i8259_intr(&pic)) {                      /* the mode change's edge: take it */
        assert_int_equal(i8259_acknowledge(&pic), 0x30);
        outb(0x20, 0x60);
    }
}

/* Runs the VMM for `duration_ns`. The guest can take an interrupt
 * `latency_ns` after INTR rises (it had interrupts off until then); the VMM
 * meanwhile runs it with an interrupt window requested. Returns the timer
 * interrupts delivered. */
static unsigned run_vmm(uint64_t duration_ns, uint64_t latency_ns)
{
    uint64_t end = now + duration_ns, window_opens = UINT64_MAX;
    unsigned delivered = 0;
    for (;;) {
        uint64_t deadline = i8254_next_event_ns(&pit);
        if (window_opens < deadline)
            deadline = window_opens;
        if (deadline > end)
            break;
        now = deadline > now ? deadline : now;   /* RUN returns at the deadline or the window */
        i8254_update(&pit, now);
        if (!i8259_intr(&pic)) {
            window_opens = UINT64_MAX;
            continue;
        }
        if (window_opens == UINT64_MAX)
            window_opens = now + latency_ns;
        if (now < window_opens)
            continue;
        assert_int_equal(i8259_acknowledge(&pic), 0x30);    /* never spurious */
        delivered++;
        outb(0x20, 0x60);                        /* the handler's specific EOI */
        window_opens = UINT64_MAX;
    }
    now = end;
    i8254_update(&pit, now);
    return delivered;
}

static void test_linux_periodic_tick(void **state)
{
    (void)state;
    boot(0x34, 11932);                           /* mode 2, HZ=100 */
    assert_int_equal(run_vmm(NS, 0), 99);        /* the first at 10.0008 ms */
    assert_int_equal(run_vmm(10 * NS, 0), 1000);
}

/* SeaBIOS's mode 3 at 18.2 Hz, with a guest that takes 40 ms to open its
 * interrupt window: OUT has fallen by then, but the edge was latched. */
static void test_square_wave_with_slow_guest(void **state)
{
    (void)state;
    boot(0x36, 0);
    unsigned delivered = run_vmm(10 * NS, 40 * MS);
    assert_true(delivered >= 181 && delivered <= 182);
}

/* A guest that keeps interrupts off for longer than a period loses ticks
 * (as on a PC) but never sees a spurious vector. */
static void test_slow_guest_coalesces_ticks(void **state)
{
    (void)state;
    boot(0x34, 1193);                            /* 1000 Hz */
    unsigned delivered = run_vmm(NS, 3 * MS);
    assert_true(delivered >= 245 && delivered <= 255);      /* one per 4 ms */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_periodic_tick),
        cmocka_unit_test(test_square_wave_with_slow_guest),
        cmocka_unit_test(test_slow_guest_coalesces_ticks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
