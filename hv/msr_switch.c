/* Software switching of the MSRs VM entry and exit leave alone (interface
 * and rationale in hv/msr_switch.h).
 *
 * Why not VMX's MSR lists. The alternative on VMX is the VM-entry MSR-load
 * list (the child's six), the VM-exit MSR-store list (into the same area)
 * and the VM-exit MSR-load list (the control domain's six, its
 * KERNEL_GS_BASE read on each RUN). `make bench`, RUN round trip of a
 * guest OUT, instructions, median of 1000 (Bochs corei7_skylake_x for
 * VMX, QEMU -icount for SVM):
 *
 *                                 VMX    SVM
 *   before (nothing switched)     561    474
 *   switching here, at RUN        603    498
 *   MSR lists (VMX prototype)     585      -
 *
 * and 98 instructions for a guest CPUID handled inside RUN either way.
 * The lists look 18 instructions cheaper only because the emulator counts
 * a VM entry or exit as one instruction whatever its lists hold: the CPU
 * moves 18 MSRs on every exit and entry, the in-hypervisor ones (CPUID,
 * MSRs, interrupts) included, where this file costs two RDMSRs per RUN
 * and a WRMSR only for a value that differs. Each list entry is an MSR
 * read or write done by the CPU, not free as the count suggests: counted
 * in MSR accesses, the lists cost 18 per exit against at most 14 per RUN
 * here (2 when the vcpus agree, as in this benchmark), so they are the
 * dearer on every path, and more so the more exits a RUN handles itself.
 * Hence switching here. */
#include "hv/msr_switch.h"

#include "hv/virt.h"

#define CPUID_80000001_EDX_RDTSCP (1u << 27)
#define CPUID_7_ECX_RDPID         (1u << 22)

struct msr_switch_plan msr_switch_plan;

static const uint32_t msr_index[KEPT_MSR_COUNT] = {
    [KEPT_STAR] = MSR_STAR,
    [KEPT_LSTAR] = MSR_LSTAR,
    [KEPT_CSTAR] = MSR_CSTAR,
    [KEPT_SFMASK] = MSR_SFMASK,
    [KEPT_KERNEL_GS_BASE] = MSR_KERNEL_GS_BASE,
    [KEPT_TSC_AUX] = MSR_TSC_AUX,
};

void msr_switch_probe(void)
{
    uint32_t switched = virt->software_switched_msrs;
    bool rdtscp = cpuid_eax(0x80000000) >= 0x80000001 &&
                  (cpuid_edx(0x80000001) & CPUID_80000001_EDX_RDTSCP);
    uint32_t a, b, c = 0, d;
    if (cpuid_eax(0) >= 7)
        cpuid_count(7, 0, &a, &b, &c, &d);
    if (!rdtscp && !(c & CPUID_7_ECX_RDPID))
        switched &= ~KEPT_BIT(KEPT_TSC_AUX); /* no such MSR: the copy is all */
    msr_switch_plan.kernel_gs_base = switched & KEPT_BIT(KEPT_KERNEL_GS_BASE);
    msr_switch_plan.by_set = switched & ~KEPT_BIT(KEPT_KERNEL_GS_BASE);
}

static int kept_slot(uint32_t index)
{
    for (int k = 0; k < KEPT_MSR_COUNT; k++)
        if (msr_index[k] == index)
            return k;
    return -1;
}

/* Whether the CPU holds MSR k for the vcpu whose values are live. */
static bool switched(int k)
{
    return (msr_switch_plan.by_set & KEPT_BIT(k)) ||
           (k == KEPT_KERNEL_GS_BASE && msr_switch_plan.kernel_gs_base);
}

bool msr_switch_owns(uint32_t index)
{
    int k = kept_slot(index);
    return k >= 0 && (virt->software_switched_msrs & KEPT_BIT(k));
}

uint64_t msr_switch_get(const struct vcpu *vcpu, uint32_t index)
{
    int k = kept_slot(index);
    if (vcpu->msrs_live && switched(k))
        return rdmsr(index);
    return vcpu->kept_msrs.value[k];
}

void msr_switch_set(struct vcpu *vcpu, uint32_t index, uint64_t value)
{
    int k = kept_slot(index);
    vcpu->kept_msrs.value[k] = value;
    if (value)
        vcpu->kept_msrs.nonzero |= KEPT_BIT(k);
    else
        vcpu->kept_msrs.nonzero &= ~KEPT_BIT(k);
    if (vcpu->msrs_live && switched(k))
        wrmsr(index, value); /* hv/vcpu_msrs.c checked it as WRMSR would */
}

void msr_switch_load(struct vcpu *control)
{
    for (int k = 0; k < KEPT_MSR_COUNT; k++)
        if (switched(k))
            wrmsr(msr_index[k], control->kept_msrs.value[k]);
    control->msrs_live = true;
}

/* A WRMSR costs far more than a compare (it serialises on most CPUs), and
 * two vcpus often agree (a guest that never uses SYSCALL, TSC_AUX set
 * alike): only differing values are written. */
void msr_switch_differing(const struct vcpu *from, const struct vcpu *to)
{
    const uint64_t *now = from->kept_msrs.value, *next = to->kept_msrs.value;
    for (uint32_t bits = msr_switch_plan.by_set; bits; bits &= bits - 1) {
        int k = __builtin_ctz(bits);
        if (now[k] != next[k])
            wrmsr(msr_index[k], next[k]);
    }
}
