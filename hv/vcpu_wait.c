/* Time in a child's RUN: the host APIC timer that ends a run at the first
 * of its slice's end, the VMM's deadline and the guest's own APIC timer;
 * what a physical interrupt during the run means; and the sleep of a vcpu
 * that has nothing to do (HLT, or an AP waiting for SIPI), which halts the
 * CPU instead of spinning or returning to the VMM just to wait. */
#include "hv/apic.h"
#include "hv/console_input.h"
#include "hv/host_timer.h"
#include "hv/percpu.h"
#include "hv/time.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include "hv/x86.h"

static uint64_t earliest(uint64_t a, uint64_t b)
{
    if (!a)
        return b;
    return b && b < a ? b : a;
}

/* end 0: no timer. One microsecond is added so that the timer fires after
 * the event, not a rounding error before it. A timer armed for this very
 * end and not yet fired stays: an interrupt exit (a kick, another CPU's
 * IPI) mostly leaves the time the run needs as it was. */
static void arm_until(uint64_t end, uint64_t now)
{
    struct percpu *cpu = this_cpu();
    if (!end) {
        host_timer_stop(cpu);
        return;
    }
    if (cpu->host_timer_end == end && end > now)
        return;
    uint32_t ticks = end > now ? apic_timer_ticks(tsc_to_us(end - now) + 1) : 1;
    host_timer_start(cpu, ticks ? ticks : 1, end);
}

/* The slice's timer count includes arm_until's extra microsecond, so that
 * a RUN that arms it for a whole slice fires no earlier than slice_end. */
void vcpu_slice_setup_cpu(struct percpu *cpu)
{
    cpu->slice_tsc = tsc_from_us(TIME_SLICE_US);
    cpu->slice_ticks = apic_timer_ticks(TIME_SLICE_US + 1);
}

void vcpu_arm_host_timer(struct vcpu *vcpu, uint64_t now)
{
    uint64_t lapic = vcpu->vm->lapic ? vcpu_lapic_next_timer(vcpu) : 0;
    vcpu->timer_armed = lapic;
    uint64_t end = earliest(this_cpu()->slice_end, vcpu->run->deadline_tsc);
    arm_until(earliest(end, lapic), now);
}

int vcpu_after_interrupt(struct vcpu *vcpu)
{
    if (__atomic_exchange_n(&vcpu->kick, 0, __ATOMIC_ACQ_REL))
        return HV_EXIT_INTR;
    /* Typed input for the VMM on this CPU: it reads it after RUN. */
    if (console_input_take_pending())
        return HV_EXIT_INTR;
    uint64_t now = rdtsc();
    if (now >= this_cpu()->slice_end)
        return HV_EXIT_INTR;
    uint64_t deadline = vcpu->run->deadline_tsc;
    if (deadline && now >= deadline)
        return HV_EXIT_DEADLINE;
    if (vcpu->vm->lapic) {
        uint64_t fire = vcpu_lapic_next_timer(vcpu);
        if (fire && now >= fire) /* makes the entry path expire it */
            __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
    }
    vcpu_arm_host_timer(vcpu, now);
    return -1;
}

/* A halted vcpu wakes for an NMI, or an interrupt it can take (IF set:
 * with IF clear only NMI, INIT and SIPI end a HLT, as on hardware). An
 * NMI that the guest blocks (a HLT in its NMI handler) does not: it stays
 * pending, and the vcpu halted, as on hardware. */
static bool halt_ends(struct vcpu *vcpu)
{
    if (vcpu->nmi_pending && virt->nmi_allowed(vcpu))
        return true;
    if (!vcpu->irq_pending && vlapic_pending(&vcpu->lapic) < 0)
        return false;
    bool if_flag;
    virt->interrupt_allowed(vcpu, &if_flag);
    return if_flag;
}

int vcpu_wait(struct vcpu *vcpu)
{
    struct percpu *cpu = this_cpu();
    for (;;) {
        vcpu_lapic_prepare(vcpu, true);
        if (vcpu->mp_state == HV_MP_STATE_HALTED && halt_ends(vcpu))
            vcpu->mp_state = HV_MP_STATE_RUNNABLE;
        if (vcpu->mp_state == HV_MP_STATE_RUNNABLE) {
            /* What woke it was taken from lapic_events: make the entry
             * path look at the APIC again. */
            __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
            return -1;
        }
        if (__atomic_exchange_n(&vcpu->kick, 0, __ATOMIC_ACQ_REL) ||
            console_input_take_pending())
            return HV_EXIT_INTR;
        uint64_t now = rdtsc();
        uint64_t deadline = vcpu->run->deadline_tsc;
        if (deadline && now >= deadline)
            return HV_EXIT_DEADLINE;
        uint64_t fire = vcpu_lapic_next_timer(vcpu);
        if (fire && now >= fire)
            continue;
        arm_until(earliest(deadline, fire), now);
        /* Posting sets lapic_events before it interrupts this CPU: either
         * the check sees the event, or the interrupt ends the HLT (STI's
         * shadow covers the HLT, so none slips in between). */
        if (!__atomic_load_n(&vcpu->lapic_events, __ATOMIC_ACQUIRE) &&
            !__atomic_load_n(&vcpu->kick, __ATOMIC_ACQUIRE) &&
            !console_input_pending()) {
            /* Asleep by design: not a RUN for the watchdog to suspect. */
            uint64_t slice_end = cpu->slice_end;
            __atomic_store_n(&cpu->slice_end, 0, __ATOMIC_RELAXED);
            __asm__ volatile("sti; hlt; cli" ::: "memory");
            __atomic_store_n(&cpu->slice_end, slice_end, __ATOMIC_RELAXED);
        }
        cpu->idle_tsc += rdtsc() - now;
    }
}
