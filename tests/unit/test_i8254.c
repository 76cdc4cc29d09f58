// sources: guest-tools/vmm/devices/i8254.c guest-tools/vmm/devices/i8254_counter.c
/* Unit tests for the 8254 PIT and port 0x61 (guest-tools/vmm/devices/
 * i8254.c): IRQ0 rates in modes 2 and 3 over a simulated second, one-shots,
 * counts read with and without latches, read-back, BCD, gates, Linux's TSC
 * calibration through counter 2, the refresh toggle, next_event_ns, and
 * garbage on every port. Time is driven as a VMM would: RUN's deadline is
 * i8254_next_event_ns() and the model is updated when it passes. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "guest-tools/vmm/devices/i8254.h"

#define HZ          1193182ull
#define NS          1000000000ull
#define MS          1000000ull
#define US          1000ull

struct irq_probe {
    bool level;
    unsigned rises;
    unsigned falls;
};

static void record_irq(void *ctx, unsigned line, bool level)
{
    struct irq_probe *probe = ctx;
    assert_int_equal(line, 0);
    assert_true(level != probe->level);          /* only changes are signalled */
    probe->level = level;
    if (level)
        probe->rises++;
    else
        probe->falls++;
}

static struct i8254 pit;
static struct irq_probe probe;
static uint64_t now;

static int power_on(void **state)
{
    (void)state;
    now = 0;
    probe = (struct irq_probe){0};
    i8254_init(&pit, (struct irq_line){ .set = record_irq, .ctx = &probe, .line = 0 });
    return 0;
}

static void out(uint16_t port, uint8_t value)
{
    i8254_write(&pit, port, 1, value, now);
}

static uint8_t in(uint16_t port)
{
    return (uint8_t)i8254_read(&pit, port, 1, now);
}

static void program(unsigned counter, uint8_t control, uint16_t count)
{
    out(0x43, control);
    out((uint16_t)(0x40 + counter), (uint8_t)count);
    out((uint16_t)(0x40 + counter), (uint8_t)(count >> 8));
}

/* LSB then MSB, in that order (the operands of | are not sequenced). */
static unsigned read_word(uint16_t port)
{
    unsigned low = in(port);
    return low | (unsigned)in(port) << 8;
}

static uint64_t tick_at(uint64_t ns)
{
    return ns / NS * HZ + ns % NS * HZ / NS;
}

/* The VMM's loop: run to each deadline up to `end_ns`, update there. */
static void run_until(uint64_t end_ns)
{
    for (;;) {
        uint64_t deadline = i8254_next_event_ns(&pit);
        if (deadline > end_ns)
            break;
        assert_true(deadline >= now);
        now = deadline;
        i8254_update(&pit, now);
        assert_true(probe.level);                /* a deadline is a rise */
        assert_true(i8254_next_event_ns(&pit) > now);
    }
    now = end_ns;
    i8254_update(&pit, now);
}

/* Rises of a periodic counter loaded at tick 1 (written at time 0). */
static unsigned expected_rises(uint64_t end_ns, uint32_t divisor)
{
    return (unsigned)((tick_at(end_ns) - 1) / divisor);
}

static void check_periodic_rate(uint8_t control, uint32_t divisor)
{
    power_on(NULL);
    program(0, control, (uint16_t)divisor);
    unsigned before = probe.rises;                /* programming may raise OUT */
    run_until(NS);
    unsigned rises = probe.rises - before;
    assert_int_equal(rises, expected_rises(NS, divisor));
    assert_true(rises * (uint64_t)divisor <= HZ && (rises + 1) * (uint64_t)divisor > HZ - divisor);
}

static void test_mode2_rate_over_a_second(void **state)
{
    (void)state;
    check_periodic_rate(0x34, 11932);             /* Linux, HZ=100 */
    assert_int_equal(probe.rises, 1 + 99);        /* the mode change raised OUT once */
    check_periodic_rate(0x34, 1193);              /* 1000 Hz */
    assert_int_equal(probe.rises - 1, 1000);
    check_periodic_rate(0x34, 65536);             /* written as 0: 18.2 Hz */
    assert_int_equal(probe.rises - 1, 18);
    check_periodic_rate(0x34, 2);
    assert_int_equal(probe.rises - 1, 596590);
}

