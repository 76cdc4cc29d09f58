/*
 * I/O APIC register access (ioapic.h).
 */
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/ioapic.h"

#define IOREGSEL 0x00
#define IOWIN    0x10
#define INTI_POLARITY_MASK   0x3
#define INTI_ACTIVE_LOW      0x3
#define INTI_TRIGGER_MASK    0xc
#define INTI_LEVEL           0xc

static uint32_t ioapic_base = 0xfec00000;

void ioapic_init(uint32_t base)
{
    ioapic_base = base;
}

uint32_t ioapic_read(uint32_t reg)
{
    mmio_write32(ioapic_base + IOREGSEL, reg);
    return mmio_read32(ioapic_base + IOWIN);
}

void ioapic_write(uint32_t reg, uint32_t value)
{
    mmio_write32(ioapic_base + IOREGSEL, reg);
    mmio_write32(ioapic_base + IOWIN, value);
}

uint32_t ioapic_entries(void)
{
    return ((ioapic_read(IOAPIC_REG_VERSION) >> 16) & 0xff) + 1;
}

void ioapic_route(uint32_t input, uint32_t low, uint8_t destination)
{
    /* Masked while the two halves disagree, then the low word last. */
    ioapic_write(IOAPIC_REG_REDIR + 2 * input, IOAPIC_MASKED);
    ioapic_write(IOAPIC_REG_REDIR + 2 * input + 1, (uint32_t)destination << 24);
    ioapic_write(IOAPIC_REG_REDIR + 2 * input, low);
}

uint32_t ioapic_entry_low(uint32_t input)
{
    return ioapic_read(IOAPIC_REG_REDIR + 2 * input);
}

void ioapic_mask_all(void)
{
    uint32_t entries = ioapic_entries();

    for (uint32_t i = 0; i < entries; i++)
        ioapic_write(IOAPIC_REG_REDIR + 2 * i, IOAPIC_MASKED);
}

uint32_t ioapic_isa_entry(uint16_t override_flags, uint8_t vector)
{
    uint32_t low = vector;

    if ((override_flags & INTI_POLARITY_MASK) == INTI_ACTIVE_LOW)
        low |= IOAPIC_ACTIVE_LOW;
    if ((override_flags & INTI_TRIGGER_MASK) == INTI_LEVEL)
        low |= IOAPIC_LEVEL;
    return low;
}
