// sources: guest-tools/vmm/devices/acpi_pm.c
/* Unit tests for the ACPI PM block and reset register
 * (guest-tools/vmm/devices/acpi_pm.c): the PM timer's rate and 24-bit
 * wrap, its overflow SCI, S5 power-off through PM1_CNT, the 0xcf9 reset,
 * the power button, and a seeded fuzz loop over every register. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest-tools/vmm/devices/acpi_pm.h"

#define SECOND 1000000000ull
#define S5_TYPE 5

struct harness {
    struct acpi_pm pm;
    bool sci;
    unsigned power_offs, resets;
};

static void record_sci(void *ctx, unsigned line, bool level)
{
    struct harness *h = ctx;

    assert_int_equal(line, 9);
    assert_true(level != h->sci);
    h->sci = level;
}

static void record_request(void *ctx, enum platform_request request)
{
    struct harness *h = ctx;

    if (request == PLATFORM_REQUEST_POWER_OFF)
        h->power_offs++;
    else if (request == PLATFORM_REQUEST_RESET)
        h->resets++;
    else
        fail();
}

static struct harness *harness_new(bool sci_enabled)
{
    struct harness *h = calloc(1, sizeof(*h));

    assert_non_null(h);
    struct acpi_pm_config config = {
        .sci = { .set = record_sci, .ctx = h, .line = 9 },
        .platform = { .request = record_request, .ctx = h },
        .s5_sleep_type = S5_TYPE,
        .sci_enabled = sci_enabled,
    };
    acpi_pm_init(&h->pm, &config);
    return h;
}

static uint32_t timer(struct harness *h, uint64_t now)
{
    return acpi_pm_read(&h->pm, ACPI_PM_TMR, 4, now);
}

/* Over any simulated second the timer advances by 3579545 ticks (mod 2^24),
 * whether read as a dword, two words or four bytes. */
static void test_timer_frequency(void **state)
{
    (void)state;
    static const uint64_t starts[] = { 0, 1, 123456789, 999999999, 7 * SECOND + 5,
                                       1ull << 40, 86400ull * 365 * SECOND + 31 };

    for (unsigned i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        /* A fresh model each time: its time never runs back. */
        struct harness *h = harness_new(true);
        uint64_t t = starts[i];
        uint32_t first = timer(h, t);
        uint32_t words = acpi_pm_read(&h->pm, ACPI_PM_TMR, 2, t) |
                         acpi_pm_read(&h->pm, ACPI_PM_TMR + 2, 2, t) << 16;
        uint32_t bytes = 0;
        for (unsigned b = 0; b < 4; b++)
            bytes |= acpi_pm_read(&h->pm, ACPI_PM_TMR + b, 1, t) << (8 * b);
        assert_int_equal(words, first);
        assert_int_equal(bytes, first);
        assert_int_equal(first & ~ACPI_PM_TIMER_MASK, 0);
        uint32_t second = timer(h, t + SECOND);
        assert_int_equal((second - first) & ACPI_PM_TIMER_MASK, 3579545);
        free(h);
    }
    /* And over ten seconds read every 10 ms. */
    struct harness *h = harness_new(true);
    uint64_t total = 0;
    uint32_t last = timer(h, 1ull << 41);
    for (uint64_t t = (1ull << 41) + 10000000; t <= (1ull << 41) + 10 * SECOND; t += 10000000) {
        uint32_t now = timer(h, t);
        total += (now - last) & ACPI_PM_TIMER_MASK;
        last = now;
    }
    assert_int_equal(total, 35795450);
    free(h);
}

/* The counter is 24 bits wide: it wraps from 0xffffff to 0 at tick 2^24,
 * 4.687 s after it started. */
static void test_timer_wraps(void **state)
{
    (void)state;
    struct harness *h = harness_new(true);
    /* 2^24 ticks / 3579545 Hz = 4686968874.5 ns */
    const uint64_t wrap = 4686968875ull;

    assert_int_equal(timer(h, 0), 0);
    assert_int_equal(timer(h, wrap - 1), 0xffffff);
    assert_int_equal(timer(h, wrap), 0);
    assert_int_equal(timer(h, 2 * wrap), 0);
    assert_int_equal(acpi_pm_timer_value(wrap + SECOND), 3579545);
    for (uint64_t t = 0; t < 3 * wrap; t += 1234567) {
        uint32_t a = acpi_pm_timer_value(t), b = acpi_pm_timer_value(t + 1234567);
        uint32_t step = (b - a) & ACPI_PM_TIMER_MASK;
        assert_true(step == 4419 || step == 4420);
    }
    free(h);
}

