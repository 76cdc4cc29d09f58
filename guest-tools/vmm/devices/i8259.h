/*
 * i8259: the pair of 8259A interrupt controllers of a PC (Intel 8259A data
 * sheet), with the edge/level control registers (ELCR) of the PIIX/ICH
 * south bridges.
 *
 * Ports (i8259_read / i8259_write, one byte per port; a wider access is
 * split over consecutive ports as the ISA bus splits it):
 *   0x20, 0xa0   command: ICW1, OCW2, OCW3; reads IRR, ISR or the poll word
 *   0x21, 0xa1   data: ICW2-ICW4 during initialisation, else the IMR
 *   0x4d0, 0x4d1 ELCR of lines 0-7 and 8-15: 1 level-triggered, 0 edge
 *                (lines 0, 1, 2, 8 and 13 are always edge, as on PIIX)
 * The master is at 0x20, the slave at 0xa0 with its INTR wired to the
 * master's IR2, as in every PC.
 *
 * Inputs: i8259_set_irq() drives ISA lines 0-15 (2 is the cascade, driven
 * by the slave alone: a device that a PC wires to "IRQ2" uses 9).
 * i8259_irq_input() is the same as a `struct irq_line` callback, so a
 * device model's output can be wired straight to a PIC pin.
 *
 * Output: INTR, read with i8259_intr() and reported on every change through
 * the irq_line given to i8259_init(). To deliver it the VMM does what the
 * CPU's interrupt acknowledge does: when INTR is asserted and the vcpu can
 * take an interrupt (the guest's LAPIC accepts ExtINT on LINT0, or is
 * disabled; the run page says ready_for_interrupt_injection), it calls
 * i8259_acknowledge() and passes the returned vector to the hypervisor's
 * INTERRUPT call; otherwise it sets request_interrupt_window and tries again
 * on HV_EXIT_IRQ_WINDOW_OPEN. The acknowledge may return a spurious vector
 * (IRQ7 or IRQ15 of the programmed base) when the request went away: inject
 * it all the same, as the hardware would.
 *
 * Locking: none inside. One caller at a time per pair (the VMM's device
 * lock). The INTR callback runs inside these calls and must not call back
 * into the pair; it should note the level and kick the vcpu.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_I8259_H
#define GUEST_TOOLS_VMM_DEVICES_I8259_H

#include "guest-tools/vmm/devices/device.h"

#define I8259_MASTER_PORT      0x20
#define I8259_SLAVE_PORT       0xa0
#define I8259_ELCR_PORT        0x4d0   /* 0x4d0 master lines, 0x4d1 slave */
#define I8259_CASCADE_LINE     2
#define I8259_LINES            16

/* One 8259A. All fields are kept valid for any sequence of guest writes. */
struct i8259_chip {
    uint8_t irr;                /* requests: edge latched, or level present */
    uint8_t isr;                /* in service */
    uint8_t imr;                /* masked */
    uint8_t pin_level;          /* the input pins as last driven */
    uint8_t level_triggered;    /* this chip's half of the ELCR */
    uint8_t vector_base;        /* ICW2 bits 7:3 */
    uint8_t cascade;            /* ICW3: master, lines with a slave; slave, its ID */
    uint8_t icw1;
    uint8_t icw4;
    uint8_t lowest_priority;    /* 0-7: the line after it has the highest */
    uint8_t init_step;          /* the ICW the data port expects; 0 initialised */
    bool read_isr;              /* OCW3: the command port reads ISR, else IRR */
    bool poll;                  /* OCW3 poll: the next read acknowledges */
    bool special_mask;          /* OCW3 special mask mode */
    bool rotate_on_auto_eoi;    /* OCW2 rotate in automatic EOI mode */
};

struct i8259_pair {
    struct i8259_chip master;
    struct i8259_chip slave;
    struct irq_line intr;       /* INTR to the CPU */
    bool intr_level;            /* as last reported through `intr` */
};

/* Power-on state: both chips initialised as a PC's are wired (slave on IR2,
 * 8086 mode, vectors 0 and 8 until firmware programs them), all lines edge,
 * nothing masked, INTR low. */
void i8259_init(struct i8259_pair *pic, struct irq_line intr);

uint32_t i8259_read(struct i8259_pair *pic, uint16_t port, unsigned size, uint64_t now_ns);
void i8259_write(struct i8259_pair *pic, uint16_t port, unsigned size, uint32_t value,
                 uint64_t now_ns);

/* Drive input `line` (0-15; others are ignored) to `level`. */
void i8259_set_irq(struct i8259_pair *pic, unsigned line, bool level);
/* The same with the signature of struct irq_line's `set`: ctx is the pair. */
void i8259_irq_input(void *pair, unsigned line, bool level);

/* Whether INTR is asserted: a request outranks everything in service. */
bool i8259_intr(const struct i8259_pair *pic);

/* The CPU's interrupt acknowledge cycle: the vector of the highest-priority
 * request, which moves from IRR to ISR (or not, in automatic EOI mode).
 * Without a request the master answers IRQ7's vector (a slave that lost its
 * request answers IRQ15's) and no ISR bit is set, as on hardware. */
uint8_t i8259_acknowledge(struct i8259_pair *pic);

#endif
