/* The guest's debug registers: where they live, switching them with the
 * control domain's on the CPU, GET/SET_DEBUGREGS, and DEBUG_GUEST setting
 * them aside (hv/debugregs.h describes the three states). */
#include "hv/debugregs.h"

#include "abi/hv_errno.h"
#include "hv/console.h"
#include "hv/percpu.h"
#include "hv/rflags.h"
#include "hv/virt.h"

#define DR6_BD (1ull << 13)

/* The control domain's DR0-DR3 and DR6 while a child's are in this CPU;
 * one cache line per CPU, written only by that CPU. */
struct control_debugregs {
    uint64_t db[4];
    uint64_t dr6;
} __attribute__((aligned(64)));
static struct control_debugregs control_set_aside[MAX_CPUS];

/* MOV to and from DRn: the register number must be an immediate. */
#define READ_DR(n) ({ uint64_t v_; __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v_)); v_; })
#define WRITE_DR(n, v) __asm__ volatile("mov %0, %%dr" #n ::"r"((uint64_t)(v)))

static void read_dr0_3(uint64_t db[4])
{
    db[0] = READ_DR(0);
    db[1] = READ_DR(1);
    db[2] = READ_DR(2);
    db[3] = READ_DR(3);
}

/* Safe at any time in the hypervisor: its own DR7 has no breakpoint
 * enabled (a VM exit sets it to 0x400, and #VMEXIT disables them). */
static void write_dr0_3(const uint64_t db[4])
{
    WRITE_DR(0, db[0]);
    WRITE_DR(1, db[1]);
    WRITE_DR(2, db[2]);
    WRITE_DR(3, db[3]);
}

/* The DR7 the CPU uses while DEBUG_GUEST is on: the VMM's breakpoints, or
 * none (the guest's own are suspended until debugging is off). */
static uint64_t debug_dr7(const struct vcpu *vcpu)
{
    return vcpu->debug.control & HV_GUESTDBG_USE_HW_BP ? vcpu->debug.dr7 : DR7_RESET;
}

void debugregs_init(struct vcpu *vcpu)
{
    vcpu->dr = (struct vcpu_debugregs){ .dr6 = DR6_RESET, .dr7 = DR7_RESET };
}

long debugregs_check(const struct hv_debugregs *regs)
{
    /* VMRUN and VM entry refuse bits 63:32 of DR6 and DR7, and a MOV to
     * them faults (as KVM_SET_DEBUGREGS, which refuses them too). DR0-DR3
     * take any 64-bit value, as a MOV in 64-bit mode does: a
     * non-canonical address is kept and never matches. */
    if (regs->flags || (regs->dr6 >> 32) || (regs->dr7 >> 32))
        return -HV_EINVAL;
    return 0;
}

/* Between RUNs DR0-DR3 are always in vcpu->dr; DR6 and DR7 are in the
 * VMCB/VMCS unless DEBUG_GUEST set them aside. */
void debugregs_get(struct vcpu *vcpu, struct hv_debugregs *out)
{
    uint64_t dr6 = vcpu->dr.dr6, dr7 = vcpu->dr.dr7;
    if (!vcpu->debug.control)
        virt->get_entry_dr67(vcpu, &dr6, &dr7);
    for (int i = 0; i < 4; i++)
        out->db[i] = vcpu->dr.db[i];
    out->dr6 = dr6;
    out->dr7 = dr7;
    out->flags = 0;
    for (int i = 0; i < 9; i++)
        out->reserved[i] = 0;
}

void debugregs_set(struct vcpu *vcpu, const struct hv_debugregs *regs)
{
    for (int i = 0; i < 4; i++)
        vcpu->dr.db[i] = regs->db[i];
    vcpu->dr.dr6 = debugregs_dr6_normal(regs->dr6);
    vcpu->dr.dr7 = debugregs_dr7_normal(regs->dr7);
    if (vcpu->debug.control)
        return; /* set aside: in force once DEBUG_GUEST is off */
    virt->set_entry_dr67(vcpu, vcpu->dr.dr6, vcpu->dr.dr7);
    vcpu->dr.entry_work = (vcpu->dr.dr7 & DR7_ENABLES) != 0;
}

void debugregs_debug_changed(struct vcpu *vcpu, uint32_t old)
{
    bool was = old != 0, is = vcpu->debug.control != 0;
    if (is && !was)
        virt->get_entry_dr67(vcpu, &vcpu->dr.dr6, &vcpu->dr.dr7);
    if (is) {
        /* DR6 the VMM's #DB exits report; the guest's stays aside. */
        virt->set_entry_dr67(vcpu, DR6_RESET, debug_dr7(vcpu));
        virt->set_debugreg_exits(vcpu, DEBUGREG_EXITS_DEBUG);
        vcpu->dr.entry_work = (debug_dr7(vcpu) & DR7_ENABLES) != 0;
    } else if (was) {
        virt->set_entry_dr67(vcpu, vcpu->dr.dr6, vcpu->dr.dr7);
        virt->set_debugreg_exits(vcpu, DEBUGREG_EXITS_KEPT);
        vcpu->dr.entry_work = (vcpu->dr.dr7 & DR7_ENABLES) != 0;
    }
}

/* Puts db in the CPU, setting this CPU's control-domain values aside the
 * first time in a RUN. */
