/* VMX exits: what vmx_guest_loop.S calls after each VM exit. The hottest
 * exits are completed before anything else is read -- a control domain's
 * hypercall (hv/control_domain.h), a child's CPUID and a child's port I/O
 * (hv/run_page.h) -- and every other one is decoded into the common exit
 * record (hv/exit.h) for the vcpu's exit handler. The control domain's
 * vcpus and children have an exit function each, chosen when the vcpu is
 * made, so that no exit tests which it is; a VM entry that failed (the
 * instruction fell through) comes to vmx_entry_failed instead. */
#include "hv/control_domain.h"
#include "hv/cpuid.h"
#include "hv/insn_fetch.h"
#include "hv/mmio_decode.h"
#include "hv/mmio_exit.h"
#include "hv/nmi.h"
#include "hv/rflags.h"
#include "hv/run_page.h"
#include "hv/run_watchdog.h"
#include "hv/speculation.h"
#include "hv/sregs_check.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/vm.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_exit.h"
#include "vmx/vmx_instructions.h"

/* A fault or EPT violation in the middle of the guest's IRET from its NMI
 * handler: the IRET had ended virtual-NMI blocking, but it will run again,
 * so the blocking is back until then (SDM 3C 27.2.3, 31.7.1.2). `flag` is
 * the exit's interruption information or qualification (bit 12 in both). */
static void vmx_nmi_blocking_after_iret(struct vcpu *vcpu, uint64_t flag, uint32_t vectoring)
{
    if ((flag & INTR_INFO_NMI_UNBLOCKED_BY_IRET) && !(vectoring & INTR_INFO_VALID)) {
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                vmread(VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_NMI);
        vcpu->nmi_blocking_ours = 1;
    }
}

/* An APIC access the CPU did not virtualize (vmx_apicv.c): a read of PPR
 * or the timer's count, an access of another size or offset, a fetch,
 * the guest's page walk or an event's delivery touching the page (SDM 3C
 * table 28-6: the offset in bits 11:0, the kind of access in 15:12).
 * Given to the general path as the nested fault it would have been
 * without the APIC-access page: vcpu_lapic_mmio emulates it. */
static void decode_apic_access(struct vcpu *vcpu, uint64_t qualification, uint32_t vectoring,
                               struct exit_record *exit)
{
    enum { LINEAR_READ = 0, LINEAR_WRITE = 1, LINEAR_FETCH = 2, LINEAR_DELIVERY = 3,
           PHYSICAL_DELIVERY = 10, PHYSICAL_EXECUTION = 15 };
    unsigned kind = (qualification >> 12) & 0xf;
    exit->kind = EXIT_NESTED_FAULT;
    exit->fault.guest_phys = (vcpu->lapic.apic_base & ~0xfffull) | (qualification & 0xfff);
    exit->fault.guest_linear = ~0ull;
    exit->fault.write = kind == LINEAR_WRITE;
    exit->fault.fetch = kind == LINEAR_FETCH;
    exit->fault.page_walk = kind == PHYSICAL_EXECUTION;
    exit->fault.insn_length = 0;
    exit->fault.delivering = (vectoring & INTR_INFO_VALID) != 0 ||
                             kind == LINEAR_DELIVERY || kind == PHYSICAL_DELIVERY;
    exit->fault.delivered_vector = (uint8_t)vectoring;
}

