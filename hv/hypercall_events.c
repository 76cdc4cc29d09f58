/* GET_VCPU_EVENTS and SET_VCPU_EVENTS (56, 57) on a vcpu handle, the
 * counterparts of KVM_GET/SET_VCPU_EVENTS: what the vcpu's next entries
 * deliver (an exception, an external interrupt, an NMI), its interrupt
 * shadow, its NMI masking and the SIPI vector of its local APIC. The
 * events live in two places: the backend's injection field (one event the
 * next entry delivers, hv/virt.h's event_state) and the vcpu's queues
 * (INTERRUPT's interrupt and the NMI that waits for its window). Every
 * field is checked before anything changes: a refused SET changes
 * nothing. */
#include "hv/hypercall_calls.h"

#include "hv/guest_access.h"
#include "hv/handle.h"
#include "hv/rflags.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/virt.h"
#include "hv/vm.h"

/* The exceptions that push an error code in protected mode (SDM vol. 3A,
 * table 6-1): #DF, #TS, #NP, #SS, #GP, #PF, #AC. VM entry delivers one for
 * these and refuses one for any other vector (SDM 3C 26.2.1.3), so the
 * error code is exactly where the architecture has it. The vectors set
 * are the exceptions guests can have, 0-20: not NMI (2, nmi.injected),
 * not reserved 15 and 22-31 (AMD's VMRUN refuses 31 and up), not #CP
 * (21: guests are never offered CET) nor AMD's SEV exceptions (28-30). */
#define ERROR_CODE_VECTORS ((1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | \
                            (1u << 13) | (1u << 14) | (1u << 17))
#define EXCEPTION_VECTORS  (0x1fffffu & ~((1u << 2) | (1u << 15)))

static void events_get(struct vcpu *vcpu, struct hv_vcpu_events *e)
{
    struct event_state s;
    virt->get_event_state(vcpu, &s);
    *e = (struct hv_vcpu_events){ .flags = HV_VCPUEVENT_VALID_ALL };
    if (s.type == EVENT_EXCEPTION || s.type == EVENT_SOFT_EXCEPTION) {
        e->exception.injected = 1;
        e->exception.nr = s.vector;
        e->exception.has_error_code = s.has_error;
        e->exception.error_code = s.has_error ? s.error_code : 0;
    }
    if (s.type == EVENT_EXTERNAL || s.type == EVENT_SOFT_INTERRUPT) {
        e->interrupt.injected = 1;
        e->interrupt.nr = s.vector;
        e->interrupt.soft = s.type == EVENT_SOFT_INTERRUPT;
    } else if (vcpu->irq_pending) {
        e->interrupt.injected = 1;
        e->interrupt.nr = vcpu->irq_vector;
    }
    e->interrupt.shadow = s.shadow;
    e->nmi.injected = s.type == EVENT_NMI;
    e->nmi.pending = vcpu->nmi_pending ||
                     (__atomic_load_n(&vcpu->lapic_events, __ATOMIC_RELAXED) & LAPIC_EVENT_NMI);
    e->nmi.masked = s.nmi_masked;
    e->sipi_vector = vcpu->sipi_vector;
}

static bool all_zero(const uint8_t *bytes, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (bytes[i])
            return false;
    return true;
}

/* The fields themselves: flags, reserved bytes, booleans, vectors. */
static long events_check_fields(const struct hv_vcpu_events *e, bool lapic)
{
    uint32_t f = e->flags;
    if ((f & ~HV_VCPUEVENT_VALID_ALL) || e->nmi.pad || !all_zero(e->reserved, sizeof(e->reserved)))
        return -HV_EINVAL;
    if (f & HV_VCPUEVENT_VALID_EXCEPTION) {
        const typeof(e->exception) *x = &e->exception;
        if (x->injected > 1 || x->pending > 1 || x->has_error_code > 1)
            return -HV_EINVAL;
        /* An error code where, and only where, the CPU pushes one, 16
         * bits wide (VM entry refuses more on Intel). */
        if ((x->injected || x->pending) &&
            (x->nr > 31 || !(EXCEPTION_VECTORS >> x->nr & 1) ||
             x->has_error_code != (ERROR_CODE_VECTORS >> x->nr & 1) ||
             (x->has_error_code && x->error_code > 0xffff)))
            return -HV_EINVAL;
    }
    if ((f & HV_VCPUEVENT_VALID_INTERRUPT) && (e->interrupt.injected > 1 || e->interrupt.soft))
        return -HV_EINVAL;
    if ((f & HV_VCPUEVENT_VALID_SHADOW) && e->interrupt.shadow > EVENT_SHADOW_MOV_SS)
        return -HV_EINVAL;
    if ((f & HV_VCPUEVENT_VALID_NMI) && (e->nmi.injected > 1 || e->nmi.masked > 1))
        return -HV_EINVAL;
    if ((f & HV_VCPUEVENT_VALID_NMI_PENDING) && e->nmi.pending > 1)
        return -HV_EINVAL;
    if (f & HV_VCPUEVENT_VALID_SIPI_VECTOR) {
        if (!lapic)
            return -HV_ENODEV;
        if (e->sipi_vector > 0xff)
            return -HV_EINVAL;
    }
    return 0;
}

