/* RUN for a child vcpu, the parts out of line (the RUN itself is
 * hv/vcpu_run.h's vcpu_run_with, one per backend): the exit handler of a
 * child's guest loop, which handles in the hypervisor the exits that need
 * no policy (CPUID, MSRs it virtualises, physical interrupts within the
 * time slice) and describes the others in the run page for the VMM, and
 * RUN's rare cases. */
#include "abi/hv_errno.h"
#include "hv/apic.h"
#include "hv/console.h"
#include "hv/cpuid.h"
#include "hv/debugregs.h"
#include "hv/format.h"
#include "hv/fpu.h"
#include "hv/guest_memory.h"
#include "hv/machine_check.h"
#include "hv/mmio_exit.h"
#include "hv/time.h"
#include "hv/vcpu_lapic.h"
#include "hv/msr_emulate.h"
#include "hv/msr_switch.h"
#include "hv/rflags.h"
#include "hv/run_page.h"
#include "hv/run_watchdog.h"
#include "hv/single_step.h"
#include "hv/speculation.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/vcpu_run.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include "hv/x86.h"

void take_pending_interrupt(void)
{
    /* STI's one-instruction shadow: the interrupt is taken at the NOP. */
    __asm__ volatile("sti; nop; cli" ::: "memory");
}

/* Port I/O that the backend's fast path did not complete: INS and OUTS,
 * which the VMM emulates and whose RIP it moves itself (string), and any
 * that a backend decodes instead. */
static void fill_io(struct vcpu *vcpu, struct hv_run *run,
                    const struct exit_record *exit)
{
    if (!exit->io.string) {
        vcpu_port_io(vcpu, vcpu->run, exit->io.port, exit->io.size, exit->io.in, vcpu->gprs.rax);
        virt->skip_instruction(vcpu, exit);
        return;
    }
    run->io.direction = exit->io.in ? HV_IO_IN : HV_IO_OUT;
    run->io.size = exit->io.size;
    run->io.port = exit->io.port;
    run->io.string = 1;
    run->io.count = exit->io.rep ? (uint32_t)vcpu->gprs.rcx : 1;
    run->io.data_offset = HV_RUN_IO_DATA_OFFSET;
}

/* IN writes AL or AX in place and zero-extends EAX, as the CPU does. */
static void complete_in(struct vcpu *vcpu, const struct hv_run *run)
{
    const uint8_t *data = (const uint8_t *)run + HV_RUN_IO_DATA_OFFSET;
    uint64_t value = 0;
    for (unsigned i = 0; i < vcpu->pending_in_size; i++)
        value |= (uint64_t)data[i] << (8 * i);
    uint64_t *rax = &vcpu->gprs.rax;
    if (vcpu->pending_in_size == 1)
        *rax = (*rax & ~0xffull) | value;
    else if (vcpu->pending_in_size == 2)
        *rax = (*rax & ~0xffffull) | value;
    else
        *rax = value;
    vcpu->pending_in_size = 0;
}

/* An MMIO exit carries the faulting instruction's bytes, fetched through
 * the guest's paging, so that the VMM can emulate it without more calls;
 * in an HV_VM_DECODED_MMIO VM, the access decoded from them too. */
static void fill_fault(struct vcpu *vcpu, struct hv_run *run,
                       const struct exit_record *exit)
{
    bool decode = vcpu->vm->decoded_mmio;
    struct insn_site site;
    run->mmio.phys_addr = exit->fault.guest_phys;
    run->mmio.linear_addr = exit->fault.guest_linear;
    run->mmio.is_write = exit->fault.write;
    run->mmio.decoded = 0; /* the union's byte may hold an earlier exit's */
    if (exit->fault.insn_length) {
        run->mmio.insn_length = exit->fault.insn_length;
        for (unsigned i = 0; i < exit->fault.insn_length; i++)
            run->mmio.insn_bytes[i] = exit->fault.insn_bytes[i];
        if (!decode)
            return;
        virt->insn_site(vcpu, &site);
    } else {
        virt->insn_site(vcpu, &site);
        run->mmio.insn_length =
            (uint8_t)vcpu_fetch_instruction_at(vcpu, &site, run->mmio.insn_bytes);
    }
    if (decode)
        vcpu_mmio_decode_for_vmm(vcpu, run, exit, insn_site_mmio_mode(&site));
}

