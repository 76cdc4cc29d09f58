/* AMD SVM: detection and per-CPU enabling (AMD APM vol. 2, 15.4). */
#include "abi/hv_errno.h"
#include "hv/format.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/msr_switch.h"
#include "hv/tlb_tag.h"
#include "hv/virt.h"
#include "hv/x86.h"
#include "mmu/nested_formats.h"
#include "svm/svm.h"
#include "svm/svm_insn.h"

struct svm_features svm_features;

static void read_features(void)
{
    uint32_t a, b, c, d;
    cpuid_count(0x8000000a, 0, &a, &b, &c, &d);
    svm_features.asid_count = b;
    svm_features.nested_paging = d & SVM_CPUID_NP;
    svm_features.next_rip = d & SVM_CPUID_NRIPS;
    svm_features.decode_assists = d & SVM_CPUID_DECODE_ASSISTS;
    svm_features.vmcb_clean = d & SVM_CPUID_VMCB_CLEAN;
    svm_features.flush_by_asid = d & SVM_CPUID_FLUSH_BY_ASID;
    svm_features.v_spec_ctrl = d & SVM_CPUID_V_SPEC_CTRL;
}

static int svm_probe(char *why, size_t size)
{
    if (cpuid_eax(0x80000000) < 0x8000000a) {
        format(why, size, "CPUID leaf 0x8000000a (SVM features) is missing");
        return -HV_ENODEV;
    }
    /* VM_CR.SVMDIS with LOCK set means firmware turned SVM off for good;
     * without LOCK we may clear it ourselves (APM 15.30.1). */
    uint64_t vm_cr = rdmsr(MSR_VM_CR);
    if (vm_cr & VM_CR_SVMDIS) {
        if (vm_cr & VM_CR_LOCK) {
            format(why, size, "SVM is disabled and locked by the firmware: "
                              "enable SVM / AMD-V in the BIOS or UEFI setup");
            return -HV_ENODEV;
        }
        wrmsr(MSR_VM_CR, vm_cr & ~VM_CR_SVMDIS);
    }
    read_features();
    if (!svm_features.nested_paging) {
        format(why, size, "SVM without nested paging (NPT) is not supported: "
                          "use a CPU with NPT (QEMU: -cpu ...,+svm,+npt)");
        return -HV_ENOTSUP;
    }
    if (svm_features.asid_count < 3) {
        format(why, size, "SVM reports %u ASIDs; at least 3 are needed",
               svm_features.asid_count);
        return -HV_ENOTSUP;
    }
    return 0;
}

static int svm_enable_cpu(struct percpu *cpu, char *why, size_t size)
{
    uint64_t host_save = pages_alloc_zeroed(1, 0);
    uint64_t host_state = pages_alloc_zeroed(1, 0);
    if (host_save == FRAME_NONE || host_state == FRAME_NONE || svm_bitmaps_init()) {
        format(why, size, "out of memory for the host save areas");
        return -HV_ENOMEM;
    }
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, host_save);
    /* The host's FS/GS/TR/LDTR and syscall MSRs, restored by VMLOAD after
     * every exit: VMRUN does not switch them (APM 15.5.2). */
    __asm__ volatile("vmsave %0" ::"a"(host_state) : "memory");
    cpu->virt_area_phys = host_save;
    cpu->host_state_phys = host_state;
    cpu->asid_next = 2; /* ASID 1: the control domain's vcpu (svm_vcpu.c) */
    cpu->asid_generation = 1;
    cpu->asid_key = tlb_tag_cpu_key(cpu);
    return 0;
}

static void svm_describe(char *buf, size_t size)
{
    format(buf, size, "NPT, %u ASIDs, next-RIP %s, decode assists %s, "
                      "VMCB clean bits %s, flush-by-ASID %s",
           svm_features.asid_count, svm_features.next_rip ? "yes" : "no",
           svm_features.decode_assists ? "yes" : "no",
           svm_features.vmcb_clean ? "yes" : "no",
           svm_features.flush_by_asid ? "yes" : "no");
}

/* INVPCID is never intercepted: with nested paging it is the guest's own.
 * RDTSCP/RDPID would read a TSC_AUX that VMRUN does not load yet. */
/* RDTSCP and RDPID read the TSC_AUX the RUN path loads for the vcpu
 * (hv/msr_switch.h); INVPCID is the guest's own with nested paging. */
static uint32_t svm_guest_instructions(void) { return VIRT_GUEST_INVPCID | VIRT_GUEST_RDTSCP; }

const struct virt_backend svm_backend = {
    .name = "svm",
    .probe = svm_probe,
    .enable_cpu = svm_enable_cpu,
    .describe = svm_describe,
    .abi_backend = HV_BACKEND_SVM,
    /* NPT entries are long-mode page-table entries; the U bit is needed at
     * every level (APM 15.25.5). */
    .nested_table_flags = NPT_TABLE_FLAGS,
    .nested_leaf_read = NPT_LEAF_READ,
    .nested_leaf_write = NPT_LEAF_WRITE,
    /* VMLOAD/VMSAVE switch the SYSCALL MSRs and KERNEL_GS_BASE; the
     * VMCB has no TSC_AUX (APM 15.5.2). */
    .software_switched_msrs = SVM_SOFTWARE_SWITCHED_MSRS,
    .vcpu_init = svm_vcpu_init,
    .vcpu_free = svm_vcpu_free,
    .run_loop = svm_run_loop,
    .call_run = svm_call_run,
    .get_regs = svm_get_regs,
    .call_get_regs = svm_call_get_regs,
    .pinned_run = svm_pinned_run,
    .pinned_get_regs = svm_pinned_get_regs,
    .pinned_set_regs = svm_pinned_set_regs,
    .set_regs = svm_set_regs,
    .get_sregs = svm_get_sregs,
    .set_sregs = svm_set_sregs,
    .skip_instruction = svm_skip_instruction,
    .inject_exception = svm_inject_exception,
    .interrupt_allowed = svm_interrupt_allowed,
    .inject_interrupt = svm_inject_interrupt,
    .nmi_allowed = svm_nmi_allowed,
    .inject_nmi = svm_inject_nmi,
    .set_nmi_window = svm_set_nmi_window,
    .get_event_state = svm_get_event_state,
    .set_event_state = svm_set_event_state,
    .reset_vcpu = svm_reset_vcpu,
    .set_interrupt_window = svm_set_interrupt_window,
    .set_guest_debug = svm_set_guest_debug,
    .set_debugreg_exits = svm_set_debugreg_exits,
    .get_entry_dr67 = svm_get_entry_dr67,
    .set_entry_dr67 = svm_set_entry_dr67,
    .entry_switches_dr6 = true,
    .setup_control_vcpu = svm_setup_control_vcpu,
    .get_msr = svm_get_msr,
    .set_msr = svm_set_msr,
    .guest_cr4 = svm_guest_cr4,
    .insn_site = svm_insn_site_op,
    .guest_instructions = svm_guest_instructions,
};
