/* SVM exits: what svm_guest_loop.S calls after each #VMEXIT. The hottest
 * exits are completed before anything is decoded -- a control domain's
 * hypercall (hv/control_domain.h), a child's CPUID and a child's port
 * I/O (hv/run_page.h) -- and every other one is decoded into the common
 * exit record (hv/exit.h) for the vcpu's exit handler. The control
 * domain's vcpus and children have an exit function each, chosen when
 * their guest loop starts, so that no exit tests which it is. */
#include "hv/control_domain.h"
#include "hv/cpuid.h"
#include "hv/guest_memory.h"
#include "hv/mmio_decode.h"
#include "hv/mmio_exit.h"
#include "hv/rflags.h"
#include "hv/run_page.h"
#include "hv/speculation.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/vm.h"
#include "svm/svm.h"
#include "svm/svm_exit.h"
#include "svm/svm_insn.h"
#include "svm/vmcb_layout.h"

static struct vmcb *vmcb_of(struct vcpu *vcpu) { return vcpu->arch; }
static const struct vmcb *vmcb_of_const(const struct vcpu *vcpu) { return vcpu->arch; }

static void decode_ioio(struct vmcb *vmcb, struct exit_record *exit)
{
    uint64_t info = vmcb->control.exit_info1;
    exit->kind = EXIT_IO;
    exit->io.port = (uint16_t)(info >> 16);
    exit->io.in = info & IOIO_IN;
    exit->io.string = info & IOIO_STRING;
    exit->io.rep = info & IOIO_REP;
    /* SZ8, SZ16 and SZ32 are bits 4, 5 and 6: one of them is set, so the
     * field shifted down is the size in bytes. */
    exit->io.size = (uint8_t)((info >> IOIO_SIZE_SHIFT) & 7);
    /* EXITINFO2 holds the next RIP for IOIO, with or without nRIP save. */
    exit->instruction_length = (uint32_t)(vmcb->control.exit_info2 - vmcb->save.rip);
}

/* The fast paths' other case (a prefix, bytes not at hand): moves RIP
 * past the instruction, or returns false when it is no longer at RIP. */
static __attribute__((noinline)) bool svm_skip_decoded(struct vcpu *vcpu,
                                                       const struct insn_opcode *opcode)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    uint64_t length = svm_insn_length(vcpu, vmcb, opcode);
    vmcb->save.rip = svm_rip_after(vmcb, length);
    return length != 0;
}

/* An instruction the hypervisor completes: its length, or EXIT_REEXECUTE
 * when it is no longer at RIP (svm/svm_insn.h). */
static void decode_instruction(struct vcpu *vcpu, struct exit_record *exit,
                               enum exit_kind kind, const struct insn_opcode *opcode)
{
    exit->instruction_length = svm_insn_length(vcpu, vcpu->arch, opcode);
    exit->kind = exit->instruction_length ? kind : EXIT_REEXECUTE;
}

/* The instruction at RIP if it can switch tasks (SDM 2A: far CALL and
 * JMP, IRET, INT n, INT3, INTO, INT1): its length, else 0; and, for the
 * software interrupts, their event type and vector (*soft_type 0 for the
 * others). */
static unsigned svm_task_switch_insn(struct vcpu *vcpu, const struct vmcb *vmcb,
                                     uint8_t *soft_type, uint8_t *soft_vector)
{
    struct insn_site site;
    uint8_t buffer[INSN_MAX_LENGTH];
    const uint8_t *bytes;
    svm_insn_site(vmcb, &site);
    unsigned available = vcpu_insn_bytes(vcpu, &site, buffer, &bytes);
    unsigned length = insn_task_switch_length(bytes, available, site.cs_db);
    uint8_t opcode = length ? bytes[insn_prefix_length(bytes, available, false)] : 0;
    *soft_type = opcode == 0xcd ? HV_TASK_SWITCH_EVENT_SOFT_INTERRUPT
               : opcode == 0xcc || opcode == 0xce ? HV_TASK_SWITCH_EVENT_SOFT_EXCEPTION
               : opcode == 0xf1 ? HV_TASK_SWITCH_EVENT_PRIV_SOFT_EXCEPTION : 0;
    *soft_vector = opcode == 0xcd ? bytes[length - 1] : opcode == 0xcc ? 3
                 : opcode == 0xce ? 4 : 1;
    return length;
}

/* Whether the guest's IDT entry `vector` is a present task gate to the
 * TSS `selector` (outside IA-32e mode, where task switches are: 8-byte
 * gates, SDM 3A 6.11). */
static bool svm_idt_task_gate_to(struct vcpu *vcpu, const struct vmcb *vmcb, uint8_t vector,
                                 uint16_t selector)
{
    uint64_t gate;
    if ((uint32_t)vector * 8 + 7 > vmcb->save.idtr.limit ||
        !vcpu_read_linear(vcpu, vmcb->save.idtr.base + (uint32_t)vector * 8, &gate, 8))
        return false;
    return ((gate >> 40) & 0x9f) == 0x85 && (uint16_t)(gate >> 16) == selector;
}

/* A task switch, for the VMM to perform as on VMX (HV_EXIT_TASK_SWITCH):
 * intercepted, so that no TF of the hypervisor's (stepping over an NMI
 * handler's IRET, svm_set_nmi_window) is saved in a TSS the guest reads.
 * EXITINFO1 the new TSS's selector; EXITINFO2 bit 36 an IRET, 38 a far
 * JMP, 44 an error code in bits 31:0 (APM 15.14.1); a CALL or a task gate
 * in the IDT otherwise, told apart by EXITINTINFO. Neither says how long
 * the instruction is: decoded here, and an instruction no longer at RIP
 * runs again. */
