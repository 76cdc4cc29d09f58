/* The host's IOAPIC (Intel 82093AA datasheet), used only to route device
 * interrupts that the hypervisor itself takes: today COM1's receive
 * interrupt. Guests never see it (their IOAPIC is the VMM's model).
 * Called once on the boot CPU before the APs start; no lock. */
#ifndef HV_IOAPIC_H
#define HV_IOAPIC_H

#include <stdint.h>

/* Points redirection entry (gsi - gsi_base) of the IOAPIC at `base` to
 * `vector` on the CPU with `apic_id`, fixed delivery, physical destination,
 * polarity and trigger from the MADT's MPS INTI flags (0: the ISA default,
 * active high, edge). Returns 0, or -HV_ERANGE if the IOAPIC has no such
 * entry (its version register says how many it has). */
int ioapic_route(uint64_t base, uint32_t gsi_base, uint32_t gsi, uint16_t inti_flags,
                 uint8_t vector, uint32_t apic_id);

#endif
