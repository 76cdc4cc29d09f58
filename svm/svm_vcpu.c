/* SVM vcpus: VMCB set-up, the run path (ASID choice, world switch, exit
 * decoding) and event injection. */
#include "abi/hv_errno.h"
#include "hv/control_domain.h"
#include "hv/debugregs.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/percpu.h"
#include "hv/speculation.h"
#include "hv/tlb_tag.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "svm/svm.h"
#include "svm/svm_insn.h"
#include "svm/vmcb_layout.h"

#define DEFAULT_PAT 0x0007040600070406ull

/* Control-domain vcpus keep ASID 1 on their own CPU for good; children
 * take 2 and up (hv/tlb_tag.h). */
#define CONTROL_ASID CONTROL_TLB_TAG

static struct vmcb *vmcb_of(struct vcpu *vcpu) { return vcpu->arch; }

static void set_segment(struct vmcb_segment *s, uint16_t selector,
                        uint16_t attrib, uint32_t limit, uint64_t base)
{
    s->selector = selector;
    s->attrib = attrib;
    s->limit = limit;
    s->base = base;
}

/* The architectural state after RESET (APM vol. 2, 14.1.3). */
static void reset_state(struct vmcb_save *save)
{
    const uint16_t data = 0x3 | SEG_ATTR_S | SEG_ATTR_P;
    set_segment(&save->cs, 0xf000, 0xb | SEG_ATTR_S | SEG_ATTR_P, 0xffff, 0xffff0000);
    set_segment(&save->ds, 0, data, 0xffff, 0);
    set_segment(&save->es, 0, data, 0xffff, 0);
    set_segment(&save->ss, 0, data, 0xffff, 0);
    set_segment(&save->fs, 0, data, 0xffff, 0);
    set_segment(&save->gs, 0, data, 0xffff, 0);
    set_segment(&save->gdtr, 0, 0, 0xffff, 0);
    set_segment(&save->idtr, 0, 0, 0xffff, 0);
    set_segment(&save->ldtr, 0, 0x2 | SEG_ATTR_P, 0xffff, 0);
    set_segment(&save->tr, 0, 0xb | SEG_ATTR_P, 0xffff, 0);
    save->cr0 = 0x60000010;
    save->cr3 = 0;
    save->cr4 = 0;
    save->efer = EFER_SVME;
    save->rflags = 0x2;
    save->rip = 0xfff0;
    save->rsp = 0;
    save->dr6 = 0xffff0ff0;
    save->dr7 = 0x400;
    save->g_pat = DEFAULT_PAT;
    save->cpl = 0;
}

int svm_vcpu_init(struct vcpu *vcpu)
{
    uint64_t phys = pages_alloc_zeroed(1, 0);
    if (phys == FRAME_NONE)
        return -HV_ENOMEM;
    vcpu->arch_phys = phys;
    vcpu->arch = phys_to_virt(phys);
    struct vmcb *vmcb = vmcb_of(vcpu);
    struct vmcb_control *c = &vmcb->control;
    /* NMIs and machine checks are the host's (hv/nmi.h, hv/machine_check.h);
     * INVD would drop dirty lines that are not the guest's: it becomes
     * WBINVD. */
    c->intercept_misc1 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_CPUID |
                         INTERCEPT_HLT | INTERCEPT_INVLPGA | INTERCEPT_IOIO_PROT |
                         INTERCEPT_MSR_PROT | INTERCEPT_SHUTDOWN | INTERCEPT_INVD;
    c->intercept_exceptions = INTERCEPT_EXCEPTION_MC;
    /* CR4 bits are checked against what the hypervisor offers (svm_cr_access.c). */
    c->intercept_cr = INTERCEPT_CR4_WRITE;
    c->intercept_misc2 = INTERCEPT2_VMRUN | INTERCEPT2_VMMCALL | INTERCEPT2_VMLOAD |
                         INTERCEPT2_VMSAVE | INTERCEPT2_STGI | INTERCEPT2_CLGI |
                         INTERCEPT2_SKINIT | INTERCEPT2_MONITOR | INTERCEPT2_MWAIT |
                         INTERCEPT2_XSETBV;
    c->iopm_base = vcpu->vm->is_control ? svm_iopm_control : svm_iopm_child;
    c->msrpm_base = svm_msrpm;
    /* The control domain's MOV DR never exit: its debug registers stay in
     * the CPU. A child's are kept until it touches them (hv/debugregs.h). */
    if (!vcpu->vm->is_control)
        svm_set_debugreg_exits(vcpu, DEBUGREG_EXITS_KEPT);
    /* Physical interrupts exit to the host whatever the guest's IF. */
    c->int_control = V_INTR_MASKING;
    c->np_control = NP_ENABLE;
    c->n_cr3 = vcpu->vm->npt.root;
    reset_state(&vmcb->save);
    return 0;
}

