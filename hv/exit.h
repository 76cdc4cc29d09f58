/* The common exit record: what a backend's vcpu_run decodes each hardware
 * exit into, so that hv/ handles exits without knowing SVM from VMX. */
#ifndef HV_EXIT_H
#define HV_EXIT_H

#include <stdbool.h>
#include <stdint.h>

/* Whether the RIP after an instruction the hypervisor completed (`next`,
 * from `rip`) carried out of the low 32 bits: outside 64-bit code EIP
 * wraps there, and VM entry refuses bits 63:32 (SDM 3C 26.3.1.4), so the
 * backend then asks whether the code is 64-bit -- only then, as 64-bit
 * code carries only where it crosses a 4 GiB boundary -- and if not keeps
 * the low half. */
static inline bool rip_carried_out_of_32_bits(uint64_t rip, uint64_t next)
{
    return (uint32_t)next < (uint32_t)rip;
}

enum exit_kind {
    EXIT_NONE = 0,        /* the backend dealt with it (VMX's reflected
                             #DB): resume the guest */
    EXIT_INTERRUPT,       /* a physical interrupt is pending for the host */
    EXIT_NMI,
    EXIT_SLICE_OVER,      /* the backend's own slice timer ran out */
    EXIT_CPUID,
    EXIT_HLT,
    EXIT_IO,
    EXIT_MSR_READ,
    EXIT_MSR_WRITE,
    EXIT_HYPERCALL,       /* VMMCALL / VMCALL */
    EXIT_NESTED_FAULT,    /* NPT / EPT violation */
    EXIT_SHUTDOWN,        /* triple fault */
    EXIT_FAIL_ENTRY,      /* the CPU refused the guest state */
    EXIT_EXCEPTION,       /* an intercepted guest exception */
    EXIT_INTERRUPT_WINDOW,/* the guest can take an interrupt now */
    EXIT_NMI_WINDOW,      /* the guest's NMI blocking ended (or may have:
                             SVM's IRET intercept) */
    EXIT_DEBUG,           /* #DB while DEBUG_GUEST is on; info1 = DR6 bits */
    EXIT_DEBUGREG_ACCESS, /* MOV to or from DR0-DR7 that exited: `dr` */
    EXIT_UNDEFINED,       /* an instruction the guest may not use (nested
                             virtualization, MONITOR/MWAIT): gets #UD */
    EXIT_XSETBV,          /* ECX the register, EDX:EAX the value */
    EXIT_MACHINE_CHECK,   /* #MC while the guest ran: the host's error */
    EXIT_INVD,            /* INVD: done as WBINVD (dirty lines are not the
                             guest's alone to drop) */
    EXIT_REEXECUTE,       /* the exiting instruction is no longer at RIP
                             (code or mapping changed since): resume
                             without emulating it */
    EXIT_APIC_WRITE,      /* a write the CPU made to the vcpu's APIC page
                             (VMX's APIC-register virtualization), its
                             side effects not yet done; info1 = offset */
    EXIT_TASK_SWITCH,     /* a task switch, for the VMM to perform
                             (`task_switch`; instruction_length when an
                             instruction made it) */
    EXIT_UNKNOWN,
};

struct exit_record {
    enum exit_kind kind;
    uint32_t instruction_length; /* 0 when the hardware did not say */
    uint64_t hardware_reason;
    uint64_t info1, info2;       /* raw hardware qualification */
    uint64_t rip;
    union {
        struct {
            uint16_t port;
            uint8_t size;          /* 1, 2, 4 */
            bool in;
            bool string;
            bool rep;
        } io;
        struct {
            uint64_t guest_phys;
            uint64_t guest_linear; /* ~0 when unknown */
            bool write;
            bool fetch;
            uint8_t insn_length;   /* bytes the CPU supplied (decode assists) */
            /* The access was the delivery of an event (its IDT entry, its
             * stack frame), not the instruction at RIP's: its vector. */
            bool delivering;
            uint8_t delivered_vector;
            /* The guest's page walk made the access (an entry of its page
             * tables read, or its accessed or dirty bit set), not the
             * instruction's operand. */
            bool page_walk;
            uint8_t insn_bytes[15];
        } fault;
        struct {
            uint16_t selector;     /* the new TSS */
            uint8_t source;        /* HV_TASK_SWITCH_* */
            uint8_t event;         /* GATE: HV_TASK_SWITCH_EVENT_*, else 0 */
            uint8_t vector;        /* GATE: the event's, else 0 */
            bool has_error_code;
            uint32_t error_code;
        } task_switch;
        struct {
            uint8_t number;        /* DR0-DR7 as the instruction names it */
            bool write;            /* MOV to DRn */
            uint8_t gpr;           /* encoding order; 0xff when not known */
        } dr;
    };
};

#endif
