/*
 * PIT access and the TSC calibration (timing.h).
 */
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/timing.h"

#define PIT_CHANNEL0 0x40
#define PIT_COMMAND  0x43
/* Command byte: channel 0, low then high byte, mode 2, binary (8254
 * data sheet, control word format). */
#define PIT_CMD_CH0_MODE2 0x34
#define PIT_CMD_CH0_LATCH 0x00
#define CALIBRATION_TICKS 59659u   /* 50 ms of PIT input clock */
#define READ_TRIES 4

uint32_t tsc_khz;

uint64_t div64_32(uint64_t dividend, uint32_t divisor)
{
    uint32_t high = (uint32_t)(dividend >> 32), low = (uint32_t)dividend;
    uint32_t quotient_high = high / divisor, remainder = high % divisor;
    uint32_t quotient_low;

    /* remainder < divisor, so the 64/32 DIVL cannot overflow. */
    __asm__("divl %2" : "=a"(quotient_low), "+d"(remainder) : "rm"(divisor), "a"(low));
    return ((uint64_t)quotient_high << 32) | quotient_low;
}

uint64_t ms_to_tsc(uint32_t ms)
{
    return (uint64_t)ms * tsc_khz;
}

uint64_t us_to_tsc(uint32_t us)
{
    return div64_32((uint64_t)us * tsc_khz, 1000);
}

uint32_t tsc_to_us(uint64_t ticks)
{
    return (uint32_t)div64_32(ticks * 1000, tsc_khz);
}

void delay_us(uint32_t us)
{
    uint64_t end = rdtsc() + us_to_tsc(us);

    while (rdtsc() < end)
        cpu_relax();
}

uint32_t read_with_tsc(uint32_t (*read)(void), uint64_t *tsc)
{
    uint64_t best_width = ~0ull;
    uint32_t value = 0;

    for (int i = 0; i < READ_TRIES; i++) {
        uint64_t before = rdtsc();
        uint32_t sample = read();
        uint64_t after = rdtsc();

        if (after - before < best_width) {
            best_width = after - before;
            value = sample;
            *tsc = before + best_width / 2;
        }
    }
    return value;
}

void pit_start(uint32_t count)
{
    outb(PIT_COMMAND, PIT_CMD_CH0_MODE2);
    outb(PIT_CHANNEL0, (uint8_t)count);
    outb(PIT_CHANNEL0, (uint8_t)(count >> 8));
}

void pit_free_run(void)
{
    pit_start(0);
}

uint16_t pit_read(void)
{
    uint8_t low, high;

    outb(PIT_COMMAND, PIT_CMD_CH0_LATCH);   /* freeze the count for two reads */
    low = inb(PIT_CHANNEL0);
    high = inb(PIT_CHANNEL0);
    return (uint16_t)(high << 8 | low);
}

/* Mode 2 counts down by one per input clock and reloads 65536 after 1,
 * so the difference of two reads modulo 2^16 is the time between them as
 * long as they are less than 55 ms apart. */
void pit_wait_ticks(uint32_t ticks)
{
    uint16_t previous = pit_read();
    uint32_t elapsed = 0;

    while (elapsed < ticks) {
        uint16_t now = pit_read();

        elapsed += (uint16_t)(previous - now);
        previous = now;
    }
}

static uint32_t pit_read32(void)
{
    return pit_read();
}

/* The PIT ticks from `from` to `to`, read less than 55 ms apart. */
static uint32_t pit_ticks(uint16_t from, uint16_t to)
{
    return (uint16_t)(from - to);
}

void timing_init(void)
{
    uint64_t start_tsc = 0, end_tsc = 0;
    uint16_t start_count, previous, sample;
    uint32_t elapsed = 0;

    pit_free_run();
    (void)pit_read();               /* the count is loaded on the next clock */
    start_count = (uint16_t)read_with_tsc(pit_read32, &start_tsc);
    previous = start_count;
    while (elapsed < CALIBRATION_TICKS) {
        sample = pit_read();
        elapsed += pit_ticks(previous, sample);
        previous = sample;
    }
    sample = (uint16_t)read_with_tsc(pit_read32, &end_tsc);
    elapsed += pit_ticks(previous, sample);
    tsc_khz = (uint32_t)div64_32((end_tsc - start_tsc) * PIT_HZ, elapsed * 1000u);
}
