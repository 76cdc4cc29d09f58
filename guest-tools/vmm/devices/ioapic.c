/*
 * 82093AA-style IOAPIC (see ioapic.h for the interface and the delivery
 * rules). The state is the chip's: the ID, IOREGSEL, the redirection table
 * (with remote IRR inside each entry, as the chip keeps it) and the level of
 * each input pin. There is no pending-interrupt latch: an edge is sent the
 * moment it happens, and a level entry is re-examined whenever something
 * that gates it changes (pin, mask, polarity, trigger mode, EOI).
 */
#include "guest-tools/vmm/devices/ioapic.h"

#define RESERVED_DELIVERY_MODE_3 3
#define RESERVED_DELIVERY_MODE_6 6

static unsigned entry_delivery_mode(uint64_t entry)
{
    return (unsigned)((entry & IOAPIC_RTE_DELIVERY_MASK) >> IOAPIC_RTE_DELIVERY_SHIFT);
}

/* The data sheet has SMI, NMI, INIT and ExtINT entries treated as edge
 * triggered even when programmed level: only fixed and lowest-priority
 * interrupts take part in the remote IRR / EOI handshake. */
static bool entry_is_level(uint64_t entry)
{
    unsigned mode = entry_delivery_mode(entry);
    return (entry & IOAPIC_RTE_TRIGGER_LEVEL) &&
           (mode == IOAPIC_DELIVERY_FIXED || mode == IOAPIC_DELIVERY_LOWEST_PRIORITY);
}

void ioapic_entry_to_msi(uint64_t entry, uint64_t *address, uint32_t *data)
{
    uint32_t destination = (uint32_t)(entry >> IOAPIC_RTE_DEST_SHIFT) & 0xff;
    *address = MSI_ADDRESS_BASE | (uint64_t)destination << MSI_ADDRESS_DEST_SHIFT |
               ((entry & IOAPIC_RTE_DEST_LOGICAL) ? MSI_ADDRESS_DEST_LOGICAL : 0);
    /* An IOAPIC message is always an assert; the trigger bit tells the
     * local APIC whether to set its TMR bit and broadcast the EOI. */
    *data = (uint32_t)(entry & IOAPIC_RTE_VECTOR_MASK) |
            entry_delivery_mode(entry) << MSI_DATA_DELIVERY_SHIFT | MSI_DATA_LEVEL_ASSERT |
            (entry_is_level(entry) ? MSI_DATA_TRIGGER_LEVEL : 0);
}

void ioapic_init(struct ioapic *ioapic, uint8_t id, struct msi_sink msi)
{
    ioapic->id = id & IOAPIC_ID_MASK;
    ioapic->register_select = 0;
    ioapic->pin_levels = 0;
    ioapic->pins_driven = 0;
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        ioapic->redirection[pin] = IOAPIC_RTE_MASKED;
    ioapic->msi = msi;
}

/* The pin's logical state: its electrical level seen through the entry's
 * polarity; never asserted before a device drives it. */
static bool pin_asserted(const struct ioapic *ioapic, unsigned pin)
{
    if (!((ioapic->pins_driven >> pin) & 1))
        return false;
    bool high = (ioapic->pin_levels >> pin) & 1;
    bool active_low = ioapic->redirection[pin] & IOAPIC_RTE_ACTIVE_LOW;
    return high != active_low;
}

static void send(struct ioapic *ioapic, unsigned pin)
{
    uint64_t entry = ioapic->redirection[pin];
    unsigned mode = entry_delivery_mode(entry);
    if (mode == RESERVED_DELIVERY_MODE_3 || mode == RESERVED_DELIVERY_MODE_6)
        return;
    /* Remote IRR goes up before the message leaves: the EOI that clears it
     * can only follow the message, never precede it. */
    if (entry_is_level(entry))
        ioapic->redirection[pin] |= IOAPIC_RTE_REMOTE_IRR;
    uint64_t address;
    uint32_t data;
    ioapic_entry_to_msi(entry, &address, &data);
    msi_deliver(&ioapic->msi, address, data);
}

/* A level entry sends whenever it is asserted, unmasked and not waiting for
 * an EOI; called after every change to any of those conditions. */
static void service_level(struct ioapic *ioapic, unsigned pin)
{
    uint64_t entry = ioapic->redirection[pin];
    if (entry_is_level(entry) && !(entry & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) &&
        pin_asserted(ioapic, pin))
        send(ioapic, pin);
}

void ioapic_set_irq(struct ioapic *ioapic, unsigned pin, bool level)
{
    if (pin >= IOAPIC_PINS)
        return;
    bool was_asserted = pin_asserted(ioapic, pin);
    ioapic->pins_driven |= 1u << pin;
    if (level)
        ioapic->pin_levels |= 1u << pin;
    else
        ioapic->pin_levels &= ~(1u << pin);

    uint64_t entry = ioapic->redirection[pin];
    if (entry_is_level(entry))
        service_level(ioapic, pin);
    else if (!was_asserted && pin_asserted(ioapic, pin) && !(entry & IOAPIC_RTE_MASKED))
        send(ioapic, pin);
}

void ioapic_irq_input(void *ioapic, unsigned pin, bool level)
{
    ioapic_set_irq(ioapic, pin, level);
}