/* HV_EXIT_INTERNAL_ERROR with its suberror (HV_INTERNAL_ERROR_*) and data. */
static int internal_error(struct hv_run *run, uint32_t suberror, uint64_t d0, uint64_t d1,
                          uint64_t d2, uint64_t d3)
{
    run->internal.suberror = suberror;
    run->internal.data[0] = d0;
    run->internal.data[1] = d1;
    run->internal.data[2] = d2;
    run->internal.data[3] = d3;
    return HV_EXIT_INTERNAL_ERROR;
}

/* A machine check while the child ran is the host's (hv/machine_check.h):
 * reported, and the guest resumes unless the CPU says it cannot (RIPV
 * clear); then RUN ends with HV_EXIT_INTERNAL_ERROR for the VMM. */
static int child_machine_check(struct vcpu *vcpu, struct hv_run *run,
                               const struct exit_record *exit)
{
    struct machine_check_info info;
    char where[64];
    format(where, sizeof(where), "in child VM %u, vcpu %u (guest rip 0x%llx)",
           vcpu->vm->id, vcpu->slot, (unsigned long long)exit->rip);
    if (machine_check_handle(where, &info)) {
        console_emergency("mce: recoverable (RIPV set): the guest goes on");
        return -1;
    }
    console_emergency("mce: not recoverable (RIPV clear): RUN ends with "
                      "HV_EXIT_INTERNAL_ERROR");
    return internal_error(run, HV_INTERNAL_ERROR_MACHINE_CHECK, info.mcg_status,
                          info.banks_valid, info.first_status, info.first_addr);
}

/* A task switch the CPU left to the VMM (VMX: SDM 3C 25.4.2). The
 * instruction's length is given only when the instruction made the
 * switch (CALL, JMP, IRET, or INT n, INT3, INTO, INT1 through a task
 * gate): RIP is at it and the old task resumes after it. For an event
 * that met a task gate otherwise RIP is already where the old task
 * resumes. */
static void fill_task_switch(struct hv_run *run, const struct exit_record *exit)
{
    bool by_instruction = exit->task_switch.source != HV_TASK_SWITCH_GATE ||
                          exit->task_switch.event >= HV_TASK_SWITCH_EVENT_SOFT_INTERRUPT;
    run->task_switch.selector = exit->task_switch.selector;
    run->task_switch.source = exit->task_switch.source;
    run->task_switch.event = exit->task_switch.event;
    run->task_switch.vector = exit->task_switch.vector;
    run->task_switch.has_error_code = exit->task_switch.has_error_code;
    run->task_switch.insn_length = by_instruction ? (uint8_t)exit->instruction_length : 0;
    run->task_switch.padding = 0;
    run->task_switch.error_code = exit->task_switch.error_code;
    run->task_switch.padding2 = 0;
}

/* Decides what a child's exit means. Returns the HV_EXIT_* reason to report
 * to the VMM, or -1 to resume the guest. A child's CPUID and its IN and
 * OUT come here only with RFLAGS.TF set: the backends complete the others
 * before decoding (their exit functions, with hv/cpuid.h and
 * hv/run_page.h) and leave a single step to the skip functions here. */