/* TMR_STS at every change of bit 23; with TMR_EN and SCI_EN, an SCI. */
static void test_timer_overflow_sci(void **state)
{
    (void)state;
    struct harness *h = harness_new(true);
    /* 2^23 ticks / 3579545 Hz = 2343484437.3 ns */
    const uint64_t half_wrap = 2343484438ull;

    acpi_pm_write(&h->pm, ACPI_PM1_EN, 2, ACPI_PM1_TMR, 0);
    assert_int_equal(acpi_pm_next_event_ns(&h->pm), half_wrap);
    acpi_pm_advance(&h->pm, half_wrap - 1);
    assert_false(h->sci);
    acpi_pm_advance(&h->pm, half_wrap);
    assert_true(h->sci);
    assert_int_equal(acpi_pm_next_event_ns(&h->pm), DEVICE_TIME_NEVER);
    assert_int_equal(acpi_pm_read(&h->pm, ACPI_PM1_STS, 2, half_wrap), ACPI_PM1_TMR);
    acpi_pm_write(&h->pm, ACPI_PM1_STS, 2, ACPI_PM1_TMR, half_wrap);
    assert_false(h->sci);
    assert_int_equal(acpi_pm_next_event_ns(&h->pm), 2 * half_wrap - 1);

    /* Without SCI_EN the status still sets, polled, with no SCI. */
    acpi_pm_write(&h->pm, ACPI_PM1_CNT, 2, 0, half_wrap);
    assert_int_equal(acpi_pm_next_event_ns(&h->pm), DEVICE_TIME_NEVER);
    assert_int_equal(acpi_pm_read(&h->pm, ACPI_PM1_STS, 2, 3 * half_wrap), ACPI_PM1_TMR);
    assert_false(h->sci);
    free(h);
}

/* Linux's acpi_hw_legacy_sleep: SLP_TYP written first, then with SLP_EN.
 * Only the type the DSDT's \_S5 names powers off; SLP_EN reads 0. */
static void test_s5_power_off(void **state)
{
    (void)state;
    struct harness *h = harness_new(true);
    uint16_t cnt = (uint16_t)acpi_pm_read(&h->pm, ACPI_PM1_CNT, 2, 0);

    assert_int_equal(cnt, ACPI_PM1_CNT_SCI_EN);
    cnt = (uint16_t)(cnt | 1 << ACPI_PM1_CNT_SLP_TYP_SHIFT);
    acpi_pm_write(&h->pm, ACPI_PM1_CNT, 2, cnt, 0);
    acpi_pm_write(&h->pm, ACPI_PM1_CNT, 2, cnt | ACPI_PM1_CNT_SLP_EN, 0);
    assert_int_equal(h->power_offs, 0); /* S1 is not offered: wake at once */
    assert_true(acpi_pm_read(&h->pm, ACPI_PM1_STS, 2, 0) & ACPI_PM1_WAK_STS);
    acpi_pm_write(&h->pm, ACPI_PM1_STS, 2, ACPI_PM1_WAK_STS, 0);
    assert_int_equal(acpi_pm_read(&h->pm, ACPI_PM1_STS, 2, 0), 0);

    cnt = (uint16_t)(ACPI_PM1_CNT_SCI_EN | S5_TYPE << ACPI_PM1_CNT_SLP_TYP_SHIFT);
    acpi_pm_write(&h->pm, ACPI_PM1_CNT, 2, cnt, 0);
    assert_int_equal(h->power_offs, 0);
    assert_int_equal(acpi_pm_read(&h->pm, ACPI_PM1_CNT, 2, 0), cnt);
    acpi_pm_write(&h->pm, ACPI_PM1_CNT, 2, cnt | ACPI_PM1_CNT_SLP_EN, 0);
    assert_int_equal(h->power_offs, 1);
    assert_int_equal(acpi_pm_read(&h->pm, ACPI_PM1_CNT, 2, 0), cnt);

    /* The high byte alone, as a byte-wide OS would write it. */
    acpi_pm_write(&h->pm, ACPI_PM1_CNT + 1, 1, (S5_TYPE << 2) | 0x20, 0);
    assert_int_equal(h->power_offs, 2);
    assert_int_equal(h->resets, 0);
    free(h);
}

/* 0xcf9: RST_CPU set resets (0x06 hard, 0x0e full, 0x04 soft); 0x02 alone
 * only selects the kind; RST_CPU reads back 0. */
static void test_reset_control(void **state)
{
    (void)state;
    struct harness *h = harness_new(true);

    acpi_pm_reset_control_write(&h->pm, 0x02);
    assert_int_equal(h->resets, 0);
    assert_int_equal(acpi_pm_reset_control_read(&h->pm), 0x02);
    acpi_pm_reset_control_write(&h->pm, ACPI_RESET_VALUE);
    assert_int_equal(h->resets, 1);
    assert_int_equal(acpi_pm_reset_control_read(&h->pm), 0x02);
    acpi_pm_reset_control_write(&h->pm, 0x0e);
    assert_int_equal(h->resets, 2);
    assert_int_equal(acpi_pm_reset_control_read(&h->pm), 0x0a);
    acpi_pm_reset_control_write(&h->pm, 0x04);
    assert_int_equal(h->resets, 3);
    acpi_pm_reset_control_write(&h->pm, 0x00);
    assert_int_equal(h->resets, 3);
    assert_int_equal(h->power_offs, 0);
    free(h);
}

