/* VMX vcpus: VMCS set-up, making a VMCS current, the run loop with its exit
 * decoding, and event injection. A child's VMCS is cleared after every use
 * (RUN, or a state call from a hypercall), so that it may next run on any
 * CPU; the control domain's vcpu keeps its VMCS current on its own CPU, and
 * every use of another VMCS hands the CPU back to it. */
#include "abi/hv_errno.h"
#include "hv/control_domain.h"
#include "hv/debugregs.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/nmi.h"
#include "hv/percpu.h"
#include "hv/rflags.h"
#include "hv/speculation.h"
#include "hv/time.h"
#include "hv/tlb_tag.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/x86.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_instructions.h"

extern char vmx_exit_entry[];
int vmx_guest_loop(struct vcpu *vcpu, int (*on_exit)(struct vcpu *vcpu));

bool vmcs_acquire(struct vcpu *vcpu)
{
    struct percpu *cpu = this_cpu();
    if (cpu->current_vmcs == vcpu->arch_phys)
        return false;
    vmptrld(vcpu->arch_phys);
    cpu->current_vmcs = vcpu->arch_phys;
    return true;
}

void vmcs_release(struct vcpu *vcpu, bool acquired)
{
    if (!acquired)
        return;
    struct percpu *cpu = this_cpu();
    vmclear(vcpu->arch_phys);
    vcpu->launched = 0;
    cpu->current_vmcs = cpu->control_vmcs;
    if (cpu->control_vmcs)
        vmptrld(cpu->control_vmcs);
}

/* Host state: what a VM exit loads. Written before each run, as the
 * per-CPU parts (GS, TR, GDT) differ from CPU to CPU. */
static void write_host_state(void)
{
    struct percpu *cpu = this_cpu();
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    vmwrite(VMCS_HOST_CR0, read_cr0());
    vmwrite(VMCS_HOST_CR3, read_cr3());
    vmwrite(VMCS_HOST_CR4, read_cr4());
    vmwrite(VMCS_HOST_GS_BASE, (uint64_t)(uintptr_t)cpu);
    vmwrite(VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&cpu->tss);
    vmwrite(VMCS_HOST_GDTR_BASE, (uint64_t)(uintptr_t)cpu->gdt);
    vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
    vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
}

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
    /* Control-domain vcpus are never preempted: only children get the
     * preemption timer. */
    vmwrite(VMCS_PIN_CONTROLS, control ? c->pin & ~PIN_PREEMPTION_TIMER : c->pin);
    /* The control domain's MOV DR and #DB never exit: its debug registers
     * stay in the CPU. A child's are kept until it touches them
     * (hv/debugregs.h), and its #DBs exit meanwhile (they would write the
     * CPU's DR6, the control domain's). */
    vmwrite(VMCS_PROC_CONTROLS, control ? c->proc & ~PROC_MOV_DR_EXITING : c->proc);
    vmwrite(VMCS_PROC_CONTROLS2, c->proc2);
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
    return 0;
}

void vmx_vcpu_free(struct vcpu *vcpu)
{
    if (vcpu->arch_phys)
        pages_free(vcpu->arch_phys, 1);
    vcpu->arch = NULL;
    vcpu->arch_phys = 0;
}

static void choose_vpid(struct vcpu *vcpu)
{
    enum tlb_tag_change change = tlb_tag_refresh(vcpu, vmx_features.vpid ? 0x10000 : 2);
    if (change == TAG_KEPT)
        return;
    if (vmx_features.vpid)
        vmwrite(VMCS_VPID, vcpu->asid);
    /* Guest-physical translations are tagged by EPT pointer, not VPID: a
     * changed EPT must be flushed by context. */
    invept(INVEPT_SINGLE_CONTEXT, vcpu->vm->npt.root | EPTP_WB | EPTP_WALK_LENGTH_4);
    if (change == TAG_NEW_AFTER_WRAP && vmx_features.vpid)
        invvpid(INVVPID_ALL_CONTEXTS, 0);
}

