/*
 * GET_VCPU_EVENTS and SET_VCPU_EVENTS (abi/README.md section 7) as calls:
 * the round trip of every part and the refusal of every bad field (a
 * refused SET changes nothing). Their effect on a guest is in
 * hvtest_events_guest.c.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"
#include "guest-tools/tools/hvtest_events.h"

#define GATE_INTERRUPT_32 0x8e
#define RFLAGS_IF         0x200u

struct hv_vcpu_events *hvt_events_buffer(void)
{
    struct hv_vcpu_events *e = page_alloc(sizeof(*e));
    memset(e, 0, sizeof(*e));
    return e;
}

void hvt_events_set_gate(struct vm_instance *vm, unsigned vector, uint32_t handler)
{
    uint8_t *gate = vm->ram + HVT_IDT_GPA + vector * 8;
    gate[0] = (uint8_t)handler;
    gate[1] = (uint8_t)(handler >> 8);
    gate[2] = HVT_SELECTOR_CODE;
    gate[3] = 0;
    gate[4] = 0;
    gate[5] = GATE_INTERRUPT_32;
    gate[6] = (uint8_t)(handler >> 16);
    gate[7] = (uint8_t)(handler >> 24);
}

int hvt_events_guest(struct vm_instance *vm, const char *name, int interrupts_on)
{
    struct hv_regs regs;
    if (hvt_guest_create(vm, name) < 0 || hvt_guest_flat32(vm, HVT_CODE_GPA) < 0 ||
        hvt_guest_catch_vector(vm, VECTOR_UD) < 0 ||
        !hvt_ok(hv_get_regs(vm->vcpu, &regs), "GET_REGS"))
        return -1;
    regs.rflags = 0x2 | (interrupts_on ? RFLAGS_IF : 0);
    return hvt_ok(hv_set_regs(vm->vcpu, &regs), "SET_REGS") ? 0 : -1;
}

int hvt_get_events(const struct vm_instance *vm, struct hv_vcpu_events *e, const char *when)
{
    char what[96];
    snprintf(what, sizeof(what), "GET_VCPU_EVENTS %s", when);
    return hvt_ok(hv_get_vcpu_events(vm->vcpu, e), what);
}

static void events_round_trip(void)
{
    struct vm_instance vm, lapic;
    struct hv_vcpu_events *e = hvt_events_buffer(), *got = hvt_events_buffer();
    if (hvt_events_guest(&vm, "events_trip", 1) < 0 || !hvt_get_events(&vm, got, "of a new vcpu"))
        return;
    if (!hvt_eq(got->flags, HV_VCPUEVENT_VALID_ALL, "flags of GET") ||
        !hvt_eq(got->exception.injected | got->interrupt.injected | got->nmi.injected |
                got->nmi.pending | got->nmi.masked | got->interrupt.shadow, 0,
                "events of a new vcpu"))
        return;
    e->flags = HV_VCPUEVENT_VALID_ALL & ~HV_VCPUEVENT_VALID_SIPI_VECTOR;
    e->exception.injected = 1;
    e->exception.nr = VECTOR_GP;
    e->exception.has_error_code = 1;
    e->exception.error_code = 0xbeef;
    e->interrupt.injected = 1;
    e->interrupt.nr = 0x41;
    e->interrupt.shadow = 1;
    e->nmi.pending = 1;
    e->nmi.masked = 1;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS of every part") ||
        !hvt_get_events(&vm, got, "after SET"))
        return;
    if (!hvt_eq(got->exception.injected, 1, "exception.injected") ||
        !hvt_eq(got->exception.nr, VECTOR_GP, "exception.nr") ||
        !hvt_eq(got->exception.has_error_code, 1, "exception.has_error_code") ||
        !hvt_eq(got->exception.error_code, 0xbeef, "exception.error_code") ||
        !hvt_eq(got->exception.pending, 0, "exception.pending") ||
        !hvt_eq(got->interrupt.injected, 1, "interrupt.injected") ||
        !hvt_eq(got->interrupt.nr, 0x41, "interrupt.nr") ||
        !hvt_eq(got->interrupt.soft, 0, "interrupt.soft") ||
        !hvt_eq(got->interrupt.shadow, 1, "interrupt.shadow (STI)") ||
        !hvt_eq(got->nmi.injected, 0, "nmi.injected") ||
        !hvt_eq(got->nmi.pending, 1, "nmi.pending") ||
        !hvt_eq(got->nmi.masked, 1, "nmi.masked"))
        return;
    /* Each part alone, by its flag: the NMI goes from pending to injected
     * (the shadow cleared first: entry refuses one with an NMI), the
     * others stay. */
    memset(e, 0, sizeof(*e));
    e->flags = HV_VCPUEVENT_VALID_SHADOW | HV_VCPUEVENT_VALID_EXCEPTION;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS clearing the exception and shadow"))
        return;
    e->flags = HV_VCPUEVENT_VALID_NMI | HV_VCPUEVENT_VALID_NMI_PENDING;
    e->nmi.injected = 1;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS of an injected NMI") ||
        !hvt_get_events(&vm, got, "after the NMI part"))
        return;
    if (!hvt_eq(got->exception.injected, 0, "exception.injected after clearing") ||
        !hvt_eq(got->interrupt.shadow, 0, "interrupt.shadow after clearing") ||
        !hvt_eq(got->interrupt.injected, 1, "interrupt.injected kept") ||
        !hvt_eq(got->nmi.injected, 1, "nmi.injected") ||
        !hvt_eq(got->nmi.pending, 0, "nmi.pending cleared") ||
        !hvt_eq(got->nmi.masked, 0, "nmi.masked cleared"))
        return;
    /* Every part at once, all empty. */
    memset(e, 0, sizeof(*e));
    e->flags = HV_VCPUEVENT_VALID_ALL & ~HV_VCPUEVENT_VALID_SIPI_VECTOR;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS of nothing") ||
        !hvt_get_events(&vm, got, "after clearing everything") ||
        !hvt_eq(got->nmi.injected | got->interrupt.injected | got->exception.injected, 0,
                "events after clearing everything"))
        return;
    /* The SIPI vector needs a local APIC. */
    e->flags = HV_VCPUEVENT_VALID_SIPI_VECTOR;
    e->sipi_vector = 0x9a;
    if (!hvt_err(hv_set_vcpu_events(vm.vcpu, e), -HV_ENODEV, "SIPI vector without HV_VM_LAPIC") ||
        !hvt_ok(vmm_create_with(&lapic, hvt_sys(), "events_lapic", HVT_GUEST_RAM_MIB, 1, HV_VM_LAPIC),
                "vmm_create_with HV_VM_LAPIC"))
        return;
    hvt_keep(lapic.vcpu);
    hvt_keep(lapic.vm);
    if (!hvt_ok(hv_set_vcpu_events(lapic.vcpu, e), "SET_VCPU_EVENTS of a SIPI vector") ||
        !hvt_get_events(&lapic, got, "of the LAPIC vcpu") ||
        !hvt_eq(got->sipi_vector, 0x9a, "sipi_vector"))
        return;
    /* A new vcpu is in real mode, where no error code is pushed: none
     * is kept. */
    memset(e, 0, sizeof(*e));
    e->flags = HV_VCPUEVENT_VALID_EXCEPTION;
    e->exception.injected = 1;
    e->exception.nr = VECTOR_GP;
    e->exception.has_error_code = 1;
    e->exception.error_code = 0x10;
    if (!hvt_ok(hv_set_vcpu_events(lapic.vcpu, e), "SET_VCPU_EVENTS of #GP in real mode") ||
        !hvt_get_events(&lapic, got, "after #GP in real mode") ||
        !hvt_eq(got->exception.injected, 1, "exception.injected in real mode") ||
        !hvt_eq(got->exception.has_error_code, 0, "has_error_code in real mode"))
        return;
    /* An NMI posted to the APIC (an MSI of delivery mode NMI) is pending
     * before any RUN took it, and SET drops it. */
    if (!hvt_eq(hv_signal_msi(lapic.vcpu, HV_MSI_ADDRESS_BASE, 4u << 8), 1,
                "SIGNAL_MSI of an NMI to APIC 0") ||
        !hvt_get_events(&lapic, got, "after the NMI MSI") ||
        !hvt_eq(got->nmi.pending, 1, "nmi.pending after an NMI MSI"))
        return;
    memset(e, 0, sizeof(*e));
    e->flags = HV_VCPUEVENT_VALID_NMI_PENDING;
    if (hvt_ok(hv_set_vcpu_events(lapic.vcpu, e), "SET_VCPU_EVENTS dropping the NMI") &&
        hvt_get_events(&lapic, got, "after dropping the NMI"))
        hvt_eq(got->nmi.pending, 0, "nmi.pending after SET dropped it");
}