void ioapic_eoi(struct ioapic *ioapic, uint8_t vector)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t entry = ioapic->redirection[pin];
        if (!(entry & IOAPIC_RTE_REMOTE_IRR) || (entry & IOAPIC_RTE_VECTOR_MASK) != vector)
            continue;
        ioapic->redirection[pin] = entry & ~IOAPIC_RTE_REMOTE_IRR;
        service_level(ioapic, pin);
    }
}

static void write_redirection(struct ioapic *ioapic, unsigned pin, bool high_dword,
                              uint32_t value)
{
    uint64_t old = ioapic->redirection[pin];
    uint64_t written = high_dword ? (old & 0xffffffffull) | (uint64_t)value << 32
                                  : (old & ~0xffffffffull) | value;
    uint64_t entry = (old & ~IOAPIC_RTE_WRITABLE) | (written & IOAPIC_RTE_WRITABLE);
    /* Remote IRR means nothing for an edge entry and the chip clears it
     * when the entry turns edge; older Linux relies on that to unstick a
     * level interrupt on IOAPICs without the EOI register. */
    if (!entry_is_level(entry))
        entry &= ~IOAPIC_RTE_REMOTE_IRR;
    ioapic->redirection[pin] = entry;
    /* Unmasking, or a polarity change, can leave a level entry asserted. */
    service_level(ioapic, pin);
}

static uint32_t read_register(const struct ioapic *ioapic, uint8_t index)
{
    switch (index) {
    case IOAPIC_REG_ID:
        return (uint32_t)ioapic->id << IOAPIC_ID_SHIFT;
    case IOAPIC_REG_VERSION:
        return IOAPIC_VERSION | (IOAPIC_PINS - 1) << IOAPIC_VERSION_MAX_ENTRY_SHIFT;
    case IOAPIC_REG_ARBITRATION:
        /* The chip loads its arbitration ID from the ID register. */
        return (uint32_t)ioapic->id << IOAPIC_ID_SHIFT;
    }
    if (index >= IOAPIC_REG_REDIRECTION && index < IOAPIC_REG_REDIRECTION + 2 * IOAPIC_PINS) {
        unsigned slot = index - IOAPIC_REG_REDIRECTION;
        uint64_t entry = ioapic->redirection[slot / 2];
        return (uint32_t)(slot & 1 ? entry >> 32 : entry);
    }
    return 0; /* unimplemented indexes read as zero */
}

static void write_register(struct ioapic *ioapic, uint8_t index, uint32_t value)
{
    if (index == IOAPIC_REG_ID) {
        ioapic->id = (value >> IOAPIC_ID_SHIFT) & IOAPIC_ID_MASK;
        return;
    }
    if (index >= IOAPIC_REG_REDIRECTION && index < IOAPIC_REG_REDIRECTION + 2 * IOAPIC_PINS) {
        unsigned slot = index - IOAPIC_REG_REDIRECTION;
        write_redirection(ioapic, slot / 2, slot & 1, value);
    }
    /* Version, arbitration and unimplemented indexes are read-only. */
}

/* The registers are dwords; an access must fall inside one. */
static bool access_valid(uint64_t offset, unsigned size)
{
    return (size == 1 || size == 2 || size == 4) && offset < IOAPIC_MMIO_SIZE &&
           (offset & 3) + size <= 4;
}

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static uint32_t read_dword(const struct ioapic *ioapic, uint64_t aligned_offset)
{
    switch (aligned_offset) {
    case IOAPIC_IOREGSEL:
        return ioapic->register_select;
    case IOAPIC_IOWIN:
        return read_register(ioapic, ioapic->register_select);
    default:
        return 0; /* the EOI register is write-only; nothing else decodes */
    }
}

uint32_t ioapic_read(struct ioapic *ioapic, uint64_t offset, unsigned size, uint64_t now_ns)
{
    (void)now_ns;
    if (!access_valid(offset, size))
        return size_mask(size);
    unsigned shift = (unsigned)(offset & 3) * 8;
    return (read_dword(ioapic, offset & ~3ull) >> shift) & size_mask(size);
}

void ioapic_write(struct ioapic *ioapic, uint64_t offset, unsigned size, uint32_t value,
                  uint64_t now_ns)
{
    (void)now_ns;
    if (!access_valid(offset, size))
        return;
    /* A narrow write replaces its bytes of the dword; reads have no side
     * effects, so merging with the current value is safe. */
    uint64_t aligned_offset = offset & ~3ull;
    unsigned shift = (unsigned)(offset & 3) * 8;
    uint32_t lanes = size_mask(size) << shift;
    uint32_t merged = (read_dword(ioapic, aligned_offset) & ~lanes) | ((value << shift) & lanes);

    switch (aligned_offset) {
    case IOAPIC_IOREGSEL:
        ioapic->register_select = (uint8_t)merged; /* bits 31:8 reserved */
        break;
    case IOAPIC_IOWIN:
        write_register(ioapic, ioapic->register_select, merged);
        break;
    case IOAPIC_EOI:
        if (lanes & 0xff) /* the vector is bits 7:0; the rest is reserved */
            ioapic_eoi(ioapic, (uint8_t)merged);
        break;
    }
}
