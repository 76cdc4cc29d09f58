#include "hv/vcpu_lapic.h"

#include "abi/hv_errno.h"
#include "hv/apic.h"
#include "hv/console.h"
#include "hv/guest_memory.h"
#include "hv/insn_fetch.h"
#include "hv/mmio_decode.h"
#include "hv/msr.h"
#include "hv/percpu.h"
#include "hv/sregs_check.h"
#include "hv/time.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include "hv/x86.h"

#define VECTOR_GP 13

void vcpu_lapic_reset(struct vcpu *vcpu)
{
    vlapic_reset(&vcpu->lapic, vcpu->slot, vcpu->slot == 0, (uint32_t)tsc_khz());
    vcpu->lapic.address_bits = (uint8_t)cpu_limits()->physical_bits;
    vcpu->lapic_events = 0;
    vcpu->mp_state = HV_MP_STATE_RUNNABLE;
}

/* Makes the vcpu look at what was posted: the CPU running it (in its guest
 * or asleep in HLT) takes an IPI and re-checks before it enters again; a
 * vcpu no CPU runs finds it at its next RUN. */
static void post(struct vcpu *target, uint32_t event)
{
    __atomic_or_fetch(&target->lapic_events, event, __ATOMIC_SEQ_CST);
    uint32_t owner = __atomic_load_n(&target->owner, __ATOMIC_SEQ_CST);
    if (owner && owner - 1 != this_cpu_index() && percpu_of[owner - 1])
        apic_send_ipi(percpu_of[owner - 1]->apic_id, VECTOR_KICK);
}

/* One target's share of a message. */
static bool deliver_one(struct vcpu *target, const struct lapic_message *m)
{
    switch (m->delivery) {
    case DELIVERY_FIXED:
    case DELIVERY_LOWEST:
        if (!vlapic_accept(&target->lapic, m->vector, m->level))
            return false;
        post(target, LAPIC_EVENT_IRR);
        return true;
    case DELIVERY_NMI:
        post(target, LAPIC_EVENT_NMI);
        return true;
    case DELIVERY_INIT:
        /* INIT level de-assert (level trigger, assert clear) only
         * synchronised arbitration IDs on old CPUs: nothing to do. */
        if (m->level && !m->assert_level)
            return true;
        /* The target stops running its guest at once, as KICK makes it:
         * its RUN ends and the next takes the INIT (vcpu_run_checks). */
        __atomic_store_n(&target->kick, 1, __ATOMIC_SEQ_CST);
        post(target, LAPIC_EVENT_INIT);
        return true;
    case DELIVERY_STARTUP:
        __atomic_store_n(&target->sipi_vector, m->vector, __ATOMIC_RELAXED);
        post(target, LAPIC_EVENT_SIPI);
        return true;
    default:
        return false; /* SMI, ExtINT and reserved modes are not modelled */
    }
}

static bool shorthand_includes(const struct vcpu *target, const struct vcpu *source,
                               const struct lapic_message *m)
{
    switch (m->shorthand) {
    case SHORTHAND_SELF: return target == source;
    case SHORTHAND_ALL: return true;
    case SHORTHAND_OTHERS: return target != source;
    default: return vlapic_matches(&target->lapic, m->dest, m->logical);
    }
}

unsigned vcpu_lapic_deliver(struct vm *vm, struct vcpu *source, const struct lapic_message *m)
{
    /* A self-IPI (how Linux raises its irq_work) has one target, known:
     * no walk of the VM's vcpus. */
    if (m->shorthand == SHORTHAND_SELF && source)
        return deliver_one(source, m);
    unsigned accepted = 0;
    struct vcpu *lowest = NULL;
    unsigned slots_end = __atomic_load_n(&vm->vcpu_slots_end, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < slots_end; i++) {
        struct vcpu *target = __atomic_load_n(&vm->vcpus[i], __ATOMIC_ACQUIRE);
        if (!target || !shorthand_includes(target, source, m))
            continue;
        if (m->delivery == DELIVERY_LOWEST && m->shorthand == SHORTHAND_NONE) {
            /* Lowest priority: the enabled APIC with the lowest TPR. */
            if (!vlapic_enabled(&target->lapic))
                continue;
            if (!lowest || (vlapic_ppr(&target->lapic) & 0xf0) < (vlapic_ppr(&lowest->lapic) & 0xf0))
                lowest = target;
            continue;
        }
        accepted += deliver_one(target, m);
    }
    if (lowest)
        accepted += deliver_one(lowest, m);
    return accepted;
}

