/* VMX vcpus: VMCS set-up, the run loop and instruction completion; the
 * exit path is vmx/vmx_exit.c, where a VMCS lives vmx/vmx_vmcs.c. The
 * control domain's vcpu keeps its VMCS current on its own CPU, and every
 * use of another VMCS hands the CPU back to it. */
#include "abi/hv_errno.h"
#include "hv/debugregs.h"
#include "hv/get_regs_call.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/msr_switch.h"
#include "hv/percpu.h"
#include "hv/rflags.h"
#include "hv/single_step.h"
#include "hv/speculation.h"
#include "hv/tlb_tag.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/vcpu_run.h"
#include "hv/vm.h"
#include "hv/x86.h"
#include "vmx/vmcs_current.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_exit.h"
#include "vmx/vmx_instructions.h"

extern char vmx_exit_entry[];

static void write_host_constants(void)
{
    vmwrite(VMCS_HOST_CS_SELECTOR, 0x08);
    vmwrite(VMCS_HOST_SS_SELECTOR, 0x10);
    vmwrite(VMCS_HOST_DS_SELECTOR, 0x10);
    vmwrite(VMCS_HOST_ES_SELECTOR, 0x10);
    vmwrite(VMCS_HOST_FS_SELECTOR, 0);
    vmwrite(VMCS_HOST_GS_SELECTOR, 0);
    vmwrite(VMCS_HOST_TR_SELECTOR, 0x18);
    vmwrite(VMCS_HOST_FS_BASE, 0);
    vmwrite(VMCS_HOST_SYSENTER_CS, 0);
    vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
    vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
    vmwrite(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
    vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
}

static void write_controls(struct vcpu *vcpu)
{
    const struct vmx_controls *c = &vmx_controls;
    bool control = vcpu->vm->is_control;
    /* The preemption timer ends a child's slice. A control-domain vcpu's
     * guest runs under it too, restarted at every entry (its value is not
     * saved): it fires only after a slice without any exit, and the exit
     * just resumes the guest -- after serving a VMCLEAR request that
     * could not interrupt the CPU (vmx/vmx_vmcs.c). */
    vmwrite(VMCS_PIN_CONTROLS, c->pin);
    /* The control domain's MOV DR and #DB never exit: its debug registers
     * stay in the CPU. A child's are kept until it touches them
     * (hv/debugregs.h), and its #DBs exit meanwhile (they would write the
     * CPU's DR6, the control domain's). */
    uint32_t proc = control ? c->proc & ~PROC_MOV_DR_EXITING : c->proc, proc2 = c->proc2;
    vmx_apicv_write_controls(vcpu, &proc, &proc2);
    vmwrite(VMCS_PROC_CONTROLS, proc);
    vmwrite(VMCS_PROC_CONTROLS2, proc2);
    vmwrite(VMCS_EXIT_CONTROLS, control ? c->exit & ~EXIT_SAVE_PREEMPTION_TIMER : c->exit);
    vmwrite(VMCS_ENTRY_CONTROLS, c->entry);
    /* A machine check is the host's, never the guest's (hv/machine_check.h);
     * #DB of children: hv/debugregs.h. */
    vmwrite(VMCS_EXCEPTION_BITMAP, (control ? 0 : 1u << VECTOR_DEBUG) | 1u << VECTOR_MACHINE_CHECK);
    vmwrite(VMCS_CR3_TARGET_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, 0);
    vmwrite(VMCS_IO_BITMAP_A, control ? vmx_io_bitmap_control : vmx_io_bitmap_child);
    vmwrite(VMCS_IO_BITMAP_B, (control ? vmx_io_bitmap_control : vmx_io_bitmap_child) + FRAME_SIZE);
    vmwrite(VMCS_MSR_BITMAP, vmx_msr_bitmap);
    vmwrite(VMCS_TSC_OFFSET, 0);
    vmwrite(VMCS_EPT_POINTER, vcpu->vm->npt.root | EPTP_WB | EPTP_WALK_LENGTH_4);
    vmwrite(VMCS_LINK_POINTER, ~0ull);
    /* The bits the CPU forces on in CR0/CR4 (NE, VMXE), and the CR4 bits
     * the guest may not set, are owned by us: the guest reads its own
     * values from the shadows, and a write changing one exits. */
    vmwrite(VMCS_CR0_MASK, vmx_cr0_forced());
    vmwrite(VMCS_CR4_MASK, vmx_cr4_mask());
}

int vmx_vcpu_init(struct vcpu *vcpu)
{
    uint64_t phys = pages_alloc_zeroed(1, 0);
    if (phys == FRAME_NONE)
        return -HV_ENOMEM;
    *(uint32_t *)phys_to_virt(phys) = vmx_features.vmcs_revision;
    vcpu->arch_phys = phys;
    vcpu->arch = phys_to_virt(phys);
    vmclear(phys);
    bool acquired = vmcs_acquire(vcpu);
    write_controls(vcpu);
    write_host_constants();
    vmx_reset_state(vcpu);
    vmcs_release(vcpu, acquired);
    vcpu->guest_exit = vmx_exit_function(vcpu);
    return 0;
}

void vmx_vcpu_free(struct vcpu *vcpu)
{
    if (!vcpu->arch_phys)
        return;
    vmcs_forget(vcpu); /* no CPU may keep it active once freed */
    pages_free(vcpu->arch_phys, 1);
    vcpu->arch = NULL;
    vcpu->arch_phys = 0;
}

/* The preemption timer's count for one time slice (SDM 3C 25.5.1), from
 * the CPU's TSC count; the same on every CPU, each of which writes it. */
static uint32_t slice_timer_value;

void vmx_slice_setup_cpu(const struct percpu *cpu)
{
    uint64_t ticks = cpu->slice_tsc >> vmx_features.preemption_timer_shift;
    slice_timer_value = ticks > 0xffffffffu ? 0xffffffffu : (uint32_t)ticks;
}

GUEST_LOOP_CALL(call_guest_loop, vmx_guest_loop)

/* The run loop of either kind of vcpu; `control` is vcpu->vm->is_control,
 * which a child's RUN knows without looking; on_exit NULL keeps the
 * exit handler the vcpu has. Returns the vcpu as the
 * guest loop hands it back, with the loop's result at *result. */
static inline __attribute__((always_inline)) struct vcpu *
run_loop(struct vcpu *vcpu, struct percpu *cpu, exit_handler on_exit, bool control, int *result)
{
    if (__builtin_expect(control, 0)) {
        vmcs_make_current(vcpu, cpu);
        /* This CPU's control-domain VMCS stays current for good. */
        cpu->control_vmcs = vcpu->arch_phys;
        if (vmx_features.vpid)
            vmwrite(VMCS_VPID, CONTROL_TLB_TAG);
        invept(INVEPT_ALL_CONTEXTS, 0);
    } else {
        vmcs_make_child_current(vcpu, cpu);
        vmx_choose_vpid_on(vcpu, cpu);
    }
    if (__builtin_expect((vmx_controls.pin & PIN_PREEMPTION_TIMER) != 0, 1))
        vmwrite(VMCS_PREEMPTION_TIMER_VALUE, slice_timer_value);
    debugregs_enter(vcpu); /* VM entry does not load DR0-DR3 */
    if (on_exit) /* a child's RUN passes none: vcpu_child_exit is set (hv/vm.c) */
        vcpu->exit_handler = on_exit;
    if (speculation.spec_ctrl_bits)
        spec_ctrl_enter_guest(vcpu);
    *result = call_guest_loop(&vcpu);
    debugregs_leave(vcpu);
    /* What GET_REGS reads until the VMCS is next made current, so that
     * the VMM's calls after a RUN do not switch VMCSs for it; a child's
     * port I/O exit wrote them already (vmx_exit.c). */
    if (!vcpu->saved_regs_valid) {
        vcpu->saved_regs.rsp = vmread(VMCS_GUEST_RSP);
        vcpu->saved_regs.rip = vmread(VMCS_GUEST_RIP);
        vcpu->saved_regs.rflags = vmread(VMCS_GUEST_RFLAGS);
        vcpu->saved_regs_valid = 1;
    }
    /* A child's VMCS was made current here (a control domain's stays). */
    if (!control)
        vmcs_back_to_control(this_cpu(), true);
    return vcpu;
}

int vmx_run_loop(struct vcpu *vcpu, exit_handler on_exit)
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

/* RUN's traits here (hv/vcpu_run.h): XSETBV always exits in VMX
 * non-root operation (SDM 3C 25.1.2); KERNEL_GS_BASE is switched by
 * software (VMX_SOFTWARE_SWITCHED_MSRS); entry and exit leave CR2 alone. */
#define VMX_RUN_TRAITS (RUN_XSETBV_EXITS | RUN_KERNEL_GS_BASE | RUN_CR2)
_Static_assert(VMX_SOFTWARE_SWITCHED_MSRS & KEPT_BIT(KEPT_KERNEL_GS_BASE),
               "RUN's traits follow the backend's switched MSRs");

long vmx_call_run(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    (void)cd, (void)call;
    return vcpu_run_with(slot->object, enter_child, VMX_RUN_TRAITS);
}

int vmx_pinned_run(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                   uint64_t state)
{
    return vcpu_run_entry_with(control, rax, slot, state, enter_child, VMX_RUN_TRAITS);
}

/* GET_REGS (the backend op): RSP, RIP and RFLAGS as the last guest loop
 * left them while nothing has made the VMCS current since, else from the
 * VMCS (vmx_get_regs). */
static __attribute__((noinline)) struct vcpu *get_regs_from_vmcs(struct vcpu *vcpu,
                                                                 struct hv_regs *r)
{
    vmx_get_regs(vcpu, r);
    return vcpu;
}

static inline struct vcpu *get_regs(struct vcpu *vcpu, struct hv_regs *r)
{
    if (!vcpu->saved_regs_valid)
        return get_regs_from_vmcs(vcpu, r);
    vcpu_gprs_to_regs(&vcpu->gprs, r);
    __asm__("" ::: "memory"); /* as svm_state.c's: no register kept through the copy */
    r->rsp = vcpu->saved_regs.rsp;
    r->rip = vcpu->saved_regs.rip;
    r->rflags = vcpu_rflags_to_abi(vcpu, vcpu->saved_regs.rflags);
    return vcpu;
}

void vmx_get_regs_op(struct vcpu *vcpu, struct hv_regs *__restrict r)
{
    get_regs(vcpu, r);
}

long vmx_call_get_regs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    return vcpu_get_regs_call_with(cd, slot->object, call->rsi, get_regs);
}