static void decode_task_switch(struct vcpu *vcpu, struct vmcb *vmcb, struct exit_record *exit)
{
    uint64_t info2 = vmcb->control.exit_info2, event = vmcb->control.exit_int_info;
    bool has_event = (event & EVENT_VALID) != 0;
    uint8_t vector = (uint8_t)event, type = (uint8_t)((event & EVENT_TYPE_MASK) >> 8);

    exit->kind = EXIT_TASK_SWITCH;
    exit->task_switch.selector = (uint16_t)exit->info1;
    exit->task_switch.source = info2 & (1ull << 36) ? HV_TASK_SWITCH_IRET
                             : info2 & (1ull << 38) ? HV_TASK_SWITCH_JMP
                             : has_event ? HV_TASK_SWITCH_GATE : HV_TASK_SWITCH_CALL;
    if (!has_event)
        vector = type = 0;
    /* INT3 and INTO are exceptions 3 and 4 to AMD's CPUs (software
     * interrupts to QEMU): made by their instructions either way. */
    exit->task_switch.event = type == 3 && (vector == 3 || vector == 4)
                                  ? HV_TASK_SWITCH_EVENT_SOFT_EXCEPTION : type;
    exit->task_switch.vector = vector;
    exit->task_switch.has_error_code = (info2 & (1ull << 44)) != 0;
    exit->task_switch.error_code = exit->task_switch.has_error_code ? (uint32_t)info2 : 0;
    uint8_t soft_type, soft_vector;
    if (exit->task_switch.source == HV_TASK_SWITCH_GATE &&
        !svm_idt_task_gate_to(vcpu, vmcb, vector, exit->task_switch.selector)) {
        /* EXITINTINFO names no gate to the new TSS: Bochs 2.7 leaves it
         * stale for INT n (it records only the events it injects and the
         * exceptions it raises). The event is then the instruction at
         * RIP if that is a software interrupt through such a gate; if
         * not (the IDT changed meanwhile), EXITINTINFO stands. */
        unsigned length = svm_task_switch_insn(vcpu, vmcb, &soft_type, &soft_vector);
        if (soft_type && svm_idt_task_gate_to(vcpu, vmcb, soft_vector,
                                              exit->task_switch.selector)) {
            exit->instruction_length = length;
            exit->task_switch.event = soft_type;
            exit->task_switch.vector = soft_vector;
            exit->task_switch.has_error_code = false;
            exit->task_switch.error_code = 0;
            return;
        }
    }
    if (exit->task_switch.source == HV_TASK_SWITCH_GATE &&
        exit->task_switch.event < HV_TASK_SWITCH_EVENT_SOFT_INTERRUPT)
        return;
    exit->instruction_length = svm_task_switch_insn(vcpu, vmcb, &soft_type, &soft_vector);
    if (!exit->instruction_length)
        exit->kind = EXIT_REEXECUTE;
}

/* An IRET intercepted in an NMI handler (the end of the guest's NMI
 * blocking) that returns from a task -- EFLAGS.NT in protected mode
 * outside IA-32e mode -- goes to the VMM as the task switch it is,
 * before it runs: stepped over with the hypervisor's TF
 * (svm_set_nmi_window), it would save that TF in the handler's TSS,
 * where the guest finds it. CPUs that honour the task-switch intercept
 * would exit so once it ran; QEMU's does not. The new task is the back
 * link of the current TSS. */
static bool svm_iret_switches_task(struct vcpu *vcpu, struct vmcb *vmcb,
                                   struct exit_record *exit)
{
    uint16_t link;
    if (!(vmcb->save.cr0 & CR0_PE) || (vmcb->save.efer & EFER_LMA) ||
        (vmcb->save.rflags & (RFLAGS_VM | RFLAGS_NT)) != RFLAGS_NT ||
        !vcpu_read_linear(vcpu, vmcb->save.tr.base, &link, sizeof(link)))
        return false;
    uint8_t soft_type, soft_vector;
    exit->instruction_length = svm_task_switch_insn(vcpu, vmcb, &soft_type, &soft_vector);
    if (!exit->instruction_length)
        return false;
    exit->kind = EXIT_TASK_SWITCH;
    exit->task_switch = (typeof(exit->task_switch)){ .selector = link,
                                                     .source = HV_TASK_SWITCH_IRET };
    return true;
}