long vcpu_lapic_signal_msi(struct vm *vm, uint64_t address, uint32_t data)
{
    if ((address & 0xfff00000ull) != HV_MSI_ADDRESS_BASE || (address >> 32) & ~0xffffffull ||
        (data & ~0xc7ffu))
        return -HV_EINVAL;
    struct lapic_message m = {
        .dest = (uint32_t)((address >> 12) & 0xff) | (uint32_t)(address >> 32) << 8,
        .logical = address & (1u << 2),
        .shorthand = SHORTHAND_NONE,
        .delivery = (uint8_t)((data >> 8) & 7),
        .vector = (uint8_t)data,
        .level = data & (1u << 15),
        /* Bit 14 counts for level-triggered messages only (SDM 10.11.2),
         * where its one use is INIT's level de-assert. */
        .assert_level = !(data & (1u << 15)) || (data & (1u << 14)),
    };
    /* An MSI's delivery modes (SDM 10.11.2): 011 and 110 are reserved --
     * a Start-Up is an IPI's alone -- and SMI and ExtINT not modelled. */
    if (m.delivery == DELIVERY_SMI || m.delivery == 3 || m.delivery == DELIVERY_STARTUP ||
        m.delivery == DELIVERY_EXTINT ||
        ((m.delivery == DELIVERY_FIXED || m.delivery == DELIVERY_LOWEST) && m.vector < 16))
        return -HV_EINVAL;
    return vcpu_lapic_deliver(vm, NULL, &m);
}

/* The ICR the guest just wrote, sent. */
static void send_ipi(struct vcpu *vcpu)
{
    struct vlapic *l = &vcpu->lapic;
    uint32_t low = l->page[LAPIC_ICR_LOW / 4], high = l->page[LAPIC_ICR_HIGH / 4];
    struct lapic_message m = {
        .dest = vlapic_x2apic(l) ? high : high >> 24,
        .logical = low & LAPIC_ICR_LOGICAL,
        .shorthand = (uint8_t)LAPIC_ICR_SHORTHAND(low),
        .delivery = (uint8_t)LAPIC_ICR_DELIVERY(low),
        .vector = (uint8_t)LAPIC_ICR_VECTOR(low),
        .level = low & LAPIC_ICR_LEVEL,
        .assert_level = low & LAPIC_ICR_ASSERT,
    };
    vcpu_lapic_deliver(vcpu->vm, vcpu, &m);
}

/* What a register write asks for beyond the register: returns the exit the
 * RUN must make, or -1. */
static int after_write(struct vcpu *vcpu, enum vlapic_action action)
{
    switch (action) {
    case VLAPIC_SEND_IPI:
        send_ipi(vcpu);
        return -1;
    case VLAPIC_EOI_LEVEL:
        /* The IOAPIC's remote IRR lives in the VMM: tell it. */
        vcpu->run->eoi.vector = vlapic_last_eoi_vector(&vcpu->lapic);
        return HV_EXIT_IOAPIC_EOI;
    default:
        return -1;
    }
}

