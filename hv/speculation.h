/* Speculation controls: which of SPEC_CTRL, PRED_CMD and ARCH_CAPABILITIES
 * the CPU has, each vcpu's own SPEC_CTRL loaded while it runs, and an IBPB
 * (indirect branch prediction barrier) when a CPU moves from one child VM
 * to another.
 *
 * Availability follows the host's CPUID, the rule guest CPUID follows too
 * (a feature bit is shown to a guest iff the host CPU has it): leaf 7 EDX
 * on Intel (SDM vol. 2A, CPUID; vol. 4, 2.1), leaf 0x80000008 EBX on AMD
 * (APM vol. 3, E.4.17). An MSR the CPU lacks gives #GP to the guest and
 * stops GET/SET_MSRS, as any MSR the hypervisor does not virtualise.
 *
 * Locking: `speculation` is written once on the BSP before any vcpu
 * exists and only read after. vcpu->spec_ctrl belongs to the CPU that has
 * claimed the vcpu; the per-CPU fields to their own CPU. */
#ifndef HV_SPECULATION_H
#define HV_SPECULATION_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/msr.h"
#include "hv/percpu.h"
#include "hv/speculation_features.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/x86.h"

extern struct speculation_features speculation;

/* Reads the host's CPUID (and ARCH_CAPABILITIES), on the BSP before the
 * control domain is built. */
void speculation_probe(void);
/* Gives the calling CPU the hypervisor's SPEC_CTRL, before its first
 * vcpu runs. */
void speculation_enable_cpu(void);

/* SPEC_CTRL, PRED_CMD and ARCH_CAPABILITIES of a vcpu, for GET/SET_MSRS
 * and the guest's RDMSR/WRMSR (hv/vcpu_msrs.c). false where the CPU lacks
 * the MSR, for reading PRED_CMD (write-only) or writing ARCH_CAPABILITIES
 * (read-only), and for values with bits the CPU does not have. */
bool speculation_is_msr(uint32_t index);
bool speculation_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value);
bool speculation_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value);

/* IBPBs issued on VM switches, summed over CPUs (GET_STATS). */
uint64_t speculation_ibpb_switches(void);

void speculation_ibpb_switch(struct percpu *cpu, uint32_t vm_id);

/* RUN, before a child vcpu enters on `cpu` (this CPU): an IBPB if it last ran a child
 * of another VM, so that no VM trains the branch predictors another VM
 * then uses. Between a child and its control domain there is none (see
 * speculation.c for why). */
static inline void speculation_enter_child(const struct vcpu *vcpu, struct percpu *cpu)
{
    if (!speculation.ibpb)
        return;
    if (cpu->last_child_vm != vcpu->vm->id)
        speculation_ibpb_switch(cpu, vcpu->vm->id);
}

/* SPEC_CTRL by hand around each entry, where the hardware does not switch
 * it: the vcpu's value while it runs, the hypervisor's while the
 * hypervisor does. The guest's WRMSR exits (only reads are passed
 * through), so vcpu->spec_ctrl always holds what the guest last wrote, and
 * its RDMSR reads the CPU, which holds that value. Called with
 * interrupts off, right before entering and right after the exit. */
static inline void spec_ctrl_enter_guest(const struct vcpu *vcpu)
{
    if (vcpu->spec_ctrl != speculation.host_spec_ctrl)
        wrmsr(MSR_IA32_SPEC_CTRL, vcpu->spec_ctrl);
}

static inline void spec_ctrl_leave_guest(const struct vcpu *vcpu)
{
    if (vcpu->spec_ctrl != speculation.host_spec_ctrl)
        wrmsr(MSR_IA32_SPEC_CTRL, speculation.host_spec_ctrl);
}

#endif
