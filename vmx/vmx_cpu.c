/* Intel VMX: detection and per-CPU VMXON (Intel SDM 3C, 23.6-23.8). */
#include "abi/hv_errno.h"
#include "hv/format.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/msr_switch.h"
#include "hv/tlb_tag.h"
#include "hv/virt.h"
#include "hv/x86.h"
#include "mmu/nested_formats.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_exit.h"
#include "vmx/vmx_controls.h"

struct vmx_features vmx_features;
struct vmx_controls vmx_controls;

#define MSR_IA32_VMX_PROCBASED_CTLS      0x482
#define PROCBASED_ACTIVATE_SECONDARY     (1ull << 31)
#define SECONDARY_EPT                    (1ull << 1)
#define SECONDARY_VPID                   (1ull << 5)
#define SECONDARY_UNRESTRICTED_GUEST     (1ull << 7)
#define VMX_BASIC_TRUE_CONTROLS          (1ull << 55)
#define CR4_VMXE                         (1ull << 13)
#define CPUID_80000001_EDX_RDTSCP        (1u << 27)

static void read_features(void)
{
    uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
    vmx_features.vmcs_revision = (uint32_t)basic & 0x7fffffff;
    vmx_features.true_controls = basic & VMX_BASIC_TRUE_CONTROLS;
    /* Allowed-1 settings are the high half of each capability MSR. */
    uint64_t primary = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS) >> 32;
    uint64_t secondary = primary & PROCBASED_ACTIVATE_SECONDARY
                             ? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32 : 0;
    vmx_features.ept = secondary & SECONDARY_EPT;
    vmx_features.vpid = secondary & SECONDARY_VPID;
    vmx_features.unrestricted_guest = secondary & SECONDARY_UNRESTRICTED_GUEST;
}

/* Each control field from its capability MSR: the "true" one where the CPU
 * has them (they allow clearing more default-on bits, SDM 3D A.2). */
static int compute_controls(char *why, size_t size)
{
    bool t = vmx_features.true_controls;
    struct vmx_controls *c = &vmx_controls;
    uint32_t missing[5];
    /* The preemption timer bounds a child's time slice on its own, whatever
     * the guest does with interrupts (SDM 3C 25.5.1). Virtual NMIs are
     * required: without them the guest's NMI handler runs under the CPU's
     * own NMI blocking, which only a guess can end (KVM's old "soft vNMI");
     * every CPU with EPT has them. */
    c->pin = vmx_control_value(rdmsr(t ? MSR_VMX_TRUE_PINBASED_CTLS : MSR_VMX_PINBASED_CTLS),
                               PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING |
                                   PIN_VIRTUAL_NMIS,
                               PIN_PREEMPTION_TIMER, &missing[0]);
    uint64_t proc_cap = rdmsr(t ? MSR_VMX_TRUE_PROCBASED_CTLS : MSR_VMX_PROCBASED_CTLS);
    c->proc = vmx_control_value(proc_cap,
                                PROC_HLT_EXITING | PROC_USE_IO_BITMAPS |
                                    PROC_USE_MSR_BITMAPS | PROC_SECONDARY_CONTROLS |
                                    /* SET_MSRS of the TSC moves the offset */
                                    PROC_USE_TSC_OFFSETTING |
                                    /* CR8 would reach the host's APIC TPR */
                                    PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING |
                                    /* a child's debug registers are switched
                                     * lazily (hv/debugregs.h) */
                                    PROC_MOV_DR_EXITING,
                                PROC_MWAIT_EXITING | PROC_MONITOR_EXITING, &missing[1]);
    /* Without "enable INVPCID" the guest's INVPCID is #UD (SDM 3C 25.3):
     * wanted, so that CPUID can offer it (vmx_guest_instructions). Without
     * "enable RDTSCP", RDTSCP and RDPID raise #UD in the guest, though CPUID
     * offers them wherever the CPU has them. */
    uint32_t rdtscp = cpuid_eax(0x80000000) >= 0x80000001 &&
                      (cpuid_edx(0x80000001) & CPUID_80000001_EDX_RDTSCP)
                          ? PROC2_ENABLE_RDTSCP : 0;
    c->proc2 = vmx_control_value(rdmsr(MSR_VMX_PROCBASED_CTLS2), PROC2_ENABLE_EPT,
                                 PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST |
                                     PROC2_ENABLE_INVPCID | rdtscp, &missing[2]);
    c->exit = vmx_control_value(rdmsr(t ? MSR_VMX_TRUE_EXIT_CTLS : MSR_VMX_EXIT_CTLS),
                                /* DR7 is the guest's own (DEBUG_GUEST) */
                                EXIT_SAVE_DEBUG_CONTROLS |
                                    EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_SAVE_EFER |
                                    EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT,
                                EXIT_SAVE_PREEMPTION_TIMER, &missing[3]);
    c->entry = vmx_control_value(rdmsr(t ? MSR_VMX_TRUE_ENTRY_CTLS : MSR_VMX_ENTRY_CTLS),
                                 ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_LOAD_EFER |
                                     ENTRY_LOAD_PAT, 0, &missing[4]);
    static const char *const names[5] = { "pin-based", "processor-based",
                                          "secondary", "VM-exit", "VM-entry" };
    for (int i = 0; i < 5; i++) {
        if (missing[i]) {
            format(why, size, "the CPU lacks %s VMX controls 0x%x that the "
                              "hypervisor needs", names[i], missing[i]);
            return -HV_ENOTSUP;
        }
    }
    /* The interrupt and NMI windows are switched on per vcpu while an
     * event waits for the guest (vmx_events.c), never on in vmx_controls. */
    if (!(proc_cap >> 32 & PROC_INTERRUPT_WINDOW_EXITING)) {
        format(why, size, "the CPU lacks VMX interrupt-window exiting");
        return -HV_ENOTSUP;
    }
    if (!(proc_cap >> 32 & PROC_NMI_WINDOW_EXITING)) {
        format(why, size, "the CPU lacks VMX NMI-window exiting");
        return -HV_ENOTSUP;
    }
    /* CR3 accesses must not exit: the guest owns CR3 under EPT. */
    if (c->proc & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING)) {
        format(why, size, "the CPU cannot turn off CR3-access exiting "
                          "(no true VMX controls)");
        return -HV_ENOTSUP;
    }
    vmx_features.preemption_timer_shift = (uint8_t)(rdmsr(MSR_VMX_MISC) & 0x1f);
    vmx_features.vpid = c->proc2 & PROC2_ENABLE_VPID;
    vmx_features.vpid_count = vmx_features.vpid ? 0x10000 : 2;
    vmx_features.unrestricted_guest = c->proc2 & PROC2_UNRESTRICTED_GUEST;
    /* APIC-register virtualization (SDM 3C 29.4): the guest's xAPIC reads
     * come from its vlapic page without an exit, and its writes exit
     * after the fact with the register's offset (APIC-write), so an EOI
     * or ICR write needs no decoding. Switched on per vcpu of a VM with
     * local APICs (vmx_vcpu.c), never in vmx_controls. */
    uint32_t apicv_proc2 = PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_APIC_REGISTER_VIRTUALIZATION;
    virt_apic_access_page =
        (proc_cap >> 32 & PROC_USE_TPR_SHADOW) &&
        ((rdmsr(MSR_VMX_PROCBASED_CTLS2) >> 32) & apicv_proc2) == apicv_proc2 &&
        !(vmx_controls.proc & PROC_USE_TPR_SHADOW) && !(vmx_controls.proc2 & apicv_proc2) &&
        virt_apic_virtualization_allowed;
    return 0;
}