static void decode(struct vcpu *vcpu, struct exit_record *exit)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    uint64_t code = vmcb->control.exit_code;
    exit->hardware_reason = code;
    exit->info1 = vmcb->control.exit_info1;
    exit->info2 = vmcb->control.exit_info2;
    exit->rip = vmcb->save.rip;
    exit->instruction_length = 0;

    switch (code) {
    case VMEXIT_INTR: exit->kind = EXIT_INTERRUPT; break;
    case VMEXIT_NMI: exit->kind = EXIT_NMI; break;
    case VMEXIT_VINTR: exit->kind = EXIT_INTERRUPT_WINDOW; break;
    case VMEXIT_IRET:
        svm_nmi_iret(vcpu);
        if (!svm_iret_switches_task(vcpu, vmcb, exit))
            exit->kind = EXIT_NMI_WINDOW;
        break;
    case VMEXIT_EXCEPTION_DB: svm_decode_debug(vcpu, exit); break;
    case VMEXIT_EXCEPTION_MC: exit->kind = EXIT_MACHINE_CHECK; break;
    case VMEXIT_INVD: decode_instruction(vcpu, exit, EXIT_INVD, &INSN_INVD); break;
    case VMEXIT_CPUID: decode_instruction(vcpu, exit, EXIT_CPUID, &INSN_CPUID); break;
    case VMEXIT_HLT: decode_instruction(vcpu, exit, EXIT_HLT, &INSN_HLT); break;
    case VMEXIT_XSETBV: decode_instruction(vcpu, exit, EXIT_XSETBV, &INSN_XSETBV); break;
    case VMEXIT_VMMCALL:
        decode_instruction(vcpu, exit, EXIT_HYPERCALL, &INSN_VMMCALL);
        break;
    case VMEXIT_IOIO: decode_ioio(vmcb, exit); break;
    case VMEXIT_MSR:
        if (exit->info1)
            decode_instruction(vcpu, exit, EXIT_MSR_WRITE, &INSN_WRMSR);
        else
            decode_instruction(vcpu, exit, EXIT_MSR_READ, &INSN_RDMSR);
        break;
    case VMEXIT_SHUTDOWN: exit->kind = EXIT_SHUTDOWN; break;
    case VMEXIT_TASK_SWITCH: decode_task_switch(vcpu, vmcb, exit); break;
    case VMEXIT_DR_READ_BASE ... VMEXIT_DR_READ_BASE + 7:
    case VMEXIT_DR_WRITE_BASE ... VMEXIT_DR_WRITE_BASE + 7:
        exit->kind = EXIT_DEBUGREG_ACCESS;
        exit->dr.number = code & 7;
        exit->dr.write = code >= VMEXIT_DR_WRITE_BASE;
        /* Decode assists name the general register (APM 15.35). */
        exit->dr.gpr = svm_features.decode_assists ? (uint8_t)(exit->info1 & 0xf) : 0xff;
        break;
    case VMEXIT_NPF:
        exit->kind = EXIT_NESTED_FAULT;
        exit->fault.guest_phys = exit->info2;
        exit->fault.guest_linear = ~0ull;
        exit->fault.write = exit->info1 & (1u << 1);
        exit->fault.fetch = exit->info1 & (1u << 4);
        /* EXITINFO1 bit 33: the fault was in the walk of the guest's own
         * page tables (APM 15.25.6). */
        exit->fault.page_walk = (exit->info1 & NPF_INFO_PAGE_WALK) != 0;
        exit->fault.delivering = (vmcb->control.exit_int_info & EVENT_VALID) != 0;
        exit->fault.delivered_vector = (uint8_t)vmcb->control.exit_int_info;
        /* With decode assists the CPU fetched the instruction for us
         * (APM 15.35.3); without, hv/ walks the guest's tables. */
        exit->fault.insn_length = 0;
        if (svm_features.decode_assists && vmcb->control.insn_length <= 15) {
            exit->fault.insn_length = vmcb->control.insn_length;
            for (unsigned i = 0; i < vmcb->control.insn_length; i++)
                exit->fault.insn_bytes[i] = vmcb->control.insn_bytes[i];
        }
        break;
    case VMEXIT_VMRUN: case VMEXIT_VMLOAD: case VMEXIT_VMSAVE: case VMEXIT_STGI:
    case VMEXIT_CLGI: case VMEXIT_SKINIT: case VMEXIT_INVLPGA:
    case VMEXIT_MONITOR: case VMEXIT_MWAIT:
        exit->kind = EXIT_UNDEFINED;
        break;
    default:
        if ((uint32_t)code == VMEXIT_INVALID)
            exit->kind = EXIT_FAIL_ENTRY;
        else if (code >= VMEXIT_EXCEPTION_BASE && code < VMEXIT_EXCEPTION_BASE + 32)
            exit->kind = EXIT_EXCEPTION;
        else
            exit->kind = EXIT_UNKNOWN;
        break;
    }
}

/* What EXITINTINFO leaves to inject again. An external interrupt can only
 * be INTERRUPT's (physical ones exit before they reach a guest): it goes
 * back to the vcpu's pending one, to be injected when the guest can take
 * it, and survives a RUN that returns and a state set in between.
 *
 * A software interrupt (INT n) or exception (the guest's INT3 or INTO;
 * QEMU reports those as software interrupts too) is not injected again:
 * RIP is still at the instruction, and EVENTINJ would deliver it with the
 * return address a CPU takes from NextRIP (which the exit did not set) or,
 * without next-RIP save, from RIP -- the handler returning to the
 * instruction and running it twice. The instruction runs again instead,
 * which delivers the same event (as KVM does for INT3 and INTO). A #BP or
 * #OF the hypervisor injected itself (svm_trap) goes in again as it was. */
static uint64_t reinjected_event(struct vcpu *vcpu, uint64_t info, uint64_t rip)
{
    if (!(info & EVENT_VALID))
        return 0;
    uint64_t type = info & EVENT_TYPE_MASK;
    uint8_t vector = (uint8_t)info;
    if (type == EVENT_TYPE_SOFT_INTERRUPT)
        return 0;
    if (type == EVENT_TYPE_EXCEPTION && (vector == 3 || vector == 4))
        return vcpu->svm_trap.vector == vector && vcpu->svm_trap.rip == rip ? info : 0;
    if (type != EVENT_TYPE_INTR)
        return info;
    vcpu->irq_pending = 1;
    vcpu->irq_vector = vector;
    return 0;
}

