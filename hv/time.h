/* Time from the TSC, calibrated once against the PIT. Used for the delays
 * that AP start-up requires and for time slices. */
#ifndef HV_TIME_H
#define HV_TIME_H

#include <stdint.h>

void time_init(void);
uint64_t tsc_khz(void);
/* Microseconds to TSC ticks and back at the TSC's rate in kHz: a rate in
 * whole ticks per microsecond would be 21 % off a 3.8 MHz TSC (Bochs),
 * and the host's timers with it. */
uint64_t tsc_from_us(uint64_t us);
uint64_t tsc_to_us(uint64_t ticks);
void udelay(uint64_t us);
uint64_t time_us_since_boot(void);

#endif
