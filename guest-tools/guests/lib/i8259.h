/*
 * The 8259A PIC pair of a PC (Intel 8259A data sheet): master at 0x20,
 * slave at 0xa0 cascaded on the master's IRQ2. i8259_init runs the
 * initialisation sequence an OS runs, so the guest does not depend on
 * what firmware left; every IRQ starts masked.
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_I8259_H
#define GUEST_TOOLS_GUESTS_LIB_I8259_H

#include <stdint.h>

/* ICW1-ICW4: edge triggered, cascade, 8086 mode, normal EOI; master
 * vectors from master_base, slave vectors from slave_base. */
void i8259_init(uint8_t master_base, uint8_t slave_base);
/* Bit n masks IRQ n (0-15); the cascade line IRQ2 stays as given. */
void i8259_set_mask(uint16_t mask);
void i8259_eoi(uint8_t irq);                /* non-specific EOI */
uint16_t i8259_read_irr(void);              /* via OCW3 */
uint16_t i8259_read_isr(void);

#endif
