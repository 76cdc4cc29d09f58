#include "hv/msr_emulate.h"

#include "hv/msr.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/vcpu_msrs.h"
#include "hv/virt.h"
#include "hv/vm.h"

#define MSR_MTRR_CAP       0x000000fe
#define MSR_MISC_ENABLE    0x000001a0
#define MSR_MTRR_DEF_TYPE  0x000002ff
#define MSR_AMD_NB_CFG     0xc001001f  /* APM vol. 2 / BKDG: northbridge config */
#define VECTOR_GP          13

/* A few MSRs a guest's boot code probes are answered here; every other one
 * is a vcpu MSR (hv/vcpu_msrs.c), the same one GET_MSRS reads. */
static bool msr_read(struct vcpu *vcpu, uint32_t msr, uint64_t *value)
{
    switch (msr) {
    case MSR_IA32_APIC_BASE:
        *value = 0xfee00000ull | APIC_BASE_ENABLE | (vcpu->slot == 0 ? APIC_BASE_BSP : 0);
        return true;
    case MSR_MTRR_CAP:
    case MSR_MTRR_DEF_TYPE:
    case MSR_MISC_ENABLE:
    case MSR_AMD_NB_CFG:
        *value = 0;
        return true;
    default:
        return vcpu_get_msr(vcpu, msr, value);
    }
}

static bool msr_write(struct vcpu *vcpu, uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_IA32_APIC_BASE:
    case MSR_MTRR_DEF_TYPE:
        return true; /* accepted and ignored: no APIC or MTRRs to move */
    case MSR_AMD_NB_CFG:
        return true; /* no northbridge: Linux sets EnableCf8ExtCfg, unchecked */
    default:
        return vcpu_set_msr(vcpu, msr, value);
    }
}

int msr_emulate(struct vcpu *vcpu, const struct exit_record *exit)
{
    struct guest_gprs *g = &vcpu->gprs;
    uint32_t msr = (uint32_t)g->rcx;
    bool ok;
    int stop = -1;
    if (exit->kind == EXIT_MSR_READ) {
        uint64_t value = 0;
        if (!vcpu->vm->lapic || !vcpu_lapic_msr_read(vcpu, msr, &value, &ok))
            ok = msr_read(vcpu, msr, &value);
        if (ok) {
            g->rax = (uint32_t)value;
            g->rdx = value >> 32;
        }
    } else {
        uint64_t value = (g->rdx << 32) | (uint32_t)g->rax;
        if (!vcpu->vm->lapic || !vcpu_lapic_msr_write(vcpu, msr, value, &ok, &stop))
            ok = msr_write(vcpu, msr, value);
    }
    if (ok)
        virt->skip_instruction(vcpu, exit);
    else
        virt->inject_exception(vcpu, VECTOR_GP, true, 0);
    return stop;
}