/* The backend's state with the parts `e` applies: one event at most in
 * the injection field, and a shadow only where entry takes it (none with
 * an NMI or external interrupt to inject, STI's only with IF set). */
static long events_merge(struct vcpu *vcpu, const struct hv_vcpu_events *e, struct event_state *s)
{
    uint32_t f = e->flags;
    virt->get_event_state(vcpu, s);
    bool exception = (f & HV_VCPUEVENT_VALID_EXCEPTION) &&
                     (e->exception.injected || e->exception.pending);
    bool nmi = (f & HV_VCPUEVENT_VALID_NMI) && e->nmi.injected;
    if ((f & HV_VCPUEVENT_VALID_EXCEPTION) &&
        (s->type == EVENT_EXCEPTION || s->type == EVENT_SOFT_EXCEPTION))
        s->type = EVENT_NONE;
    if ((f & HV_VCPUEVENT_VALID_NMI) && s->type == EVENT_NMI)
        s->type = EVENT_NONE;
    /* INTERRUPT's queue holds the interrupt (below), not the field. */
    if ((f & HV_VCPUEVENT_VALID_INTERRUPT) &&
        (s->type == EVENT_EXTERNAL || s->type == EVENT_SOFT_INTERRUPT))
        s->type = EVENT_NONE;
    if ((exception || nmi) && (s->type != EVENT_NONE || (exception && nmi)))
        return -HV_EINVAL;
    if (exception) {
        struct hv_sregs sregs;
        virt->get_sregs(vcpu, &sregs);
        s->type = EVENT_EXCEPTION;
        s->vector = e->exception.nr;
        /* No error code is pushed in real mode (KVM drops it too). */
        s->has_error = e->exception.has_error_code && (sregs.cr0 & 1);
        s->error_code = s->has_error ? e->exception.error_code : 0;
    }
    if (nmi)
        *s = (struct event_state){ .type = EVENT_NMI, .vector = 2, .shadow = s->shadow,
                                   .nmi_masked = s->nmi_masked };
    if (f & HV_VCPUEVENT_VALID_NMI)
        s->nmi_masked = e->nmi.masked;
    if (f & HV_VCPUEVENT_VALID_SHADOW)
        s->shadow = e->interrupt.shadow;
    struct hv_regs regs;
    virt->get_regs(vcpu, &regs);
    if (s->shadow && (s->type == EVENT_NMI || s->type == EVENT_EXTERNAL ||
                      ((s->shadow & EVENT_SHADOW_STI) && !(regs.rflags & RFLAGS_IF))))
        return -HV_EINVAL;
    /* An NMI is injected only where NMIs are not blocked (VM entry checks
     * it: VMX's virtual NMIs). */
    if (s->type == EVENT_NMI && s->nmi_masked)
        return -HV_EINVAL;
    return 0;
}

static void events_set(struct vcpu *vcpu, const struct hv_vcpu_events *e,
                       const struct event_state *s)
{
    uint32_t f = e->flags;
    virt->set_event_state(vcpu, s);
    if (f & HV_VCPUEVENT_VALID_INTERRUPT) {
        vcpu->irq_vector = e->interrupt.nr;
        vcpu->irq_pending = e->interrupt.injected;
    }
    if (f & HV_VCPUEVENT_VALID_NMI_PENDING) {
        /* A posted NMI not yet taken counts as pending, and goes too. */
        if (!e->nmi.pending)
            __atomic_and_fetch(&vcpu->lapic_events, ~LAPIC_EVENT_NMI, __ATOMIC_RELAXED);
        vcpu->nmi_pending = e->nmi.pending;
    }
    if (f & HV_VCPUEVENT_VALID_SIPI_VECTOR)
        __atomic_store_n(&vcpu->sipi_vector, (uint8_t)e->sipi_vector, __ATOMIC_RELAXED);
}

long call_get_vcpu_events(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    struct hv_vcpu_events events;
    long err = control_range_check(cd, call->rsi, sizeof(events), 8);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    events_get(vcpu, &events);
    vcpu_release(vcpu);
    return copy_to_control(cd, call->rsi, &events, sizeof(events));
}

long call_set_vcpu_events(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    struct vcpu *vcpu = slot->object;
    struct hv_vcpu_events events;
    struct event_state state;
    long err = copy_from_control(cd, &events, call->rsi, sizeof(events));
    err = err ?: events_check_fields(&events, vcpu->vm->lapic);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    err = events_merge(vcpu, &events, &state);
    if (!err)
        events_set(vcpu, &events, &state);
    vcpu_release(vcpu);
    return err;
}
