/*
 * The I/O APIC (Intel 82093AA data sheet): an index register at its base
 * and a 32-bit data window 0x10 above it; redirection entry n is the pair
 * of registers 0x10 + 2n (low) and 0x11 + 2n (high). Address and GSI
 * base come from the MADT (acpi.h). One CPU programs it; no lock.
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_IOAPIC_H
#define GUEST_TOOLS_GUESTS_LIB_IOAPIC_H

#include <stdint.h>

#define IOAPIC_REG_ID        0x00
#define IOAPIC_REG_VERSION   0x01
#define IOAPIC_REG_REDIR     0x10

/* Redirection entry low word. */
#define IOAPIC_MASKED        (1u << 16)
#define IOAPIC_LEVEL         (1u << 15)
#define IOAPIC_REMOTE_IRR    (1u << 14)
#define IOAPIC_ACTIVE_LOW    (1u << 13)
#define IOAPIC_LOGICAL       (1u << 11)

void ioapic_init(uint32_t base);
uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t value);
uint32_t ioapic_entries(void);              /* from the version register */
/* Entry `input` (GSI minus the I/O APIC's base): low word, and the
 * destination APIC ID in the high word's top byte. */
void ioapic_route(uint32_t input, uint32_t low, uint8_t destination);
uint32_t ioapic_entry_low(uint32_t input);
void ioapic_mask_all(void);
/* The low word for an ISA IRQ's entry: vector, fixed delivery, physical
 * destination, and the polarity and trigger mode the MADT's override
 * flags give (MPS INTI flags; 0 means the ISA bus default: active high,
 * edge). */
uint32_t ioapic_isa_entry(uint16_t override_flags, uint8_t vector);

#endif
