/*
 * One of the 8254's three counters (Intel 8254 data sheet): its control
 * word, count register, latches and counting element. Internal to the PIT
 * model (i8254.c decodes the ports and wires the counters as a PC does);
 * the VMM uses i8254.h.
 *
 * Time is counted in input clocks ("ticks", I8254_INPUT_HZ since guest time
 * 0). Every call takes the current tick, which the caller keeps from going
 * backwards, and first lets due reloads take over (i8254_counter_catch_up).
 *
 * Locking: that of the i8254 the counter belongs to.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_I8254_COUNTER_H
#define GUEST_TOOLS_VMM_DEVICES_I8254_COUNTER_H

#include "guest-tools/vmm/devices/i8254.h"

#define I8254_TICK_NEVER UINT64_MAX

/* Control word, port 0x43 (data sheet, "Control Word Format"). */
#define I8254_CONTROL_SELECT_SHIFT  6   /* counter 0-2; 3 is the read-back command */
#define I8254_CONTROL_ACCESS_SHIFT  4   /* 0 latch, 1 LSB, 2 MSB, 3 LSB then MSB */
#define I8254_CONTROL_MODE_SHIFT    1
#define I8254_CONTROL_BCD           0x01
#define I8254_SELECT_READ_BACK      3
#define I8254_ACCESS_LATCH          0
#define I8254_ACCESS_LSB            1
#define I8254_ACCESS_MSB            2
#define I8254_ACCESS_WORD           3

uint64_t i8254_ticks_from_ns(uint64_t ns);
/* The first nanosecond at which i8254_ticks_from_ns() reaches `tick`. */
uint64_t i8254_ns_from_tick(uint64_t tick);

/* Power-on: mode 0, word access, binary, waiting for a count; OUT low. */
void i8254_counter_reset(struct i8254_counter *counter, bool gate);

/* A control word for this counter (not a latch or read-back command). */
void i8254_counter_program(struct i8254_counter *counter, uint8_t control, uint64_t tick);
/* A byte of count, as the access mode orders them. */
void i8254_counter_write(struct i8254_counter *counter, uint8_t value, uint64_t tick);
/* A byte of latched status, latched count or live count, in that order. */
uint8_t i8254_counter_read(struct i8254_counter *counter, uint64_t tick);
void i8254_counter_latch_count(struct i8254_counter *counter, uint64_t tick);
void i8254_counter_latch_status(struct i8254_counter *counter, uint64_t tick);
void i8254_counter_set_gate(struct i8254_counter *counter, bool gate, uint64_t tick);

bool i8254_counter_out(const struct i8254_counter *counter, uint64_t tick);
/* The first rise of OUT after tick `after`, or I8254_TICK_NEVER if none
 * comes without a new write or gate change. */
uint64_t i8254_counter_next_rise(const struct i8254_counter *counter, uint64_t after);
/* Let a count written while a periodic counter ran take over if it is due. */
void i8254_counter_catch_up(struct i8254_counter *counter, uint64_t tick);

#endif