bool vcpu_lapic_mmio(struct vcpu *vcpu, const struct exit_record *exit, int *stop)
{
    struct vlapic *l = &vcpu->lapic;
    uint64_t base = l->apic_base & ~0xfffull;
    *stop = -1;
    if (!(l->apic_base & APIC_BASE_MSR_EN) || vlapic_x2apic(l) ||
        (exit->fault.guest_phys & ~0xfffull) != base)
        return false;
    uint8_t bytes[15];
    unsigned n = exit->fault.insn_length;
    struct insn_site site;
    virt->insn_site(vcpu, &site);
    if (n)
        for (unsigned i = 0; i < n; i++)
            bytes[i] = exit->fault.insn_bytes[i];
    else
        n = vcpu_fetch_instruction_at(vcpu, &site, bytes);
    struct mmio_access access;
    uint32_t offset = (uint32_t)(exit->fault.guest_phys & 0xfff);
    if (!mmio_decode(bytes, n, insn_site_mmio_mode(&site), &access) || (offset & 3) ||
        access.size > 4 || (access.size < 4 && offset & 0xf)) {
        /* Not an access the APIC answers: the guest gets #GP rather than
         * a VMM that knows nothing of the APIC. */
        virt->inject_exception(vcpu, VECTOR_GP, true, 0);
        return true;
    }
    uint64_t *reg = vcpu_access_register(vcpu, &access);
    uint64_t now = rdtsc();
    if (access.write) {
        uint64_t source = reg ? *reg : 0;
        if (!reg && !access.from_immediate) {
            struct hv_regs regs;
            virt->get_regs(vcpu, &regs);
            source = regs.rsp;
        }
        *stop = after_write(vcpu, vlapic_mmio_write(l, offset, (uint32_t)mmio_write_value(&access, source), now));
        __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
    } else {
        uint32_t value = vlapic_mmio_read(l, offset, now);
        if (reg)
            *reg = mmio_register_after_read(&access, *reg, value);
    }
    struct exit_record skip = *exit;
    skip.instruction_length = access.length;
    virt->skip_instruction(vcpu, &skip);
    return true;
}

int vcpu_lapic_apic_write(struct vcpu *vcpu, uint32_t offset)
{
    struct vlapic *l = &vcpu->lapic;
    offset &= 0xff0;
    if (offset >= LAPIC_PAGE_BYTES)
        return -1;
    uint32_t value = __atomic_load_n(&l->page[offset / 4], __ATOMIC_RELAXED);
    int stop = after_write(vcpu, vlapic_mmio_write(l, offset, value, rdtsc()));
    /* The EOI register reads 0, as on hardware (vlapic_mmio_read); the
     * CPU reads it from the page. */
    if (offset == LAPIC_EOI)
        __atomic_store_n(&l->page[LAPIC_EOI / 4], 0, __ATOMIC_RELAXED);
    __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
    return stop;
}

uint64_t vcpu_lapic_cr8(const struct vcpu *vcpu)
{
    return vlapic_tpr(&vcpu->lapic) >> 4;
}

void vcpu_lapic_set_cr8(struct vcpu *vcpu, uint64_t cr8)
{
    vlapic_set_tpr(&vcpu->lapic, (uint32_t)(cr8 & 0xf) << 4);
    __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
}

bool vcpu_lapic_msr_read(struct vcpu *vcpu, uint32_t msr, uint64_t *value, bool *ok)
{
    struct vlapic *l = &vcpu->lapic;
    if (msr == MSR_IA32_APIC_BASE) {
        *value = l->apic_base;
        *ok = true;
        return true;
    }
    if (msr == MSR_TSC_DEADLINE) {
        *value = vlapic_get_tsc_deadline(l);
        *ok = true;
        return true;
    }
    if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
        return false;
    *ok = vlapic_msr_read(l, msr, value, rdtsc());
    return true;
}

/* A deadline already passed fires at this entry (vcpu_lapic_prepare),
 * not after a round through the host's timer. */
static void set_tsc_deadline(struct vcpu *vcpu, uint64_t value)
{
    vlapic_set_tsc_deadline(&vcpu->lapic, value);
    uint64_t fire = vlapic_timer_next(&vcpu->lapic);
    if (fire && fire <= rdtsc())
        __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
}