/* Every exit the fast paths below do not take: decoded and handed to the
 * exit handler. Out of line so that the fast paths carry no exit record. */
static __attribute__((noinline)) int svm_exit_decoded(struct vcpu *vcpu, struct vmcb *vmcb,
                                                      uint64_t code)
{
    struct exit_record exit;
    vcpu->gprs.rax = vmcb->save.rax;
    /* An event whose delivery the exit interrupted (ours or the guest's
     * own) must be delivered again on the next entry (APM 15.7.2). Only
     * exits that can happen during delivery carry one: faults, interrupts,
     * nested page faults. */
    if (code < VMEXIT_CPUID || code == VMEXIT_NPF)
        vmcb->control.event_inject = reinjected_event(vcpu, vmcb->control.exit_int_info,
                                                      vmcb->save.rip);
    /* The CR accesses intercepted (CR0 writes only while EFER.LME is set
     * aside, CR8 in a VM with local APICs or while a window is awaited),
     * in one test for the others. */
    if (__builtin_expect(code - VMEXIT_CR8_READ <= VMEXIT_CR8_WRITE - VMEXIT_CR8_READ, 0)) {
        if (code == VMEXIT_CR0_WRITE)
            svm_cr0_write(vcpu);
        else if (code == VMEXIT_CR4_WRITE)
            svm_cr4_write(vcpu);
        else if (code == VMEXIT_CR8_WRITE)
            svm_cr8_write(vcpu);
        else
            svm_cr8_read(vcpu);
        if (__builtin_expect(vcpu->state != VCPU_STEP_PENDING, 1))
            return 0;
        /* A single step over it: the exit handler delivers or reports
         * the trap (hv/single_step.h). */
        exit = (struct exit_record){ .kind = EXIT_NONE, .rip = vmcb->save.rip,
                                     .hardware_reason = code };
        return vcpu->exit_handler(vcpu, &exit);
    }
    if (vcpu->svm_nmi.stepping) {
        if (svm_nmi_step_done(vcpu, code == VMEXIT_EXCEPTION_DB)) {
            exit = (struct exit_record){ .kind = EXIT_NMI_WINDOW, .rip = vmcb->save.rip,
                                         .hardware_reason = code };
            int stop = vcpu->exit_handler(vcpu, &exit);
            vmcb->save.rax = vcpu->gprs.rax;
            return stop;
        }
        /* The stepped IRET faulted, our TF off it now: the guest takes
         * the fault as the CPU would have given it (CR2 for #PF). */
        unsigned vector = (unsigned)(code - VMEXIT_EXCEPTION_BASE);
        if (vector < 32 && (SVM_IRET_FAULTS & (1u << vector))) {
            if (vector == VECTOR_PAGE_FAULT)
                vmcb->save.cr2 = vmcb->control.exit_info2;
            svm_inject_exception(vcpu, (uint8_t)vector, true, (uint32_t)vmcb->control.exit_info1);
            return 0;
        }
    }
    decode(vcpu, &exit);
    int stop = vcpu->exit_handler(vcpu, &exit);
    vmcb->save.rax = vcpu->gprs.rax;
    return stop;
}


/* A control-domain vcpu's exit. Its hypercall -- VMMCALL with no prefix,
 * from CPL 0, the one libhv issues -- is dispatched at once; one from
 * CPL > 0 goes the general way, which refuses it (control_domain_exit). */
static int svm_control_exit(struct vcpu *vcpu)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    uint64_t code = vmcb->control.exit_code;
    if (code == VMEXIT_VMMCALL && vmcb->save.cpl == 0) {
        uint64_t rip = vmcb->save.rip;
        if (__builtin_expect(svm_is_control_vmmcall(vcpu->vm, rip), 1)) {
            vmcb->save.rip = rip + 3;
            return control_domain_hypercall(vcpu, &vmcb->save.rax);
        }
    }
    return GUEST_EXIT_ALL_GPRS;
}

/* A child's CPUID, completed in place. No exit handler sees it, so it
 * counts in inplace_exits, not exit_count, and the ASID needs no refresh
 * (hv/tlb_tag.h). The other cases of svm_child_cpuid
 * below: a prefix or bytes not at hand (a length of 0 means the
 * instruction is no longer at RIP: the guest then runs what is there),
 * or a leaf cpuid_answer_static does not answer. */
static __attribute__((noinline)) int svm_child_cpuid_slow(struct vcpu *vcpu,
                                                          struct vmcb *vmcb, bool plain)
{
    if (!plain && !svm_skip_decoded(vcpu, &INSN_CPUID))
        return 0;
    vmcb->control.int_state &= ~INT_STATE_SHADOW;
    vcpu->gprs.rax = vmcb->save.rax;
    cpuid_emulate(vcpu);
    vmcb->save.rax = vcpu->gprs.rax;
    return 0;
}

/* Inline in svm_child_exit, which stays a leaf for the common case: CPUID
 * without prefixes, at the place of the last instruction decoded, of a
 * leaf with a static answer. */
static inline int svm_child_cpuid(struct vcpu *vcpu, struct vmcb *vmcb)
{
    vcpu->inplace_exits++;
    uint64_t next;
    if (!__builtin_expect(svm_is_plain_cpuid(vcpu, vmcb, &next), 1))
        return svm_child_cpuid_slow(vcpu, vmcb, false);
    vmcb->save.rip = next;
    if (!cpuid_answer_static(vcpu, &vmcb->save.rax))
        return svm_child_cpuid_slow(vcpu, vmcb, true);
    vmcb->control.int_state &= ~INT_STATE_SHADOW;
    return 0;
}