/* The entry's way when the VMCS has RSP, RIP and RFLAGS (get_regs):
 * taken as a tail call, with the slot still pinned, so that the entry
 * keeps nothing across a call of its own -- its result's address and the
 * slot would otherwise be saved and restored on every GET_REGS. */
static __attribute__((noinline)) int pinned_get_regs_from_vmcs(struct vcpu *control,
                                                               uint64_t *rax,
                                                               struct handle_slot *slot)
{
    *rax = (uint64_t)vmx_call_get_regs(control->vm, slot, &control->gprs);
    hypercall_unpin(slot);
    return 0;
}

/* GET_REGS' entry (hv/hypercall.h): hypercall_pinned_with around
 * vcpu_get_regs_call_with, with the copy from the registers the last
 * guest loop left inlined and the VMCS's way out of line (above). */
int vmx_pinned_get_regs(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                        uint64_t state)
{
    if (!hypercall_pin(slot, state))
        return hypercall_dispatch_refused(control, rax);
    struct vm *cd = control->vm;
    struct vcpu *vcpu = slot->object;
    uint64_t gpa = control->gprs.rsi;
    long err = control_range_check(cd, gpa, sizeof(struct hv_regs), 8);
    err = err ?: vcpu_claim(vcpu);
    if (!err) {
        if (__builtin_expect(!vcpu->saved_regs_valid, 0)) {
            vcpu_release(vcpu);
            return pinned_get_regs_from_vmcs(control, rax, slot);
        }
        get_regs(vcpu, control_pointer(cd, gpa));
        vcpu_release(vcpu);
    }
    *rax = (uint64_t)err;
    hypercall_unpin(slot);
    return 0;
}

