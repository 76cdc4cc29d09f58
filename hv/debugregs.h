/* The guest's debug registers DR0-DR3, DR6 and DR7, per vcpu, switched
 * lazily (the Intel SDM vol. 3B ch. 18 and AMD APM vol. 2 ch. 13 name
 * them). A guest that never touches them costs two byte tests per RUN.
 *
 * The hypervisor never uses debug registers itself, so the control
 * domain's own DR0-DR3 (and DR6, which VMX does not switch) stay in the
 * CPU until a child needs the CPU's: then they are set aside per CPU and
 * put back when that RUN ends. A child's DR6 and DR7 travel with the
 * VMCB/VMCS (VMX: DR7 only).
 *
 * Three states of a child vcpu:
 *  - kept (the state between RUNs): the guest's DR0-DR3 (and VMX's DR6)
 *    are in struct vcpu_debugregs; a guest MOV DR that reaches them
 *    exits, and RUN then loads them and goes live (the instruction runs
 *    again, in the guest);
 *  - live (inside one RUN): in the CPU, no exits; saved when RUN ends. A
 *    RUN also starts live when the guest's DR7 enables a breakpoint;
 *  - debug (DEBUG_GUEST on): the guest's six values are all kept aside;
 *    the CPU has the VMM's breakpoints (USE_HW_BP) or none; every guest
 *    MOV DR exits and is emulated on the kept values, which take effect
 *    again when DEBUG_GUEST is turned off.
 *
 * Locking: everything is called with the vcpu claimed; the set-aside
 * control-domain values are per CPU and touched only by their CPU. */
#ifndef HV_DEBUGREGS_H
#define HV_DEBUGREGS_H

#include <stdint.h>

#include "abi/hv_abi.h"
#include "hv/exit.h"
#include "hv/vcpu.h"

enum { DEBUGREG_EXITS_KEPT, DEBUGREG_EXITS_LIVE, DEBUGREG_EXITS_DEBUG };

/* The DR7 bits that enable breakpoints (L0-L3, G0-G3). */
#define DR7_ENABLES 0xffull

/* What a MOV can change (SDM 3B 18.2.3-4): DR6's B0-B3, BD, BS, BT, the
 * rest reading as fixed; DR7's enables, LE, GE, bit 11 (RTM where the
 * CPU has it), GD and the conditions, bit 10 reading 1 and 12, 14, 15
 * reading 0 (as KVM and Bochs keep them). The values the guest reads back
 * after writing `value`. */
static inline uint64_t debugregs_dr6_normal(uint64_t value)
{
    return (value & 0xe00full) | 0xffff0ff0ull;
}
static inline uint64_t debugregs_dr7_normal(uint64_t value)
{
    return (value & 0xffff2bffull) | 0x400ull;
}

/* A stop of the guest loop that is no exit for the VMM: a MOV DR under
 * DEBUG_GUEST waits in vcpu->dr.pending (HV_EXIT_* are all below it). */
#define RUN_STOP_EMULATE_DEBUGREG 0x100

/* A new vcpu's registers: DR0-DR3 0, DR6 and DR7 in their reset state. */
void debugregs_init(struct vcpu *vcpu);

/* SET_DEBUGREGS' checks, made before the vcpu is claimed: 0 or -HV_EINVAL
 * (flags not 0, bits 63:32 of DR6 or DR7 set). */
long debugregs_check(const struct hv_debugregs *regs);
/* GET_DEBUGREGS and SET_DEBUGREGS: the guest's own values, whatever
 * DEBUG_GUEST has in force. */
void debugregs_get(struct vcpu *vcpu, struct hv_debugregs *out);
void debugregs_set(struct vcpu *vcpu, const struct hv_debugregs *regs);

/* DEBUG_GUEST changed vcpu->debug from control `old`: the guest's DR6 and
 * DR7 move aside or back, and the exits follow. */
void debugregs_debug_changed(struct vcpu *vcpu, uint32_t old);

/* The backends' run loops, after making the VMCB/VMCS current: before
 * the first entry and after the last exit of each loop. */
void debugregs_enter_slow(struct vcpu *vcpu);
void debugregs_leave_slow(struct vcpu *vcpu);
static inline void debugregs_enter(struct vcpu *vcpu)
{
    if (vcpu->dr.entry_work)
        debugregs_enter_slow(vcpu);
}
static inline void debugregs_leave(struct vcpu *vcpu)
{
    if (vcpu->dr.cpu_loaded)
        debugregs_leave_slow(vcpu);
}

/* EXIT_DEBUGREG_ACCESS: goes live (-1: resume, the instruction runs
 * again), or under DEBUG_GUEST records the access and returns
 * RUN_STOP_EMULATE_DEBUGREG. */
int debugregs_access_exit(struct vcpu *vcpu, const struct exit_record *exit);
/* After the guest loop stopped with RUN_STOP_EMULATE_DEBUGREG: emulates
 * the pending access on the kept values. -1 to enter the guest again, or
 * HV_EXIT_DEBUG (run page filled) when DEBUG_GUEST single-steps. */
int debugregs_emulate(struct vcpu *vcpu);

/* A single-step trap the hypervisor delivers (hv/single_step.h): the
 * guest's DR6 gets BS, wherever it is kept now. */
void debugregs_single_step(struct vcpu *vcpu);

/* VMX's reflected #DB (the guest's own, while its DR6 is kept): the DR6
 * the guest reads after a debug exception reporting `causes` (B0-B3, BD,
 * BS, as the exit qualification gives them). */
void debugregs_guest_debug_exception(struct vcpu *vcpu, uint64_t causes);

#endif