static void decode(struct vcpu *vcpu, uint32_t reason, struct exit_record *exit)
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
    case EXIT_REASON_TRIPLE_FAULT: exit->kind = EXIT_SHUTDOWN; break;
    case EXIT_REASON_PREEMPTION_TIMER: exit->kind = EXIT_SLICE_OVER; break;
    case EXIT_REASON_CPUID: exit->kind = EXIT_CPUID; break;
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
        exit->kind = EXIT_NESTED_FAULT;
        exit->fault.guest_phys = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
        exit->fault.guest_linear = qualification & (1u << 7)
                                       ? vmread(VMCS_GUEST_LINEAR_ADDRESS) : ~0ull;
        exit->fault.write = qualification & (1u << 1);
        exit->fault.fetch = qualification & (1u << 2);
        exit->fault.insn_length = 0; /* VMX has no decode assist: hv/ fetches */
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
 * No guest ever takes an NMI (NMI exiting), so the guest's own "blocking
 * by NMI" must stay clear whatever the exit saved: Bochs saves it set
 * after an NMI exit, and it would then hold every later NMI back while
 * the guest runs. */
static void vmx_take_nmi(void)
{
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTERRUPTION_INFO);
    if ((info & (INTR_INFO_VALID | INTR_TYPE_MASK)) != (INTR_INFO_VALID | INTR_TYPE_NMI))
        return;
    nmi_from_vm_exit();
    uint64_t blocking = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (blocking & INTERRUPTIBILITY_NMI)
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, blocking & ~(uint64_t)INTERRUPTIBILITY_NMI);
}

/* Every exit but the hottest: decoded and handed to the exit handler. Out
 * of line so that the fast paths in vmx_exit carry no exit record. */
static __attribute__((noinline)) int vmx_exit_decoded(struct vcpu *vcpu, uint32_t reason)
{
    struct exit_record exit;
    if (reason == EXIT_REASON_EXCEPTION_NMI)
        vmx_take_nmi();
    /* An event whose delivery the exit interrupted must be delivered again
     * on the next entry (SDM 3C 27.2.4), unless the vcpu shut down. */
    uint32_t vectoring = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
    if ((vectoring & INTR_INFO_VALID) && (vectoring & INTR_TYPE_MASK) == INTR_TYPE_EXTERNAL) {
        /* Only INTERRUPT's can be (physical ones exit before they reach a
         * guest): back to pending, injected when the guest can take it. */
        vcpu->irq_pending = 1;
        vcpu->irq_vector = (uint8_t)vectoring;
    } else if ((vectoring & INTR_INFO_VALID) && reason != EXIT_REASON_TRIPLE_FAULT) {
        vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, vectoring & ~0x1000u);
        if (vectoring & INTR_INFO_DELIVER_ERROR)
            vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
        vmwrite(VMCS_ENTRY_INSTRUCTION_LENGTH, vmread(VMCS_EXIT_INSTRUCTION_LENGTH));
    }
    if (reason & EXIT_REASON_ENTRY_FAILED) {
        vcpu->launched = 0;
        /* A machine check during entry is resumed by entering again; a
         * failed VMRESUME left the VMCS launched, a failed VMLAUNCH clear:
         * VMCLEAR makes it clear either way, for the VMLAUNCH to come. */
        if ((reason & 0xffff) == EXIT_REASON_MACHINE_CHECK) {
            vmclear(vcpu->arch_phys);
            vmptrld(vcpu->arch_phys);
        }
    }
    decode(vcpu, reason, &exit);
    int stop = vcpu->exit_handler(vcpu, &exit);
    if (!stop && !vcpu->vm->is_control)
        choose_vpid(vcpu); /* the VM's translations may have changed */
    return stop;
}

