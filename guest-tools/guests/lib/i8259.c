/*
 * 8259A PIC pair programming (i8259.h).
 */
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/i8259.h"

#define MASTER_COMMAND 0x20
#define MASTER_DATA    0x21
#define SLAVE_COMMAND  0xa0
#define SLAVE_DATA     0xa1
#define ICW1_INIT_ICW4 0x11     /* edge, cascade, ICW4 follows */
#define ICW3_MASTER    0x04     /* slave on IRQ2 */
#define ICW3_SLAVE     0x02     /* its cascade identity */
#define ICW4_8086      0x01
#define OCW2_EOI       0x20     /* non-specific EOI */
#define OCW3_READ_IRR  0x0a
#define OCW3_READ_ISR  0x0b

void i8259_init(uint8_t master_base, uint8_t slave_base)
{
    outb(MASTER_COMMAND, ICW1_INIT_ICW4);
    outb(SLAVE_COMMAND, ICW1_INIT_ICW4);
    outb(MASTER_DATA, master_base);
    outb(SLAVE_DATA, slave_base);
    outb(MASTER_DATA, ICW3_MASTER);
    outb(SLAVE_DATA, ICW3_SLAVE);
    outb(MASTER_DATA, ICW4_8086);
    outb(SLAVE_DATA, ICW4_8086);
    i8259_set_mask(0xffff);
}

void i8259_set_mask(uint16_t mask)
{
    outb(MASTER_DATA, (uint8_t)mask);
    outb(SLAVE_DATA, (uint8_t)(mask >> 8));
}

void i8259_eoi(uint8_t irq)
{
    if (irq >= 8)
        outb(SLAVE_COMMAND, OCW2_EOI);
    outb(MASTER_COMMAND, OCW2_EOI);
}

static uint16_t read_pair(uint8_t ocw3)
{
    outb(MASTER_COMMAND, ocw3);
    outb(SLAVE_COMMAND, ocw3);
    return (uint16_t)(inb(MASTER_COMMAND) | inb(SLAVE_COMMAND) << 8);
}

uint16_t i8259_read_irr(void)
{
    return read_pair(OCW3_READ_IRR);
}

uint16_t i8259_read_isr(void)
{
    return read_pair(OCW3_READ_ISR);
}