/* One refused SET: the error, and the events unchanged. */
static int refused(const struct vm_instance *vm, const struct hv_vcpu_events *e, long want,
                   const char *what)
{
    struct hv_vcpu_events *before = hvt_events_buffer(), *after = hvt_events_buffer();
    if (!hvt_get_events(vm, before, "before a refused SET") ||
        !hvt_err(hv_set_vcpu_events(vm->vcpu, e), want, what) ||
        !hvt_get_events(vm, after, "after a refused SET"))
        return 0;
    if (memcmp(before, after, sizeof(*before)) != 0) {
        hvt_fail("%s: refused, but the events changed", what);
        return 0;
    }
    return 1;
}

static void events_refuse_bad_input(void)
{
    struct vm_instance vm, off;
    struct hv_vcpu_events *e = hvt_events_buffer();
    if (hvt_events_guest(&vm, "events_args", 1) < 0 || hvt_events_guest(&off, "events_if_off", 0) < 0)
        return;
    /* Handles, rights, pointers. */
    hvt_err(hv_call(HV_CALL_GET_VCPU_EVENTS, (uint64_t)vm.vm, hv_gpa(e), 0, 0, 0, 0),
            -HV_EBADTYPE, "GET_VCPU_EVENTS on a VM handle");
    hvt_err(hv_call(HV_CALL_SET_VCPU_EVENTS, (uint64_t)hvt_sys(), hv_gpa(e), 0, 0, 0, 0),
            -HV_EBADTYPE, "SET_VCPU_EVENTS on the system handle");
    hvt_err(hv_call(HV_CALL_GET_VCPU_EVENTS, 0, hv_gpa(e), 0, 0, 0, 0), -HV_EBADF,
            "GET_VCPU_EVENTS on handle 0");
    long ro = hvt_keep(hv_dup(vm.vcpu, HV_RIGHT_READ));
    long wo = hvt_keep(hv_dup(vm.vcpu, HV_RIGHT_WRITE));
    hvt_err(hv_set_vcpu_events(ro, e), -HV_EPERM, "SET_VCPU_EVENTS without the WRITE right");
    hvt_err(hv_get_vcpu_events(wo, e), -HV_EPERM, "GET_VCPU_EVENTS without the READ right");
    hvt_err(hv_get_vcpu_events(vm.vcpu, (void *)((uint8_t *)e + 4)), -HV_EINVAL,
            "GET_VCPU_EVENTS misaligned");
    hvt_err(hv_set_vcpu_events(vm.vcpu, (void *)((uint8_t *)e + 4)), -HV_EINVAL,
            "SET_VCPU_EVENTS misaligned");
    hvt_err(hv_get_vcpu_events(vm.vcpu, (void *)(uintptr_t)(hvt_info()->memory_size - 32)),
            -HV_EFAULT, "GET_VCPU_EVENTS straddling the end of memory");
    hvt_err(hv_call(HV_CALL_SET_VCPU_EVENTS, (uint64_t)vm.vcpu, ~0ull << 12, 0, 0, 0, 0),
            -HV_EFAULT, "SET_VCPU_EVENTS far outside memory");
    if (hvt_failed())
        return;
    /* Fields, each alone on a structure that is otherwise fine. */
    static const struct {
        const char *what;
        uint32_t flags;
        unsigned offset, value;
        long want;
    } bad[] = {
        { "an unknown flag", 1u << 6, 0, 0, -HV_EINVAL },
        { "a reserved byte", 0, offsetof(struct hv_vcpu_events, reserved) + 39, 1, -HV_EINVAL },
        { "nmi.pad", 0, offsetof(struct hv_vcpu_events, nmi.pad), 1, -HV_EINVAL },
        { "exception.injected 2", HV_VCPUEVENT_VALID_EXCEPTION,
          offsetof(struct hv_vcpu_events, exception.injected), 2, -HV_EINVAL },
        { "exception vector 32", HV_VCPUEVENT_VALID_EXCEPTION,
          offsetof(struct hv_vcpu_events, exception.nr), 32, -HV_EINVAL },
        { "exception vector 2 (NMI)", HV_VCPUEVENT_VALID_EXCEPTION,
          offsetof(struct hv_vcpu_events, exception.nr), 2, -HV_EINVAL },
        { "an error code on #UD", HV_VCPUEVENT_VALID_EXCEPTION,
          offsetof(struct hv_vcpu_events, exception.nr), VECTOR_UD, -HV_EINVAL },
        { "#GP without its error code", HV_VCPUEVENT_VALID_EXCEPTION,
          offsetof(struct hv_vcpu_events, exception.has_error_code), 0, -HV_EINVAL },
        { "#CP (no CET in guests)", HV_VCPUEVENT_VALID_EXCEPTION,
          offsetof(struct hv_vcpu_events, exception.nr), 21, -HV_EINVAL },
        { "reserved vector 15", HV_VCPUEVENT_VALID_EXCEPTION,
          offsetof(struct hv_vcpu_events, exception.nr), 15, -HV_EINVAL },
        { "reserved vector 31", HV_VCPUEVENT_VALID_EXCEPTION,
          offsetof(struct hv_vcpu_events, exception.nr), 31, -HV_EINVAL },
        { "an error code above 16 bits", HV_VCPUEVENT_VALID_EXCEPTION,
          offsetof(struct hv_vcpu_events, exception.error_code) + 2, 1, -HV_EINVAL },
        { "interrupt.injected 2", HV_VCPUEVENT_VALID_INTERRUPT,
          offsetof(struct hv_vcpu_events, interrupt.injected), 2, -HV_EINVAL },
        { "a software interrupt", HV_VCPUEVENT_VALID_INTERRUPT,
          offsetof(struct hv_vcpu_events, interrupt.soft), 1, -HV_EINVAL },
        { "shadow 3", HV_VCPUEVENT_VALID_SHADOW,
          offsetof(struct hv_vcpu_events, interrupt.shadow), 3, -HV_EINVAL },
        { "nmi.masked 2", HV_VCPUEVENT_VALID_NMI,
          offsetof(struct hv_vcpu_events, nmi.masked), 2, -HV_EINVAL },
        { "nmi.pending 2", HV_VCPUEVENT_VALID_NMI_PENDING,
          offsetof(struct hv_vcpu_events, nmi.pending), 2, -HV_EINVAL },
        { "an NMI with a shadow", HV_VCPUEVENT_VALID_NMI | HV_VCPUEVENT_VALID_SHADOW,
          offsetof(struct hv_vcpu_events, interrupt.shadow), 2, -HV_EINVAL },
        { "an NMI injected while NMIs are masked", HV_VCPUEVENT_VALID_NMI,
          offsetof(struct hv_vcpu_events, nmi.masked), 1, -HV_EINVAL },
        { "an exception and an NMI at once", HV_VCPUEVENT_VALID_NMI | HV_VCPUEVENT_VALID_EXCEPTION,
          offsetof(struct hv_vcpu_events, exception.injected), 1, -HV_EINVAL },
    };
    char what[96];
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(e, 0, sizeof(*e));
        e->flags = bad[i].flags;
        /* the exception cases start from a valid #GP with an error code */
        e->exception.nr = VECTOR_GP;
        e->exception.has_error_code = 1;
        if (bad[i].flags & HV_VCPUEVENT_VALID_EXCEPTION)
            e->exception.injected = 1;
        if (bad[i].flags & HV_VCPUEVENT_VALID_NMI)
            e->nmi.injected = 1;
        if (bad[i].offset || bad[i].value)
            ((uint8_t *)e)[bad[i].offset] = (uint8_t)bad[i].value;
        snprintf(what, sizeof(what), "SET_VCPU_EVENTS with %s", bad[i].what);
        if (!refused(&vm, e, bad[i].want, what))
            return;
    }
    /* The same #GP the cases started from is fine. */
    memset(e, 0, sizeof(*e));
    e->flags = HV_VCPUEVENT_VALID_EXCEPTION;
    e->exception.injected = 1;
    e->exception.nr = VECTOR_GP;
    e->exception.has_error_code = 1;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS of #GP(0)"))
        return;
    /* An NMI while an exception waits: one event at a time. */
    memset(e, 0, sizeof(*e));
    e->flags = HV_VCPUEVENT_VALID_NMI;
    e->nmi.injected = 1;
    if (!refused(&vm, e, -HV_EINVAL, "SET_VCPU_EVENTS of an NMI while an exception waits"))
        return;
    /* STI's shadow needs IF set (VM entry refuses it otherwise). */
    memset(e, 0, sizeof(*e));
    e->flags = HV_VCPUEVENT_VALID_SHADOW;
    e->interrupt.shadow = 1;
    if (!refused(&off, e, -HV_EINVAL, "SET_VCPU_EVENTS of an STI shadow with IF clear"))
        return;
    e->interrupt.shadow = 2;
    hvt_ok(hv_set_vcpu_events(off.vcpu, e), "SET_VCPU_EVENTS of a MOV SS shadow with IF clear");
}

const struct hvtest_case hvtest_events_cases[] = {
    { "vcpu_events_round_trip", events_round_trip },
    { "vcpu_events_refuse_bad_input", events_refuse_bad_input },
    { NULL, NULL },
};