static void test_mode3_rate_and_duty(void **state)
{
    (void)state;
    check_periodic_rate(0x36, 65536);             /* SeaBIOS's 18.2 Hz tick */
    check_periodic_rate(0x36, 1193);
    assert_int_equal(probe.rises - 1, 1000);
    assert_true(probe.falls >= 999);              /* each rise preceded by a fall */

    /* Odd count 5: high for 3 ticks, low for 2 (data sheet), seen in OUT2. */
    power_on(NULL);
    out(0x61, 0x01);
    program(2, 0xb6, 5);
    static const bool out2[] = { 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1 };
    for (unsigned i = 0; i < sizeof(out2); i++) {
        now = (1 + i) * NS / HZ + 1;              /* inside tick 1 + i */
        assert_int_equal(tick_at(now), 1 + i);
        assert_int_equal(!!(in(0x61) & 0x20), out2[i]);
    }
}

static void test_late_vmm_loses_ticks_not_edges(void **state)
{
    (void)state;
    program(0, 0x34, 1000);
    unsigned rises = probe.rises;
    now = 10 * MS;                                /* about 12 periods later */
    assert_true(i8254_next_event_ns(&pit) < now);
    i8254_update(&pit, now);
    assert_int_equal(probe.rises, rises + 1);     /* one fresh edge */
    uint64_t next = i8254_next_event_ns(&pit);
    assert_true(next > now && next <= now + 1000 * NS / HZ + 1);
    i8254_update(&pit, now);                      /* nothing more due */
    assert_int_equal(probe.rises, rises + 1);
}

static void test_mode0_one_shot(void **state)
{
    (void)state;
    program(0, 0x34, 100);                        /* periodic first: OUT and IRQ0 high */
    assert_true(probe.level);
    now = 10 * US;
    program(0, 0x30, 1000);                       /* Linux's shutdown uses mode 0 */
    assert_false(probe.level);                    /* the control word sets OUT low */
    uint64_t fire = (tick_at(now) + 1 + 1000) * NS / HZ;
    uint64_t deadline = i8254_next_event_ns(&pit);
    assert_true(deadline >= fire && deadline <= fire + 1);
    i8254_update(&pit, deadline - 1);
    assert_false(probe.level);
    now = deadline;
    i8254_update(&pit, now);
    assert_true(probe.level);
    assert_int_equal(i8254_next_event_ns(&pit), DEVICE_TIME_NEVER);
    now += 100 * MS;
    i8254_update(&pit, now);
    assert_true(probe.level);                     /* stays high: one shot */
    out(0x43, 0xe2);                              /* read-back status of counter 0 */
    assert_int_equal(in(0x40), 0x80 | 0x30);
}

/* Linux's one-shot clock event: mode 4, a one-clock strobe at the end. */
static void test_mode4_strobe(void **state)
{
    (void)state;
    program(0, 0x38, 500);
    unsigned rises = probe.rises;
    uint64_t deadline = i8254_next_event_ns(&pit);
    assert_int_equal(tick_at(deadline), 1 + 500 + 1);
    now = 501 * NS / HZ + 1;                      /* tick 501, the strobe: OUT low */
    out(0x43, 0xe2);
    assert_int_equal(in(0x40) & 0x80, 0);
    run_until(NS);
    assert_int_equal(probe.rises, rises + 1);
    assert_true(probe.level);
}

static void test_latch_and_read_back(void **state)
{
    (void)state;
    program(0, 0x34, 10000);
    out(0x43, 0xe2);
    assert_int_equal(in(0x40), 0xc0 | 0x34);      /* OUT high, NULL COUNT: not loaded */
    now = 2 * US;                                 /* tick 2: loaded at 1, one down */
    out(0x43, 0xe2);
    assert_int_equal(in(0x40), 0x80 | 0x34);
    out(0x43, 0x00);                              /* counter latch */
    now = 5 * MS;
    out(0x43, 0x00);                              /* a second latch is ignored */
    assert_int_equal(read_word(0x40), 10000 - 1);
    uint64_t tick = tick_at(now);
    assert_int_equal(read_word(0x40), 10000 - (tick - 1) % 10000);

    /* Read-back of count and status: status first, then the count. */
    out(0x43, 0xc2);
    assert_int_equal(in(0x40), 0x80 | 0x34);
    now += 1 * MS;
    assert_int_equal(read_word(0x40), 10000 - (tick - 1) % 10000);

    /* One-byte access modes. */
    out(0x43, 0x54);                              /* counter 1: LSB only, mode 2 */
    out(0x41, 200);
    now += 10 * US;
    uint8_t low = in(0x41);
    assert_int_equal(low, 200 - (tick_at(now) - tick_at(now - 10 * US) - 1) % 200);
    out(0x43, 0x64);                              /* MSB only, mode 2 */
    out(0x41, 0x02);                              /* 512 */
    now += 3 * US;
    out(0x43, 0x40);
    assert_int_equal(in(0x41), 0x01);             /* 512 - 2 or - 3: MSB 1 */
    assert_int_equal(in(0x43), 0xff);             /* write-only */
}