static void decode(struct vcpu *vcpu, uint32_t reason, uint32_t vectoring,
                   struct exit_record *exit)
{
    uint64_t qualification = vmread(VMCS_EXIT_QUALIFICATION);
    exit->hardware_reason = reason;
    exit->info1 = qualification;
    exit->info2 = 0;
    exit->rip = vmread(VMCS_GUEST_RIP);
    exit->instruction_length = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_LENGTH);

    switch (reason & 0xffff) {
    case EXIT_REASON_EXTERNAL_INTERRUPT: exit->kind = EXIT_INTERRUPT; break;
    case EXIT_REASON_EXCEPTION_NMI:
        exit->info2 = vmread(VMCS_EXIT_INTERRUPTION_INFO);
        vmx_nmi_blocking_after_iret(vcpu, exit->info2, vectoring);
        exit->kind = (exit->info2 & INTR_TYPE_MASK) == INTR_TYPE_NMI ? EXIT_NMI : EXIT_EXCEPTION;
        if (exit->kind == EXIT_EXCEPTION && (exit->info2 & 0xff) == VECTOR_MACHINE_CHECK)
            exit->kind = EXIT_MACHINE_CHECK;
        if (exit->kind == EXIT_EXCEPTION && (exit->info2 & 0xff) == VECTOR_DEBUG) {
            if (vcpu->debug.control)
                vmx_decode_debug(exit);
            else if (vmx_reflect_debug(vcpu, exit))
                exit->kind = EXIT_NONE; /* the guest's own, delivered to it */
        }
        break;
    case EXIT_REASON_MACHINE_CHECK: exit->kind = EXIT_MACHINE_CHECK; break;
    case EXIT_REASON_INVD: exit->kind = EXIT_INVD; break;
    case EXIT_REASON_INTERRUPT_WINDOW: exit->kind = EXIT_INTERRUPT_WINDOW; break;
    case EXIT_REASON_NMI_WINDOW: exit->kind = EXIT_NMI_WINDOW; break;
    case EXIT_REASON_TRIPLE_FAULT: exit->kind = EXIT_SHUTDOWN; break;
    case EXIT_REASON_PREEMPTION_TIMER:
        /* The test option lost_slice_interrupts (hv/run_watchdog.h): the
         * slice's end is lost, the guest runs on without a timer. */
        if (__builtin_expect(run_watchdog_lost_slice_interrupts, 0))
            vmwrite(VMCS_PREEMPTION_TIMER_VALUE, UINT32_MAX);
        exit->kind = EXIT_SLICE_OVER;
        break;
    case EXIT_REASON_CPUID: exit->kind = EXIT_CPUID; break;
    case EXIT_REASON_TASK_SWITCH: /* qualification: SDM 3C table 28-2 */
        exit->kind = EXIT_TASK_SWITCH;
        exit->task_switch.selector = (uint16_t)qualification;
        exit->task_switch.source = (uint8_t)(qualification >> 30);
        if (!(vectoring & INTR_INFO_VALID))
            vectoring = 0;    /* no gate: no event */
        exit->task_switch.event = (uint8_t)((vectoring & INTR_TYPE_MASK) >> 8);
        exit->task_switch.vector = (uint8_t)vectoring;
        exit->task_switch.has_error_code = (vectoring & INTR_INFO_DELIVER_ERROR) != 0;
        exit->task_switch.error_code = exit->task_switch.has_error_code
                                           ? (uint32_t)vmread(VMCS_IDT_VECTORING_ERROR) : 0;
        break;
    case EXIT_REASON_HLT: exit->kind = EXIT_HLT; break;
    case EXIT_REASON_XSETBV: exit->kind = EXIT_XSETBV; break;
    case EXIT_REASON_DR_ACCESS: /* qualification: SDM 3C table 28-4 */
        exit->kind = EXIT_DEBUGREG_ACCESS;
        exit->dr.number = qualification & 7;
        exit->dr.write = !(qualification & (1u << 4));
        exit->dr.gpr = (qualification >> 8) & 0xf;
        break;
    case EXIT_REASON_VMCALL: exit->kind = EXIT_HYPERCALL; break;
    case EXIT_REASON_RDMSR:
    case EXIT_REASON_WRMSR:
        exit->kind = (reason & 0xffff) == EXIT_REASON_WRMSR ? EXIT_MSR_WRITE : EXIT_MSR_READ;
        break;
    case EXIT_REASON_IO:
        exit->kind = EXIT_IO;
        exit->io.size = (uint8_t)((qualification & 7) + 1);
        exit->io.in = qualification & (1u << 3);
        exit->io.string = qualification & (1u << 4);
        exit->io.rep = qualification & (1u << 5);
        exit->io.port = (uint16_t)(qualification >> 16);
        break;
    case EXIT_REASON_EPT_VIOLATION:
        vmx_nmi_blocking_after_iret(vcpu, qualification, vectoring);
        exit->kind = EXIT_NESTED_FAULT;
        exit->fault.guest_phys = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
        exit->fault.guest_linear = qualification & (1u << 7)
                                       ? vmread(VMCS_GUEST_LINEAR_ADDRESS) : ~0ull;
        exit->fault.write = qualification & (1u << 1);
        exit->fault.fetch = qualification & (1u << 2);
        exit->fault.page_walk = (qualification & EPT_QUAL_LINEAR_KIND) == EPT_QUAL_PAGE_WALK;
        exit->fault.insn_length = 0; /* VMX has no decode assist: hv/ fetches */
        exit->fault.delivering = (vectoring & INTR_INFO_VALID) != 0;
        exit->fault.delivered_vector = (uint8_t)vectoring;
        break;
    case EXIT_REASON_APIC_ACCESS:
        decode_apic_access(vcpu, qualification, vectoring, exit);
        break;
    case EXIT_REASON_APIC_WRITE:
        exit->kind = EXIT_APIC_WRITE;
        exit->info1 = qualification & 0xfff;
        break;
    case EXIT_REASON_TPR_BELOW_THRESHOLD:
        /* The guest's TPR fell below a vector waiting in IRR: the entry
         * looks at the APIC again. */
        __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
        exit->kind = EXIT_NONE;
        break;
    case EXIT_REASON_INVALID_GUEST:
    case EXIT_REASON_MSR_LOADING:
        exit->kind = EXIT_FAIL_ENTRY;
        break;
    case EXIT_REASON_MWAIT:
    case EXIT_REASON_MONITOR:
    case EXIT_REASON_INVEPT:
    case EXIT_REASON_INVVPID:
        exit->kind = EXIT_UNDEFINED;
        break;
    default:
        if ((reason & 0xffff) >= EXIT_REASON_VMCLEAR && (reason & 0xffff) <= EXIT_REASON_VMXON)
            exit->kind = EXIT_UNDEFINED;
        else
            exit->kind = EXIT_UNKNOWN;
        break;
    }
}

