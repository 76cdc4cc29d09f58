/*
 * pc_lapic_timer: the local APIC timer in one-shot and periodic mode
 * (SDM vol. 3A, 11.5.4), xAPIC. Its rate is first measured against the
 * TSC (itself measured against the PIT), so every check is "the timer
 * does what its own count promises", counted in interrupts against
 * elapsed TSC, never a raw figure:
 *   one-shot at divide 16 and divide 1: one interrupt, not early, not
 *   much late, none after it, current count 0;
 *   periodic: the expected number of interrupts in 200 ms, a current
 *   count that reloads, and silence once the initial count is 0;
 *   masked: counts down without interrupting.
 * Tolerances allow for an emulator on a loaded host: late by up to 25 ms
 * per interrupt, 40% of periodic interrupts lost (QEMU drops the periods
 * a loaded host makes it miss); early never.
 */
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/guests/lib/timing.h"

#define TIMER_VECTOR 0x40
#define ONE_SHOT_US  20000
#define PERIOD_US    10000
#define WINDOW_MS    200
/* The masked timer's count lasts long enough that a loaded host's pause
 * between the first delay and the read cannot outlast it: a 10 ms
 * count read after 5 ms once read 0 on plain QEMU in a CI run. */
#define MASKED_US    100000

static volatile uint32_t ticks;
static volatile uint64_t first_tick_tsc;

static void timer_tick(struct interrupt_frame *frame)
{
    (void)frame;
    if (ticks == 0)
        first_tick_tsc = rdtsc();
    ticks++;
    lapic_eoi();
}

static void wait_ms_with_interrupts(uint32_t ms)
{
    irq_enable();
    delay_us(ms * 1000);
    irq_disable();
}

static void one_shot(const char *what_delay, const char *what_quiet, uint32_t divide)
{
    uint64_t armed;
    uint32_t current;

    ticks = 0;
    lapic_write(LAPIC_TIMER_DIVIDE, divide);
    lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_ONE_SHOT | TIMER_VECTOR);
    armed = rdtsc();
    lapic_write(LAPIC_TIMER_INITIAL, lapic_timer_count(ONE_SHOT_US, divide));
    irq_enable();
    while (ticks == 0 && rdtsc() - armed < ms_to_tsc(100))
        cpu_relax();
    irq_disable();
    check_range(what_delay, ticks == 0 ? 0 : tsc_to_us(first_tick_tsc - armed),
                ONE_SHOT_US * 95 / 100, ONE_SHOT_US + 25000);
    wait_ms_with_interrupts(50);
    current = lapic_read(LAPIC_TIMER_CURRENT);
    CHECK_VALUES(what_quiet, ticks == 1 && current == 0,
                 {"interrupts", ticks}, {"current count", current});
}

static void periodic(void)
{
    uint32_t initial = lapic_timer_count(PERIOD_US, TIMER_DIVIDE_16);
    uint32_t current, seen;

    ticks = 0;
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | TIMER_VECTOR);
    lapic_write(LAPIC_TIMER_INITIAL, initial);
    wait_ms_with_interrupts(WINDOW_MS);
    seen = ticks;
    current = lapic_read(LAPIC_TIMER_CURRENT);
    check_range("lapic timer periodic 10 ms: interrupts in 200 ms (12-21)", seen, 12, 21);
    CHECK_VALUES("lapic timer periodic: current count reloads after each period",
                 current != 0 && current <= initial,
                 {"current count", current}, {"initial count", initial});
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    wait_ms_with_interrupts(2);     /* one already in the IRR still comes */
    seen = ticks;
    wait_ms_with_interrupts(50);
    current = lapic_read(LAPIC_TIMER_CURRENT);
    CHECK_VALUES("lapic timer periodic: stops when the initial count is set to 0",
                 ticks == seen && current == 0,
                 {"interrupts after stopping", ticks - seen}, {"current count", current});
}

static void masked(void)
{
    uint32_t initial = lapic_timer_count(MASKED_US, TIMER_DIVIDE_16);
    uint32_t during, after;

    ticks = 0;
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONE_SHOT | TIMER_VECTOR);
    lapic_write(LAPIC_TIMER_INITIAL, initial);
    delay_us(MASKED_US / 10);
    during = lapic_read(LAPIC_TIMER_CURRENT);
    wait_ms_with_interrupts(MASKED_US / 1000 + 30);
    after = lapic_read(LAPIC_TIMER_CURRENT);
    CHECK_VALUES("lapic timer masked: counts down to 0 without interrupting",
                 ticks == 0 && during > 0 && during < initial && after == 0,
                 {"interrupts", ticks}, {"count after 10 ms", during},
                 {"initial count", initial}, {"count at the end", after});
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    (void)magic;
    (void)multiboot_info;
    pc_start("pc_lapic_timer: local APIC timer modes (xAPIC)");
    lapic_init();
    lapic_timer_calibrate();
    interrupt_set_handler(TIMER_VECTOR, timer_tick);
    one_shot("lapic timer one-shot 20 ms, divide 16: first interrupt after 19-45 ms",
             "lapic timer one-shot, divide 16: no second interrupt, current count 0",
             TIMER_DIVIDE_16);
    one_shot("lapic timer one-shot 20 ms, divide 1: first interrupt after 19-45 ms",
             "lapic timer one-shot, divide 1: no second interrupt, current count 0",
             TIMER_DIVIDE_1);
    periodic();
    masked();
    pc_finish();
}
