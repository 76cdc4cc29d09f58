/* Intel VMX: detection and per-CPU VMXON (Intel SDM 3C, 23.6-23.8). */
#include "abi/hv_errno.h"
#include "hv/format.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/virt.h"
#include "hv/x86.h"
#include "vmx/vmx.h"

struct vmx_features vmx_features;

#define MSR_IA32_VMX_PROCBASED_CTLS      0x482
#define PROCBASED_ACTIVATE_SECONDARY     (1ull << 31)
#define SECONDARY_EPT                    (1ull << 1)
#define SECONDARY_VPID                   (1ull << 5)
#define SECONDARY_UNRESTRICTED_GUEST     (1ull << 7)
#define VMX_BASIC_TRUE_CONTROLS          (1ull << 55)
#define CR4_VMXE                         (1ull << 13)

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
    return 0;
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
    cpu->virt_area_phys = region;
    return 0;
}

static void vmx_describe(char *buf, size_t size)
{
    format(buf, size, "VMCS revision 0x%x, EPT, VPID %s, unrestricted guest "
                      "%s, true controls %s",
           vmx_features.vmcs_revision, vmx_features.vpid ? "yes" : "no",
           vmx_features.unrestricted_guest ? "yes" : "no",
           vmx_features.true_controls ? "yes" : "no");
}

const struct virt_backend vmx_backend = {
    .name = "vmx",
    .probe = vmx_probe,
    .enable_cpu = vmx_enable_cpu,
    .describe = vmx_describe,
};
