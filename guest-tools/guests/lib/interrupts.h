/*
 * Protected-mode descriptor tables of the PC test guests: a flat GDT (with
 * 16-bit segments for the way back to real mode) and an IDT whose 256
 * vectors all reach interrupt_dispatch(), which calls the handler a guest
 * registered. An exception nobody expected prints one line and ends the
 * guest with PC_STATUS_FAIL, so a broken platform shows as a failed test,
 * not a hang.
 *
 * The tables are shared by every CPU of the guest: the boot CPU builds
 * them (descriptors_init), each AP only loads them (descriptors_load).
 * Handlers run with interrupts off (interrupt gates) and may re-enable
 * them to test nesting.
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_INTERRUPTS_H
#define GUEST_TOOLS_GUESTS_LIB_INTERRUPTS_H

#include <stdint.h>

/* GDT selectors (descriptors.c builds the table in this order). */
#define GDT_CODE32 0x08
#define GDT_DATA32 0x10
#define GDT_CODE16 0x18   /* base 0, limit 64 KiB: the step before real mode */
#define GDT_DATA16 0x20

#define VECTOR_NMI 2
#define VECTOR_GP  13

/* What the stubs (interrupt_stubs.S) push, lowest address first. */
struct interrupt_frame {
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
    uint32_t vector;
    uint32_t error_code;     /* 0 where the CPU pushes none */
    uint32_t eip, cs, eflags;
};

typedef void (*interrupt_handler)(struct interrupt_frame *frame);

void descriptors_init(void);       /* boot CPU: build and load GDT and IDT */
void descriptors_load(void);       /* an AP: load the tables built above */
void interrupt_set_handler(uint8_t vector, interrupt_handler handler);

/* The GDT's pseudo-descriptor, for real-mode code that loads it. */
extern const struct gdt_pointer { uint16_t limit; uint32_t base; }
    __attribute__((packed)) gdt_pointer;

/* WRMSR that survives a #GP: returns 0 if it took effect, -1 if it
 * faulted (the fault is then skipped). */
int wrmsr_checked(uint32_t msr, uint64_t value);

/* Called by the stubs only. */
void interrupt_dispatch(struct interrupt_frame *frame);

#endif
