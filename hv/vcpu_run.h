/* RUN for a child vcpu (abi/README.md, section 8), as one function per
 * backend: each backend's vcpu_run op is vcpu_run_with() below with its
 * own entry into the child inlined, so that the whole RUN -- the checks,
 * the switches of extended state, MSRs and speculation controls, the
 * backend's entry work and its guest loop -- runs in one stack frame:
 * the host's callee-saved registers are saved once for all of it (the
 * guest loops save none themselves), not once per call layer. What is
 * rare stays out of line in hv/vcpu_run.c.
 *
 * The guest runs on this CPU, borrowing from the control domain's vcpu
 * the extended state, the switched MSRs and the speculation controls for
 * the time of the guest loop (hv/fpu.h, hv/msr_switch.h,
 * hv/speculation.h), under a host timer for the slice's end, or for an
 * earlier event (a VMM deadline, a guest APIC timer). */
#ifndef HV_VCPU_RUN_H
#define HV_VCPU_RUN_H

#include "abi/hv_errno.h"
#include "hv/apic.h"
#include "hv/debugregs.h"
#include "hv/exit_profile.h"
#include "hv/fpu.h"
#include "hv/host_timer.h"
#include "hv/hypercall.h"
#include "hv/msr_switch.h"
#include "hv/speculation.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/vm.h"
#include "hv/x86.h"

/* The exit handler of a child's guest loop (virt->run_loop's on_exit). */
int vcpu_child_exit(struct vcpu *vcpu, const struct exit_record *exit);
/* What RUN does before entering when its quick test finds something (an
 * IN to complete, a shutdown, immediate_exit or a kick, a deadline, a
 * vcpu halted or waiting for SIPI): the HV_EXIT_* that ends the RUN
 * without entering, or -1 to enter. */
int vcpu_run_checks(struct vcpu *vcpu, struct hv_run *run);
/* Where the guest stands, for a RUN whose end vcpu_child_exit did not
 * report (the guest did not run, or its RUN ended outside the loop). */
void vcpu_report_position(struct vcpu *vcpu);
/* The guest loop stopped with RUN_STOP_EMULATE_DEBUGREG: emulates and
 * goes on (virt->run_loop); returns the RUN's exit reason. */
int vcpu_run_after_emulation(struct vcpu *vcpu);
/* Whatever ended a RUN with HV_EXIT_INTR (slice, kick, immediate_exit)
 * answers every kick made so far, but an INIT's while the INIT waits:
 * the next RUN then looks (vcpu_run_checks). */
void vcpu_answer_kicks(struct vcpu *vcpu);
/* A guest loop's stop at HV_EXIT_INTR or above (RUN_STOP_EMULATE_DEBUGREG
 * is): emulates for the latter, answers kicks for HV_EXIT_INTR, and
 * returns the RUN's exit reason. */
int vcpu_run_stopped_late(struct vcpu *vcpu, int reason);

/* Enters the child on this CPU with vcpu_child_exit as its exit handler
 * and returns when it stops for the VMM (vcpu->stop_reason). It returns
 * the vcpu as its guest loop hands it back: what RUN does after it starts
 * from that, so that nothing of before needs keeping across the loop,
 * which saves no host register of its own. `cpu` is this CPU, which RUN
 * has at hand (a %gs read fewer for the backend's TLB-tag check). */
typedef struct vcpu *(*vcpu_enter_child)(struct vcpu *vcpu, struct percpu *cpu);

/* Defines `int name(struct vcpu **vcpu)`, the call of a backend's guest
 * loop (svm/svm_guest_loop.S, vmx/vmx_guest_loop.S). The loops save none of
 * the host's registers: the call declares every callee-saved one
 * clobbered, so that the frame around it -- for a child, the whole RUN --
 * saves them once in its prologue. A loop hands the vcpu back in RSI: the
 * caller takes it from there rather than keeping its own copy on the
 * stack across the call. */
#define GUEST_LOOP_CALL(name, loop)                                                      \
    static inline int name(struct vcpu **vcpu)                                           \
    {                                                                                    \
        register struct vcpu *rdi __asm__("rdi") = *vcpu;                                \
        register struct vcpu *rsi __asm__("rsi");                                        \
        int result;                                                                      \
        __asm__ volatile("call " #loop                                                   \
                         : "=a"(result), "+r"(rdi), "=r"(rsi)                            \
                         :                                                               \
                         : "rcx", "rdx", "r8", "r9", "r10", "r11", "rbx", "rbp", "r12",  \
                           "r13", "r14", "r15", "memory", "cc");                         \
        *vcpu = rsi;                                                                     \
        return result;                                                                   \
    }

/* What a backend tells vcpu_run_with, as constants:
 * RUN_XSETBV_EXITS: every guest XSETBV exits, so XCR0 need not be read
 * back (hv/fpu.h, fpu_leave_child);
 * RUN_KERNEL_GS_BASE: KERNEL_GS_BASE is among its software_switched_msrs
 * (hv/msr_switch.h: msr_switch_plan.kernel_gs_base is then set);
 * RUN_CR2: entry and exit leave CR2 alone (VMX), so RUN switches a
 * child's with its MSRs (hv/msr_switch.h). */
#define RUN_XSETBV_EXITS   (1u << 0)
#define RUN_KERNEL_GS_BASE (1u << 1)
#define RUN_CR2            (1u << 2)

