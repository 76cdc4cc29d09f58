#include "hv/trap.h"

#include "boot/boot_layout.h"
#include "hv/apic.h"
#include "hv/console.h"
#include "hv/percpu.h"
#include "hv/x86.h"

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */

static struct idt_gate idt[256] __attribute__((aligned(16)));
static interrupt_handler handlers[256];
extern const uint64_t isr_table[256];

static const char *const exception_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
    "invalid opcode", "device not available", "double fault",
    "coprocessor overrun", "invalid TSS", "segment not present",
    "stack fault", "general protection", "page fault", "reserved",
    "x87 error", "alignment check", "machine check", "SIMD error",
    "virtualization", "control protection", "reserved", "reserved",
    "reserved", "reserved", "reserved", "reserved", "hypervisor injection",
    "VMM communication", "security", "reserved",
};

static void set_gate(unsigned vector, uint64_t handler, uint8_t ist)
{
    idt[vector] = (struct idt_gate){
        .offset_low = (uint16_t)handler,
        .selector = GDT_KERNEL_CS,
        .ist = ist,
        .type_attr = GATE_INTERRUPT,
        .offset_mid = (uint16_t)(handler >> 16),
        .offset_high = (uint32_t)(handler >> 32),
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, isr_table[v], 0);
    /* These can arrive on a broken stack or inside another handler; give
     * them known-good stacks (Intel SDM 3A, 6.14.5). */
    idt[VECTOR_NMI].ist = IST_NMI;
    idt[VECTOR_DOUBLE_FAULT].ist = IST_DOUBLE_FAULT;
    idt[VECTOR_MACHINE_CHECK].ist = IST_MACHINE_CHECK;
}

void idt_load(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" ::"m"(idtr));
}

void interrupt_register(uint8_t vector, interrupt_handler handler)
{
    handlers[vector] = handler;
}

static void backtrace(uint64_t rbp)
{
    /* Frame pointers are kept (-fno-omit-frame-pointer); stop at a null or
     * implausible frame rather than fault again. */
    for (int depth = 0; depth < 16 && rbp && rbp % 8 == 0; depth++) {
        uint64_t *frame = (uint64_t *)(uintptr_t)rbp;
        uint64_t ret = frame[1];
        if (!ret)
            break;
        console_emergency("  #%d 0x%016llx", depth, (unsigned long long)ret);
        if (frame[0] <= rbp)
            break;
        rbp = frame[0];
    }
}

static __attribute__((noreturn)) void report_exception(struct trap_frame *f)
{
    const char *name = f->vector < 32 ? exception_names[f->vector] : "interrupt";
    console_emergency("PANIC: exception %llu (%s), error code 0x%llx",
                      (unsigned long long)f->vector, name,
                      (unsigned long long)f->error_code);
    console_emergency("  rip %016llx cs %04llx rflags %016llx",
                      (unsigned long long)f->rip, (unsigned long long)f->cs,
                      (unsigned long long)f->rflags);
    console_emergency("  rsp %016llx ss %04llx cr2 %016llx cr3 %016llx",
                      (unsigned long long)f->rsp, (unsigned long long)f->ss,
                      (unsigned long long)read_cr2(), (unsigned long long)read_cr3());
    console_emergency("  rax %016llx rbx %016llx rcx %016llx rdx %016llx",
                      (unsigned long long)f->rax, (unsigned long long)f->rbx,
                      (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    console_emergency("  rsi %016llx rdi %016llx rbp %016llx r8  %016llx",
                      (unsigned long long)f->rsi, (unsigned long long)f->rdi,
                      (unsigned long long)f->rbp, (unsigned long long)f->r8);
    console_emergency("  r9  %016llx r10 %016llx r11 %016llx r12 %016llx",
                      (unsigned long long)f->r9, (unsigned long long)f->r10,
                      (unsigned long long)f->r11, (unsigned long long)f->r12);
    console_emergency("  r13 %016llx r14 %016llx r15 %016llx",
                      (unsigned long long)f->r13, (unsigned long long)f->r14,
                      (unsigned long long)f->r15);
    console_emergency("  backtrace (addr2line -e build/hv.elf):");
    console_emergency("  #- 0x%016llx", (unsigned long long)f->rip);
    backtrace(f->rbp);
    console_emergency("CPU halted.");
    halt_forever();
}

void trap_dispatch(struct trap_frame *frame)
{
    interrupt_handler handler = handlers[frame->vector & 0xff];
    if (handler) {
        handler(frame);
        return;
    }
    if (frame->vector == VECTOR_SPURIOUS || (frame->vector >= 0x20 && frame->vector < 0x30))
        return; /* APIC spurious, or a masked 8259 line's spurious IRQ */
    report_exception(frame);
}