static void test_bcd(void **state)
{
    (void)state;
    program(0, 0x35, 0x1000);                     /* mode 2, BCD 1000 */
    now = (1 + 234) * NS / HZ + 1;
    out(0x43, 0x00);
    assert_int_equal(read_word(0x40), 0x0766);
    program(1, 0x71, 0x0000);                     /* mode 0, BCD 0: 10000 */
    uint64_t start = tick_at(now) + 1;
    now += 3 * MS;
    out(0x43, 0x40);
    unsigned count = 10000 - (unsigned)(tick_at(now) - start);
    assert_int_equal(read_word(0x41),
                     (count / 1000) << 12 | (count / 100 % 10) << 8 | (count / 10 % 10) << 4 | count % 10);
    program(2, 0xb1, 0xffff);                     /* digits above 9: kept in range */
    out(0x43, 0x80);
    assert_true(read_word(0x42) <= 0x9999);
}

/* arch/x86/kernel/tsc.c, pit_calibrate_tsc(): gate counter 2 on, speaker
 * off, mode 0 for 50 ms, then poll port 0x61 bit 5 for OUT2. */
static void test_linux_tsc_calibration(void **state)
{
    (void)state;
    now = 123 * US;
    out(0x61, (in(0x61) & ~0x02) | 0x01);
    out(0x43, 0xb0);
    const uint16_t latch = (uint16_t)(HZ / 20);
    out(0x42, latch & 0xff);
    out(0x42, latch >> 8);
    uint64_t start = now;
    unsigned polls = 0;
    while (!(in(0x61) & 0x20)) {
        now += 1 * US;
        polls++;
        assert_true(polls < 100000);
    }
    uint64_t took = now - start;
    assert_true(took >= 50 * MS - 2 * US && took <= 50 * MS + 3 * US);
    assert_int_equal(probe.rises, 0);             /* counter 2 is not IRQ0 */
}

/* quick_pit_calibrate(): mode 0 from 0xffff, MSB read without a latch
 * after a throwaway LSB read, falling once per 256 clocks. */
static void test_linux_quick_pit_calibration(void **state)
{
    (void)state;
    out(0x61, (in(0x61) & ~0x02) | 0x01);
    out(0x43, 0xb0);
    out(0x42, 0xff);
    out(0x42, 0xff);
    uint64_t start = tick_at(now) + 1;
    for (unsigned i = 0; i < 200; i++) {
        now += 50 * US;
        (void)in(0x42);
        uint8_t msb = in(0x42);
        assert_int_equal(msb, (0xffff - (tick_at(now) - start)) >> 8);
    }
}