bool vmx_skip_instruction(struct vcpu *vcpu, const struct exit_record *exit)
{
    bool acquired = vmcs_acquire(vcpu);
    vmwrite(VMCS_GUEST_RIP, vmx_rip_after(vmread(VMCS_GUEST_RIP), exit->instruction_length));
    /* Past the instruction: no STI or MOV SS blocking any more. */
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~3ull);
    bool step = (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_TF) != 0;
    if (step) {
        /* The trap is delivered or reported here now; one the exit left
         * pending (Bochs saves TF's as BS there) would come a second time
         * at the next entry. */
        vmwrite(VMCS_GUEST_PENDING_DEBUG, vmread(VMCS_GUEST_PENDING_DEBUG) & ~(uint64_t)DR6_BS);
        vcpu_single_step_trap(vcpu);
    }
    vmcs_release(vcpu, acquired);
    return step;
}

void vmx_inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error,
                          uint32_t error_code)
{
    bool acquired = vmcs_acquire(vcpu);
    /* Real mode delivers no error code, and VM entry refuses one there
     * (SDM 3C 26.2.1.3): a real-mode #GP from RDMSR would otherwise end
     * the RUN with HV_EXIT_FAIL_ENTRY. Without unrestricted guest PE is
     * always set in the VMCS, and the code is delivered. */
    if (!(vmread(VMCS_GUEST_CR0) & 1))
        has_error = false;
    vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, INTR_INFO_VALID | INTR_TYPE_HARDWARE_EXCEPTION |
                                              vector | (has_error ? INTR_INFO_DELIVER_ERROR : 0));
    vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, error_code);
    vmcs_release(vcpu, acquired);
}
