/* The MSRs that VM entry and exit leave alone on this backend (VMX: STAR,
 * LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, TSC_AUX; SVM: TSC_AUX), switched
 * by software when a CPU goes from its control-domain vcpu into a child's
 * RUN and back.
 *
 * Why at RUN boundaries and not on every entry: the hypervisor itself never
 * executes SYSCALL, SWAPGS, RDTSCP or RDPID, so these MSRs only have to
 * hold the values of whichever vcpu runs on the CPU. The control domain's
 * vcpu owns them from the CPU's start; a child's RUN, which the hypervisor
 * serves inside the control domain's exit on the same CPU, borrows them
 * until it returns. Exits handled inside RUN (CPUID, MSRs, interrupts)
 * cost nothing extra. msr_switch.c compares this with VMX's MSR load and
 * store lists, figures included.
 *
 * VMX's CR2 goes the same way (`cr2` below): VM entry and exit leave it
 * alone too, the guest changes it without an exit (its page faults, MOV
 * to CR2) and the hypervisor takes no page fault, so a child's CR2 is in
 * the CPU exactly while its MSRs are. Only a child's is switched: the
 * control domain survives no page fault of its own and may read every
 * child's state, so after a RUN its CR2 is the child's.
 *
 * Which vcpu's values are in the CPU is vcpu->msrs_live: a child's inside
 * its RUN; the control domain's vcpu's always, which is true whenever
 * anything looks (msr_switch_to_child). Everything here runs on the CPU that
 * has claimed the vcpus involved, with interrupts off. */
#ifndef HV_MSR_SWITCH_H
#define HV_MSR_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/msr.h"
#include "hv/vcpu.h"
#include "hv/x86.h"

/* Bits of enum kept_msr, for virt_backend.software_switched_msrs. */
#define KEPT_BIT(k)           (1u << (k))
#define KEPT_SYSCALL_MSRS     (KEPT_BIT(KEPT_STAR) | KEPT_BIT(KEPT_LSTAR) |      \
                               KEPT_BIT(KEPT_CSTAR) | KEPT_BIT(KEPT_SFMASK) |    \
                               KEPT_BIT(KEPT_KERNEL_GS_BASE))
/* What each backend's entry and exit leave to software: SVM's VMLOAD and
 * VMSAVE switch the syscall MSRs and KERNEL_GS_BASE, VMX switches none of
 * them. */
#define SVM_SOFTWARE_SWITCHED_MSRS KEPT_BIT(KEPT_TSC_AUX)
#define VMX_SOFTWARE_SWITCHED_MSRS (KEPT_SYSCALL_MSRS | KEPT_BIT(KEPT_TSC_AUX))

/* What this CPU switches, set once by msr_switch_probe. KERNEL_GS_BASE is
 * apart: the guest changes it without an exit (SWAPGS, and WRMSR, which
 * VMX's MSR bitmap lets through), so it is read back each time. Every
 * other one changes only through msr_switch_set, which keeps the copy,
 * its `nonzero` bit and the CPU in step. */
struct msr_switch_plan {
    uint32_t by_set;              /* KEPT_BITs but KERNEL_GS_BASE */
    bool kernel_gs_base;
};
extern struct msr_switch_plan msr_switch_plan;

/* Picks the MSRs to switch from the backend's list and the CPU (TSC_AUX
 * only exists with RDTSCP or RDPID). On the BSP, after virt_select. */
void msr_switch_probe(void);

/* Whether `index` is one of the MSRs the backend leaves to software (the
 * others live in its VMCB or VMCS), and its value: the CPU's while the
 * vcpu's values are live, else the copy. A write to a live vcpu's MSR goes
 * to the CPU as well. */
bool msr_switch_owns(uint32_t index);
uint64_t msr_switch_get(const struct vcpu *vcpu, uint32_t index);
void msr_switch_set(struct vcpu *vcpu, uint32_t index, uint64_t value);

/* The control-domain vcpu `control` takes the CPU's MSRs: on its CPU,
 * before it first runs. */
void msr_switch_load(struct vcpu *control);

/* Writes `to`'s values of plan.by_set where they differ from `from`'s. */
void msr_switch_differing(const struct vcpu *from, const struct vcpu *to);

/* `from`'s values are in the CPU; makes them `to`'s. Inline, as it is on
 * every RUN: when neither vcpu has a non-zero value among plan.by_set (the
 * control domain and a guest that never set them) the CPU already holds
 * the right ones, and only KERNEL_GS_BASE costs a RDMSR. kernel_gs_base
 * is msr_switch_plan.kernel_gs_base, which RUN's caller knows as a
 * constant of its backend (the backend's software_switched_msrs). The
 * value is compared in halves, as RDMSR and WRMSR give and take it. */
static inline void msr_switch_hand_over(struct vcpu *from, struct vcpu *to,
                                        bool kernel_gs_base)
{
    if (kernel_gs_base) {
        /* In one asm statement: RDMSR's halves go to `from` and are
         * compared with `to`'s as they are, WRMSR only when they differ. */
        __asm__ volatile("rdmsr\n\t"
                         "mov %%eax, %c2(%0)\n\t"
                         "mov %%edx, %c2+4(%0)\n\t"
                         "cmp %c2(%1), %%eax\n\t"
                         "jne 1f\n\t"
                         "cmp %c2+4(%1), %%edx\n\t"
                         "je 2f\n"
                         "1:\tmov %c2(%1), %%eax\n\t"
                         "mov %c2+4(%1), %%edx\n\t"
                         "wrmsr\n"
                         "2:"
                         :: "r"(from), "r"(to),
                            "i"(offsetof(struct vcpu, kept_msrs.value[KEPT_KERNEL_GS_BASE])),
                            "c"(MSR_KERNEL_GS_BASE)
                         : "rax", "rdx", "memory", "cc");
    }
    if ((from->kept_msrs.nonzero | to->kept_msrs.nonzero) & msr_switch_plan.by_set)
        msr_switch_differing(from, to);
}

/* RUN: `child` borrows the MSRs from `control`, and gives them back. Only
 * the child's msrs_live changes: the control domain's vcpu keeps it set,
 * as nothing reads or writes its MSRs while one of its RUNs has a child's
 * loaded (its own RDMSR and WRMSR exit only while it runs). */
static inline void msr_switch_to_child(struct vcpu *control, struct vcpu *child,
                                       bool kernel_gs_base, bool cr2)
{
    msr_switch_hand_over(control, child, kernel_gs_base);
    /* Written only where the CPU holds another value: MOV to CR2 costs
     * more than reading it. */
    if (cr2 && read_cr2() != child->cr2)
        write_cr2(child->cr2);
    child->msrs_live = true;
}

static inline void msr_switch_to_control(struct vcpu *child, struct vcpu *control,
                                         bool kernel_gs_base, bool cr2)
{
    msr_switch_hand_over(child, control, kernel_gs_base);
    if (cr2)
        child->cr2 = read_cr2();
    child->msrs_live = false;
}

#endif