/* An NMI exit consumed the NMI and left NMIs blocked: the NMI is the
 * host's, handed to its handler at once (hv/nmi.h), interrupts still off.
 * With virtual NMIs (required, vmx_cpu.c) the saved "blocking by NMI" is
 * the guest's own (in its handler of an NMI we injected) and stays. */
static void vmx_take_nmi(void)
{
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTERRUPTION_INFO);
    if ((info & (INTR_INFO_VALID | INTR_TYPE_MASK)) != (INTR_INFO_VALID | INTR_TYPE_NMI))
        return;
    nmi_from_vm_exit();
}


/* Every exit the fast paths below do not take: the control-register
 * accesses that exit (vmx_cr_access completes most), or decoded and handed
 * to the exit handler. Out of line so that the fast paths carry no exit
 * record. */
static __attribute__((noinline)) int vmx_exit_decoded(struct vcpu *vcpu, uint32_t reason)
{
    struct exit_record exit;
    if (reason == EXIT_REASON_CR_ACCESS && vmx_cr_access(vcpu)) {
        if (__builtin_expect(vcpu->state != VCPU_STEP_PENDING, 1))
            return 0;
        /* A single step over it: the exit handler delivers or reports
         * the trap (hv/single_step.h). */
        exit = (struct exit_record){ .kind = EXIT_NONE, .rip = vmread(VMCS_GUEST_RIP),
                                     .hardware_reason = reason };
        return vcpu->exit_handler(vcpu, &exit);
    }
    if (reason == EXIT_REASON_EXCEPTION_NMI)
        vmx_take_nmi();
    /* An event whose delivery the exit interrupted must be delivered again
     * on the next entry (SDM 3C 27.2.4), unless the vcpu shut down. A
     * failed entry writes no IDT-vectoring information (SDM 3C 26.8): what
     * the field holds is an older exit's. */
    uint32_t vectoring = reason & EXIT_REASON_ENTRY_FAILED
        ? 0 : (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
    /* An event that met a task gate is delivered by the VMM's task
     * switch (HV_EXIT_TASK_SWITCH), not again here. */
    uint32_t again = reason == EXIT_REASON_TASK_SWITCH ? 0 : vectoring;
    if ((again & INTR_INFO_VALID) && (again & INTR_TYPE_MASK) == INTR_TYPE_EXTERNAL) {
        /* Only INTERRUPT's can be (physical ones exit before they reach a
         * guest): back to pending, injected when the guest can take it. */
        vcpu->irq_pending = 1;
        vcpu->irq_vector = (uint8_t)again;
    } else if ((again & INTR_INFO_VALID) && reason != EXIT_REASON_TRIPLE_FAULT) {
        vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, again & ~0x1000u);
        if ((again & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
            /* The exit left blocking by NMI set, which an entry that
             * injects an NMI refuses (SDM 3C 26.3.1.5): cleared, as KVM
             * does; the delivery sets it again. */
            vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                    vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~(uint64_t)INTERRUPTIBILITY_NMI);
            vcpu->nmi_blocking_ours = 1;
        }
        if (again & INTR_INFO_DELIVER_ERROR)
            vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
        vmwrite(VMCS_ENTRY_INSTRUCTION_LENGTH, vmread(VMCS_EXIT_INSTRUCTION_LENGTH));
    }
    if (reason & EXIT_REASON_ENTRY_FAILED) {
        /* A failed VMRESUME left the VMCS launched, a failed VMLAUNCH
         * clear: VMCLEAR makes it clear either way, for the VMLAUNCH to
         * come (a machine check during entry is resumed that way; any
         * other failure after a new state). */
        vcpu->launched = 0;
        vmclear(vcpu->arch_phys);
        vmptrld(vcpu->arch_phys);
    }
    decode(vcpu, reason, vectoring, &exit);
    int stop = vcpu->exit_handler(vcpu, &exit);
    if (!stop && !vcpu->vm->is_control)
        vmx_choose_vpid(vcpu); /* the VM's translations may have changed */
    return stop;
}

/* The backend op: RIP, CS and the paging registers as vmx_get_sregs
 * gives them (CR0 and CR4 through their read shadows), without reading
 * every segment. */
void vmx_insn_site(struct vcpu *vcpu, struct insn_site *site)
{
    bool acquired = vmcs_acquire(vcpu);
    uint32_t cs_access = (uint32_t)vmread(VMCS_GUEST_ES_ACCESS + 2 * SEG_CS);
    *site = (struct insn_site){
        .rip = vmread(VMCS_GUEST_RIP),
        .cs_base = vmread(VMCS_GUEST_ES_BASE + 2 * SEG_CS),
        .cs_l = (cs_access >> 13) & 1,
        .cs_db = (cs_access >> 14) & 1,
        .paging = { vmx_guest_cr0(), vmread(VMCS_GUEST_CR3), vmx_current_guest_cr4(),
                    vmread(VMCS_GUEST_EFER) },
    };
    vmcs_release(vcpu, acquired);
}