static int handle_exit(struct vcpu *vcpu, struct hv_run *run,
                       const struct exit_record *exit)
{
    switch (exit->kind) {
    case EXIT_INTERRUPT:
    case EXIT_NMI:
        take_pending_interrupt();
        if (__builtin_expect(run_watchdog_lost_slice_interrupts, 0) && exit->kind != EXIT_NMI)
            return -1;
        return vcpu_after_interrupt(vcpu);
    case EXIT_SLICE_OVER:
        return __builtin_expect(run_watchdog_lost_slice_interrupts, 0) ? -1 : HV_EXIT_INTR;
    case EXIT_MSR_READ:
    case EXIT_MSR_WRITE:
        return msr_emulate(vcpu, exit);
    case EXIT_UNDEFINED:
        virt->inject_exception(vcpu, VECTOR_INVALID_OPCODE, false, 0);
        return -1;
    case EXIT_CPUID:
        cpuid_emulate(vcpu);
        virt->skip_instruction(vcpu, exit);
        return -1;
    case EXIT_INVD:
        wbinvd();
        virt->skip_instruction(vcpu, exit);
        return -1;
    case EXIT_REEXECUTE:
        return -1;
    case EXIT_APIC_WRITE:
        return vcpu_lapic_apic_write(vcpu, (uint32_t)exit->info1);
    case EXIT_MACHINE_CHECK:
        return child_machine_check(vcpu, run, exit);
    case EXIT_IO:
        fill_io(vcpu, run, exit);
        return HV_EXIT_IO;
    case EXIT_HLT: {
        /* A single step's trap comes first and ends the halt, as KVM has
         * it: the guest's #DB handler runs, or DEBUG_GUEST reports. */
        if (virt->skip_instruction(vcpu, exit))
            return -1;
        if (!vcpu->vm->lapic)
            return HV_EXIT_HLT;
        vcpu->mp_state = HV_MP_STATE_HALTED;
        int reason = vcpu_wait(vcpu);
        /* The sleep armed the host timer for its own wake-up only (the
         * deadline or the guest's timer, never the slice's end), and that
         * one-shot may have fired already, e.g. when the deadline came
         * with the interrupt that woke the vcpu. The guest must not run on
         * without a timer: a guest that then spins without an exit would
         * keep this CPU, and every other vcpu its VMM runs here, forever
         * (SVM: VMX's preemption timer ends the slice by itself). */
        if (reason < 0)
            vcpu_arm_host_timer(vcpu, rdtsc());
        return reason;
    }
    case EXIT_XSETBV:
        xsetbv_emulate(vcpu, exit);
        return -1;
    case EXIT_HYPERCALL:
        virt->skip_instruction(vcpu, exit);
        run->hypercall.nr = vcpu->gprs.rax;
        run->hypercall.args[0] = vcpu->gprs.rdi;
        run->hypercall.args[1] = vcpu->gprs.rsi;
        run->hypercall.args[2] = vcpu->gprs.rdx;
        run->hypercall.args[3] = vcpu->gprs.r10;
        run->hypercall.args[4] = vcpu->gprs.r8;
        return HV_EXIT_HYPERCALL;
    case EXIT_NESTED_FAULT: {
        /* The first write to a page of a dirty-logged slot: recorded and
         * retried, the VMM never sees it. */
        if (vm_resolve_dirty_fault(vcpu->vm, exit->fault.guest_phys, exit->fault.write))
            return -1;
        /* The event's delivery touched the xAPIC page or MMIO (the guest
         * put its IDT or stack there): no instruction to emulate made the
         * access, so the VMM is told, as KVM does (its DELIVERY_EV). The
         * event stays pending for the entry after. */
        if (exit->fault.delivering)
            return internal_error(run, HV_INTERNAL_ERROR_DELIVERY_EVENT,
                                  exit->fault.delivered_vector, exit->fault.guest_phys,
                                  exit->fault.write, 0);
        /* The guest's page tables are on MMIO or its APIC page: the
         * instruction's operand was not the access, so there is nothing
         * to emulate or hand to the VMM as that instruction's. */
        if (exit->fault.page_walk)
            return internal_error(run, HV_INTERNAL_ERROR_PAGE_WALK, exit->fault.guest_phys,
                                  exit->fault.write, exit->fault.guest_linear, 0);
        int stop;
        if (vcpu->vm->lapic && vcpu_lapic_mmio(vcpu, exit, &stop))
            return stop;
        fill_fault(vcpu, run, exit);
        return HV_EXIT_MMIO;
    }
    case EXIT_SHUTDOWN:
        vcpu->state = VCPU_SHUTDOWN;
        return HV_EXIT_SHUTDOWN;
    case EXIT_INTERRUPT_WINDOW:
        return vcpu_interrupt_window_exit(vcpu);
    case EXIT_NMI_WINDOW:
        return vcpu_nmi_window_exit(vcpu);
    case EXIT_NONE:
        return -1;
    case EXIT_DEBUGREG_ACCESS:
        return debugregs_access_exit(vcpu, exit);
    case EXIT_DEBUG:
        run->debug.exception = VECTOR_DEBUG;
        run->debug.pc = exit->rip;
        run->debug.dr6 = exit->info1;
        run->debug.dr7 = exit->info2;
        return HV_EXIT_DEBUG;
    case EXIT_TASK_SWITCH:
        fill_task_switch(run, exit);
        return HV_EXIT_TASK_SWITCH;
    case EXIT_FAIL_ENTRY:
        run->fail_entry.hardware_entry_failure_reason = exit->hardware_reason;
        run->fail_entry.cpu = this_cpu_index();
        return HV_EXIT_FAIL_ENTRY;
    case EXIT_EXCEPTION:
    default:
        run->hw.hardware_exit_reason = exit->hardware_reason;
        run->hw.info1 = exit->info1;
        run->hw.info2 = exit->info2;
        return exit->kind == EXIT_EXCEPTION ? HV_EXIT_EXCEPTION : HV_EXIT_UNKNOWN;
    }
}