/* A child's WRMSR that the local APIC completes at once (x2APIC EOI, SELF
 * IPI, a fixed self-IPI through the ICR, a TSC deadline already passed:
 * vcpu_lapic_wrmsr_fast in hv/vcpu_lapic.h): no exit handler sees it, so,
 * as for CPUID, it counts in inplace_exits and the ASID needs no refresh.
 * The interrupt it made deliverable is injected here when nothing else
 * waits, without
 * vcpu_prepare_events' full round. 0 when done, else GUEST_EXIT_ALL_GPRS:
 * the general path. A WRMSR exit is no fault and carries no event to
 * deliver again. */
static bool svm_guest_open(const struct vcpu *vcpu)
{
    const struct vmcb *vmcb = vmcb_of_const(vcpu);
    return (vmcb->save.rflags & RFLAGS_IF) && !(vmcb->control.event_inject & EVENT_VALID);
}

static __attribute__((noinline)) int svm_child_wrmsr(struct vcpu *vcpu, struct vmcb *vmcb)
{
    uint64_t next_rip;
    if (svm_features.next_rip) {
        next_rip = svm_wrap_rip(vmcb, vmcb->control.next_rip);
    } else {
        uint64_t rip = vmcb->save.rip;
        const uint8_t *p = vmcb->save.cr0 & CR0_PG ? NULL :
            vcpu_cached_code(vcpu, (vmcb->save.cs.base + rip) & 0xffffffffull);
        if (!p || *(const unaligned_u16 *)p != 0x300f)
            return GUEST_EXIT_ALL_GPRS;
        next_rip = (uint32_t)(rip + 2); /* no paging, no 64-bit code: EIP wraps */
    }
    uint64_t value = vcpu->gprs.rdx << 32 | (uint32_t)vmcb->save.rax;
    int vector = vcpu_lapic_wrmsr_fast(vcpu, (uint32_t)vcpu->gprs.rcx, value, svm_guest_open);
    if (vector < 0)
        return GUEST_EXIT_ALL_GPRS;
    /* Read again rather than kept across the call: one register fewer to
     * save on the path of every x2APIC EOI. */
    vmcb = vmcb_of(vcpu);
    vcpu->inplace_exits++;
    vmcb->save.rip = next_rip;
    vmcb->control.int_state &= ~INT_STATE_SHADOW;
    if (vector)
        vmcb->control.event_inject = EVENT_VALID | EVENT_TYPE_INTR | (uint32_t)vector;
    vcpu_prepare_events(vcpu, vcpu->run);
    return 0;
}

/* A child's IN or OUT (not INS/OUTS), which ends its RUN with
 * HV_EXIT_IO: EXITINFO1 describes the access (APM 15.10.2) and EXITINFO2
 * holds the next RIP, with or without next-RIP save. SZ8, SZ16 and SZ32
 * are bits 4, 5 and 6: one of them is set, so the field shifted down is
 * the size in bytes. The guest resumes after the instruction, with no
 * STI/MOV SS shadow; it has not been injected anything (the exit is no
 * fault), so whether it could take an interrupt is IF alone. Inline in
 * svm_child_exit, which stays a leaf for it. */
static inline int svm_child_port_io(struct vcpu *vcpu, struct vmcb *vmcb, uint64_t info)
{
    uint64_t rip = vmcb->save.rip;
    struct hv_run *run = vcpu->run;
    vcpu->exit_count++;
    vcpu_port_io(vcpu, run, (uint16_t)(info >> 16), (uint8_t)((info >> IOIO_SIZE_SHIFT) & 7),
                 info & IOIO_IN, vmcb->save.rax);
    vmcb->save.rip = svm_wrap_rip(vmcb, vmcb->control.exit_info2);
    vmcb->control.int_state &= ~INT_STATE_SHADOW;
    bool if_flag = (vmcb->save.rflags & RFLAGS_IF) != 0;
    bool allowed = if_flag && !(vmcb->control.event_inject & EVENT_VALID);
    return vcpu_stop(vcpu, run, HV_EXIT_IO, rip, if_flag, allowed);
}

static uint64_t svm_guest_rax(const struct vcpu *vcpu) { return vmcb_of_const(vcpu)->save.rax; }
static uint64_t svm_guest_rsp(const struct vcpu *vcpu) { return vmcb_of_const(vcpu)->save.rsp; }

static inline __attribute__((always_inline)) int
svm_xapic_store(struct vcpu *vcpu, struct vmcb *vmcb, int offset, const uint8_t *code,
                unsigned available)
{
    unsigned length = mmio_store32_length(code);
    if (!length || length > available)
        return GUEST_EXIT_ALL_GPRS;
    bool open = (vmcb->save.rflags & RFLAGS_IF) && !(vmcb->control.event_inject & EVENT_VALID);
    int vector = vcpu_xapic_store(vcpu, offset, code, length, open, svm_guest_rax, svm_guest_rsp);
    if (vector < 0)
        return GUEST_EXIT_ALL_GPRS;
    vmcb = vmcb_of(vcpu);
    vcpu->inplace_exits++;
    vmcb->save.rip = svm_rip_after(vmcb, length);
    vmcb->control.int_state &= ~INT_STATE_SHADOW;
    if (vector)
        vmcb->control.event_inject = EVENT_VALID | EVENT_TYPE_INTR | (uint32_t)vector;
    vcpu_prepare_events(vcpu, vcpu->run);
    if (offset != LAPIC_EOI)
        vcpu_lapic_follow_timer(vcpu);
    return 0;
}