/* Called by vmx_guest_loop.S after each exit. The hottest exits are
 * handled before any decoding: a control domain's hypercall, CPUID, and
 * the control-register accesses that exit. */
static int vmx_exit(struct vcpu *vcpu)
{
    if (vcpu->entry_failed) {
        vcpu->entry_failed = 0;
        vcpu->launched = 0;
        struct exit_record exit = {
            .kind = EXIT_FAIL_ENTRY,
            .hardware_reason = vmread(VMCS_INSTRUCTION_ERROR),
            .rip = vmread(VMCS_GUEST_RIP),
        };
        return vcpu->exit_handler(vcpu, &exit);
    }
    uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
    /* The CPU gives the length, prefixes included (SDM 3C 27.2.5). */
    if (reason == EXIT_REASON_VMCALL && vcpu->vm->is_control) {
        vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) +
                                    vmread(VMCS_EXIT_INSTRUCTION_LENGTH));
        return control_domain_hypercall(vcpu, &vcpu->gprs.rax);
    }
    if (reason == EXIT_REASON_CPUID) {
        cpuid_emulate(vcpu);
        vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) +
                                    vmread(VMCS_EXIT_INSTRUCTION_LENGTH));
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
        return 0;
    }
    if (reason == EXIT_REASON_CR_ACCESS && vmx_cr_access(vcpu))
        return 0;
    return vmx_exit_decoded(vcpu, reason);
}

/* SPEC_CTRL by hand around each entry where the CPU has it: VMX has no
 * field for it (hv/speculation.h). The guest's WRMSR exits, so nothing is
 * read back. */
static int vmx_exit_spec_ctrl(struct vcpu *vcpu)
{
    spec_ctrl_leave_guest(vcpu);
    int stop = vmx_exit(vcpu);
    if (!stop)
        spec_ctrl_enter_guest(vcpu);
    return stop;
}

int vmx_run_loop(struct vcpu *vcpu, exit_handler on_exit)
{
    bool acquired = vmcs_acquire(vcpu);
    if (vcpu->vm->is_control) {
        /* This CPU's control-domain VMCS stays current for good. */
        this_cpu()->control_vmcs = vcpu->arch_phys;
        acquired = false;
        if (vmx_features.vpid)
            vmwrite(VMCS_VPID, CONTROL_TLB_TAG);
        invept(INVEPT_ALL_CONTEXTS, 0);
    } else {
        choose_vpid(vcpu);
        if (vmx_controls.pin & PIN_PREEMPTION_TIMER) {
            uint64_t ticks = (TIME_SLICE_US * tsc_per_us()) >> vmx_features.preemption_timer_shift;
            vmwrite(VMCS_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffu ? 0xffffffffu : ticks);
        }
    }
    write_host_state();
    debugregs_enter(vcpu); /* VM entry does not load DR0-DR3 */
    vcpu->exit_handler = on_exit;
    int (*exit_function)(struct vcpu *) = vmx_exit;
    if (speculation.spec_ctrl_bits) {
        spec_ctrl_enter_guest(vcpu);
        exit_function = vmx_exit_spec_ctrl;
    }
    int result = vmx_guest_loop(vcpu, exit_function);
    debugregs_leave(vcpu);
    vmcs_release(vcpu, acquired);
    return result;
}

void vmx_skip_instruction(struct vcpu *vcpu, const struct exit_record *exit)
{
    bool acquired = vmcs_acquire(vcpu);
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + exit->instruction_length);
    /* Past the instruction: no STI or MOV SS blocking any more. */
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~3ull);
    vmcs_release(vcpu, acquired);
}

void vmx_inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error,
                          uint32_t error_code)
{
    bool acquired = vmcs_acquire(vcpu);
    vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, INTR_INFO_VALID | INTR_TYPE_HARDWARE_EXCEPTION |
                                              vector | (has_error ? INTR_INFO_DELIVER_ERROR : 0));
    vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, error_code);
    vmcs_release(vcpu, acquired);
}