void svm_reset_vcpu(struct vcpu *vcpu)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    reset_state(&vmcb->save);
    vmcb->control.event_inject = 0;
    vmcb->control.int_state = 0;
    vmcb->control.clean = 0;
}

void svm_vcpu_free(struct vcpu *vcpu)
{
    if (vcpu->arch_phys)
        pages_free(vcpu->arch_phys, 1);
    vcpu->arch = NULL;
    vcpu->arch_phys = 0;
}

static void choose_asid(struct vcpu *vcpu, struct vmcb_control *c)
{
    enum tlb_tag_change change = tlb_tag_refresh(vcpu, svm_features.asid_count);
    if (change == TAG_KEPT)
        return;
    c->asid = vcpu->asid;
    if (change == TAG_NEW_AFTER_WRAP)
        c->tlb_control = TLB_CONTROL_FLUSH_ALL;
}

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
    vmcb->save.rip += length;
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
 * it, and survives a RUN that returns and a state set in between. */
static uint64_t reinjected_event(struct vcpu *vcpu, uint64_t info)
{
    if (!(info & EVENT_VALID))
        return 0;
    if ((info & EVENT_TYPE_MASK) != EVENT_TYPE_INTR)
        return info;
    vcpu->irq_pending = 1;
    vcpu->irq_vector = (uint8_t)info;
    return 0;
}

int svm_guest_loop(struct vcpu *vcpu, uint64_t vmcb_phys, uint64_t host_state_phys,
                   int (*on_exit)(struct vcpu *vcpu));

/* Every exit but the two hottest: decoded and handed to the exit handler.
 * Out of line so that the fast paths in svm_exit carry no exit record. */
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
        vmcb->control.event_inject = reinjected_event(vcpu, vmcb->control.exit_int_info);
    if (code == VMEXIT_CR4_WRITE) {
        svm_cr4_write(vcpu);
        return 0;
    }
    decode(vcpu, &exit);
    int stop = vcpu->exit_handler(vcpu, &exit);
    vmcb->save.rax = vcpu->gprs.rax;
    return stop;
}

/* Called by svm_guest_loop.S after each exit. The two hottest exits are
 * handled before any decoding: a control domain's hypercall (no event can
 * have been in delivery) and any guest's CPUID. A length of 0 means the
 * instruction is no longer at RIP: the guest then runs what is there. */
static int svm_exit(struct vcpu *vcpu)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    uint64_t code = vmcb->control.exit_code;
    int stop = 0;
    vmcb->control.tlb_control = TLB_CONTROL_NONE;
    if (code == VMEXIT_VMMCALL && vcpu->vm->is_control) {
        uint64_t rip = vmcb->save.rip;
        if (__builtin_expect(svm_is_control_vmmcall(vcpu->vm, rip), 1))
            vmcb->save.rip = rip + 3;
        else if (!svm_skip_decoded(vcpu, &INSN_VMMCALL))
            return 0;
        vmcb->save.rax = (uint64_t)control_domain_hypercall(vcpu, vmcb->save.rax);
        return 0;
    }
    if (code == VMEXIT_CPUID) {
        uint64_t rip = vmcb->save.rip;
        if (__builtin_expect(svm_is_plain_cpuid(vcpu, vmcb), 1))
            vmcb->save.rip = rip + 2;
        else if (!svm_skip_decoded(vcpu, &INSN_CPUID))
            goto done;
        vmcb->control.int_state &= ~1ull;
        vcpu->gprs.rax = vmcb->save.rax;
        cpuid_emulate(vcpu);
        vmcb->save.rax = vcpu->gprs.rax;
    } else {
        stop = svm_exit_decoded(vcpu, vmcb, code);
    }