bool vcpu_lapic_msr_write(struct vcpu *vcpu, uint32_t msr, uint64_t value, bool *ok, int *stop)
{
    struct vlapic *l = &vcpu->lapic;
    *stop = -1;
    if (msr == MSR_IA32_APIC_BASE) {
        *ok = vlapic_set_base(l, value);
        if (*ok)
            vcpu_lapic_base_changed(vcpu);
        return true;
    }
    if (msr == MSR_TSC_DEADLINE) {
        set_tsc_deadline(vcpu, value);
        *ok = true;
        return true;
    }
    if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
        return false;
    enum vlapic_action action;
    *ok = vlapic_msr_write(l, msr, value, rdtsc(), &action);
    if (*ok) {
        *stop = after_write(vcpu, action);
        __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
    }
    return true;
}

/* Whether nothing waits for vcpu_prepare_events: no event, window or
 * posted message. Then no vector above PPR waits in IRR either (every
 * path that leaves one there, or lowers PPR under one, posts
 * LAPIC_EVENT_IRR or leaves lapic_window set), and an interrupt that the
 * guest can take goes in at this entry with no other to come first. */
static inline __attribute__((always_inline)) bool nothing_waits(const struct vcpu *vcpu)
{
    return !__atomic_load_n(&vcpu->entry_events, __ATOMIC_RELAXED) &&
           !__atomic_load_n(&vcpu->run->request_interrupt_window, __ATOMIC_RELAXED);
}

/* The vector a write made deliverable (the highest above PPR, or -1):
 * acknowledged and returned for the backend to inject when the guest
 * can take it (`open`) and nothing else waits, else left in IRR and
 * posted for vcpu_prepare_events; 0 then. */
static inline __attribute__((always_inline)) int take_now(struct vcpu *vcpu, int vector, bool open)
{
    if (vector < 0)
        return 0;
    if (!open || !nothing_waits(vcpu)) {
        __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
        return 0;
    }
    vlapic_acknowledge(&vcpu->lapic, (uint8_t)vector);
    return vector;
}

/* A self-IPI of edge-triggered `vector`: at once into ISR when the guest
 * can take it and nothing waits (no IRR round, no scan), else through
 * IRR. */
static int self_ipi(struct vcpu *vcpu, uint8_t vector, bool open)
{
    struct vlapic *l = &vcpu->lapic;
    if (open && nothing_waits(vcpu) && vlapic_take_at_once(l, vector))
        return vector;
    if (!vlapic_accept(l, vector, false))
        return 0;
    return take_now(vcpu, vlapic_pending(l), open);
}

int vcpu_lapic_take_now(struct vcpu *vcpu, int vector, bool open)
{
    return take_now(vcpu, vector, open);
}