/* A paging guest's store (Linux keeps the xAPIC: x2APIC without interrupt
 * remapping it takes only from hypervisors it knows): its bytes fetched
 * through its page tables, as the general path would. Apart, so that the
 * other cases keep no buffer in their frame. */
static __attribute__((noinline)) int svm_child_xapic_write_walked(struct vcpu *vcpu,
                                                                  struct vmcb *vmcb, int offset)
{
    uint8_t buffer[INSN_MAX_LENGTH];
    const uint8_t *code;
    struct insn_site site;
    if (vmcb->control.exit_info1 & NPF_INFO_PAGE_WALK)
        return GUEST_EXIT_ALL_GPRS;
    svm_insn_site(vmcb, &site);
    unsigned available = vcpu_insn_bytes(vcpu, &site, buffer, &code);
    if (available < 3)
        return GUEST_EXIT_ALL_GPRS;
    return svm_xapic_store(vcpu, vmcb, offset, code, available);
}

/* How the fast paths below end an MMIO exit for the VMM: the RUN
 * stopped, with whether an interrupt could go in (IF and the shadow). */
static inline __attribute__((always_inline)) int svm_mmio_stop(struct vcpu *vcpu,
                                                               struct hv_run *run,
                                                               const struct vmcb *vmcb,
                                                               uint64_t rip)
{
    bool if_flag = (vmcb->save.rflags & RFLAGS_IF) != 0;
    bool allowed = if_flag && !(vmcb->control.int_state & INT_STATE_SHADOW);
    return vcpu_stop(vcpu, run, HV_EXIT_MMIO, rip, if_flag, allowed);
}

/* A child's nested page fault in a VM with HV_VM_DECODED_MMIO, which
 * vcpu_mmio_for_vmm sends past the undecoded fast path: decoded here
 * (vcpu_mmio_decoded_fast) under that path's conditions -- the bytes of
 * the last instruction decoded in a guest without paging, no event being
 * delivered -- and ended as it ends its exits. Reached from
 * svm_child_xapic_write's ways to the general path, so that neither the
 * undecoded fault nor the xAPIC store pays for it. */
static __attribute__((noinline)) int svm_child_mmio_decoded_fast(struct vcpu *vcpu,
                                                                 struct vmcb *vmcb)
{
    uint64_t guest_phys = vmcb->control.exit_info2, rip = vmcb->save.rip;
    if (!vcpu_mmio_decoded_for_vmm(vcpu, guest_phys) ||
        (vmcb->control.exit_int_info & EVENT_VALID))
        return GUEST_EXIT_ALL_GPRS;
    /* No paging (svm_child_mmio_decoded saw to it), so no 64-bit code. */
    const uint8_t *code = vcpu_cached_code(vcpu, (vmcb->save.cs.base + rip) & 0xffffffffull);
    enum mmio_mode mode = mmio_mode_of(false, vmcb->save.cr0 & CR0_PE,
                                       vmcb->save.cs.attrib & SEG_ATTR_DB);
    if (!code || !vcpu_mmio_decoded_fast(vcpu, guest_phys, vmcb->control.exit_info1 & (1u << 1),
                                         code, mode, vmcb->save.rax))
        return GUEST_EXIT_ALL_GPRS;
    vcpu->exit_count++;
    vmcb->control.event_inject = 0;
    return svm_mmio_stop(vcpu, vcpu->run, vmcb, rip);
}

/* Its first test, apart and without a frame: a paging guest (Linux) or a
 * VM without the flag goes on to the general path at once. */
static __attribute__((noinline)) int svm_child_mmio_decoded(struct vcpu *vcpu, struct vmcb *vmcb)
{
    if (!vcpu->vm->decoded_mmio || (vmcb->save.cr0 & CR0_PG))
        return GUEST_EXIT_ALL_GPRS;
    return svm_child_mmio_decoded_fast(vcpu, vmcb);
}

/* A child's 32-bit store to its xAPIC page (vcpu_xapic_offset and
 * vcpu_xapic_store in hv/vcpu_lapic.h): the EOI, one per interrupt, the
 * ICR, the timer's registers. Done here as svm_child_wrmsr does the
 * x2APIC's, without the general path's decoding and its saving of every
 * register, from the instruction's bytes -- the decode assists' in the
 * VMCB, the cached code of a guest without paging, else fetched through
 * the guest's page tables -- when it is a plain MOV store in 32- or
 * 64-bit code. No event was being delivered. A fault that is no such
 * store: a decoded VM's MMIO (svm_child_mmio_decoded), else
 * GUEST_EXIT_ALL_GPRS, the general path
 * (vcpu_lapic_mmio). With paging the write may be the guest's page walk
 * (its page tables on the APIC page; AMD's CPUs report a walk's access
 * as a write): that is the general path's too, which ends the RUN
 * (HV_INTERNAL_ERROR_PAGE_WALK). A guest without paging has no walk. */
