#include "hv/ioapic.h"

#include "abi/hv_errno.h"

/* 82093AA datasheet, 3.0: an index register and a data window. */
#define IOREGSEL 0x00
#define IOWIN    0x10
#define IOAPICVER 0x01
#define IOREDTBL(n) (0x10 + 2 * (n))

#define REDIR_MASKED      (1u << 16)
#define REDIR_LEVEL       (1u << 15)
#define REDIR_ACTIVE_LOW  (1u << 13)

/* MPS INTI flags (ACPI 6.x, 5.2.12.5): 3 in the field means "low"/"level",
 * 0 means the bus's default, which for ISA is high and edge. */
#define INTI_POLARITY_MASK 0x3u
#define INTI_POLARITY_LOW  0x3u
#define INTI_TRIGGER_SHIFT 2
#define INTI_TRIGGER_LEVEL 0x3u

static uint32_t ioapic_read(volatile uint32_t *regs, uint32_t reg)
{
    regs[IOREGSEL / 4] = reg;
    return regs[IOWIN / 4];
}

static void ioapic_write(volatile uint32_t *regs, uint32_t reg, uint32_t value)
{
    regs[IOREGSEL / 4] = reg;
    regs[IOWIN / 4] = value;
}

int ioapic_route(uint64_t base, uint32_t gsi_base, uint32_t gsi, uint16_t inti_flags,
                 uint8_t vector, uint32_t apic_id)
{
    /* The hypervisor's page tables map the low 4 GiB uncached outside RAM,
     * where every PC puts its IOAPIC. */
    if (!base || base >= (1ull << 32) || gsi < gsi_base)
        return -HV_ERANGE;
    volatile uint32_t *regs = (volatile uint32_t *)(uintptr_t)base;
    uint32_t entries = ((ioapic_read(regs, IOAPICVER) >> 16) & 0xff) + 1;
    uint32_t pin = gsi - gsi_base;
    if (pin >= entries)
        return -HV_ERANGE;
    uint32_t low = vector;
    if ((inti_flags & INTI_POLARITY_MASK) == INTI_POLARITY_LOW)
        low |= REDIR_ACTIVE_LOW;
    if (((inti_flags >> INTI_TRIGGER_SHIFT) & 0x3u) == INTI_TRIGGER_LEVEL)
        low |= REDIR_LEVEL;
    /* Masked while the halves disagree, so no half-written entry fires. */
    ioapic_write(regs, IOREDTBL(pin), REDIR_MASKED);
    ioapic_write(regs, IOREDTBL(pin) + 1, apic_id << 24);
    ioapic_write(regs, IOREDTBL(pin), low);
    return 0;
}