int vcpu_lapic_wrmsr_other(struct vcpu *vcpu, uint32_t msr, uint64_t value, bool open)
{
    struct vlapic *l = &vcpu->lapic;
    if (msr == MSR_TSC_DEADLINE) {
        /* Only a deadline already passed, with no host timer running for
         * the vcpu: it fires now, and nothing is left for
         * vcpu_child_exit's timer check, which this path does not make. */
        if (vcpu->timer_armed || !value ||
            LAPIC_TIMER_MODE(l->page[LAPIC_LVT_TIMER / 4]) != LAPIC_TIMER_DEADLINE)
            return -1;
        uint64_t fire = vlapic_deadline_tsc(l, value);
        if (fire > rdtsc())
            return -1;
        vlapic_set_tsc_deadline(l, value);
        vlapic_timer_expire(l, fire);
        return take_now(vcpu, vlapic_pending(l), open);
    }
    if (!vlapic_x2apic(l))
        return -1;
    bool icr = msr == X2APIC_MSR_FIRST + (LAPIC_ICR_LOW >> 4);
    if (icr && (value & X2APIC_ICR_RESERVED))
        return -1; /* the general way: #GP */
    if (icr && LAPIC_ICR_SHORTHAND(value) == SHORTHAND_SELF &&
        LAPIC_ICR_DELIVERY(value) == DELIVERY_FIXED && !(value & LAPIC_ICR_LEVEL)) {
        /* The one target is this APIC, as deliver_one would take it,
         * with no one to kick. A legal vector's register write is two
         * stores; an illegal one goes the register's whole way (it sets
         * ESR instead of sending, and may raise the error LVT's vector;
         * time plays no part). */
        uint8_t vector = (uint8_t)LAPIC_ICR_VECTOR(value);
        if (vector >= 16) {
            vlapic_x2apic_write_icr(l, value);
            return self_ipi(vcpu, vector, open);
        }
        enum vlapic_action action;
        if (!vlapic_msr_write(l, msr, value, 0, &action))
            return -1;
        if (action == VLAPIC_SEND_IPI)
            return self_ipi(vcpu, (uint8_t)LAPIC_ICR_VECTOR(value), open);
        return take_now(vcpu, vlapic_pending(l), open);
    }
    if (msr == X2APIC_MSR_FIRST + (LAPIC_SELF_IPI >> 4)) {
        if (value > 0xff || value < 16)
            return -1;
        return self_ipi(vcpu, (uint8_t)value, open);
    }
    if (icr && LAPIC_ICR_DELIVERY(value) == DELIVERY_FIXED && !(value & LAPIC_ICR_LEVEL) &&
        LAPIC_ICR_VECTOR(value) >= 16) {
        /* A fixed IPI to other vcpus (Linux's reschedule and function-call
         * IPIs): the register's two stores and the delivery, not the
         * general MSR path, which cost the sender 400 instructions more.
         * A destination that takes in this APIC too (logical, broadcast)
         * left its vector in IRR, posted: taken as a self-IPI's is. */
        vlapic_x2apic_write_icr(l, value);
        send_ipi(vcpu);
        return take_now(vcpu, vlapic_pending(l), open);
    }
    return -1;
}

/* An initial count whose first expiry has passed by the time it is
 * written (a count of 1 is a nanosecond): the interrupt is taken at this
 * entry, as a TSC deadline already passed is (vcpu_lapic_wrmsr_other),
 * not through vcpu_prepare_events' long way. A later expiry is left to
 * the host timer, which the backend's vcpu_lapic_follow_timer arms. */
static int write_timer_initial(struct vcpu *vcpu, uint32_t value, bool open)
{
    struct vlapic *l = &vcpu->lapic;
    vlapic_mmio_write(l, LAPIC_TIMER_INITIAL, value, rdtsc());
    uint64_t fire = vlapic_timer_next(l);
    if (!fire || LAPIC_TIMER_MODE(l->page[LAPIC_LVT_TIMER / 4]) == LAPIC_TIMER_DEADLINE ||
        rdtsc() < fire)
        return 0;
    vlapic_timer_expire(l, fire);
    return take_now(vcpu, vlapic_pending(l), open);
}

int vcpu_xapic_write_other(struct vcpu *vcpu, uint32_t offset, uint32_t value, bool open)
{
    struct vlapic *l = &vcpu->lapic;
    if (offset == LAPIC_TIMER_INITIAL)
        return write_timer_initial(vcpu, value, open);
    if (offset == LAPIC_ICR_LOW && LAPIC_ICR_DELIVERY(value) != DELIVERY_FIXED)
        return -1;
    /* No register but the EOI asks for an exit (VLAPIC_EOI_LEVEL). */
    if (vlapic_mmio_write(l, offset, value, rdtsc()) != VLAPIC_SEND_IPI) {
        __atomic_or_fetch(&vcpu->lapic_events, LAPIC_EVENT_IRR, __ATOMIC_RELAXED);
        return 0;
    }
    /* A fixed IPI, taken at this entry when it is the sender's own, as
     * the x2APIC's ICR above. */
    if (LAPIC_ICR_SHORTHAND(value) == SHORTHAND_SELF && !(value & LAPIC_ICR_LEVEL))
        return self_ipi(vcpu, (uint8_t)LAPIC_ICR_VECTOR(value), open);
    send_ipi(vcpu);
    return take_now(vcpu, vlapic_pending(l), open);
}