done:
    if (!stop && !vcpu->vm->is_control)
        choose_asid(vcpu, &vmcb->control); /* the VM's translations may have changed */
    return stop;
}

/* SPEC_CTRL around each entry where the CPU has it (hv/speculation.h).
 * With V_SPEC_CTRL, VMRUN loads the VMCB's copy and #VMEXIT saves it and
 * puts the host's back (the guest runs with the OR of both; the
 * hypervisor's own is what firmware left, normally 0); the guest's WRMSR
 * exits, so the copy only needs the value an exit handler emulated.
 * Without, it is switched by hand. */
static int svm_exit_v_spec_ctrl(struct vcpu *vcpu)
{
    int stop = svm_exit(vcpu);
    vmcb_of(vcpu)->save.spec_ctrl = vcpu->spec_ctrl;
    return stop;
}

static int svm_exit_spec_ctrl(struct vcpu *vcpu)
{
    spec_ctrl_leave_guest(vcpu);
    int stop = svm_exit(vcpu);
    if (!stop)
        spec_ctrl_enter_guest(vcpu);
    return stop;
}

/* Which exit function the loop calls: the plain one unless SPEC_CTRL must
 * follow the vcpu, which is then loaded for the first entry. */
static int (*exit_function(struct vcpu *vcpu))(struct vcpu *)
{
    if (!speculation.spec_ctrl_bits)
        return svm_exit;
    if (svm_features.v_spec_ctrl) {
        vmcb_of(vcpu)->save.spec_ctrl = vcpu->spec_ctrl;
        return svm_exit_v_spec_ctrl;
    }
    spec_ctrl_enter_guest(vcpu);
    return svm_exit_spec_ctrl;
}

int svm_run_loop(struct vcpu *vcpu, exit_handler on_exit)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    vcpu->exit_handler = on_exit;
    if (vcpu->vm->is_control) {
        /* Control-domain vcpus keep CONTROL_ASID on their own CPU. */
        vmcb->control.asid = CONTROL_ASID;
        vmcb->control.tlb_control = TLB_CONTROL_FLUSH_ALL;
    } else {
        choose_asid(vcpu, &vmcb->control);
    }
    vmcb->save.rax = vcpu->gprs.rax;
    vmcb->control.clean = 0;
    if (vcpu->dr.entry_work) {
        debugregs_enter_slow(vcpu); /* VMRUN does not switch DR0-DR3 */
        if (vcpu->debug.control & HV_GUESTDBG_USE_HW_BP)
            svm_arm_breakpoints(vcpu);
    }
    int result = svm_guest_loop(vcpu, vcpu->arch_phys, this_cpu()->host_state_phys,
                                exit_function(vcpu));
    /* Armed breakpoints imply the CPU was loaded: one test for both. */
    if (vcpu->dr.cpu_loaded) {
        svm_disarm_breakpoints();
        debugregs_leave_slow(vcpu);
    }
    vcpu->gprs.rax = vmcb->save.rax;
    return result;
}

void svm_skip_instruction(struct vcpu *vcpu, const struct exit_record *exit)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    vmcb->save.rip += exit->instruction_length;
    vmcb->control.int_state &= ~1ull; /* past the instruction: no STI/MOV SS shadow */
}

void svm_inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error,
                          uint32_t error_code)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    vmcb->control.event_inject = EVENT_VALID | EVENT_TYPE_EXCEPTION | vector |
                                 (has_error ? EVENT_ERROR_VALID | (uint64_t)error_code << 32 : 0);
}
