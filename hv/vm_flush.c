/* The translation flush of a region change or a dirty-log round
 * (hv/vm.h, vm_flush_translations): every vcpu of the VM takes a new TLB
 * tag before it next enters its guest (hv/tlb_tag.h), and the ones that
 * may be in their guest with the old translations are brought out first.
 *
 * Why it always completes, and need not give up: it waits only for a vcpu
 * between its mark in tlb_tag_refresh (vcpu->entered_at) and its next
 * exit through the exit handler, and the CPU running such a vcpu is in
 * guest mode, where the interrupt sent to it ends the guest's run, or in
 * bounded code that takes no lock on the way in or out. A vcpu halted in
 * the hypervisor, in an exit handler (perhaps spinning on this VM's lock,
 * held by the caller), or held by another call is outside its guest and
 * reads the new generation before it enters again: it is not waited for,
 * so the wait cannot deadlock with it. */
#include "hv/apic.h"
#include "hv/console.h"
#include "hv/percpu.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/x86.h"

/* Whether the vcpu can no longer use translations older than
 * `generation`: it took a TLB tag for that generation or a later one, or
 * it is outside its guest at a point from which it reads the generation
 * before it enters again (exit_count moved on since it last headed into
 * its guest; hv/tlb_tag.h). Read after the locked increment of the
 * generation: if the vcpu is seen outside, its next tlb_tag_refresh marks
 * entered_at with a locked write after this CPU's increment and so reads
 * the new generation; if it is seen headed in, it is waited for. */
static bool vcpu_translations_current(struct vcpu *vcpu, uint64_t generation)
{
    uint64_t exits = __atomic_load_n(&vcpu->exit_count, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&vcpu->entered_at, __ATOMIC_ACQUIRE) != exits)
        return true;
    return __atomic_load_n(&vcpu->tlb_generation, __ATOMIC_ACQUIRE) >= generation;
}

/* Interrupts the CPU that holds the vcpu: a physical interrupt always
 * ends a guest's run (external-interrupt exiting, the INTR intercept),
 * and its exit goes through the exit handler. */
static void kick_owner(struct vcpu *vcpu)
{
    uint32_t owner = __atomic_load_n(&vcpu->owner, __ATOMIC_ACQUIRE);
    if (owner && owner - 1 != this_cpu_index() && percpu_of[owner - 1])
        apic_send_ipi(percpu_of[owner - 1]->apic_id, VECTOR_KICK);
}

/* Waits until the vcpu cannot use the old translations any more. This
 * wait has no bound, and needs none: it only waits for a vcpu that is in
 * its guest, or in code on its way in or out that takes no lock and waits
 * for nothing (the exits a backend completes itself: CPUID, control
 * registers; the few lines between the tag choice and the entry). The
 * interrupt sent there is pending or taken: the guest exits at the latest
 * at its next instruction boundary, and that exit passes the exit handler.
 * A vcpu halted in the hypervisor, spinning on this VM's lock in its exit
 * handler, or held by another call is outside its guest and not waited
 * for. So the only way to wait long is a CPU that does not run at all (an
 * emulator's thread descheduled); that is reported, and the interrupt is
 * sent again in case it was lost, but the wait goes on: returning would
 * leave the guest a translation its VMM has just taken away. */
static void wait_for_vcpu(struct vcpu *vcpu, uint64_t generation)
{
    uint64_t slice = this_cpu()->slice_tsc;
    uint64_t deadline = rdtsc() + 4 * slice;
    bool reported = false;
    while (!vcpu_translations_current(vcpu, generation)) {
        if (rdtsc() > deadline) {
            if (!reported)
                pr_warn("vm: vcpu %u is slow to leave its guest for a translation "
                        "flush; still waiting", vcpu->slot);
            reported = true;
            kick_owner(vcpu);
            deadline = rdtsc() + slice;
        }
        cpu_relax();
    }
}

/* Makes every vcpu of the VM drop its cached translations before it next
 * enters the guest (a new TLB tag, hv/tlb_tag.h), and waits for the ones
 * that may be in their guest with the old tag to leave it or take a new
 * one, so that when this returns no guest uses a translation the caller
 * has just removed, nor walks a table page the caller unlinked. */
void vm_flush_translations(struct vm *vm)
{
    uint64_t generation = __atomic_add_fetch(&vm->tlb_generation, 1, __ATOMIC_SEQ_CST);
    bool waiting[HV_MAX_VCPUS];
    for (unsigned i = 0; i < HV_MAX_VCPUS; i++) {
        struct vcpu *vcpu = vm->vcpus[i];
        waiting[i] = vcpu && !vcpu_translations_current(vcpu, generation);
        if (waiting[i])
            kick_owner(vcpu);
    }
    for (unsigned i = 0; i < HV_MAX_VCPUS; i++)
        if (waiting[i])
            wait_for_vcpu(vm->vcpus[i], generation);
}
