/* Typed input from the hypervisor's console UART (COM1) for the control
 * domain. The UART's receive interrupt, routed through the host IOAPIC to
 * the boot CPU, moves bytes into a bounded ring; CONSOLE_READ takes them.
 * A full ring drops new bytes and counts them: the hypervisor never waits
 * for its reader. The arrival of input ends the HLT of the control-domain
 * vcpu that read last (CPU 0 before any read), and a child's RUN on that
 * CPU with HV_EXIT_INTR, so that a VMM can sleep instead of polling.
 *
 * Locking: one spinlock guards the ring and the UART's receive side; it is
 * taken with interrupts off (in the handler, and in the hypercall, which
 * runs with IF clear) and held only to move bytes. */
#ifndef HV_CONSOLE_INPUT_H
#define HV_CONSOLE_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/acpi.h"

#define CONSOLE_INPUT_RING_SIZE 4096u  /* bytes; a power of two */

/* Routes COM1's IRQ (from the MADT) to `vector` on the CPU with
 * `apic_id`; without an IOAPIC input is taken only when read. Boot CPU,
 * before the APs start. */
void console_input_init(const struct madt_info *madt, uint8_t vector, uint32_t apic_id);

/* Moves up to `max` buffered bytes (after draining the UART) to `dst`;
 * the calling CPU becomes the one woken for the next input. Returns the
 * count, 0 when nothing was typed. */
uint64_t console_input_read(uint8_t *dst, uint64_t max);

/* Bytes received and bytes dropped because the ring was full, since boot. */
void console_input_counts(uint64_t *received, uint64_t *dropped);

/* True once since input arrived for this CPU's reader: what ends its HLT
 * and a child's RUN on it. */
bool console_input_take_pending(void);
bool console_input_pending(void);

#endif