/* RUN of the child vcpu this CPU has claimed: runs it until an exit its
 * VMM must see, fills its run page and releases it. `backend`: RUN_*
 * above. */
static inline __attribute__((always_inline)) void
vcpu_run_claimed(struct vcpu *vcpu, vcpu_enter_child enter, unsigned backend)
{
    struct hv_run *run = vcpu->run;
    /* One word says whether anything keeps the vcpu from entering (see
     * struct vcpu), read after the claim's locked compare-and-swap as
     * vcpu_kick needs; with no immediate_exit and no deadline either, RUN
     * enters at once, and under the slice's timer unless the guest has
     * its own APIC timer. */
    int reason = -1;
    if (__builtin_expect(__atomic_load_n(&vcpu->run_blockers, __ATOMIC_SEQ_CST) != 0 ||
                         __atomic_load_n(&run->immediate_exit, __ATOMIC_RELAXED) != 0 ||
                         run->deadline_tsc != 0, 0))
        reason = vcpu_run_checks(vcpu, run);
    if (__builtin_expect(reason < 0, 1)) {
        struct percpu *cpu = this_cpu();
        struct vcpu *control = cpu->control_vcpu;
        uint64_t now = rdtsc();
        cpu->slice_end = now + cpu->slice_tsc;
        speculation_enter_child(vcpu, cpu);
        msr_switch_to_child(control, vcpu, backend & RUN_KERNEL_GS_BASE, backend & RUN_CR2);
        /* Without either the slice's end comes first, whose count each
         * CPU computed once; a timer that fires sooner stays armed. */
        if (__builtin_expect(run->deadline_tsc || vcpu->vm->lapic, 0))
            vcpu_arm_host_timer(vcpu, now);
        else
            host_timer_for_slice(cpu, now);
        vcpu_prepare_events(vcpu, run);
        uint64_t switch_from = exit_profile_mark(); /* 0 but in a bench build */
        fpu_enter_child(control, vcpu);
        exit_profile_xstate(switch_from, false);
        vcpu = enter(vcpu, cpu);
        run = vcpu->run;
        reason = vcpu->stop_reason;
        /* HV_EXIT_INTR and the reasons above it, RUN_STOP_EMULATE_DEBUGREG
         * among them, in one test: I/O, MMIO and HLT are below. */
        _Static_assert(RUN_STOP_EMULATE_DEBUGREG > HV_EXIT_INTR && HV_EXIT_IO < HV_EXIT_INTR &&
                       HV_EXIT_MMIO < HV_EXIT_INTR && HV_EXIT_HLT < HV_EXIT_INTR,
                       "the rare stops are the reasons from HV_EXIT_INTR up");
        if (__builtin_expect(reason >= HV_EXIT_INTR, 0))
            reason = vcpu_run_stopped_late(vcpu, reason);
        cpu = this_cpu();
        control = cpu->control_vcpu;
        cpu->slice_end = 0; /* out of the RUN for the watchdog */
        switch_from = exit_profile_mark();
        fpu_leave_child(vcpu, control, backend & RUN_XSETBV_EXITS);
        exit_profile_xstate(switch_from, true);
        msr_switch_to_control(vcpu, control, backend & RUN_KERNEL_GS_BASE, backend & RUN_CR2);
        /* The timer stays armed (hv/host_timer.h): the next RUN mostly
         * comes before it fires, and then needs no APIC write. */
    } else {
        vcpu_report_position(vcpu); /* vcpu_child_exit reports where a guest stopped */
        if (reason == HV_EXIT_INTR)
            vcpu_answer_kicks(vcpu);
    }
    run->exit_reason = (uint32_t)reason;
    run->exit_count = vcpu->exit_count + vcpu->inplace_exits;
    vcpu_release(vcpu);
}

/* RUN: claims the child vcpu and runs it (above). 0, or -HV_EBUSY when
 * another CPU has it. */
static inline __attribute__((always_inline)) long
vcpu_run_with(struct vcpu *vcpu, vcpu_enter_child enter, unsigned backend)
{
    if (vcpu_claim(vcpu))
        return -HV_EBUSY;
    vcpu_run_claimed(vcpu, enter, backend);
    return 0;
}

/* RUN's entry from the exit path (hv/hypercall.h's call_entry): its
 * result is known once the claim is made -- -HV_EBUSY, or else 0 whatever
 * the guest does -- so it is stored then, and the result's address is
 * not kept across the guest's run (a spill and a reload on every RUN);
 * the slot is, for the unpin. */
static inline __attribute__((always_inline)) int
vcpu_run_entry_with(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                    uint64_t state, vcpu_enter_child enter, unsigned backend)
{
    /* Read before the pin, so that the slot need not be reloaded after
     * it: the pin succeeds only while the state word is the one the exit
     * path checked, and a slot gets another object only after a CLOSE and
     * under a new generation, so what was read is the handle's. */
    struct vcpu *vcpu = slot->object;
    if (!hypercall_pin(slot, state))
        return hypercall_dispatch_refused(control, rax);
    if (vcpu_claim(vcpu)) {
        *rax = (uint64_t)-HV_EBUSY;
    } else {
        *rax = 0;
        vcpu_run_claimed(vcpu, enter, backend);
    }
    hypercall_unpin(slot);
    return 0;
}

#endif