/* The host's power button: an SCI once the guest enabled PWRBTN_EN and
 * ACPI mode; cleared by writing the status bit back. */
static void test_power_button(void **state)
{
    (void)state;
    struct harness *h = harness_new(false);

    acpi_pm_press_power_button(&h->pm, 0);
    assert_false(h->sci);
    acpi_pm_write(&h->pm, ACPI_PM1_EN, 2, ACPI_PM1_PWRBTN, 0);
    assert_false(h->sci);
    acpi_pm_write(&h->pm, ACPI_PM1_CNT, 2, ACPI_PM1_CNT_SCI_EN, 0);
    assert_true(h->sci);
    assert_int_equal(acpi_pm_read(&h->pm, ACPI_PM1_STS, 2, 0), ACPI_PM1_PWRBTN);
    acpi_pm_write(&h->pm, ACPI_PM1_STS, 2, 0xffff, 0);
    assert_false(h->sci);
    acpi_pm_press_power_button(&h->pm, 0);
    assert_true(h->sci);
    acpi_pm_write(&h->pm, ACPI_PM1_EN, 2, 0, 0);
    assert_false(h->sci);
    free(h);
}

/* Writable bits only; a dword read of the event block is STS and EN;
 * reserved bytes read 0 and bytes past the block float. */
static void test_register_layout(void **state)
{
    (void)state;
    struct harness *h = harness_new(true);

    acpi_pm_write(&h->pm, ACPI_PM1_EN, 2, 0xffff, 0);
    assert_int_equal(acpi_pm_read(&h->pm, ACPI_PM1_EN, 2, 0), 0x4721);
    acpi_pm_write(&h->pm, ACPI_PM1_CNT, 2, 0x1c07, 0);
    assert_int_equal(acpi_pm_read(&h->pm, ACPI_PM1_CNT, 2, 0), 0x1c03);
    acpi_pm_press_power_button(&h->pm, 0);
    assert_int_equal(acpi_pm_read(&h->pm, ACPI_PM1_STS, 4, 0), 0x4721u << 16 | 0x100);
    assert_int_equal(acpi_pm_read(&h->pm, 6, 2, 0), 0);
    assert_int_equal(acpi_pm_read(&h->pm, 12, 4, 0), 0xffffffff);
    assert_int_equal(acpi_pm_read(&h->pm, 0, 3, 0), 0xffffffff);
    acpi_pm_write(&h->pm, ACPI_PM_TMR, 4, 0x123456, SECOND);
    assert_int_equal(timer(h, SECOND), 3579545);
    free(h);
}

/* Garbage everywhere: the timer stays exact, the SCI follows STS, EN and
 * SCI_EN; power-off and reset requests are all the damage a guest can do. */
static void test_fuzz(void **state)
{
    (void)state;
    struct harness *h = harness_new(true);
    static const unsigned sizes[] = { 1, 2, 4, 3 };
    uint64_t now = 0;

    srand(3579545);
    for (int i = 0; i < 200000; i++) {
        unsigned offset = (unsigned)rand() % 16;
        unsigned size = sizes[rand() % 4];
        uint32_t value = (uint32_t)rand() ^ (uint32_t)rand() << 16;
        switch (rand() % 6) {
        case 0:
            acpi_pm_read(&h->pm, offset, size, now);
            break;
        case 1:
        case 2:
            acpi_pm_write(&h->pm, offset, size, value, now);
            break;
        case 3:
            acpi_pm_reset_control_write(&h->pm, (uint8_t)value);
            break;
        case 4:
            acpi_pm_press_power_button(&h->pm, now);
            break;
        default:
            acpi_pm_advance(&h->pm, now);
            break;
        }
        bool sci = (h->pm.control & ACPI_PM1_CNT_SCI_EN) &&
                   (h->pm.status & h->pm.enable & 0x0721);
        assert_true(h->sci == sci);
        assert_int_equal(h->pm.control & ~0x1c03, 0);
        assert_int_equal(acpi_pm_timer_value(now), timer(h, now));
        now += (uint64_t)(rand() % 3000000);
    }
    assert_true(h->resets > 0 && h->power_offs > 0);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_frequency),
        cmocka_unit_test(test_timer_wraps),
        cmocka_unit_test(test_timer_overflow_sci),
        cmocka_unit_test(test_s5_power_off),
        cmocka_unit_test(test_reset_control),
        cmocka_unit_test(test_power_button),
        cmocka_unit_test(test_register_layout),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