static int vmx_probe(char *why, size_t size)
{
    uint64_t control = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (control & FEATURE_CONTROL_LOCK) {
        if (!(control & FEATURE_CONTROL_VMXON)) {
            format(why, size, "VMX is disabled and locked by the firmware "
                              "(IA32_FEATURE_CONTROL=0x%llx): enable Intel "
                              "VT-x in the BIOS or UEFI setup",
                   (unsigned long long)control);
            return -HV_ENODEV;
        }
    } else {
        /* Firmware left it open: allow VMXON outside SMX and lock, as
         * firmware would (SDM 3C, 23.7). */
        wrmsr(MSR_IA32_FEATURE_CONTROL,
              control | FEATURE_CONTROL_VMXON | FEATURE_CONTROL_LOCK);
    }
    read_features();
    if (!vmx_features.ept) {
        format(why, size, "VMX without EPT is not supported: use a CPU with "
                          "EPT (Bochs: cpu model corei7_skylake_x)");
        return -HV_ENOTSUP;
    }
    return compute_controls(why, size);
}

static int vmx_enable_cpu(struct percpu *cpu, char *why, size_t size)
{
    /* CR0 and CR4 must satisfy the fixed-bit MSRs before VMXON; GRUB, for
     * one, leaves CR0.NE clear (SDM 3C, 23.8; PLATFORM.md). */
    uint64_t cr0 = read_cr0();
    cr0 |= rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    cr0 &= rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    write_cr0(cr0);
    uint64_t cr4 = read_cr4() | CR4_VMXE;
    cr4 |= rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    cr4 &= rdmsr(MSR_IA32_VMX_CR4_FIXED1);
    write_cr4(cr4);

    uint64_t region = pages_alloc_zeroed(1, 0);
    if (region == FRAME_NONE) {
        format(why, size, "out of memory for the VMXON region");
        return -HV_ENOMEM;
    }
    *(uint32_t *)phys_to_virt(region) = vmx_features.vmcs_revision;
    uint8_t failed;
    __asm__ volatile("vmxon %1\n\tsetna %0"
                     : "=q"(failed)
                     : "m"(region)
                     : "cc", "memory");
    if (failed) {
        pages_free(region, 1);
        format(why, size, "VMXON failed (CR0=0x%llx CR4=0x%llx)",
               (unsigned long long)read_cr0(), (unsigned long long)read_cr4());
        return -HV_EIO;
    }
    if (vmx_bitmaps_init()) {
        format(why, size, "out of memory for the VMX bitmaps");
        return -HV_ENOMEM;
    }
    cpu->virt_area_phys = region;
    vmx_vmcs_enable_cpu();
    vmx_slice_setup_cpu(cpu);
    cpu->asid_next = 2; /* VPID 1: the control domain's vcpu (hv/tlb_tag.h) */
    cpu->asid_generation = 1;
    cpu->asid_key = tlb_tag_cpu_key(cpu);
    return 0;
}

