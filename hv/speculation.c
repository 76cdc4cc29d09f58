/* Speculation controls: feature detection, the three MSRs as each vcpu sees
 * them, and the IBPB policy between VMs (interface in hv/speculation.h).
 *
 * IBPB policy. A CPU issues an IBPB before it enters a child vcpu whose VM
 * is not the last child VM that ran on this CPU: no VM can then steer the
 * indirect-branch predictions of another VM (Spectre v2 across guests),
 * however their vcpus interleave with the control domain. vcpus of one VM
 * trust each other and share none (KVM's rule on vcpu load as well).
 * There is no IBPB between a child and the control domain:
 *   - control domain -> child would protect a child from the one domain
 *     that can read all its memory anyway;
 *   - child -> control domain (the VMSCAPE pattern: a guest training the
 *     predictors its VMM's code then uses) would cost an IBPB on every
 *     RUN that entered the guest, the hottest path of the product (an
 *     IBPB takes thousands of cycles). The control domain is the
 *     project's own code; README lists this as a known limit.
 * VMs are told apart by vm->id, never by address: a VM freed and another
 * allocated in its place still gets its IBPB. The control domain, the
 * first VM made, has id 0, which no child has: a CPU's first child always
 * gets one.
 */
#include "hv/speculation.h"

#include "hv/console.h"

struct speculation_features speculation;

void speculation_probe(void)
{
    uint32_t a, b, c, d, d7 = 0, b8 = 0;
    if (cpuid_eax(0) >= 7) {
        cpuid_count(7, 0, &a, &b, &c, &d);
        d7 = d;
    }
    if (cpuid_eax(0x80000000) >= 0x80000008) {
        cpuid_count(0x80000008, 0, &a, &b, &c, &d);
        b8 = b;
    }
    struct speculation_features *s = &speculation;
    uint64_t arch_capabilities = (d7 & CPUID_7_EDX_ARCH_CAPABILITIES)
                                     ? rdmsr(MSR_IA32_ARCH_CAPABILITIES) : 0;
    speculation_features_decode(d7, b8, arch_capabilities, s);
    /* Firmware's choice stays the hypervisor's own on every CPU; vcpus
     * start at 0 and get theirs around each entry. */
    if (s->spec_ctrl_bits)
        s->host_spec_ctrl = rdmsr(MSR_IA32_SPEC_CTRL) & s->spec_ctrl_bits;
    pr_info("cpu: speculation controls for guests: SPEC_CTRL bits 0x%llx, IBPB %s, "
            "ARCH_CAPABILITIES %s", (unsigned long long)s->spec_ctrl_bits,
            s->ibpb ? "yes" : "no", s->arch_capabilities ? "yes" : "no");
}

void speculation_enable_cpu(void)
{
    if (speculation.spec_ctrl_bits)
        wrmsr(MSR_IA32_SPEC_CTRL, speculation.host_spec_ctrl);
}

bool speculation_is_msr(uint32_t index)
{
    return index == MSR_IA32_SPEC_CTRL || index == MSR_IA32_PRED_CMD ||
           index == MSR_IA32_ARCH_CAPABILITIES;
}

bool speculation_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value)
{
    if (index == MSR_IA32_SPEC_CTRL && speculation.spec_ctrl_bits) {
        *value = vcpu->spec_ctrl;
        return true;
    }
    if (index == MSR_IA32_ARCH_CAPABILITIES && speculation.arch_capabilities) {
        *value = speculation.arch_capabilities_value;
        return true;
    }
    return false; /* PRED_CMD is write-only: RDMSR of it raises #GP */
}

bool speculation_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value)
{
    if (index == MSR_IA32_SPEC_CTRL && speculation.spec_ctrl_bits &&
        !(value & ~speculation.spec_ctrl_bits)) {
        /* Loaded at the next entry (spec_ctrl_enter_guest), or by the
         * VMCB on SVM with V_SPEC_CTRL. */
        vcpu->spec_ctrl = value;
        return true;
    }
    if (index == MSR_IA32_PRED_CMD && speculation.ibpb && !(value & ~PRED_CMD_IBPB)) {
        /* The barrier is for the caller's own predictions: doing it now,
         * on this CPU, is what the guest's WRMSR would have done. */
        if (value)
            wrmsr(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
        return true;
    }
    return false;
}

void speculation_ibpb_switch(struct percpu *cpu, uint32_t vm_id)
{
    wrmsr(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
    cpu->last_child_vm = vm_id;
    /* Read by GET_STATS on other CPUs: one aligned 64-bit store. */
    __atomic_store_n(&cpu->ibpb_switches, cpu->ibpb_switches + 1, __ATOMIC_RELAXED);
}

uint64_t speculation_ibpb_switches(void)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < cpu_count; i++)
        if (percpu_of[i])
            sum += __atomic_load_n(&percpu_of[i]->ibpb_switches, __ATOMIC_RELAXED);
    return sum;
}
