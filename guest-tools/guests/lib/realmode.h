/*
 * Running with interrupts on in real mode for a while (realmode.S): how
 * many times the PIC's IRQ0 came through the IVT at `vector` in that time.
 * The caller has the PIC programmed and IRQ0 unmasked; the block at
 * REALMODE_BASE and IVT entry `vector` are overwritten.
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_REALMODE_H
#define GUEST_TOOLS_GUESTS_LIB_REALMODE_H

#include <stdint.h>

#define REALMODE_BASE 0x7000

/* Stays in real mode until the TSC reaches deadline; returns the count
 * of IRQ0 interrupts taken there. */
uint32_t realmode_count_irq0(uint8_t vector, uint64_t deadline);

#endif