static __attribute__((noinline)) int svm_child_xapic_write(struct vcpu *vcpu, struct vmcb *vmcb)
{
    unsigned attrib = vmcb->save.cs.attrib;
    bool code64 = svm_code64(vmcb);
    if (!vcpu->vm->lapic || !(vmcb->control.exit_info1 & (1u << 1)) ||
        (vmcb->control.exit_int_info & EVENT_VALID) ||
        !(code64 || ((vmcb->save.cr0 & CR0_PE) && (attrib & SEG_ATTR_DB))))
        return svm_child_mmio_decoded(vcpu, vmcb);
    int offset = vcpu_xapic_offset(vcpu, vmcb->control.exit_info2);
    if (offset < 0)
        return svm_child_mmio_decoded(vcpu, vmcb);
    if (svm_features.decode_assists) {
        if (vmcb->control.exit_info1 & NPF_INFO_PAGE_WALK)
            return GUEST_EXIT_ALL_GPRS;
        return svm_xapic_store(vcpu, vmcb, offset, vmcb->control.insn_bytes,
                               vmcb->control.insn_length);
    }
    const uint8_t *code = vcpu_mmio_fast_code(vcpu, vmcb->save.cr0 & CR0_PG,
                                              (vmcb->save.cs.base + vmcb->save.rip) & 0xffffffffull);
    if (!code)
        return svm_child_xapic_write_walked(vcpu, vmcb, offset);
    return svm_xapic_store(vcpu, vmcb, offset, code, INSN_MAX_LENGTH);
}

/* A child's nested page fault that goes to its VMM as HV_EXIT_MMIO with
 * the bytes of the last instruction decoded (hv/run_page.h says when):
 * completed here, as svm_exit_decoded and vcpu_child_exit would -- no
 * event to deliver again (none was being delivered: EXITINTINFO is not
 * valid), the fault's address in EXITINFO2 and write bit in EXITINFO1
 * (APM 15.25.6), no linear address. With decode assists too: the VMCB's
 * bytes (which the general path copies) are the same guest memory the
 * cached code points at, so the VMM sees the same instruction either
 * way, 15 bytes of it here. The guest has not advanced: RIP is the
 * instruction's. Every other nested page fault goes the general way.
 * Out of line, so that the port I/O and CPUID paths of svm_child_exit
 * stay without a register to save. */
static __attribute__((noinline)) int svm_child_nested_fault(struct vcpu *vcpu,
                                                            struct vmcb *vmcb)
{
    uint64_t guest_phys = vmcb->control.exit_info2, rip = vmcb->save.rip;
    if (!vcpu_mmio_for_vmm(vcpu, guest_phys) || (vmcb->control.exit_int_info & EVENT_VALID))
        return svm_child_xapic_write(vcpu, vmcb);
    const uint8_t *code = vcpu_mmio_fast_code(vcpu, vmcb->save.cr0 & CR0_PG,
                                              (vmcb->save.cs.base + rip) & 0xffffffffull);
    if (!code)
        return GUEST_EXIT_ALL_GPRS;
    vcpu->exit_count++;
    vmcb->control.event_inject = 0;
    struct hv_run *run = vcpu->run;
    vcpu_mmio_exit(run, guest_phys, ~0ull, vmcb->control.exit_info1 & (1u << 1), code);
    return svm_mmio_stop(vcpu, run, vmcb, rip);
}

/* A physical interrupt that ended a child's run (the slice's timer, a
 * kick, another vcpu's IPI, a device's): handed to the exit handler as
 * svm_exit_decoded would, without the decode and the saving of every
 * register around it -- the handler takes the interrupt and decides
 * whether the RUN goes on. Not when the exit interrupted an event's
 * delivery (EXITINTINFO: the general path delivers it again). An INIT
 * posted ends the RUN in the handler (vcpu_child_exit), never taken
 * here. A child that goes on gets the ASID check of svm_exit_all_gprs. */
static __attribute__((noinline)) int svm_child_interrupt(struct vcpu *vcpu, struct vmcb *vmcb)
{
    if (vmcb->control.exit_int_info & EVENT_VALID)
        return GUEST_EXIT_ALL_GPRS;
    struct exit_record exit = { .kind = EXIT_INTERRUPT, .hardware_reason = VMEXIT_INTR,
                                .rip = vmcb->save.rip };
    int stop = vcpu->exit_handler(vcpu, &exit);
    if (!stop)
        svm_choose_asid(vcpu, &vmcb_of(vcpu)->control);
    return stop;
}

/* RFLAGS.TF, tested in memory by one instruction: a value the compiler
 * keeps for the fast paths' own RFLAGS reads ties up a register, and
 * svm_child_exit then saves a callee-saved one on every exit. */
static inline __attribute__((always_inline)) bool svm_guest_single_steps(const struct vmcb *vmcb)
{
    __asm__ goto("testb %[tf], %[flags]\n\tjnz %l[stepping]"
                 : : [flags] "m"(*((const uint8_t *)&vmcb->save.rflags + 1)),
                     [tf] "i"(RFLAGS_TF >> 8)
                 : "cc" : stepping);
    return false;
stepping:
    return true;
}

/* A child's exit: port I/O and MMIO for the VMM completed here, CPUID
 * and the rest by tail calls, so that the port I/O path saves no
 * register. The TF test first also keeps every fast path away from a
 * step over an NMI handler's IRET (svm_set_nmi_window), which none of
 * them tests again: the step sets our TF, and it ends at the first exit
 * after the entry -- the #DB after the IRET (no fast path's exit code),
 * or any exit before the IRET completed, when that TF is still in the
 * VMCB -- which svm_exit_all_gprs handles (svm_nmi_step_done). */