/* A VMLAUNCH or VMRESUME that failed (VMfailValid or VMfailInvalid):
 * vmx_guest_loop.S calls this instead of the exit function. The VMCS's
 * instruction error says why; the exit reason field is an older exit's. */
int vmx_entry_failed(struct vcpu *vcpu)
{
    /* VMfailValid leaves the launch state as it was: a failed VMRESUME's
     * VMCS stays launched, and the next entry (a VMLAUNCH, launched being
     * 0) would fail with error 4 for ever after. VMCLEAR makes it clear. */
    struct exit_record exit = {
        .kind = EXIT_FAIL_ENTRY,
        .hardware_reason = vmread(VMCS_INSTRUCTION_ERROR),
        .rip = vmread(VMCS_GUEST_RIP),
    };
    vcpu->launched = 0;
    vmclear(vcpu->arch_phys);
    vmptrld(vcpu->arch_phys);
    return vcpu->exit_handler(vcpu, &exit);
}

/* Moves RIP (read already) past the instruction that exited, `length`
 * bytes, and drops an STI/MOV SS shadow. Returns the new RIP. vmx_skip:
 * by the length the CPU gives, prefixes included (SDM 3C 27.2.5). */
static inline uint64_t vmx_skip_by(uint64_t rip, uint64_t length)
{
    uint64_t next = vmx_rip_after(rip, length);
    vmwrite(VMCS_GUEST_RIP, next);
    uint64_t blocking = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (blocking & INTERRUPTIBILITY_STI_MOV_SS)
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, blocking & ~(uint64_t)INTERRUPTIBILITY_STI_MOV_SS);
    return next;
}

static inline uint64_t vmx_skip(uint64_t rip)
{
    return vmx_skip_by(rip, vmread(VMCS_EXIT_INSTRUCTION_LENGTH));
}

/* A control-domain vcpu's exit: its hypercall from CPL 0 is dispatched at
 * once; one from CPL > 0 (SS.DPL, which VM entry keeps equal to the CPL
 * in every mode) goes the general way, which refuses it
 * (control_domain_exit). Its guest ran a whole slice without an exit when
 * the preemption timer fires: this CPU looks at its VMCLEAR mailbox
 * (vmx/vmx_vmcs.c), and the guest goes on. */
static int vmx_control_exit(struct vcpu *vcpu)
{
    uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
    if (__builtin_expect(reason == EXIT_REASON_VMCALL, 1)) {
        if (__builtin_expect(vmread(VMCS_GUEST_ES_ACCESS + 2 * SEG_SS) & (3u << AR_DPL_SHIFT), 0))
            return GUEST_EXIT_ALL_GPRS;
        vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTRUCTION_LENGTH));
        return control_domain_hypercall(vcpu, &vcpu->gprs.rax);
    }
    if (reason == EXIT_REASON_PREEMPTION_TIMER) {
        vmx_vmcs_serve(this_cpu());
        return 0;
    }
    return GUEST_EXIT_ALL_GPRS;
}

/* A child's CPUID, completed in place: cpuid_answer_static for the leaves
 * it answers, cpuid_emulate (out of line) for the others. No exit handler
 * sees it, so it counts in inplace_exits, not exit_count, and the VPID
 * needs no refresh (hv/tlb_tag.h). */
static __attribute__((noinline)) void vmx_cpuid_slow(struct vcpu *vcpu)
{
    cpuid_emulate(vcpu);
}

static inline int vmx_child_cpuid(struct vcpu *vcpu)
{
    if (__builtin_expect(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_TF, 0))
        return GUEST_EXIT_ALL_GPRS; /* its trap (hv/single_step.h) */
    vcpu->inplace_exits++;
    if (!cpuid_answer_static(vcpu, &vcpu->gprs.rax))
        vmx_cpuid_slow(vcpu);
    vmx_skip(vmread(VMCS_GUEST_RIP));
    return 0;
}

/* What GET_REGS reads after a RUN that an exit completed here ends
 * (vmx_run_loop leaves them as they are): the VMM's emulation of an
 * access starts with GET_REGS, and RIP and RFLAGS are at hand. */
static inline void vmx_keep_regs_for_vmm(struct vcpu *vcpu, uint64_t rip, uint64_t rflags)
{
    vcpu->saved_regs.rsp = vmread(VMCS_GUEST_RSP);
    vcpu->saved_regs.rip = rip;
    vcpu->saved_regs.rflags = rflags;
    vcpu->saved_regs_valid = 1;
}

/* A child's WRMSR that the local APIC completes at once (x2APIC EOI, SELF
 * IPI, a fixed self-IPI through the ICR, a TSC deadline already passed:
 * vcpu_lapic_wrmsr_fast in hv/vcpu_lapic.h): no exit handler sees it, so,
 * as for CPUID, it counts in inplace_exits and the VPID needs no refresh.
 * The interrupt it made deliverable is injected here when nothing else
 * waits, without
 * vcpu_prepare_events' full round. 0 when done, else GUEST_EXIT_ALL_GPRS:
 * the general path. */
static bool vmx_guest_open(const struct vcpu *vcpu)
{
    (void)vcpu;
    return vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF;
}

