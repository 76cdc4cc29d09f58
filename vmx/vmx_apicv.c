/* VMX's APIC-register virtualization (SDM 3C 29.1-29.4) for VMs with
 * local APICs, where the CPU has it (vmx_features): the vlapic's register
 * page is the vcpu's virtual-APIC page, and the VM's APIC-access page
 * (hv/vm.c) sits at the APIC's default base in its EPT. The guest's xAPIC
 * reads of most registers then come from the page without an exit, its
 * TPR writes land there too (an exit only when one goes below the TPR
 * threshold), and its other writes exit after the fact, trap-like, with
 * the register's offset (EXIT_APIC_WRITE): no instruction to fetch or
 * decode. Reads of PPR and the timer's current count, and accesses of
 * other sizes or offsets, exit fault-like as APIC accesses, which the
 * general path emulates as it does the nested faults of a VM without the
 * page. Interrupts are still injected by the hypervisor: no virtual-
 * interrupt delivery, so the vlapic stays the only state there is.
 *
 * Virtualization is on only while the vcpu's APIC is in xAPIC mode at the
 * default base; a vcpu in x2APIC mode or with its APIC off reaches the
 * APIC-access page as memory at that address, as under KVM's APICv. */
#include "hv/memory.h"
#include "hv/vcpu.h"
#include "hv/vlapic.h"
#include "hv/vm.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_instructions.h"

static bool virtualized_mode(const struct vcpu *vcpu)
{
    uint64_t base = vcpu->lapic.apic_base;
    return (base & (APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD)) == APIC_BASE_MSR_EN &&
           (base & ~0xfffull) == APIC_BASE_DEFAULT;
}

void vmx_apicv_write_controls(struct vcpu *vcpu, uint32_t *proc, uint32_t *proc2)
{
    if (!vcpu->vm->apic_virtualized)
        return;
    *proc |= PROC_USE_TPR_SHADOW;
    *proc2 |= PROC2_APIC_REGISTER_VIRTUALIZATION |
              (virtualized_mode(vcpu) ? PROC2_VIRTUALIZE_APIC_ACCESSES : 0);
    vmwrite(VMCS_VIRTUAL_APIC_ADDRESS, virt_to_phys(vcpu->lapic.page));
    vmwrite(VMCS_APIC_ACCESS_ADDRESS, vcpu->vm->apic_access_page);
    vmwrite(VMCS_TPR_THRESHOLD, 0);
    vcpu->tpr_threshold = 0;
}

void vmx_lapic_base_changed(struct vcpu *vcpu)
{
    bool acquired = vmcs_acquire(vcpu);
    uint64_t proc2 = vmread(VMCS_PROC_CONTROLS2) & ~(uint64_t)PROC2_VIRTUALIZE_APIC_ACCESSES;
    if (virtualized_mode(vcpu)) {
        proc2 |= PROC2_VIRTUALIZE_APIC_ACCESSES;
    } else if (vcpu->tpr_threshold) {
        /* Without APIC-access virtualization VM entry wants the threshold
         * at most VTPR's class (SDM 3C 26.2.1.1); nothing below needs it:
         * x2APIC's TPR writes exit as WRMSRs. */
        vmwrite(VMCS_TPR_THRESHOLD, 0);
        vcpu->tpr_threshold = 0;
    }
    vmwrite(VMCS_PROC_CONTROLS2, proc2);
    vmcs_release(vcpu, acquired);
    /* The TLB may hold translations made under the other setting: the
     * next entry takes a fresh VPID, which has none (tlb_tag_refresh sees
     * a generation that is not the VM's; it runs before the vcpu enters
     * again, so a region flush meanwhile has nothing to wait for). */
    vcpu->tlb_generation = ~0ull;
}

void vmx_set_tpr_threshold(struct vcpu *vcpu, int priority_class)
{
    if (vcpu->tpr_threshold == priority_class || !virtualized_mode(vcpu))
        return;
    bool acquired = vmcs_acquire(vcpu);
    vmwrite(VMCS_TPR_THRESHOLD, (uint64_t)priority_class);
    vmcs_release(vcpu, acquired);
    vcpu->tpr_threshold = (uint8_t)priority_class;
}
