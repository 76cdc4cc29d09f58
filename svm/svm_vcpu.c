/* SVM vcpus: VMCB set-up, the run loop (ASID choice, world switch) and
 * instruction completion; the exit path is svm/svm_exit.c. */
#include "abi/hv_errno.h"
#include "hv/debugregs.h"
#include "hv/hypercall.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/msr_switch.h"
#include "hv/percpu.h"
#include "hv/rflags.h"
#include "hv/single_step.h"
#include "hv/speculation.h"
#include "hv/tlb_tag.h"
#include "hv/vcpu.h"
#include "hv/vcpu_run.h"
#include "hv/vm.h"
#include "svm/svm.h"
#include "svm/svm_exit.h"
#include "svm/svm_insn.h"
#include "svm/svm_tr.h"
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
    set_segment(&save->tr, 0, svm_tr_attr_to_vmcb(0xb | SEG_ATTR_P), 0xffff, 0);
    save->cr0 = 0x60000010;
    save->cr2 = 0;
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
                         INTERCEPT_MSR_PROT | INTERCEPT_SHUTDOWN | INTERCEPT_INVD |
                         INTERCEPT_TASK_SWITCH;
    c->intercept_exceptions = INTERCEPT_EXCEPTION_MC;
    /* CR4 bits are checked against what the hypervisor offers (svm_cr_access.c).
     * With local APICs, CR8 is the APIC's TPR[7:4] (svm_cr8.c). */
    c->intercept_cr = INTERCEPT_CR4_WRITE |
                      (vcpu->vm->lapic ? INTERCEPT_CR8_READ | INTERCEPT_CR8_WRITE : 0);
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
    vcpu->guest_exit = svm_exit_function(vcpu);
    return 0;
}

void svm_reset_vcpu(struct vcpu *vcpu)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    reset_state(&vmcb->save);
    svm_write_efer(vcpu, 0); /* no LME kept aside any more */
    vmcb->control.event_inject = 0;
    vmcb->control.int_state = 0;
    vmcb->control.clean = 0;
    svm_nmi_forget(vcpu);
}

void svm_vcpu_free(struct vcpu *vcpu)
{
    if (vcpu->arch_phys)
        pages_free(vcpu->arch_phys, 1);
    vcpu->arch = NULL;
    vcpu->arch_phys = 0;
}

GUEST_LOOP_CALL(call_guest_loop, svm_guest_loop)

/* The run loop of either kind of vcpu; `control` is vcpu->vm->is_control,
 * which a child's RUN knows without looking; on_exit NULL keeps the
 * exit handler the vcpu has. Returns the vcpu as the
 * guest loop hands it back, with the loop's result at *result. */
static inline __attribute__((always_inline)) struct vcpu *
run_loop(struct vcpu *vcpu, struct percpu *cpu, exit_handler on_exit, bool control, int *result)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    if (on_exit) /* a child's RUN passes none: vcpu_child_exit is set (hv/vm.c) */
        vcpu->exit_handler = on_exit;
    if (__builtin_expect(control, 0)) {
        /* Control-domain vcpus keep CONTROL_ASID on their own CPU. */
        vmcb->control.asid = CONTROL_ASID;
        svm_flush_at_next_entry(vcpu, TLB_CONTROL_FLUSH_ALL);
    } else {
        svm_choose_asid_on(vcpu, cpu, &vmcb->control);
    }
    vmcb->save.rax = vcpu->gprs.rax;
    vmcb->control.clean = 0;
    /* VMRUN does not switch DR0-DR3; breakpoints reach the CPU only as the
     * VMCB's DR7, never through the host's (hv/debugregs.h). */
    debugregs_enter(vcpu);
    if (speculation.spec_ctrl_bits)
        svm_spec_ctrl_first_entry(vcpu);
    *result = call_guest_loop(&vcpu);
    debugregs_leave(vcpu);
    vcpu->gprs.rax = vmcb_of(vcpu)->save.rax;
    return vcpu;
}

int svm_run_loop(struct vcpu *vcpu, exit_handler on_exit)
{
    int result;
    run_loop(vcpu, this_cpu(), on_exit, vcpu->vm->is_control, &result);
    return result;
}

static inline __attribute__((always_inline)) struct vcpu *enter_child(struct vcpu *vcpu,
                                                                      struct percpu *cpu)
{
    int result;
    return run_loop(vcpu, cpu, NULL, false, &result);
}

/* RUN's traits here (hv/vcpu_run.h): none. The XSETBV intercept may be
 * ignored (QEMU's TCG): XCR0 is read back. VMLOAD and VMSAVE switch
 * KERNEL_GS_BASE (SVM_SOFTWARE_SWITCHED_MSRS). */
#define SVM_RUN_TRAITS 0u
_Static_assert(!(SVM_SOFTWARE_SWITCHED_MSRS & KEPT_BIT(KEPT_KERNEL_GS_BASE)),
               "RUN's traits follow the backend's switched MSRs");

long svm_call_run(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    (void)cd, (void)call;
    return vcpu_run_with(slot->object, enter_child, SVM_RUN_TRAITS);
}

int svm_pinned_run(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                   uint64_t state)
{
    return vcpu_run_entry_with(control, rax, slot, state, enter_child, SVM_RUN_TRAITS);
}

bool svm_complete_instruction(struct vcpu *vcpu, uint64_t length)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    vmcb->save.rip = svm_rip_after(vmcb, length);
    vmcb->control.int_state &= ~INT_STATE_SHADOW;
    /* The TF of a step over an NMI handler's IRET is ours (svm_events.c). */
    if (!(vmcb->save.rflags & RFLAGS_TF) || vcpu->svm_nmi.stepping)
        return false;
    vcpu_single_step_trap(vcpu);
    return true;
}

bool svm_skip_instruction(struct vcpu *vcpu, const struct exit_record *exit)
{
    return svm_complete_instruction(vcpu, exit->instruction_length);
}

void svm_inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error,
                          uint32_t error_code)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    /* As the CPU itself, and as on VMX: no error code in real mode. */
    if (!(vmcb->save.cr0 & 1))
        has_error = false;
    vmcb->control.event_inject = EVENT_VALID | EVENT_TYPE_EXCEPTION | vector |
                                 (has_error ? EVENT_ERROR_VALID | (uint64_t)error_code << 32 : 0);
    svm_note_trap(vcpu, vector);
}