static void vmx_describe(char *buf, size_t size)
{
    format(buf, size, "VMCS revision 0x%x, EPT, VPID %s, unrestricted guest "
                      "%s, true controls %s, APIC-register virtualization %s",
           vmx_features.vmcs_revision, vmx_features.vpid ? "yes" : "no",
           vmx_features.unrestricted_guest ? "yes" : "no",
           vmx_features.true_controls ? "yes" : "no",
           virt_apic_access_page ? "yes"
               : virt_apic_virtualization_allowed ? "no" : "off (apicv=off)");
}

/* INVPCID runs in the guest when enabled and INVLPG does not exit (with
 * INVLPG exiting it would exit, and no exit handler emulates it).
 * RDTSCP/RDPID: with "enable RDTSCP", reading the vcpu's own TSC_AUX,
 * which the RUN path loads (hv/msr_switch.h). */
static uint32_t vmx_guest_instructions(void)
{
    bool invpcid = (vmx_controls.proc2 & PROC2_ENABLE_INVPCID) &&
                   !(vmx_controls.proc & PROC_INVLPG_EXITING);
    return (invpcid ? VIRT_GUEST_INVPCID : 0) |
           (vmx_controls.proc2 & PROC2_ENABLE_RDTSCP ? VIRT_GUEST_RDTSCP : 0);
}

const struct virt_backend vmx_backend = {
    .name = "vmx",
    .probe = vmx_probe,
    .enable_cpu = vmx_enable_cpu,
    .describe = vmx_describe,
    .abi_backend = HV_BACKEND_VMX,
    /* EPT entries (SDM 3C 28.2.2): read is bit 0, so "present" tests hold;
     * leaves are write-back. */
    .nested_table_flags = EPT_TABLE_FLAGS,
    .nested_leaf_read = EPT_LEAF_READ,
    .nested_leaf_write = EPT_LEAF_WRITE,
    /* VM entry and exit switch none of these (SDM 3C 24.4.1, 27.5). */
    .software_switched_msrs = VMX_SOFTWARE_SWITCHED_MSRS,
    .vcpu_init = vmx_vcpu_init,
    .vcpu_free = vmx_vcpu_free,
    .run_loop = vmx_run_loop,
    .call_run = vmx_call_run,
    .get_regs = vmx_get_regs_op,
    .call_get_regs = vmx_call_get_regs,
    .pinned_run = vmx_pinned_run,
    .pinned_get_regs = vmx_pinned_get_regs,
    .pinned_set_regs = vmx_pinned_set_regs,
    .set_regs = vmx_set_regs,
    .get_sregs = vmx_get_sregs,
    .set_sregs = vmx_set_sregs,
    .skip_instruction = vmx_skip_instruction,
    .inject_exception = vmx_inject_exception,
    .interrupt_allowed = vmx_interrupt_allowed,
    .inject_interrupt = vmx_inject_interrupt,
    .nmi_allowed = vmx_nmi_allowed,
    .inject_nmi = vmx_inject_nmi,
    .set_nmi_window = vmx_set_nmi_window,
    .get_event_state = vmx_get_event_state,
    .set_event_state = vmx_set_event_state,
    .reset_vcpu = vmx_reset_vcpu,
    .set_interrupt_window = vmx_set_interrupt_window,
    .lapic_base_changed = vmx_lapic_base_changed,
    .set_tpr_threshold = vmx_set_tpr_threshold,
    .set_guest_debug = vmx_set_guest_debug,
    .set_debugreg_exits = vmx_set_debugreg_exits,
    .get_entry_dr67 = vmx_get_entry_dr67,
    .set_entry_dr67 = vmx_set_entry_dr67,
    .entry_switches_dr6 = false,
    .setup_control_vcpu = vmx_setup_control_vcpu,
    .get_msr = vmx_get_msr,
    .set_msr = vmx_set_msr,
    .guest_cr4 = vmx_guest_cr4,
    .insn_site = vmx_insn_site,
    .guest_instructions = vmx_guest_instructions,
};
