/*
 * GDT, IDT and the dispatch of every vector to a registered handler
 * (interrupts.h). Multiboot leaves GDTR undefined (the loader's table may
 * be anywhere, even gone), so every guest loads its own before the first
 * segment load or interrupt.
 */
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"

#define IDT_VECTORS 256
#define STUB_SIZE   16           /* interrupt_stubs.S */
#define GATE_INTERRUPT32 0x8e00  /* present, DPL 0, 32-bit interrupt gate */
#define VECTOR_SPURIOUS 0xff     /* lapic.c programs the SVR with it */

/* Flat 4 GiB code and data, then the 16-bit pair real-mode code uses to
 * leave protected mode with 64 KiB limits (SDM vol. 3A, 9.9.2). */
static const uint64_t gdt[] __attribute__((aligned(8))) = {
    0,
    0x00cf9a000000ffffull,      /* GDT_CODE32: base 0, 4 GiB, 32-bit */
    0x00cf92000000ffffull,      /* GDT_DATA32 */
    0x00009a000000ffffull,      /* GDT_CODE16: base 0, 64 KiB, 16-bit */
    0x000092000000ffffull,      /* GDT_DATA16 */
};

const struct gdt_pointer gdt_pointer = {
    .limit = sizeof(gdt) - 1,
    .base = (uint32_t)(uintptr_t)gdt,
};

static uint64_t idt[IDT_VECTORS] __attribute__((aligned(8)));
static const struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idt_pointer = {
    .limit = sizeof(idt) - 1,
    .base = (uint32_t)(uintptr_t)idt,
};

static interrupt_handler handlers[IDT_VECTORS];

/* wrmsr_checked: where a #GP resumes, 0 when none is expected. */
static volatile uint32_t fault_resume_eip;
static volatile uint32_t faults_skipped;

extern const char interrupt_stubs[];

static void ignore_spurious(struct interrupt_frame *frame)
{
    (void)frame;                /* a spurious vector takes no EOI */
}

void descriptors_load(void)
{
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp %1, $1f\n"
                     "1:\n\t"
                     "movw %2, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\t"
                     "movw %%ax, %%ss\n\t"
                     "lidt %3"
                     : : "m"(gdt_pointer), "i"(GDT_CODE32), "i"(GDT_DATA32), "m"(idt_pointer)
                     : "eax", "memory");
}

void descriptors_init(void)
{
    for (int vector = 0; vector < IDT_VECTORS; vector++) {
        uint32_t stub = (uint32_t)(uintptr_t)(interrupt_stubs + STUB_SIZE * vector);

        idt[vector] = ((uint64_t)((stub & 0xffff0000u) | GATE_INTERRUPT32) << 32) |
                      ((uint32_t)GDT_CODE32 << 16) | (stub & 0xffff);
    }
    handlers[VECTOR_SPURIOUS] = ignore_spurious;
    descriptors_load();
}

void interrupt_set_handler(uint8_t vector, interrupt_handler handler)
{
    handlers[vector] = handler;
}

int wrmsr_checked(uint32_t msr, uint64_t value)
{
    uint32_t before = faults_skipped;

    /* The #GP handler below resumes at label 1 if WRMSR faults. */
    __asm__ volatile("movl $1f, %0\n\t"
                     "wrmsr\n"
                     "1:\n\t"
                     "movl $0, %0"
                     : "=m"(fault_resume_eip)
                     : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
    return faults_skipped == before ? 0 : -1;
}

void interrupt_dispatch(struct interrupt_frame *frame)
{
    uint32_t vector = frame->vector;

    if (vector == VECTOR_GP && fault_resume_eip != 0) {
        frame->eip = fault_resume_eip;
        fault_resume_eip = 0;
        faults_skipped++;
        return;
    }
    if (handlers[vector] != 0) {
        handlers[vector](frame);
        return;
    }
    /* Nobody expected this vector: say so on one line and stop. */
    serial_puts(vector < 32 ? "unexpected exception " : "unexpected interrupt vector ");
    serial_put_dec(vector);
    serial_puts(", error code ");
    serial_put_hex(frame->error_code);
    serial_puts(", eip ");
    serial_put_hex(frame->eip);
    serial_puts("\n");
    pc_exit(PC_STATUS_FAIL);
}
