#include "hv/vcpu_msrs.h"

#include "hv/cpuid.h"
#include "hv/msr.h"
#include "hv/msr_switch.h"
#include "hv/speculation.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/virt.h"
#include "hv/vm.h"

/* EFER bits a guest may set: SCE, LME, LMA (recomputed on write), NXE. */
#define EFER_GUEST_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

static bool virtualised(uint32_t index)
{
    switch (index) {
    case MSR_IA32_TSC:
    case MSR_IA32_SYSENTER_CS:
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
    case MSR_IA32_PAT:
    case MSR_EFER:
    case MSR_STAR:
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_SFMASK:
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
    case MSR_TSC_AUX:
        return true;
    default:
        return false;
    }
}

bool vcpu_msr_known(uint32_t index)
{
    return speculation_is_msr(index) || virtualised(index) || index == MSR_IA32_TSC_ADJUST;
}

/* Memory types 2, 3 and above 7 are reserved (SDM 3A 11.12.2). */
static bool pat_valid(uint64_t pat)
{
    for (int i = 0; i < 8; i++) {
        uint8_t type = (uint8_t)(pat >> (8 * i));
        if (type == 2 || type == 3 || type > 7)
            return false;
    }
    return true;
}

/* 48-bit canonical: VM entry refuses other FS/GS and SYSENTER bases, and
 * WRMSR raises #GP for them (SDM 3C 26.3.1.1). */
static bool canonical(uint64_t address)
{
    return (uint64_t)((int64_t)(address << 16) >> 16) == address;
}

/* What WRMSR would accept; checks that need the vcpu's state (EFER.LME
 * against paging) are the backend's. */
static bool value_valid(uint32_t index, uint64_t value)
{
    switch (index) {
    case MSR_EFER:
        return !(value & ~EFER_GUEST_BITS);
    case MSR_IA32_PAT:
        return pat_valid(value);
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
        return canonical(value);
    case MSR_IA32_SYSENTER_CS:  /* a 32-bit VMCS field: keep both backends equal */
    case MSR_SFMASK:            /* bits 63:32 reserved */
    case MSR_TSC_AUX:           /* bits 63:32 reserved */
        return value >> 32 == 0;
    default:                    /* STAR, TSC: any value */
        return true;
    }
}

/* Three homes: the speculation controls (which exist only where the CPU
 * has them), the kept MSRs (the CPU's while the vcpu's values are live,
 * else the vcpu's copies), and the backend's VMCB or VMCS for the rest. */
bool vcpu_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value)
{
    if (speculation_is_msr(index))
        return speculation_get_msr(vcpu, index, value);
    if (index == MSR_TSC_DEADLINE && vcpu->vm->lapic) {
        bool ok;
        return vcpu_lapic_msr_read(vcpu, index, value, &ok) && ok;
    }
    if (index == MSR_IA32_TSC_ADJUST) {
        *value = vcpu->tsc_adjust;
        return cpuid_offers_tsc_adjust();
    }
    if (!virtualised(index))
        return false;
    if (msr_switch_owns(index)) {
        *value = msr_switch_get(vcpu, index);
        return true;
    }
    return virt->get_msr(vcpu, index, value);
}

/* SET_MSRS of IA32_TSC_ADJUST sets the value and leaves the TSC alone,
 * so that a VMM restores both as they were (KVM's host-initiated write);
 * the guest's own WRMSR moves its TSC too (msr_emulate.c). */
bool vcpu_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value)
{
    if (speculation_is_msr(index))
        return speculation_set_msr(vcpu, index, value);
    if (index == MSR_TSC_DEADLINE && vcpu->vm->lapic) {
        bool ok;
        int stop;
        return vcpu_lapic_msr_write(vcpu, index, value, &ok, &stop) && ok;
    }
    if (index == MSR_IA32_TSC_ADJUST) {
        if (!cpuid_offers_tsc_adjust())
            return false;
        vcpu->tsc_adjust = value;
        return true;
    }
    if (!virtualised(index) || !value_valid(index, value))
        return false;
    if (msr_switch_owns(index)) {
        msr_switch_set(vcpu, index, value);
        return true;
    }
    return virt->set_msr(vcpu, index, value);
}