static void test_gate_controls_counter2(void **state)
{
    (void)state;
    out(0x61, 0x01);
    program(2, 0xb0, 1000);                       /* mode 0 */
    now = 300 * NS / HZ + 1;                      /* tick 300: 299 counted */
    out(0x61, 0x00);                              /* gate low: counting stops */
    now += 10 * MS;
    out(0x43, 0x80);
    assert_int_equal(read_word(0x42), 1000 - 299);
    out(0x61, 0x01);                              /* resumes where it stopped */
    uint64_t resume = tick_at(now);
    while (!(in(0x61) & 0x20))
        now += 100;
    assert_int_equal(tick_at(now) - resume, 1000 - 299);
    assert_int_equal(in(0x61) & 0x0f, 0x01);      /* bits 0-3 read back as written */

    /* Mode 2: gate low holds OUT high; the rise reloads the count. */
    program(2, 0xb4, 100);
    now += 50 * US;
    out(0x61, 0x00);
    assert_true(in(0x61) & 0x20);
    out(0x61, 0x01);
    now += 1 * US;                                /* tick + 1 or + 2: loaded, maybe one down */
    out(0x43, 0x80);
    unsigned count = read_word(0x42);
    assert_true(count == 100 || count == 99);

    /* Mode 1: a hardware one-shot triggered by the gate's rise. */
    out(0x61, 0x00);
    program(2, 0xb2, 50);
    assert_true(in(0x61) & 0x20);                 /* waits for the trigger */
    now += 1 * MS;
    assert_true(in(0x61) & 0x20);
    out(0x61, 0x01);
    assert_false(in(0x61) & 0x20);
    now += 52 * NS / HZ + 1;                      /* 52 ticks */
    assert_true(in(0x61) & 0x20);
    out(0x61, 0x00);
    out(0x61, 0x01);                              /* retrigger */
    assert_false(in(0x61) & 0x20);

    /* Mode 5: a strobe after the gate's rise. */
    out(0x61, 0x00);
    program(2, 0xba, 10);
    out(0x61, 0x01);
    uint64_t trigger = tick_at(now);
    now = (trigger + 1 + 10) * NS / HZ + 1;
    assert_false(in(0x61) & 0x20);
    now = (trigger + 1 + 11) * NS / HZ + 1;
    assert_true(in(0x61) & 0x20);
}

/* A count written while counting: mode 2 at the next reload, mode 3 at the
 * next half-cycle. */
static void test_new_count_while_counting(void **state)
{
    (void)state;
    program(0, 0x34, 1000);
    now = 400 * NS / HZ + 1;
    out(0x40, 500 & 0xff);
    out(0x40, 500 >> 8);
    out(0x43, 0xe2);
    assert_int_equal(in(0x40) & 0x40, 0x40);      /* NULL COUNT until the reload */
    assert_int_equal(tick_at(i8254_next_event_ns(&pit)), 1 + 1000);
    now = i8254_next_event_ns(&pit);
    i8254_update(&pit, now);
    assert_int_equal(tick_at(i8254_next_event_ns(&pit)), 1 + 1000 + 500);
    out(0x43, 0xe2);
    assert_int_equal(in(0x40) & 0x40, 0);

    power_on(NULL);
    program(0, 0x36, 1000);                       /* high 1-500, low 501-1000 */
    now = 100 * NS / HZ + 1;
    out(0x40, 200 & 0xff);
    out(0x40, 200 >> 8);                          /* takes over at tick 501, low half */
    assert_int_equal(tick_at(i8254_next_event_ns(&pit)), 501 + 100);
    now = 550 * NS / HZ + 1;
    out(0x43, 0xe2);
    assert_int_equal(in(0x40) & 0x80, 0);
}

static void test_refresh_toggle(void **state)
{
    (void)state;
    unsigned toggles = 0;
    uint8_t last = in(0x61) & 0x10;
    for (now = 0; now < 1 * MS; now += 1 * US) {
        uint8_t bit = in(0x61) & 0x10;
        toggles += bit != last;
        last = bit;
    }
    assert_true(toggles >= 65 && toggles <= 67);  /* every 15.085 us */
}

static void test_access_sizes_and_other_ports(void **state)
{
    (void)state;
    i8254_write(&pit, 0x42, 2, 0x3412, 0);        /* 0x12 to counter 2, 0x34 to 0x43 */
    assert_int_equal(pit.counter[0].control, 0x34);
    assert_int_equal(i8254_read(&pit, 0x43, 1, 0), 0xff);
    assert_int_equal(i8254_read(&pit, 0x44, 4, 0), 0xffffffff);
    i8254_write(&pit, 0x60, 1, 0xff, 0);
    assert_int_equal(i8254_read(&pit, 0x61, 1, 0) & 0xcf, 0);
}

static uint32_t random_state = 2024;

static uint32_t next_random(void)
{
    random_state = random_state * 1103515245u + 12345u;
    return random_state >> 8;
}

/*
 * A second 8254, stepped clock by clock as the data sheet tells it (binary
 * counts, word access), to check the model's closed forms: counter 2 under
 * random control words, counts written at any time, and gate changes, with
 * OUT2 and the latched count compared at every clock. Modes 2 and 3 use
 * counts of 2 and up (1 is illegal there). Where the data sheet leaves the
 * instant open, the reference does what the model documents: a count
 * written with the gate low is held at once.
 */