static __attribute__((noinline)) int vmx_child_wrmsr(struct vcpu *vcpu)
{
    uint64_t value = vcpu->gprs.rdx << 32 | (uint32_t)vcpu->gprs.rax;
    /* The exit cleared the entry's interruption information (SDM 3C
     * 27.2.5) and vmx_skip drops the shadow: IF alone says. */
    uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);
    if (rflags & RFLAGS_TF)
        return GUEST_EXIT_ALL_GPRS; /* its trap (hv/single_step.h) */
    int vector = vcpu_lapic_wrmsr_fast(vcpu, (uint32_t)vcpu->gprs.rcx, value, vmx_guest_open);
    if (vector < 0)
        return GUEST_EXIT_ALL_GPRS;
    vcpu->inplace_exits++;
    vmx_skip(vmread(VMCS_GUEST_RIP));
    if (vector)
        vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (uint32_t)vector);
    vcpu_prepare_events(vcpu, vcpu->run);
    return 0;
}

/* A child's IN or OUT (not INS/OUTS), which ends its RUN with
 * HV_EXIT_IO; the exit qualification describes it (SDM 3C table 28-5).
 * The guest resumes after the instruction. A VM exit clears the valid bit
 * of the VM-entry interruption information (SDM 3C 27.2.5), and nothing
 * was injected since: whether the guest could take an interrupt is IF
 * alone, the shadow being gone. */
static inline int vmx_child_port_io(struct vcpu *vcpu, uint64_t qualification)
{
    uint64_t rip = vmread(VMCS_GUEST_RIP), rflags = vmread(VMCS_GUEST_RFLAGS);
    if (__builtin_expect(rflags & RFLAGS_TF, 0))
        return GUEST_EXIT_ALL_GPRS; /* its trap (hv/single_step.h) */
    struct hv_run *run = vcpu->run;
    vcpu->exit_count++;
    vcpu_port_io(vcpu, run, (uint16_t)(qualification >> 16), (uint8_t)((qualification & 7) + 1),
                 qualification & (1u << 3), vcpu->gprs.rax);
    uint64_t next = vmx_skip(rip);
    vmx_keep_regs_for_vmm(vcpu, next, rflags);
    bool if_flag = (rflags & RFLAGS_IF) != 0;
    return vcpu_stop(vcpu, run, HV_EXIT_IO, rip, if_flag, if_flag);
}

static uint64_t vmx_guest_rax(const struct vcpu *vcpu) { return vcpu->gprs.rax; }
static uint64_t vmx_guest_rsp(const struct vcpu *vcpu)
{
    (void)vcpu; /* the current VMCS's */
    return vmread(VMCS_GUEST_RSP);
}

/* The end of both xAPIC write paths, the write done (vcpu_xapic_store's
 * return in `vector`), the guest past its instruction: counted as an
 * exit done in place, the vector it made deliverable injected, the
 * events prepared and, after a register other than the EOI, the host
 * timer following the guest's. */
static inline __attribute__((always_inline)) int vmx_xapic_written(struct vcpu *vcpu, int offset,
                                                                   int vector)
{
    vcpu->inplace_exits++;
    if (vector)
        vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (uint32_t)vector);
    vcpu_prepare_events(vcpu, vcpu->run);
    if (offset != LAPIC_EOI)
        vcpu_lapic_follow_timer(vcpu);
    return 0;
}

static inline __attribute__((always_inline)) int
vmx_xapic_store(struct vcpu *vcpu, uint64_t qualification, int offset, const uint8_t *code,
                unsigned available)
{
    unsigned length = mmio_store32_length(code);
    if (!length || length > available)
        return GUEST_EXIT_ALL_GPRS;
    /* The exit cleared the entry's interruption information (SDM 3C
     * 27.2.5) and vmx_skip_by drops the shadow: IF alone says. */
    uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);
    if (rflags & RFLAGS_TF)
        return GUEST_EXIT_ALL_GPRS; /* its trap (hv/single_step.h) */
    bool open = rflags & RFLAGS_IF;
    int vector = vcpu_xapic_store(vcpu, offset, code, length, open, vmx_guest_rax, vmx_guest_rsp);
    if (vector < 0)
        return GUEST_EXIT_ALL_GPRS;
    vmx_nmi_blocking_after_iret(vcpu, qualification, 0);
    vmx_skip_by(vmread(VMCS_GUEST_RIP), length);
    return vmx_xapic_written(vcpu, offset, vector);
}

/* A paging guest's store (Linux keeps the xAPIC: x2APIC without interrupt
 * remapping it takes only from hypervisors it knows): its bytes fetched
 * through its page tables, as the general path would. Apart, so that the
 * other case keeps no buffer in its frame. */
