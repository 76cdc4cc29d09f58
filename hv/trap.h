/* Interrupt descriptor table and exception reporting. The hypervisor never
 * expects an exception: any one is a bug in the hypervisor, so it is
 * reported with registers, error code and a frame-pointer backtrace, and the
 * CPU halts. Interrupt vectors (>= 32) go to registered handlers. */
#ifndef HV_TRAP_H
#define HV_TRAP_H

#include <stdint.h>

/* Layout pushed by boot/isr.S. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*interrupt_handler)(struct trap_frame *frame);

enum {
    VECTOR_NMI = 2,
    VECTOR_INVALID_OPCODE = 6,
    VECTOR_DOUBLE_FAULT = 8,
    VECTOR_PAGE_FAULT = 14,
    VECTOR_MACHINE_CHECK = 18,
    VECTOR_CONSOLE_INPUT = 0xe0, /* COM1 receive, via the host IOAPIC */
    VECTOR_TIMER = 0xef,      /* local APIC timer: the vcpu time slice */
    VECTOR_KICK = 0xf0,       /* IPI that pushes a vcpu out of the guest */
    VECTOR_VMCLEAR = 0xf1,    /* VMX: clear a VMCS active on this CPU
                                 (vmx/vmx_vmcs.c) */
    VECTOR_SPURIOUS = 0xff,
};

void idt_init(void);
void idt_load(void);
void interrupt_register(uint8_t vector, interrupt_handler handler);
void trap_dispatch(struct trap_frame *frame);

#endif