/* INIT: the APIC keeps its ID and base, the CPU goes to its INIT state and
 * waits for a SIPI (SDM 10.4.7.3, 9.1.1). */
static void take_init(struct vcpu *vcpu)
{
    vlapic_init_signal(&vcpu->lapic);
    virt->reset_vcpu(vcpu);
    vcpu->gprs = (struct guest_gprs){ .rdx = cpuid_eax(1) }; /* EDX: the signature */
    vcpu->irq_pending = 0;
    vcpu->nmi_pending = 0;
    vcpu->mp_state = HV_MP_STATE_INIT_RECEIVED;
}

/* SIPI: real mode at vector * 4096 (CS = vector << 8, IP 0). */
static void take_sipi(struct vcpu *vcpu)
{
    /* Ignored unless waiting for one: after INIT, or an AP not yet
     * started (whose power-on INIT put it in that state). */
    if (vcpu->mp_state != HV_MP_STATE_INIT_RECEIVED &&
        vcpu->mp_state != HV_MP_STATE_UNINITIALIZED)
        return;
    uint8_t vector = __atomic_load_n(&vcpu->sipi_vector, __ATOMIC_RELAXED);
    struct hv_sregs sregs;
    struct hv_regs regs;
    virt->get_sregs(vcpu, &sregs);
    sregs.cs.selector = (uint16_t)(vector << 8);
    sregs.cs.base = (uint64_t)vector << 12;
    /* VMX without unrestricted guest runs no real mode: the vcpu stays
     * waiting (GET_MP_STATE says so) rather than run a state never set. */
    if (virt->set_sregs(vcpu, &sregs) < 0) {
        static bool said; /* once: a guest could send SIPIs without end */
        if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
            pr_warn("vcpu %u of VM %u: SIPI to real mode at 0x%x, which this CPU cannot run",
                    vcpu->slot, vcpu->vm->id, (unsigned)vector << 12);
        return;
    }
    virt->get_regs(vcpu, &regs);
    regs.rip = 0;
    virt->set_regs(vcpu, &regs);
    vcpu->mp_state = HV_MP_STATE_RUNNABLE;
}

void vcpu_lapic_prepare(struct vcpu *vcpu, bool may_take_init)
{
    uint32_t events = __atomic_exchange_n(&vcpu->lapic_events, 0, __ATOMIC_ACQ_REL);
    if ((events & LAPIC_EVENT_INIT) && !may_take_init) {
        /* Left posted, with a SIPI behind it, for vcpu_wait: the entry
         * path must not run the guest in its INIT state. */
        __atomic_or_fetch(&vcpu->lapic_events, events & (LAPIC_EVENT_INIT | LAPIC_EVENT_SIPI),
                          __ATOMIC_RELAXED);
        events &= ~(LAPIC_EVENT_INIT | LAPIC_EVENT_SIPI);
    }
    if (events & LAPIC_EVENT_INIT)
        take_init(vcpu);
    if (events & LAPIC_EVENT_SIPI)
        take_sipi(vcpu);
    if (events & LAPIC_EVENT_NMI)
        vcpu->nmi_pending = 1;
    uint64_t fire = vlapic_timer_next(&vcpu->lapic);
    if (fire && rdtsc() >= fire)
        vlapic_timer_expire(&vcpu->lapic, rdtsc());
}

uint64_t vcpu_lapic_next_timer(const struct vcpu *vcpu)
{
    return vlapic_timer_next(&vcpu->lapic);
}