static __attribute__((noinline)) int vmx_child_xapic_write_walked(struct vcpu *vcpu,
                                                                  uint64_t qualification,
                                                                  int offset)
{
    uint8_t buffer[INSN_MAX_LENGTH];
    const uint8_t *code;
    struct insn_site site;
    /* The guest's walk (its page tables on the APIC page) is the general
     * path's, which ends the RUN (HV_INTERNAL_ERROR_PAGE_WALK). */
    if ((qualification & EPT_QUAL_LINEAR_KIND) == EPT_QUAL_PAGE_WALK)
        return GUEST_EXIT_ALL_GPRS;
    vmx_insn_site(vcpu, &site);
    if (!insn_site_mode64(&site) && !((site.paging.cr0 & CR0_PE) && site.cs_db))
        return GUEST_EXIT_ALL_GPRS;
    unsigned available = vcpu_insn_bytes(vcpu, &site, buffer, &code);
    if (available < 3)
        return GUEST_EXIT_ALL_GPRS;
    return vmx_xapic_store(vcpu, qualification, offset, code, available);
}

/* How the fast paths below end an MMIO exit for the VMM: RSP, RIP and
 * RFLAGS kept for its GET_REGS, and the RUN stopped, with whether an
 * interrupt could go in: IF and the STI/MOV SS shadow (the exit cleared
 * the entry's interruption information, SDM 3C 27.2.5). */
static inline __attribute__((always_inline)) int vmx_mmio_stop(struct vcpu *vcpu,
                                                               struct hv_run *run, uint64_t rip)
{
    uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);
    vmx_keep_regs_for_vmm(vcpu, rip, rflags);
    bool if_flag = (rflags & RFLAGS_IF) != 0;
    bool allowed = if_flag &&
                   !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_STI_MOV_SS);
    return vcpu_stop(vcpu, run, HV_EXIT_MMIO, rip, if_flag, allowed);
}

/* The CR0 the CPU runs the guest with, for the fast paths that want a
 * guest without paging, in one VMREAD where vmx_guest_cr0 needs three:
 * when its PG reads clear, the CPU has unrestricted guests (without them
 * vmx_cr0_forced forces PE and PG), so PE and PG are the guest's own;
 * when set, the guest may still not page, and the general path takes
 * the exit, as it must. */
static inline uint64_t vmx_cpu_cr0(void)
{
    return vmread(VMCS_GUEST_CR0);
}

/* A child's EPT violation in a VM with HV_VM_DECODED_MMIO, which
 * vcpu_mmio_for_vmm sends past the undecoded fast path: decoded here
 * (vcpu_mmio_decoded_fast) under that path's conditions -- the bytes of
 * the last instruction decoded in a guest without paging, no event being
 * delivered -- and ended as vmx_child_nested_fault ends its exits.
 * Reached from vmx_child_xapic_write's ways to the general path, so that
 * neither the undecoded fault nor the xAPIC store pays for it. */