static int svm_child_exit(struct vcpu *vcpu)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    uint64_t code = vmcb->control.exit_code;
    /* A guest single-stepping takes the general path, whose skip
     * functions give the trap after the instruction (hv/single_step.h). */
    if (svm_guest_single_steps(vmcb))
        return GUEST_EXIT_ALL_GPRS;
    if (code == VMEXIT_IOIO) {
        uint64_t info = vmcb->control.exit_info1;
        if (__builtin_expect(!(info & IOIO_STRING), 1))
            return svm_child_port_io(vcpu, vmcb, info);
    } else if (code == VMEXIT_NPF) {
        /* Before CPUID: a guest's MMIO and its xAPIC's accesses come far
         * more often than its CPUIDs once it runs. */
        return svm_child_nested_fault(vcpu, vmcb);
    } else if (code == VMEXIT_CPUID) {
        return svm_child_cpuid(vcpu, vmcb);
    } else if (code == VMEXIT_MSR) {
        if (vmcb->control.exit_info1)
            return svm_child_wrmsr(vcpu, vmcb);
    } else if (code == VMEXIT_INTR) {
        return svm_child_interrupt(vcpu, vmcb);
    }
    return GUEST_EXIT_ALL_GPRS;
}

/* SPEC_CTRL around each entry where the CPU has it (hv/speculation.h).
 * With V_SPEC_CTRL, VMRUN loads the VMCB's copy and #VMEXIT saves it and
 * puts the host's back (the guest runs with the OR of both; the
 * hypervisor's own is what firmware left, normally 0); the guest's WRMSR
 * exits, so the copy only needs the value an exit handler emulated.
 * Without, it is switched by hand. */
static int svm_control_exit_v_spec_ctrl(struct vcpu *vcpu)
{
    int stop = svm_control_exit(vcpu);
    vmcb_of(vcpu)->save.spec_ctrl = vcpu->spec_ctrl;
    return stop;
}

static int svm_child_exit_v_spec_ctrl(struct vcpu *vcpu)
{
    int stop = svm_child_exit(vcpu);
    vmcb_of(vcpu)->save.spec_ctrl = vcpu->spec_ctrl;
    return stop;
}

static int svm_control_exit_spec_ctrl(struct vcpu *vcpu)
{
    spec_ctrl_leave_guest(vcpu);
    int stop = svm_control_exit(vcpu);
    if (!stop)
        spec_ctrl_enter_guest(vcpu);
    return stop;
}

static int svm_child_exit_spec_ctrl(struct vcpu *vcpu)
{
    spec_ctrl_leave_guest(vcpu);
    int stop = svm_child_exit(vcpu);
    if (!stop)
        spec_ctrl_enter_guest(vcpu);
    return stop;
}

int (*svm_exit_function(struct vcpu *vcpu))(struct vcpu *)
{
    bool control = vcpu->vm->is_control;
    if (!speculation.spec_ctrl_bits)
        return control ? svm_control_exit : svm_child_exit;
    if (svm_features.v_spec_ctrl)
        return control ? svm_control_exit_v_spec_ctrl : svm_child_exit_v_spec_ctrl;
    return control ? svm_control_exit_spec_ctrl : svm_child_exit_spec_ctrl;
}

/* The exit after a VMRUN that flushed: the request is spent, and the
 * vcpu's own exit function takes this exit and the next ones. */
static int svm_exit_after_flush(struct vcpu *vcpu)
{
    vmcb_of(vcpu)->control.tlb_control = TLB_CONTROL_NONE;
    vcpu->guest_exit = svm_exit_function(vcpu);
    return vcpu->guest_exit(vcpu);
}

void svm_flush_at_next_entry(struct vcpu *vcpu, uint8_t tlb_control)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    /* A flush of every ASID covers any other asked for. */
    if (vmcb->control.tlb_control == TLB_CONTROL_NONE || tlb_control == TLB_CONTROL_FLUSH_ALL)
        vmcb->control.tlb_control = tlb_control;
    vcpu->guest_exit = svm_exit_after_flush;
}

/* What svm_guest_loop.S calls when an exit function returned
 * GUEST_EXIT_ALL_GPRS, with all the guest's registers in vcpu->gprs:
 * every exit the fast paths above leave, decoded for the exit handler.
 * A child that goes on gets an ASID check, as the VM's translations may
 * have changed meanwhile (hv/tlb_tag.h). SPEC_CTRL as the wrappers above
 * would have it: the host's is in force (a GUEST_EXIT_ALL_GPRS is no 0),
 * and an emulated WRMSR may have changed the guest's. */
int svm_exit_all_gprs(struct vcpu *vcpu)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    int stop = svm_exit_decoded(vcpu, vmcb, vmcb->control.exit_code);
    if (!stop && !vcpu->vm->is_control)
        svm_choose_asid(vcpu, &vmcb->control);
    if (speculation.spec_ctrl_bits) {
        if (svm_features.v_spec_ctrl)
            vmcb->save.spec_ctrl = vcpu->spec_ctrl;
        else if (!stop)
            spec_ctrl_enter_guest(vcpu);
    }
    return stop;
}

void svm_spec_ctrl_first_entry(struct vcpu *vcpu)
{
    if (svm_features.v_spec_ctrl)
        vmcb_of(vcpu)->save.spec_ctrl = vcpu->spec_ctrl;
    else
        spec_ctrl_enter_guest(vcpu);
}
