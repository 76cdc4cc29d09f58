/*
 * Time for the PC test guests: the 8254 PIT is the one clock whose rate
 * every PC has by definition (1.193182 MHz), so the TSC is calibrated
 * against it once (timing_init) and the checks then measure in TSC ticks.
 * Only rates derived this way are compared, never printed.
 *
 * timing_init leaves PIT channel 0 free running in mode 2 with a reload
 * of 65536, which pit_wait_ticks relies on; a guest that reprograms the
 * channel for interrupts calls pit_free_run() before waiting on it again.
 * 64-bit division goes through div64_32 (there is no libgcc here).
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_TIMING_H
#define GUEST_TOOLS_GUESTS_LIB_TIMING_H

#include <stdint.h>

#define PIT_HZ 1193182u

extern uint32_t tsc_khz;         /* set by timing_init */

void timing_init(void);

uint64_t div64_32(uint64_t dividend, uint32_t divisor);

uint64_t ms_to_tsc(uint32_t ms);
uint64_t us_to_tsc(uint32_t us);
uint32_t tsc_to_us(uint64_t ticks);
void delay_us(uint32_t us);

/* Reads a clock with read() a few times and returns the value of the
 * quickest read, *tsc set to the TSC halfway through it. A read that took
 * long (several exits to a VMM, a time slice lost in between) would put
 * the two clocks out of step and skew a calibration. */
uint32_t read_with_tsc(uint32_t (*read)(void), uint64_t *tsc);

/* PIT channel 0 in mode 2 (rate generator): count 0 means 65536. */
void pit_start(uint32_t count);
void pit_free_run(void);
uint16_t pit_read(void);
void pit_wait_ticks(uint32_t ticks);

#endif
