#include "hv/msr_emulate.h"

#include "hv/msr.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/vcpu_msrs.h"
#include "hv/virt.h"
#include "hv/vm.h"

#define MSR_BIOS_SIGN_ID   0x0000008b  /* SDM vol. 4: IA32_BIOS_SIGN_ID, microcode revision */
#define MSR_MTRR_CAP       0x000000fe
#define MSR_MISC_ENABLE    0x000001a0
#define MSR_MTRR_DEF_TYPE  0x000002ff
#define MSR_AMD_NB_CFG     0xc001001f  /* APM vol. 2 / BKDG: northbridge config */
#define MSR_AMD_HWCR       0xc0010015  /* APM vol. 2: hardware configuration */
/* HWCR.TscFreqSel: the TSC counts at the P0 frequency, read-only 1 on
 * every AMD CPU since family 10h; Linux reads HWCR unchecked on AMD and
 * warns of a firmware bug without it. A guest's TSC is the host's,
 * invariant, so the bit is the truth; the rest of HWCR is the reset's 0. */
#define HWCR_TSC_FREQ_SEL  (1ull << 24)
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
    case MSR_BIOS_SIGN_ID: /* no microcode update loaded (revision 0) */
        *value = 0;
        return true;
    case MSR_AMD_HWCR:
        *value = HWCR_TSC_FREQ_SEL;
        return true;
    default:
        return vcpu_get_msr(vcpu, msr, value);
    }
}

/* A guest's WRMSR that moves its TSC by some amount moves IA32_TSC_ADJUST
 * by the same, and one to IA32_TSC_ADJUST moves the TSC (SDM 3B
 * 17.17.3): Linux compares the two across CPUs to trust the TSC. */
static bool guest_tsc_write(struct vcpu *vcpu, uint32_t msr, uint64_t value)
{
    uint64_t tsc, adjust;

    if (!vcpu_get_msr(vcpu, MSR_IA32_TSC, &tsc))
        return false;
    if (msr == MSR_IA32_TSC) {
        if (!vcpu_set_msr(vcpu, MSR_IA32_TSC, value))
            return false;
        vcpu->tsc_adjust += value - tsc;
        return true;
    }
    if (!vcpu_get_msr(vcpu, MSR_IA32_TSC_ADJUST, &adjust) ||
        !vcpu_set_msr(vcpu, MSR_IA32_TSC, tsc + (value - adjust)))
        return false;
    vcpu->tsc_adjust = value;
    return true;
}

static bool msr_write(struct vcpu *vcpu, uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_IA32_TSC:
    case MSR_IA32_TSC_ADJUST:
        return guest_tsc_write(vcpu, msr, value);
    case MSR_IA32_APIC_BASE:
    case MSR_MTRR_DEF_TYPE:
        return true; /* accepted and ignored: no APIC or MTRRs to move */
    case MSR_AMD_NB_CFG:
        return true; /* no northbridge: Linux sets EnableCf8ExtCfg, unchecked */
    case MSR_AMD_HWCR:
        return value == HWCR_TSC_FREQ_SEL; /* a constant: #GP for a change */
    case MSR_BIOS_SIGN_ID:
        /* The write of 0 before CPUID that makes a CPU load its microcode
         * revision (SDM vol. 3A 10.11.7); Linux does it on every Intel CPU,
         * unchecked. There is nothing to load. */
        return true;
    default:
        return vcpu_set_msr(vcpu, msr, value);
    }
}

/* The MSRs the hypervisor answers itself, with a value or with #GP: the
 * vcpu's own (hv/vcpu_msrs.h, the speculation controls among them, which
 * follow the host's CPUID), the local APIC's and the few above. */
static bool handled_here(const struct vcpu *vcpu, uint32_t msr)
{
    switch (msr) {
    case MSR_IA32_APIC_BASE:
    case MSR_MTRR_CAP:
    case MSR_MTRR_DEF_TYPE:
    case MSR_MISC_ENABLE:
    case MSR_AMD_NB_CFG:
    case MSR_AMD_HWCR:
    case MSR_BIOS_SIGN_ID:
        return true;
    }
    if (vcpu->vm->lapic &&
        (msr == MSR_TSC_DEADLINE || (msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST)))
        return true;
    return vcpu_msr_known(msr);
}

/* HV_VM_USER_MSR: the access goes to the VMM; the instruction stays at
 * RIP until its answer comes with the next RUN. */
static int user_exit(struct vcpu *vcpu, const struct exit_record *exit, uint32_t msr)
{
    struct hv_run *run = vcpu->run;
    bool read = exit->kind == EXIT_MSR_READ;
    run->msr.error = 0;
    run->msr.index = msr;
    run->msr.data = read ? 0 : (vcpu->gprs.rdx << 32) | (uint32_t)vcpu->gprs.rax;
    vcpu->msr_exit_length = (uint8_t)exit->instruction_length;
    vcpu->state = read ? VCPU_MSR_READ_EXIT : VCPU_MSR_WRITE_EXIT;
    return read ? HV_EXIT_X86_RDMSR : HV_EXIT_X86_WRMSR;
}

void msr_complete_user_exit(struct vcpu *vcpu, const struct hv_run *run)
{
    bool read = vcpu->state == VCPU_MSR_READ_EXIT;
    vcpu->state = VCPU_RUNNABLE;
    if (__atomic_load_n(&run->msr.error, __ATOMIC_RELAXED)) {
        virt->inject_exception(vcpu, VECTOR_GP, true, 0);
        return;
    }
    if (read) {
        uint64_t data = __atomic_load_n(&run->msr.data, __ATOMIC_RELAXED);
        vcpu->gprs.rax = (uint32_t)data;
        vcpu->gprs.rdx = data >> 32;
    }
    struct exit_record skip = { .instruction_length = vcpu->msr_exit_length };
    virt->skip_instruction(vcpu, &skip);
}

int msr_emulate(struct vcpu *vcpu, const struct exit_record *exit)
{
    struct guest_gprs *g = &vcpu->gprs;
    uint32_t msr = (uint32_t)g->rcx;
    bool ok;
    int stop = -1;
    if (vcpu->vm->user_msr && !handled_here(vcpu, msr))
        return user_exit(vcpu, exit, msr);
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
