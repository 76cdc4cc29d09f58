/* What hv/vlapic.c and hv/vlapic_x2apic.c share: the register page
 * accessors and the register operations common to both access paths.
 * Not for other files: they use hv/vlapic.h. */
#ifndef HV_VLAPIC_INTERNAL_H
#define HV_VLAPIC_INTERNAL_H

#include "hv/vlapic.h"

static inline uint32_t reg(const struct vlapic *l, uint32_t offset) { return l->page[offset / 4]; }
static inline void set_reg(struct vlapic *l, uint32_t offset, uint32_t v) { l->page[offset / 4] = v; }

/* ICR low's bits a write keeps: vector, delivery, destination mode,
 * level, trigger, shorthand (never delivery status: IPIs go at once). */
#define LAPIC_ICR_LOW_WRITABLE 0x000ccfffu

/* x2APIC's logical ID follows from the APIC ID (SDM 10.12.10.2). */
static inline uint32_t vlapic_x2apic_ldr(uint32_t id)
{
    return (id >> 4) << 16 | 1u << (id & 0xf);
}

/* Every register but the ID, as RESET and INIT leave them. */
void vlapic_reset_registers(struct vlapic *l);
/* A write or read at an xAPIC offset, the mode's own rules checked by
 * the caller. */
enum vlapic_action vlapic_write_register(struct vlapic *l, uint32_t offset, uint32_t value,
                                         uint64_t now);
uint32_t vlapic_read_register(struct vlapic *l, uint32_t offset, uint64_t now);
/* EOI: retires the highest in-service vector. */
enum vlapic_action vlapic_eoi(struct vlapic *l);

#endif
