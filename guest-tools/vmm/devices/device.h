/*
 * The contract between the VMM and its device models (one chip per file in
 * this folder, named after the chip). A model is plain C over its own
 * struct: no allocation, no console, no hypercalls, no libc beyond
 * <stdint.h>, <stdbool.h> and <stddef.h>, so that the same file builds into
 * the control domain and into a host unit test (tests/unit/test_<chip>.c).
 *
 * - Registers: each model exposes `<chip>_read` / `<chip>_write` for the
 *   ports (or MMIO offsets) it decodes, taking the access size in bytes
 *   (1, 2 or 4) and the current time. A read of a register the chip does not
 *   have returns what the chip would (often all ones); a write to it is
 *   dropped. Nothing a guest writes may break the model's invariants.
 * - Time: guest time in nanoseconds since the VM started, passed into every
 *   call that needs it (`now_ns`); a model with timers also says when it
 *   next needs to be called (`<chip>_next_event_ns`, UINT64_MAX for never),
 *   which the VMM turns into RUN's deadline.
 * - Interrupts: a model raises its output through a `struct irq_line`
 *   (a level: true asserted) or, for message-signalled interrupts (the
 *   IOAPIC), through a `struct msi_sink`. The VMM routes them.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_DEVICE_H
#define GUEST_TOOLS_VMM_DEVICES_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEVICE_TIME_NEVER UINT64_MAX

/* One interrupt output wired to an input `line` of whatever `set` drives
 * (a PIC pin, an IOAPIC pin). Unconnected (set NULL): nothing happens. */
struct irq_line {
    void (*set)(void *ctx, unsigned line, bool level);
    void *ctx;
    unsigned line;
};

static inline void irq_line_set(const struct irq_line *irq, bool level)
{
    if (irq->set)
        irq->set(irq->ctx, irq->line, level);
}

/* An MSI as the x86 platform defines it (Intel SDM vol. 3A, 11.11):
 * address 0xfeeXXXXX with the destination APIC ID in bits 19:12 and the
 * destination mode (1 logical) in bit 2; data with the vector in bits 7:0,
 * the delivery mode in bits 10:8, level (assert) in bit 14 and trigger
 * mode (1 level) in bit 15. */
#define MSI_ADDRESS_BASE        0xfee00000u
#define MSI_ADDRESS_DEST_SHIFT  12
#define MSI_ADDRESS_DEST_LOGICAL (1u << 2)
#define MSI_DATA_VECTOR_MASK    0xffu
#define MSI_DATA_DELIVERY_SHIFT 8
#define MSI_DATA_LEVEL_ASSERT   (1u << 14)
#define MSI_DATA_TRIGGER_LEVEL  (1u << 15)

struct msi_sink {
    void (*deliver)(void *ctx, uint64_t address, uint32_t data);
    void *ctx;
};

static inline void msi_deliver(const struct msi_sink *sink, uint64_t address, uint32_t data)
{
    if (sink->deliver)
        sink->deliver(sink->ctx, address, data);
}

#endif
