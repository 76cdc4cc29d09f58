/* Software switching of the MSRs VM entry and exit leave alone (interface
 * and rationale in hv/msr_switch.h). */
#include "hv/msr_switch.h"

#include "hv/msr.h"
#include "hv/virt.h"
#include "hv/x86.h"

#define CPUID_80000001_EDX_RDTSCP (1u << 27)
#define CPUID_7_ECX_RDPID         (1u << 22)

static const uint32_t msr_index[KEPT_MSR_COUNT] = {
    [KEPT_STAR] = MSR_STAR,
    [KEPT_LSTAR] = MSR_LSTAR,
    [KEPT_CSTAR] = MSR_CSTAR,
    [KEPT_SFMASK] = MSR_SFMASK,
    [KEPT_KERNEL_GS_BASE] = MSR_KERNEL_GS_BASE,
    [KEPT_TSC_AUX] = MSR_TSC_AUX,
};

/* KEPT_BITs this CPU switches: the backend's, less those the CPU lacks. */
static uint32_t switched;

/* What a guest changes without an exit, so that the copy must be read back
 * when its values leave the CPU: KERNEL_GS_BASE, by SWAPGS (and by WRMSR,
 * which VMX's MSR bitmap lets through, vmx_bitmaps.c). Every other one is
 * written only through msr_switch_set, which keeps copy and CPU equal. */
#define WRITTEN_WITHOUT_EXIT KEPT_BIT(KEPT_KERNEL_GS_BASE)

void msr_switch_probe(void)
{
    switched = virt->software_switched_msrs;
    bool rdtscp = cpuid_eax(0x80000000) >= 0x80000001 &&
                  (cpuid_edx(0x80000001) & CPUID_80000001_EDX_RDTSCP);
    uint32_t a, b, c = 0, d;
    if (cpuid_eax(0) >= 7)
        cpuid_count(7, 0, &a, &b, &c, &d);
    if (!rdtscp && !(c & CPUID_7_ECX_RDPID))
        switched &= ~KEPT_BIT(KEPT_TSC_AUX); /* no such MSR: the copy is all */
}

static int kept_slot(uint32_t index)
{
    for (int k = 0; k < KEPT_MSR_COUNT; k++)
        if (msr_index[k] == index)
            return k;
    return -1;
}

bool msr_switch_owns(uint32_t index)
{
    int k = kept_slot(index);
    return k >= 0 && (virt->software_switched_msrs & KEPT_BIT(k));
}

uint64_t msr_switch_get(const struct vcpu *vcpu, uint32_t index)
{
    int k = kept_slot(index);
    if (vcpu->msrs_live && (switched & KEPT_BIT(k)))
        return rdmsr(index);
    return vcpu->kept_msrs.value[k];
}

void msr_switch_set(struct vcpu *vcpu, uint32_t index, uint64_t value)
{
    int k = kept_slot(index);
    vcpu->kept_msrs.value[k] = value;
    if (vcpu->msrs_live && (switched & KEPT_BIT(k)))
        wrmsr(index, value); /* hv/vcpu_msrs.c checked it as WRMSR would */
}

void msr_switch_load(struct vcpu *control)
{
    for (uint32_t bits = switched; bits; bits &= bits - 1) {
        int k = __builtin_ctz(bits);
        wrmsr(msr_index[k], control->kept_msrs.value[k]);
    }
    control->msrs_live = true;
}

/* `from`'s values are in the CPU; makes them `to`'s. A WRMSR costs far
 * more than a compare (it serialises on most CPUs), and the control domain
 * and a simple guest often agree (zero), so only differing ones are
 * written. */
static void hand_over(struct vcpu *from, struct vcpu *to)
{
    uint64_t *now = from->kept_msrs.value;
    const uint64_t *next = to->kept_msrs.value;
    for (uint32_t bits = switched & WRITTEN_WITHOUT_EXIT; bits; bits &= bits - 1) {
        int k = __builtin_ctz(bits);
        now[k] = rdmsr(msr_index[k]);
    }
    for (uint32_t bits = switched; bits; bits &= bits - 1) {
        int k = __builtin_ctz(bits);
        if (now[k] != next[k])
            wrmsr(msr_index[k], next[k]);
    }
    from->msrs_live = false;
    to->msrs_live = true;
}

void msr_switch_to_child(struct vcpu *control, struct vcpu *child)
{
    hand_over(control, child);
}

void msr_switch_to_control(struct vcpu *child, struct vcpu *control)
{
    hand_over(child, control);
}