int vcpu_child_exit(struct vcpu *vcpu, const struct exit_record *exit)
{
    vcpu->exit_count++;
    int reason = handle_exit(vcpu, vcpu->run, exit);
    if (__builtin_expect(vcpu->state == VCPU_STEP_PENDING, 0) && reason < 0)
        reason = vcpu_single_step_deliver(vcpu);
    /* An INIT posted (to itself, or with the kick from another vcpu still
     * on its way) ends the RUN before the guest runs on. */
    if (__builtin_expect(__atomic_load_n(&vcpu->lapic_events, __ATOMIC_ACQUIRE) & LAPIC_EVENT_INIT,
                         0) && reason < 0)
        reason = HV_EXIT_INTR;
    if (reason < 0) {
        vcpu_prepare_events(vcpu, vcpu->run);
        if (vcpu->vm->lapic && vcpu->timer_armed != vcpu_lapic_next_timer(vcpu))
            vcpu_arm_host_timer(vcpu, rdtsc());
        return 0;
    }
    bool if_flag;
    bool allowed = virt->interrupt_allowed(vcpu, &if_flag); /* VMCS still current */
    /* A debug exit is at its pc: past the instruction after a step. */
    uint64_t rip = reason == HV_EXIT_DEBUG ? vcpu->run->debug.pc : exit->rip;
    return vcpu_stop(vcpu, vcpu->run, reason, rip, if_flag, allowed);
}

/* The flag is set before the owner is read, and RUN claims the vcpu (a
 * locked compare-and-swap) before it tests the flag: either RUN sees the
 * flag, or this sees RUN's claim and interrupts that CPU, whose interrupt
 * exit then finds the flag. */
void vcpu_kick(struct vcpu *vcpu)
{
    __atomic_store_n(&vcpu->kick, 1, __ATOMIC_SEQ_CST);
    uint32_t owner = __atomic_load_n(&vcpu->owner, __ATOMIC_SEQ_CST);
    if (owner && owner - 1 != this_cpu_index() && percpu_of[owner - 1])
        apic_send_ipi(percpu_of[owner - 1]->apic_id, VECTOR_KICK);
}

/* Where the guest stands, for a RUN whose end vcpu_child_exit did not report
 * (the guest did not run, or its RUN ended outside the guest loop). */
void vcpu_report_position(struct vcpu *vcpu)
{
    struct hv_regs regs;
    virt->get_regs(vcpu, &regs);
    vcpu->run->exit_rip = regs.rip;
    vcpu_fill_interrupt_flags(vcpu);
}

