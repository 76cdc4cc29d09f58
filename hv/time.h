/* Time from the TSC, calibrated once against the PIT. Used for the delays
 * that AP start-up requires and for time slices. */
#ifndef HV_TIME_H
#define HV_TIME_H

#include <stdint.h>

void time_init(void);
uint64_t tsc_per_us(void);
uint64_t tsc_khz(void);
void udelay(uint64_t us);
uint64_t time_us_since_boot(void);

#endif