struct stepped_counter {
    unsigned mode;
    uint32_t count_register;
    uint32_t loaded_count;          /* mode 3: the count of this half-cycle */
    uint32_t count;
    bool gate, out;
    bool waiting_count, load_next, loaded;
    bool strobe_done;
    bool holding_zero;              /* mode 3, odd count: one more clock at 0 */
};

static void stepped_control(struct stepped_counter *c, unsigned mode)
{
    c->mode = mode;
    c->waiting_count = true;
    c->load_next = c->loaded = c->holding_zero = false;
    c->out = mode != 0;
}

static void stepped_write_count(struct stepped_counter *c, uint32_t count)
{
    c->count_register = count ? count : 65536;
    bool was_waiting = c->waiting_count;
    c->waiting_count = false;
    switch (c->mode) {
    case 0: case 4:
        c->out = c->mode == 4;
        c->strobe_done = false;
        if (c->gate) {
            c->load_next = true;
        } else {
            c->count = c->count_register % 65536;
            c->loaded = true;
            c->load_next = false;
        }
        break;
    case 1: case 5:
        if (was_waiting)
            c->loaded = false;              /* waits for the gate's rise */
        break;
    default:
        if (was_waiting && c->gate)
            c->load_next = true;
        break;
    }
}

static void stepped_gate(struct stepped_counter *c, bool gate)
{
    bool rising = gate && !c->gate;
    c->gate = gate;
    if (c->waiting_count)
        return;
    if (rising && (c->mode == 1 || c->mode == 5 || c->mode == 2 || c->mode == 3)) {
        c->load_next = true;
        c->loaded = false;
        c->holding_zero = false;
        c->out = c->mode != 1;              /* the model restarts OUT at once */
        c->strobe_done = false;
    }
    if (!gate && (c->mode == 0 || c->mode == 4) && c->load_next) {
        c->count = c->count_register % 65536;
        c->loaded = true;
        c->load_next = false;
    }
    if (!gate && (c->mode == 2 || c->mode == 3)) {
        c->out = true;
        c->load_next = false;
    }
}

static void stepped_clock(struct stepped_counter *c)
{
    if (c->load_next) {
        c->load_next = c->holding_zero = false;
        c->loaded = true;
        c->loaded_count = c->count_register;
        c->count = (c->mode == 3 ? c->count_register & ~1u : c->count_register) % 65536;
        return;
    }
    if (!c->loaded)
        return;
    bool gated = c->mode != 1 && c->mode != 5;
    if (gated && !c->gate)
        return;
    switch (c->mode) {
    case 0: case 1:
        c->count = (c->count + 65535) % 65536;
        if (c->count == 0)
            c->out = true;
        break;
    case 4: case 5:
        if (!c->out)
            c->out = true;
        c->count = (c->count + 65535) % 65536;
        if (c->count == 0 && !c->strobe_done) {
            c->out = false;
            c->strobe_done = true;
        }
        break;
    case 2:
        c->count--;
        if (c->count == 1)
            c->out = false;
        if (c->count == 0) {
            c->count = c->count_register % 65536;
            c->out = true;
        }
        break;
    case 3:
        if (c->holding_zero) {
            c->holding_zero = false;
            c->out = false;
            c->loaded_count = c->count_register;
            c->count = (c->count_register & ~1u) % 65536;
            break;
        }
        c->count = (c->count + 65536 - 2) % 65536;
        if (c->count == 0) {
            if ((c->loaded_count & 1) && c->out) {
                c->holding_zero = true;
            } else {
                c->out = !c->out;
                c->loaded_count = c->count_register;
                c->count = (c->count_register & ~1u) % 65536;
            }
        }
        break;
    }
}

/* Counter 2 against the stepped one; counter 0, programmed alike with its
 * gate tied high, checks next_event_ns: OUT0 rises exactly when it said. */
