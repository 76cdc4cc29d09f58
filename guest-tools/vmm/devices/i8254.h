/*
 * i8254: the 8254 programmable interval timer of a PC (Intel 8254 data
 * sheet) with the PC's port 0x61, through which software gates counter 2
 * and reads its output (the NMI status and control register of PIIX/ICH).
 *
 * Ports (i8254_read / i8254_write, one byte per port; a wider access is
 * split over consecutive ports as the ISA bus splits it):
 *   0x40-0x42  counters 0-2: count in, count or status out
 *   0x43       control word, counter latch and read-back commands
 *              (write-only: a read finds nothing driving the bus, 0xff)
 *   0x61       bit 0 counter 2's gate, bit 1 speaker data, bits 2-3 the NMI
 *              enables, kept as written; reads add bit 4, the refresh
 *              toggle (flips every 18 input clocks, 15.1 us), and bit 5,
 *              counter 2's OUT; bits 6-7 (NMI sources) read 0
 * Wiring as in a PC: the gates of counters 0 and 1 are tied high; counter
 * 0's OUT is IRQ0, counter 1's goes nowhere (it paced DRAM refresh).
 *
 * Time: the input clock runs at 1193182 Hz from guest time 0; every count is
 * computed from `now_ns` (64-bit integers only), so the model never needs
 * polling. IRQ0 follows counter 0's OUT through the irq_line given to
 * i8254_init(): raised when OUT rises, lowered when it falls. A rise is
 * signalled when the VMM calls in at or after it: i8254_next_event_ns()
 * says when the next one is due (the VMM's RUN deadline), and
 * i8254_update() or any port access at that time raises the line. A fall is
 * signalled at the next call after it, at the latest just before the next
 * rise, so every rise reaches the PIC as a fresh edge; rises missed while
 * the VMM did not call collapse into one, as ticks are lost on a PC whose
 * CPU keeps interrupts off.
 *
 * Locking: none inside. One caller at a time (the VMM's device lock); the
 * IRQ0 callback runs inside these calls and must not call back into the
 * timer. `now_ns` may not go backwards: an earlier time counts as the latest
 * one seen.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_I8254_H
#define GUEST_TOOLS_VMM_DEVICES_I8254_H

#include "guest-tools/vmm/devices/device.h"

#define I8254_PORT                  0x40    /* 0x40-0x43 */
#define I8254_PORTS                 4
#define I8254_SYSTEM_CONTROL_PORT   0x61
#define I8254_INPUT_HZ              1193182u
#define I8254_COUNTERS              3

/* One counter. All fields are kept valid for any sequence of guest writes. */
struct i8254_counter {
    /* As programmed. */
    uint8_t control;            /* control word bits 5:0: access, mode, BCD */
    uint8_t mode;               /* 0-5: modes 6 and 7 act as 2 and 3 */
    uint16_t count_register;    /* CR as written (0 stands for the largest count) */
    uint8_t first_byte;         /* LSB of a two-byte count being written */
    bool write_msb_next;
    bool read_msb_next;         /* for reads of two-byte counts, latched or not */
    bool gate;
    /* Counter latch and read-back commands. */
    bool count_latched;
    bool status_latched;
    uint16_t latched_count;
    uint8_t latched_status;
    /* The counting element: i8254_counter.c says how a count is derived. */
    uint8_t state;
    uint64_t start_tick;
    uint32_t start_count;       /* one-shot modes: the count at start_tick */
    uint32_t period;            /* periodic modes */
    uint32_t phase;             /* periodic modes: position in the period at start_tick */
    bool terminal_reached;      /* one-shot modes: OUT made its terminal change before start_tick */
    uint32_t held_count;        /* the count while not counting */
    uint64_t reload_tick;       /* periodic: when a new count takes over (or never) */
    bool reload_at_half;        /* mode 3: it takes over between half-cycles */
    uint64_t null_count_until;  /* the status's NULL COUNT until CR reaches the count */
};

struct i8254 {
    struct i8254_counter counter[I8254_COUNTERS];
    struct irq_line irq0;
    bool irq0_level;            /* as last signalled */
    uint64_t irq0_tick;         /* IRQ0 reflects counter 0 up to this input clock */
    uint64_t now_tick;          /* the latest input clock seen */
    uint8_t system_control;     /* port 0x61 bits 3:0 as written */
};

/* Power-on state: every counter waits for a control word, OUTs low, counter
 * 2's gate low. */
void i8254_init(struct i8254 *pit, struct irq_line irq0);

uint32_t i8254_read(struct i8254 *pit, uint16_t port, unsigned size, uint64_t now_ns);
void i8254_write(struct i8254 *pit, uint16_t port, unsigned size, uint32_t value,
                 uint64_t now_ns);

/* Bring IRQ0 up to `now_ns`; the VMM calls it at i8254_next_event_ns(). */
void i8254_update(struct i8254 *pit, uint64_t now_ns);

/* When counter 0's OUT next rises after what IRQ0 already shows (a time
 * not after the last call if a rise is due), or DEVICE_TIME_NEVER. */
uint64_t i8254_next_event_ns(const struct i8254 *pit);

#endif
