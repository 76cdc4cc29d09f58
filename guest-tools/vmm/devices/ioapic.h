/*
 * IOAPIC model: an Intel 82093AA-style I/O APIC with 24 input pins,
 * version 0x20 (the ICH's, which adds the directed-EOI register at 0x40),
 * at MMIO 0xfec00000. Its output is an MSI per interrupt, as the chipset
 * forwards an IOAPIC message to the local APICs; the VMM hands each one to
 * the hypervisor's MSI call.
 *
 * Interface:
 * - ioapic_init(): reset state (every entry masked, edge, vector 0) with
 *   the given ID; `msi` receives every delivered interrupt.
 * - ioapic_read()/ioapic_write(): MMIO at an offset within the 4 KiB window
 *   (IOREGSEL 0x00, IOWIN 0x10, EOI 0x40), 1, 2 or 4 bytes. Registers are
 *   dwords; narrower accesses read or merge the bytes they cover.
 * - ioapic_set_irq(): the electrical level of an input pin. An entry with
 *   active-low polarity sees a low pin as asserted. A pin nothing has
 *   driven yet is deasserted whatever the entry's polarity, as a board's
 *   unused line idles at its inactive level (PCI's active-low INTx lines
 *   are pulled up): a guest that unmasks such an entry active-low and
 *   level-triggered gets no interrupt storm.
 *   `ioapic_irq_input` has the `irq_line` signature so that a device's
 *   `struct irq_line { ioapic_irq_input, &ioapic, pin }` drives a pin.
 * - ioapic_eoi(): the local APIC's EOI broadcast for a level-triggered
 *   vector (the VMM learns it from the hypervisor); same effect as a guest
 *   write of the vector to the EOI register.
 *
 * Delivery: an unmasked edge-triggered entry sends one message per rising
 * edge of its asserted state (an edge while masked is lost, as on the chip).
 * An unmasked level-triggered entry sends a message while asserted and
 * remote IRR is clear, then sets remote IRR until an EOI for its vector; if
 * the pin is still asserted after the EOI it sends again. SMI, NMI, INIT and
 * ExtINT entries are edge-triggered whatever their trigger bit says (the
 * data sheet requires it); reserved delivery modes (3, 6) send nothing.
 *
 * Locking: none inside. The VMM serialises every call on one ioapic, and
 * the msi_sink must not call back into the same ioapic.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_IOAPIC_H
#define GUEST_TOOLS_VMM_DEVICES_IOAPIC_H

#include "guest-tools/vmm/devices/device.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000u
#define IOAPIC_MMIO_SIZE    0x1000u
#define IOAPIC_PINS         24
#define IOAPIC_VERSION      0x20

/* MMIO offsets (82093AA 3.1; EOI from the ICH IOxAPIC, version 0x20). */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN    0x10
#define IOAPIC_EOI      0x40

/* Indirect register indexes selected through IOREGSEL (82093AA 3.2). */
#define IOAPIC_REG_ID           0x00
#define IOAPIC_REG_VERSION      0x01
#define IOAPIC_REG_ARBITRATION  0x02
#define IOAPIC_REG_REDIRECTION  0x10 /* entry n: low dword 0x10+2n, high 0x11+2n */

/* Register fields (82093AA 3.2.1-3.2.4). */
#define IOAPIC_ID_SHIFT              24
#define IOAPIC_ID_MASK               0x0fu
#define IOAPIC_VERSION_MAX_ENTRY_SHIFT 16

/* Redirection table entry (82093AA 3.2.4), as one 64-bit value. */
#define IOAPIC_RTE_VECTOR_MASK       0xffull
#define IOAPIC_RTE_DELIVERY_SHIFT    8
#define IOAPIC_RTE_DELIVERY_MASK     (7ull << IOAPIC_RTE_DELIVERY_SHIFT)
#define IOAPIC_RTE_DEST_LOGICAL      (1ull << 11)
#define IOAPIC_RTE_DELIVERY_STATUS   (1ull << 12)  /* read-only; 0: idle */
#define IOAPIC_RTE_ACTIVE_LOW        (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR        (1ull << 14)  /* read-only */
#define IOAPIC_RTE_TRIGGER_LEVEL     (1ull << 15)
#define IOAPIC_RTE_MASKED            (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT        56
/* Bits software can write: everything but delivery status, remote IRR and
 * the reserved bits 17-55, which read as zero. */
#define IOAPIC_RTE_WRITABLE          (0xff000000000000ffull | IOAPIC_RTE_DELIVERY_MASK | \
                                      IOAPIC_RTE_DEST_LOGICAL | IOAPIC_RTE_ACTIVE_LOW | \
                                      IOAPIC_RTE_TRIGGER_LEVEL | IOAPIC_RTE_MASKED)

enum ioapic_delivery_mode {
    IOAPIC_DELIVERY_FIXED = 0,
    IOAPIC_DELIVERY_LOWEST_PRIORITY = 1,
    IOAPIC_DELIVERY_SMI = 2,
    IOAPIC_DELIVERY_NMI = 4,
    IOAPIC_DELIVERY_INIT = 5,
    IOAPIC_DELIVERY_EXTINT = 7,
};

struct ioapic {
    uint8_t id;                      /* 4 bits, IOAPICID[27:24] */
    uint8_t register_select;         /* IOREGSEL[7:0] */
    uint32_t pin_levels;             /* electrical level of each pin, bit n = pin n */
    uint32_t pins_driven;            /* pins ioapic_set_irq has set, bit n = pin n */
    uint64_t redirection[IOAPIC_PINS];
    struct msi_sink msi;
};

void ioapic_init(struct ioapic *ioapic, uint8_t id, struct msi_sink msi);

uint32_t ioapic_read(struct ioapic *ioapic, uint64_t offset, unsigned size, uint64_t now_ns);
void ioapic_write(struct ioapic *ioapic, uint64_t offset, unsigned size, uint32_t value,
                  uint64_t now_ns);

/* Pins at or above IOAPIC_PINS are ignored. */
void ioapic_set_irq(struct ioapic *ioapic, unsigned pin, bool level);
void ioapic_irq_input(void *ioapic, unsigned pin, bool level);

void ioapic_eoi(struct ioapic *ioapic, uint8_t vector);

/* The MSI that `entry` sends (address and data as device.h lays them out). */
void ioapic_entry_to_msi(uint64_t entry, uint64_t *address, uint32_t *data);

#endif