static void load_cpu(struct vcpu *vcpu, const uint64_t db[4])
{
    if (!vcpu->dr.cpu_loaded) {
        struct control_debugregs *aside = &control_set_aside[this_cpu_index()];
        read_dr0_3(aside->db);
        if (!virt->entry_switches_dr6)
            aside->dr6 = READ_DR(6);
        vcpu->dr.cpu_loaded = 1;
    }
    write_dr0_3(db);
}

/* The guest's own registers into the CPU for the rest of this RUN; its
 * MOV DR stop exiting (on VMX, so do its #DBs, which now write its own
 * DR6). DR6 and DR7 on SVM, DR7 on VMX, the entry loads already. */
static void go_live(struct vcpu *vcpu)
{
    load_cpu(vcpu, vcpu->dr.db);
    if (!virt->entry_switches_dr6)
        WRITE_DR(6, vcpu->dr.dr6);
    vcpu->dr.live = 1;
    virt->set_debugreg_exits(vcpu, DEBUGREG_EXITS_LIVE);
}

/* The hypervisor's own DR7 enables no breakpoint, ever: a guest's reach
 * the CPU only in the DR7 that VMRUN or VM entry loads, which #VMEXIT and
 * VM exit replace by one enabling none. A host breakpoint on a guest's
 * linear address could fire in the hypervisor (and QEMU 7.2, which keeps
 * the host's DR7 across #VMEXIT, crashes on one hit at CS.base != 0).
 * Checked where breakpoints are in use, on both sides of a guest loop
 * that loads debug registers, so the hot path pays nothing. */
static void check_host_dr7(const char *where)
{
    uint64_t dr7 = READ_DR(7);
    if (dr7 & DR7_ENABLES) {
        pr_error("debugregs: the hypervisor's DR7 0x%llx enables breakpoints %s",
                 (unsigned long long)dr7, where);
        WRITE_DR(7, DR7_RESET);
    }
}

/* The DR7 entry loads enables a breakpoint: its addresses must be in the
 * CPU (entry does not load DR0-DR3). */
void debugregs_enter_slow(struct vcpu *vcpu)
{
    check_host_dr7("before a guest loop");
    if (vcpu->debug.control)
        load_cpu(vcpu, vcpu->debug.addr);
    else if (!vcpu->dr.live)
        go_live(vcpu);
}

/* End of a guest loop: the guest's own back from the CPU, the control
 * domain's back into it. A guest whose DR7 still enables a breakpoint
 * starts its next RUN live. */
void debugregs_leave_slow(struct vcpu *vcpu)
{
    struct control_debugregs *aside = &control_set_aside[this_cpu_index()];
    check_host_dr7("after a guest loop");
    if (vcpu->dr.live) {
        uint64_t dr6, dr7;
        read_dr0_3(vcpu->dr.db);
        if (!virt->entry_switches_dr6)
            vcpu->dr.dr6 = READ_DR(6);
        vcpu->dr.live = 0;
        virt->set_debugreg_exits(vcpu, DEBUGREG_EXITS_KEPT);
        virt->get_entry_dr67(vcpu, &dr6, &dr7);
        vcpu->dr.entry_work = (dr7 & DR7_ENABLES) != 0;
    }
    write_dr0_3(aside->db);
    if (!virt->entry_switches_dr6)
        WRITE_DR(6, aside->dr6);
    vcpu->dr.cpu_loaded = 0;
}

int debugregs_access_exit(struct vcpu *vcpu, const struct exit_record *exit)
{
    if (!vcpu->debug.control) {
        if (!vcpu->dr.live)
            go_live(vcpu);
        return -1;
    }
    vcpu->dr.pending = (struct debugreg_access){
        .number = exit->dr.number,
        .write = exit->dr.write,
        .gpr = exit->dr.gpr,
        .length = (uint8_t)exit->instruction_length,
    };
    return RUN_STOP_EMULATE_DEBUGREG;
}

/* B0-B3 report this exception alone; BD, BS and BT stay set until the
 * guest clears them (SDM 3B 18.2.3). */
void debugregs_guest_debug_exception(struct vcpu *vcpu, uint64_t causes)
{
    uint64_t dr6 = vcpu->dr.dr6 & ~DR6_B0_B3;
    vcpu->dr.dr6 = debugregs_dr6_normal(dr6 | (causes & (DR6_B0_B3 | DR6_BD | DR6_BS)));
}

/* SVM's VMRUN loads the VMCB's DR6; VMX's entry loads none, so the
 * guest's is in the CPU while live and in vcpu->dr otherwise, as it is
 * on both while DEBUG_GUEST has it aside. */
void debugregs_single_step(struct vcpu *vcpu)
{
    if (vcpu->debug.control || (!virt->entry_switches_dr6 && !vcpu->dr.live)) {
        debugregs_guest_debug_exception(vcpu, DR6_BS);
        return;
    }
    if (!virt->entry_switches_dr6) {
        WRITE_DR(6, debugregs_dr6_normal((READ_DR(6) & ~DR6_B0_B3) | DR6_BS));
        return;
    }
    uint64_t dr6, dr7;
    virt->get_entry_dr67(vcpu, &dr6, &dr7);
    virt->set_entry_dr67(vcpu, debugregs_dr6_normal((dr6 & ~DR6_B0_B3) | DR6_BS), dr7);
}
