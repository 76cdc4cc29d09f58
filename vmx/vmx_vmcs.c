/* Where a VMCS lives (Intel SDM 3C, 24.1 and 24.11): every vcpu's VMCS
 * stays active on the CPU that last used it, launched and with that CPU's
 * host state, from one call to the next. A call makes it current with one
 * VMPTRLD and hands the CPU back to its control-domain VMCS with another;
 * it is cleared (VMCLEAR, which writes the CPU's cached copy back to
 * memory and unlaunches it) only when the vcpu moves to another CPU or is
 * freed. KVM keeps its loaded_vmcs the same way.
 *
 * A VMCS may be active on one CPU only, and only that CPU can clear it. A
 * CPU that wants a vcpu whose VMCS is active elsewhere posts it in that
 * CPU's mailbox (percpu->vmclear_request), interrupts it, and waits; the
 * other CPU clears it from its interrupt handler, or from its own wait
 * for a mailbox, so that two CPUs waiting on each other both go on. It
 * also looks at its mailbox when it ends a call on a vcpu and when its
 * control domain's guest ran a whole slice without an exit (the
 * preemption timer, vmx_vcpu.c): Bochs 2.7 does not take an interrupt
 * while a guest with RFLAGS.IF clear runs under external-interrupt
 * exiting (the control domain always does), so without these a request
 * could wait for ever there; on hardware the interrupt comes first.
 *
 * Locking: vcpu->vmcs_cpu and vcpu->launched are written by the CPU that
 * holds the vcpu's claim, and vmcs_cpu also by the CPU that clears it on
 * request (then the claimant waits for that store). Whoever holds the
 * claim knows that no other CPU has the VMCS current: a CPU makes another
 * vcpu's VMCS current only while it holds that vcpu's claim, and gives
 * the CPU back to its own control-domain VMCS before releasing it. */
#include "hv/apic.h"
#include "hv/msr.h"
#include "hv/percpu.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/x86.h"
#include "vmx/vmcs_current.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_instructions.h"

/* Host state: what a VM exit loads. Per CPU (GS, TR, GDT, IDT), so
 * written whenever a VMCS becomes active on a CPU; CR0, CR3, CR4 and
 * EFER are the same on every CPU and never change after boot. */
static void write_host_state(struct percpu *cpu)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    vmwrite(VMCS_HOST_CR0, read_cr0());
    vmwrite(VMCS_HOST_CR3, read_cr3());
    vmwrite(VMCS_HOST_CR4, read_cr4());
    vmwrite(VMCS_HOST_GS_BASE, (uint64_t)(uintptr_t)cpu);
    vmwrite(VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&cpu->tss);
    vmwrite(VMCS_HOST_GDTR_BASE, (uint64_t)(uintptr_t)cpu->gdt);
    vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
    vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
}

/* Clears the VMCS this CPU was asked to, if any (the mailbox takes one at
 * a time). It is never the current one: the vcpu's claim is the asker's. */
void vmx_vmcs_serve(struct percpu *cpu)
{
    struct vcpu *vcpu = __atomic_exchange_n(&cpu->vmclear_request, NULL, __ATOMIC_ACQ_REL);
    if (!vcpu)
        return;
    vmclear(vcpu->arch_phys);
    vcpu->launched = 0;
    __atomic_store_n(&vcpu->vmcs_cpu, 0, __ATOMIC_RELEASE);
}

static void vmclear_interrupt(struct trap_frame *frame)
{
    (void)frame;
    vmx_vmcs_serve(this_cpu());
    apic_eoi();
}

void vmx_vmcs_enable_cpu(void)
{
    interrupt_register(VECTOR_VMCLEAR, vmclear_interrupt);
}

/* Makes the VMCS of `vcpu` (claimed by this CPU) inactive wherever it is:
 * at once if here, else by the other CPU, while this one waits and serves
 * its own mailbox (interrupts are off here). */
static void clear_anywhere(struct vcpu *vcpu, struct percpu *cpu)
{
    uint32_t where = vcpu->vmcs_cpu;
    if (!where)
        return;
    if (where == cpu->owner_id) {
        vmclear(vcpu->arch_phys);
        vcpu->launched = 0;
        vcpu->vmcs_cpu = 0;
        if (cpu->current_vmcs == vcpu->arch_phys)
            cpu->current_vmcs = 0;
        return;
    }
    struct percpu *other = percpu_of[where - 1];
    struct vcpu *none = NULL;
    while (!__atomic_compare_exchange_n(&other->vmclear_request, &none, vcpu, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        none = NULL;
        vmx_vmcs_serve(cpu);
        cpu_relax();
    }
    apic_send_ipi(other->apic_id, VECTOR_VMCLEAR);
    while (__atomic_load_n(&vcpu->vmcs_cpu, __ATOMIC_ACQUIRE)) {
        vmx_vmcs_serve(cpu);
        cpu_relax();
    }
}

/* The VMCS comes to this CPU: cleared where it was, then loaded here (not
 * launched), with this CPU's host state. */
void vmcs_move_here(struct vcpu *vcpu, struct percpu *cpu)
{
    clear_anywhere(vcpu, cpu);
    vcpu->vmcs_cpu = cpu->owner_id;
    vmptrld(vcpu->arch_phys);
    cpu->current_vmcs = vcpu->arch_phys;
    write_host_state(cpu);
}

bool vmcs_acquire(struct vcpu *vcpu)
{
    return vmcs_make_current(vcpu, this_cpu());
}

void vmcs_release(struct vcpu *vcpu, bool acquired)
{
    (void)vcpu;
    if (acquired)
        vmcs_back_to_control(this_cpu(), false);
}

void vmcs_forget(struct vcpu *vcpu)
{
    clear_anywhere(vcpu, this_cpu());
}