/* The guest loop stopped to emulate a MOV DR under DEBUG_GUEST
 * (hv/debugregs_emulate.c), which is no exit for the VMM: the loop starts
 * again after it, unless the slice ran out meanwhile or the step it made
 * ends the RUN. Returns the RUN's exit reason. Out of line: only a guest
 * being debugged comes here. */
int vcpu_run_after_emulation(struct vcpu *vcpu)
{
    for (;;) {
        int reason = debugregs_emulate(vcpu);
        if (reason < 0 && rdtsc() >= this_cpu()->slice_end)
            reason = HV_EXIT_INTR;
        if (reason >= 0) {
            vcpu_report_position(vcpu);
            return reason;
        }
        vcpu_prepare_events(vcpu, vcpu->run);
        virt->run_loop(vcpu, vcpu_child_exit);
        if (vcpu->stop_reason != RUN_STOP_EMULATE_DEBUGREG)
            return vcpu->stop_reason;
    }
}

void vcpu_answer_kicks(struct vcpu *vcpu)
{
    if (!(__atomic_load_n(&vcpu->lapic_events, __ATOMIC_ACQUIRE) & LAPIC_EVENT_INIT))
        __atomic_store_n(&vcpu->kick, 0, __ATOMIC_RELEASE);
}

int vcpu_run_stopped_late(struct vcpu *vcpu, int reason)
{
    if (reason == RUN_STOP_EMULATE_DEBUGREG)
        reason = vcpu_run_after_emulation(vcpu);
    if (reason == HV_EXIT_INTR)
        vcpu_answer_kicks(vcpu);
    return reason;
}

/* What RUN does before entering when its quick test below finds
 * something: an IN, an MSR or a decoded MMIO access to complete, a step's
 * trap to deliver, a shutdown, immediate_exit or a kick, a deadline, a
 * vcpu halted or waiting for SIPI. Returns the HV_EXIT_* that ends the
 * RUN without entering, or -1 to enter. */
int vcpu_run_checks(struct vcpu *vcpu, struct hv_run *run)
{
    if (vcpu->pending_in_size)
        complete_in(vcpu, run);
    if (vcpu->state == VCPU_MSR_READ_EXIT || vcpu->state == VCPU_MSR_WRITE_EXIT)
        msr_complete_user_exit(vcpu, run);
    else if (vcpu->state == VCPU_MMIO_EXIT)
        vcpu_mmio_complete(vcpu, run);
    /* The step over an instruction completed for the VMM (an I/O exit, a
     * hypercall, the MSR access just above): delivered, or reported,
     * before the guest runs another. */
    if (vcpu->state == VCPU_STEP_PENDING) {
        int reason = vcpu_single_step_deliver(vcpu);
        if (reason >= 0)
            return reason;
    }
    if (vcpu->state == VCPU_SHUTDOWN)
        return HV_EXIT_SHUTDOWN;
    /* An INIT that ended the last RUN: taken here, outside the guest loop
     * (vcpu_lapic_prepare), and the vcpu waits for its SIPI. */
    if (__atomic_load_n(&vcpu->lapic_events, __ATOMIC_ACQUIRE) & LAPIC_EVENT_INIT)
        return vcpu_wait(vcpu);
    if (__atomic_load_n(&run->immediate_exit, __ATOMIC_RELAXED) ||
        __atomic_load_n(&vcpu->kick, __ATOMIC_SEQ_CST))
        return HV_EXIT_INTR; /* a kick between two RUNs ends the next at once */
    if (run->deadline_tsc && rdtsc() >= run->deadline_tsc)
        return HV_EXIT_DEADLINE;
    /* Halted or waiting for SIPI (only a vcpu with a LAPIC is ever not
     * runnable): -1 once it can run, else a kick or the deadline. */
    if (vcpu->mp_state != HV_MP_STATE_RUNNABLE)
        return vcpu_wait(vcpu);
    return -1;
}