static void test_against_stepped_counter(void **state)
{
    (void)state;
    struct stepped_counter ref = { .mode = 0, .waiting_count = true };
    out(0x43, 0xb0);                            /* both start in mode 0, waiting */
    out(0x43, 0x30);
    uint32_t count_checks = 0, rise_checks = 0;
    bool out0 = false;
    for (uint64_t tick = 1; tick < 400000; tick++) {
        stepped_clock(&ref);
        now = tick * NS / HZ + 1;
        uint64_t due = tick_at(i8254_next_event_ns(&pit));
        bool programmed = false;
        uint32_t r = next_random();
        if (r % 97 == 0) {
            unsigned mode = (r >> 8) % 6;
            stepped_control(&ref, mode);
            out(0x43, (uint8_t)(0xb0 | mode << 1));
            out(0x43, (uint8_t)(0x30 | mode << 1));
            programmed = true;
        }
        if (r % 31 == 1) {
            uint32_t count = (r >> 8) % 8 == 0 ? (r >> 12) % 65536 : 1 + (r >> 12) % 40;
            if ((ref.mode == 2 || ref.mode == 3) && count == 1)
                count = 2;
            stepped_write_count(&ref, count);
            for (uint16_t port = 0x40; port <= 0x42; port += 2) {
                out(port, (uint8_t)count);
                out(port, (uint8_t)(count >> 8));
            }
            programmed = true;
        }
        if (r % 53 == 2) {
            bool gate = (r >> 9) & 1;
            stepped_gate(&ref, gate);
            out(0x61, gate);
        }
        assert_int_equal(tick_at(now), tick);
        assert_int_equal(!!(in(0x61) & 0x20), ref.out);
        if (ref.loaded || ref.waiting_count) {
            out(0x43, 0x80);
            assert_int_equal(read_word(0x42), ref.count);
            count_checks++;
        }
        out(0x43, 0xe2);
        bool out0_now = in(0x40) & 0x80;
        if (!programmed) {
            if (!out0 && out0_now) {
                assert_int_equal(due, tick);
                rise_checks++;
            } else {
                assert_true(due > tick);
            }
        }
        out0 = out0_now;
    }
    assert_true(count_checks > 100000);
    assert_true(rise_checks > 1000);
}

/* Whatever the guest writes and whenever, no call loops or traps, the next
 * event is always after the present, and a fresh mode 2 works afterwards. */
static void test_garbage_on_every_port(void **state)
{
    (void)state;
    static const uint16_t ports[] = { 0x40, 0x41, 0x42, 0x43, 0x61 };
    for (unsigned round = 0; round < 300000; round++) {
        uint32_t r = next_random();
        uint64_t step = (r >> 20) % 4 == 0 ? (r % 5000000) : (r % 3000);
        now += step;
        uint64_t at = (r & 0x80000) ? now : now - step / 2;   /* sometimes earlier */
        uint16_t port = ports[(r >> 3) % 5];
        switch (r % 5) {
        case 0: case 1:
            i8254_write(&pit, port, 1 + (r >> 6) % 4, next_random(), at);
            break;
        case 2:
            (void)i8254_read(&pit, port, 1 + (r >> 6) % 4, at);
            break;
        default:
            i8254_update(&pit, at);
            break;
        }
        assert_true(i8254_next_event_ns(&pit) > at);
    }
    program(0, 0x34, 1193);
    unsigned rises = probe.rises;
    run_until(now + NS);
    assert_true(probe.rises - rises >= 999 && probe.rises - rises <= 1001);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode2_rate_over_a_second),
        cmocka_unit_test(test_mode3_rate_and_duty),
        cmocka_unit_test_setup(test_late_vmm_loses_ticks_not_edges, power_on),
        cmocka_unit_test_setup(test_mode0_one_shot, power_on),
        cmocka_unit_test_setup(test_mode4_strobe, power_on),
        cmocka_unit_test_setup(test_latch_and_read_back, power_on),
        cmocka_unit_test_setup(test_bcd, power_on),
        cmocka_unit_test_setup(test_linux_tsc_calibration, power_on),
        cmocka_unit_test_setup(test_linux_quick_pit_calibration, power_on),
        cmocka_unit_test_setup(test_gate_controls_counter2, power_on),
        cmocka_unit_test_setup(test_new_count_while_counting, power_on),
        cmocka_unit_test_setup(test_refresh_toggle, power_on),
        cmocka_unit_test_setup(test_access_sizes_and_other_ports, power_on),
        cmocka_unit_test_setup(test_against_stepped_counter, power_on),
        cmocka_unit_test_setup(test_garbage_on_every_port, power_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