static __attribute__((noinline)) int vmx_child_mmio_decoded_fast(struct vcpu *vcpu,
                                                                 uint64_t guest_phys)
{
    if (!vcpu_mmio_decoded_for_vmm(vcpu, guest_phys) ||
        (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
        return GUEST_EXIT_ALL_GPRS;
    /* No paging (vmx_child_mmio_decoded saw to it: with unrestricted
     * guests, so PE is the guest's own), so no 64-bit code. */
    uint64_t rip = vmread(VMCS_GUEST_RIP);
    uint64_t linear = (vmread(VMCS_GUEST_ES_BASE + 2 * SEG_CS) + rip) & 0xffffffffull;
    const uint8_t *code = vcpu_cached_code(vcpu, linear);
    enum mmio_mode mode = mmio_mode_of(false, vmx_cpu_cr0() & CR0_PE,
                                       vmread(VMCS_GUEST_ES_ACCESS + 2 * SEG_CS) & (1u << 14));
    uint64_t qualification = vmread(VMCS_EXIT_QUALIFICATION);
    if (!code || !vcpu_mmio_decoded_fast(vcpu, guest_phys, qualification & (1u << 1), code,
                                         mode, vcpu->gprs.rax))
        return GUEST_EXIT_ALL_GPRS;
    vmx_nmi_blocking_after_iret(vcpu, qualification, 0);
    vcpu->exit_count++;
    return vmx_mmio_stop(vcpu, vcpu->run, rip);
}

/* Its first test, apart and without a frame: a paging guest (Linux) or a
 * VM without the flag goes on to the general path at once. */
static __attribute__((noinline)) int vmx_child_mmio_decoded(struct vcpu *vcpu,
                                                            uint64_t guest_phys)
{
    if (!vcpu->vm->decoded_mmio || (vmx_cpu_cr0() & CR0_PG))
        return GUEST_EXIT_ALL_GPRS;
    return vmx_child_mmio_decoded_fast(vcpu, guest_phys);
}

/* A child's 32-bit store to its xAPIC page (vcpu_xapic_offset and
 * vcpu_xapic_store in hv/vcpu_lapic.h): the EOI, one per interrupt, the
 * ICR, the timer's registers. Done here as vmx_child_wrmsr does the
 * x2APIC's, without the general path's decoding and its saving of every
 * register, from the instruction's bytes (an EPT violation reports no
 * length: the cached code of a guest without paging, else fetched
 * through the guest's page tables) when it is a plain MOV store in 32- or
 * 64-bit code. No event was being delivered. A fault that is no such
 * store: a decoded VM's MMIO (vmx_child_mmio_decoded), else
 * GUEST_EXIT_ALL_GPRS, the general path (vcpu_lapic_mmio). */
static __attribute__((noinline)) int vmx_child_xapic_write(struct vcpu *vcpu, uint64_t guest_phys)
{
    uint64_t qualification = vmread(VMCS_EXIT_QUALIFICATION);
    if (!vcpu->vm->lapic || !(qualification & (1u << 1)) ||
        (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
        return vmx_child_mmio_decoded(vcpu, guest_phys);
    int offset = vcpu_xapic_offset(vcpu, guest_phys);
    if (offset < 0)
        return vmx_child_mmio_decoded(vcpu, guest_phys);
    const uint8_t *code = NULL;
    if ((vmx_cpu_cr0() & (CR0_PG | CR0_PE)) == CR0_PE &&
        (vmread(VMCS_GUEST_ES_ACCESS + 2 * SEG_CS) & (1u << 14)))
        code = vcpu_cached_code(vcpu, (vmread(VMCS_GUEST_ES_BASE + 2 * SEG_CS) +
                                       vmread(VMCS_GUEST_RIP)) & 0xffffffffull);
    if (!code)
        return vmx_child_xapic_write_walked(vcpu, qualification, offset);
    return vmx_xapic_store(vcpu, qualification, offset, code, INSN_MAX_LENGTH);
}

/* The CPU's write to the vcpu's APIC page (APIC-register virtualization,
 * vmx/vmx_apicv.c): trap-like, the guest already past its instruction,
 * so there is nothing to fetch, decode or skip. The EOI and the other
 * registers as vmx_xapic_store does them, from the value the CPU left in
 * the page; the rest (a level-triggered EOI, an ICR of another delivery
 * mode, an event being delivered, a single step) the general path's
 * (EXIT_APIC_WRITE). Whether an interrupt can go in at this entry is IF
 * and the STI/MOV SS shadow as the instruction left them. */
static __attribute__((noinline)) int vmx_child_apic_write(struct vcpu *vcpu)
{
    uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);
    if ((rflags & RFLAGS_TF) || (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
        return GUEST_EXIT_ALL_GPRS;
    uint32_t offset = (uint32_t)vmread(VMCS_EXIT_QUALIFICATION) & 0xff0;
    bool open = (rflags & RFLAGS_IF) &&
                !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_STI_MOV_SS);
    uint32_t *page = vcpu->lapic.page;
    int vector;
    if (offset == LAPIC_EOI) {
        vector = vcpu_xapic_eoi(vcpu, open);
        if (vector < 0)
            return GUEST_EXIT_ALL_GPRS;
        page[LAPIC_EOI / 4] = 0; /* reads 0, as vlapic_mmio_read has it */
    } else {
        if (offset >= LAPIC_PAGE_BYTES)
            return GUEST_EXIT_ALL_GPRS;
        vector = vcpu_xapic_write_other(vcpu, offset, page[offset / 4], open);
        if (vector < 0)
            return GUEST_EXIT_ALL_GPRS;
    }
    /* A vector left in IRR (one the TPR holds back: a self-IPI, a timer
     * expired, one an EOI left below the TPR) needs the TPR threshold,
     * which vcpu_prepare_events' long way sets: the CPU takes the TPR
     * write that would release it without an exit otherwise. */
    if (!vector && __atomic_load_n(&vcpu->lapic.irr_words, __ATOMIC_RELAXED))
        __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
    return vmx_xapic_written(vcpu, (int)offset, vector);
}

/* A child's EPT violation that goes to its VMM as HV_EXIT_MMIO with the
 * bytes of the last instruction decoded (hv/run_page.h says when):
 * completed here, as vmx_exit_decoded and vcpu_child_exit would. No event
 * was being delivered (the IDT-vectoring information is not valid), so
 * none is to be delivered again, and an IRET that unblocked NMIs gets its
 * blocking back as in decode(); the qualification gives the access and
 * whether the linear address is valid (SDM 3C table 28-7). Whether an
 * interrupt could be taken is IF and the STI/MOV SS shadow: the exit
 * cleared the entry's interruption information (SDM 3C 27.2.5). The
 * guest has not advanced: RIP is the instruction's. Every other EPT
 * violation goes the general way. Out of line, so that the port I/O and
 * CPUID paths of vmx_child_exit stay without a register to save. */
static __attribute__((noinline)) int vmx_child_nested_fault(struct vcpu *vcpu)
{
    uint64_t guest_phys = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
    if (!vcpu_mmio_for_vmm(vcpu, guest_phys) ||
        (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
        return vmx_child_xapic_write(vcpu, guest_phys);
    uint64_t rip = vmread(VMCS_GUEST_RIP);
    uint64_t linear = (vmread(VMCS_GUEST_ES_BASE + 2 * SEG_CS) + rip) & 0xffffffffull;
    const uint8_t *code = vcpu_mmio_fast_code(vcpu, vmx_cpu_cr0() & CR0_PG, linear);
    if (!code)
        return GUEST_EXIT_ALL_GPRS;
    uint64_t qualification = vmread(VMCS_EXIT_QUALIFICATION);
    vmx_nmi_blocking_after_iret(vcpu, qualification, 0);
    vcpu->exit_count++;
    struct hv_run *run = vcpu->run;
    vcpu_mmio_exit(run, guest_phys,
                   qualification & (1u << 7) ? vmread(VMCS_GUEST_LINEAR_ADDRESS) : ~0ull,
                   qualification & (1u << 1), code);
    return vmx_mmio_stop(vcpu, run, rip);
}

/* A physical interrupt that ended a child's run (a kick, another vcpu's
 * IPI, a guest APIC timer's host timer, a device's): handed to the exit
 * handler as vmx_exit_decoded would, without the decode and the saving
 * of every register around it -- the handler takes the interrupt and
 * decides whether the RUN goes on. Not when the exit interrupted an
 * event's delivery (IDT-vectoring information: the general path delivers
 * it again). An INIT posted ends the RUN in the handler
 * (vcpu_child_exit), never taken here. A child that goes on gets the VPID
 * check of vmx_exit_decoded. */
static __attribute__((noinline)) int vmx_child_interrupt(struct vcpu *vcpu)
{
    if (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID)
        return GUEST_EXIT_ALL_GPRS;
    struct exit_record exit = { .kind = EXIT_INTERRUPT,
                                .hardware_reason = EXIT_REASON_EXTERNAL_INTERRUPT,
                                .rip = vmread(VMCS_GUEST_RIP) };
    int stop = vcpu->exit_handler(vcpu, &exit);
    if (!stop)
        vmx_choose_vpid(vcpu);
    return stop;
}

/* A child's exit: CPUID, port I/O and MMIO for the VMM completed here,
 * the rest decoded. */
static int vmx_child_exit(struct vcpu *vcpu)
{
    uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
    /* First, before an NMI put back or a blocking restored below: the
     * guest's IRET may have ended the blocking an NMI of ours began. */
    if (__builtin_expect(vcpu->nmi_blocking_ours, 0))
        vcpu->nmi_blocking_ours =
            (vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_NMI) != 0;
    if (reason == EXIT_REASON_IO) {
        uint64_t qualification = vmread(VMCS_EXIT_QUALIFICATION);
        if (__builtin_expect(!(qualification & (1u << 4)), 1)) /* not a string */
            return vmx_child_port_io(vcpu, qualification);
    } else if (reason == EXIT_REASON_EPT_VIOLATION) {
        /* Before CPUID: a guest's MMIO comes far more often than its
         * CPUIDs once it runs (svm_child_exit's order too). */
        return vmx_child_nested_fault(vcpu);
    } else if (reason == EXIT_REASON_CPUID) {
        return vmx_child_cpuid(vcpu);
    }
    /* Opaque to the compiler, so that it keeps the tests a chain in this
     * order rather than a tree with more tests on the way to the above. */
    __asm__("" : "+r"(reason));
    if (reason == EXIT_REASON_APIC_WRITE)
        return vmx_child_apic_write(vcpu); /* an xAPIC guest's EOI */
    if (reason == EXIT_REASON_WRMSR)
        return vmx_child_wrmsr(vcpu);
    if (reason == EXIT_REASON_EXTERNAL_INTERRUPT)
        return vmx_child_interrupt(vcpu);
    return GUEST_EXIT_ALL_GPRS;
}

/* SPEC_CTRL by hand around each entry where the CPU has it: VMX has no
 * field for it (hv/speculation.h). The guest's WRMSR exits, so nothing is
 * read back. */
static int vmx_control_exit_spec_ctrl(struct vcpu *vcpu)
{
    spec_ctrl_leave_guest(vcpu);
    int stop = vmx_control_exit(vcpu);
    if (!stop)
        spec_ctrl_enter_guest(vcpu);
    return stop;
}

static int vmx_child_exit_spec_ctrl(struct vcpu *vcpu)
{
    spec_ctrl_leave_guest(vcpu);
    int stop = vmx_child_exit(vcpu);
    if (!stop)
        spec_ctrl_enter_guest(vcpu);
    return stop;
}

int (*vmx_exit_function(struct vcpu *vcpu))(struct vcpu *)
{
    bool control = vcpu->vm->is_control;
    if (speculation.spec_ctrl_bits)
        return control ? vmx_control_exit_spec_ctrl : vmx_child_exit_spec_ctrl;
    return control ? vmx_control_exit : vmx_child_exit;
}

/* What vmx_guest_loop.S calls when an exit function returned
 * GUEST_EXIT_ALL_GPRS, with all the guest's registers in vcpu->gprs: the
 * VMCS still holds the exit. SPEC_CTRL as the wrappers above would have
 * it: the host's is in force (a GUEST_EXIT_ALL_GPRS is no 0). */
int vmx_exit_all_gprs(struct vcpu *vcpu)
{
    int stop = vmx_exit_decoded(vcpu, (uint32_t)vmread(VMCS_EXIT_REASON));
    if (!stop && speculation.spec_ctrl_bits)
        spec_ctrl_enter_guest(vcpu);
    return stop;
}
