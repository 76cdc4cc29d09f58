/* The vcpu's MSRs on VMX. The VMCS holds the FS/GS bases, the SYSENTER
 * MSRs, PAT and EFER, which entry and exit switch (SDM 3C 24.4.1), and the
 * TSC offset. The SYSCALL MSRs (STAR, LSTAR, CSTAR, SFMASK),
 * KERNEL_GS_BASE and TSC_AUX, which VMX does not switch, are kept and
 * switched by hv/msr_switch.c (vmx_backend.software_switched_msrs). */
#include "hv/msr.h"
#include "hv/sregs_check.h"
#include "hv/vcpu.h"
#include "hv/x86.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_instructions.h"

/* The guest-state field of an MSR stored as it is, or 0 (no MSR lives in
 * field 0, the VPID). EFER is read here but written through write_efer. */
static uint32_t plain_field(uint32_t index)
{
    switch (index) {
    case MSR_FS_BASE: return VMCS_GUEST_ES_BASE + 2 * SEG_FS;
    case MSR_GS_BASE: return VMCS_GUEST_ES_BASE + 2 * SEG_GS;
    case MSR_IA32_SYSENTER_CS: return VMCS_GUEST_SYSENTER_CS;
    case MSR_IA32_SYSENTER_ESP: return VMCS_GUEST_SYSENTER_ESP;
    case MSR_IA32_SYSENTER_EIP: return VMCS_GUEST_SYSENTER_EIP;
    case MSR_IA32_PAT: return VMCS_GUEST_PAT;
    case MSR_EFER: return VMCS_GUEST_EFER;
    default: return 0;
    }
}

bool vmx_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value)
{
    uint32_t field = plain_field(index);
    if (!field && index != MSR_IA32_TSC)
        return false;
    bool acquired = vmcs_acquire(vcpu);
    /* The guest reads the host's TSC plus the offset (SDM 3C 25.3). */
    *value = field ? vmread(field) : rdtsc() + vmread(VMCS_TSC_OFFSET);
    vmcs_release(vcpu, acquired);
    return true;
}

/* LME cannot change under paging: it would switch modes behind the
 * guest's back (#GP on a CPU). */
static bool set_efer(struct vcpu *vcpu, uint64_t value)
{
    bool paging = vmx_guest_cr0() & CR0_PG;
    if (paging && ((value ^ vmread(VMCS_GUEST_EFER)) & EFER_LME))
        return false;
    vmx_write_efer(vcpu, value);
    return true;
}

bool vmx_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value)
{
    uint32_t field = plain_field(index);
    bool ok = true;
    if (!field && index != MSR_IA32_TSC)
        return false;
    bool acquired = vmcs_acquire(vcpu);
    if (index == MSR_EFER)
        ok = set_efer(vcpu, value);
    else if (index == MSR_IA32_TSC) {
        uint64_t offset = value - rdtsc();
        vmwrite(VMCS_TSC_OFFSET, offset);
        vlapic_set_tsc_offset(&vcpu->lapic, offset);
    } else
        vmwrite(field, value);
    vmcs_release(vcpu, acquired);
    return ok;
}
