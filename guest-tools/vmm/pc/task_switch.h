/*
 * The task switch of a legacy protected-mode guest (SDM vol. 3A, 7.3), for
 * HV_EXIT_TASK_SWITCH: VMX CPUs leave every task switch to their
 * hypervisor, and the hypervisor intercepts them on SVM, so that the
 * VMM performs them, as it does the instructions it decodes. When the
 * exit comes the CPU has made the checks that precede it (SDM 3C 25.4.2:
 * the task gate's privilege and present bit, the new TSS descriptor's
 * type, present bit and limit), and nothing of the switch is done.
 *
 * task_switch() does the rest on the vcpu's registers: the old task's
 * dynamic fields saved into its TSS, the busy bits and NT as the source
 * wants them, the back link, TR, CR3 (with paging), CR0.TS, the general
 * registers, EFLAGS and EIP from the new TSS, LDTR and the segment
 * registers loaded from their descriptors with the checks of SDM 3A table
 * 7-1, and an exception's error code pushed on the new task's stack.
 * A fault before the commit point (the old TSS or a descriptor table
 * unreadable) is the old task's; after it, the new task's, with the
 * registers loaded so far.
 *
 * Both TSS formats: a 16-bit TSS (types 1 and 3) saves and loads the low
 * halves, leaves CR3 and gives FS and GS null selectors. The new TSS's
 * debug trap bit (T) is not acted on.
 *
 * Guest memory through callbacks: `memory` reads or writes linear bytes
 * as the CPU's implicit supervisor accesses would, through the vcpu's
 * current paging; `load_paging` makes the new task's CR3 (and CR0.TS)
 * the vcpu's current paging before its descriptors are read, as the CPU
 * reads them through the new page tables. Host-testable: no hypercalls.
 */
#ifndef GUEST_TOOLS_VMM_PC_TASK_SWITCH_H
#define GUEST_TOOLS_VMM_PC_TASK_SWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"

struct task_switch_ops {
    /* len bytes at `linear`: 1 done; 0 a page fault, whose error code
     * (present and write bits) is at *pf_error; -1 not the VM's RAM or
     * the translation failed (the VMM's trouble: the VM stops). */
    int (*memory)(void *ctx, uint64_t linear, void *bytes, unsigned len, bool write,
                  uint32_t *pf_error);
    /* Paging from now on as in `sregs` (CR0, CR3, CR4); false if the
     * hypervisor refused it. */
    bool (*load_paging)(void *ctx, const struct hv_sregs *sregs);
    void *ctx;
};

struct task_switch_request {
    uint16_t selector;            /* the new TSS */
    uint8_t source;               /* HV_TASK_SWITCH_* */
    bool has_error_code;          /* an exception's, pushed on the new stack */
    uint32_t error_code;
};

enum task_switch_status {
    TASK_SWITCH_DONE,
    TASK_SWITCH_GUEST_FAULT,      /* the guest takes `fault` (registers as
                                     far as the switch got) */
    TASK_SWITCH_FAULT,            /* memory that is not RAM: stop the VM */
};

struct task_switch_fault {
    uint8_t vector;
    bool has_error_code;
    uint32_t error_code;
    uint64_t cr2;                 /* #PF */
    bool in_new_task;             /* after the commit point: the registers
                                     are the new task's as far as loaded;
                                     else unchanged (RIP back to the
                                     instruction that made the switch) */
};

/* Performs the switch on regs and sregs, the vcpu's at the exit with RIP
 * already where the old task resumes (past the instruction that made
 * the switch, if one did). */
enum task_switch_status task_switch(struct hv_regs *regs, struct hv_sregs *sregs,
                                    const struct task_switch_request *request,
                                    const struct task_switch_ops *ops,
                                    struct task_switch_fault *fault);

#endif
