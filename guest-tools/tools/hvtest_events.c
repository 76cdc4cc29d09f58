/*
 * GET_VCPU_EVENTS and SET_VCPU_EVENTS (abi/README.md section 7): the
 * round trip of every part, the refusal of every bad field (a refused SET
 * changes nothing), and the effect on a guest with a real IDT: an
 * exception set with an error code reaches its handler with that code;
 * an STI shadow holds an interrupt back for one instruction; an NMI set
 * pending while NMIs are masked waits for the guest's IRET and comes
 * right after it, and one made pending inside the NMI handler does not
 * nest; a HLT with an NMI pending but masked stays halted (local APIC VMs
 * sleep in the hypervisor) until SET_VCPU_EVENTS unmasks it.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define GATE_INTERRUPT_32 0x8e
#define RFLAGS_IF         0x200u
#define HANDLERS_GPA      0x19000u   /* past hvt_guest_catch_vector's */
#define VECTOR_UD         6
#define VECTOR_GP         13
#define VECTOR_IRQ        0x30

static struct hv_vcpu_events *events_buffer(void)
{
    struct hv_vcpu_events *e = page_alloc(sizeof(*e));
    memset(e, 0, sizeof(*e));
    return e;
}

static void set_gate(struct vm_instance *vm, unsigned vector, uint32_t handler)
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

/* A flat 32-bit guest with a full IDT (#UD caught by the suite's handler)
 * and RFLAGS.IF as given. */
static int events_guest(struct vm_instance *vm, const char *name, int interrupts_on)
{
    struct hv_regs regs;
    if (hvt_guest_create(vm, name) < 0 || hvt_guest_flat32(vm, HVT_CODE_GPA) < 0 ||
        hvt_guest_catch_vector(vm, VECTOR_UD) < 0 ||
        !hvt_ok(hv_get_regs(vm->vcpu, &regs), "GET_REGS"))
        return -1;
    regs.rflags = 0x2 | (interrupts_on ? RFLAGS_IF : 0);
    return hvt_ok(hv_set_regs(vm->vcpu, &regs), "SET_REGS") ? 0 : -1;
}

static int get_events(const struct vm_instance *vm, struct hv_vcpu_events *e, const char *when)
{
    char what[96];
    snprintf(what, sizeof(what), "GET_VCPU_EVENTS %s", when);
    return hvt_ok(hv_get_vcpu_events(vm->vcpu, e), what);
}

static void events_round_trip(void)
{
    struct vm_instance vm, lapic;
    struct hv_vcpu_events *e = events_buffer(), *got = events_buffer();
    if (events_guest(&vm, "events_trip", 1) < 0 || !get_events(&vm, got, "of a new vcpu"))
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
        !get_events(&vm, got, "after SET"))
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
        !get_events(&vm, got, "after the NMI part"))
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
        !get_events(&vm, got, "after clearing everything") ||
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
        !get_events(&lapic, got, "of the LAPIC vcpu") ||
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
        !get_events(&lapic, got, "after #GP in real mode") ||
        !hvt_eq(got->exception.injected, 1, "exception.injected in real mode") ||
        !hvt_eq(got->exception.has_error_code, 0, "has_error_code in real mode"))
        return;
    /* An NMI posted to the APIC (an MSI of delivery mode NMI) is pending
     * before any RUN took it, and SET drops it. */
    if (!hvt_eq(hv_signal_msi(lapic.vcpu, HV_MSI_ADDRESS_BASE, 4u << 8), 1,
                "SIGNAL_MSI of an NMI to APIC 0") ||
        !get_events(&lapic, got, "after the NMI MSI") ||
        !hvt_eq(got->nmi.pending, 1, "nmi.pending after an NMI MSI"))
        return;
    memset(e, 0, sizeof(*e));
    e->flags = HV_VCPUEVENT_VALID_NMI_PENDING;
    if (hvt_ok(hv_set_vcpu_events(lapic.vcpu, e), "SET_VCPU_EVENTS dropping the NMI") &&
        get_events(&lapic, got, "after dropping the NMI"))
        hvt_eq(got->nmi.pending, 0, "nmi.pending after SET dropped it");
}

/* One refused SET: the error, and the events unchanged. */
static int refused(const struct vm_instance *vm, const struct hv_vcpu_events *e, long want,
                   const char *what)
{
    struct hv_vcpu_events *before = events_buffer(), *after = events_buffer();
    if (!get_events(vm, before, "before a refused SET") ||
        !hvt_err(hv_set_vcpu_events(vm->vcpu, e), want, what) ||
        !get_events(vm, after, "after a refused SET"))
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
    struct hv_vcpu_events *e = events_buffer();
    if (events_guest(&vm, "events_args", 1) < 0 || events_guest(&off, "events_if_off", 0) < 0)
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

/* An exception set with an error code reaches the guest's handler, which
 * OUTs the error code it finds on its stack; one set as pending, without
 * an error code, reaches its own. */
static void events_exception_reaches_guest_idt(void)
{
    struct vm_instance vm;
    struct hv_vcpu_events *e = events_buffer();
    struct hvt_code code;
    static const uint8_t pop_eax[] = { 0x58 };
    if (events_guest(&vm, "events_exception", 0) < 0)
        return;
    hvt_code_start(&code, &vm, HANDLERS_GPA);
    hvt_bytes(&code, pop_eax, sizeof(pop_eax));
    uint32_t handler_out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    set_gate(&vm, VECTOR_GP, HANDLERS_GPA);
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_out_imm(&code, HVT_PORT_ECHO, 1);    /* never reached first */
    hvt_hlt(&code);

    e->flags = HV_VCPUEVENT_VALID_EXCEPTION;
    e->exception.injected = 1;
    e->exception.nr = VECTOR_GP;
    e->exception.has_error_code = 1;
    e->exception.error_code = 0x1238;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS of #GP(0x1238)") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x1238, handler_out,
                            "#GP's handler OUTs the error code it was given"))
        return;
    if (!get_events(&vm, e, "after the #GP was delivered") ||
        !hvt_eq(e->exception.injected, 0, "exception.injected once delivered"))
        return;
    struct hv_regs regs;
    if (!hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS"))
        return;
    regs.rip = HVT_CODE_GPA;
    regs.rsp = HVT_STACK_TOP;
    if (!hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS back to the start"))
        return;
    memset(e, 0, sizeof(*e));
    e->flags = HV_VCPUEVENT_VALID_EXCEPTION;
    e->exception.pending = 1;
    e->exception.nr = VECTOR_UD;
    if (hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS of a pending #UD"))
        hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_UD,
                           HVT_HANDLER_GPA + VECTOR_UD * 16 + 5,
                           "#UD's handler runs before the guest's first instruction");
}

/* An STI shadow set with an interrupt queued: the guest's first
 * instruction runs before the interrupt (without the shadow the handler
 * would come first, as in hvtest_interrupt.c). Checked on VMX only: QEMU's
 * TCG (7.2) does not load the VMCB's interrupt shadow at VMRUN, so there
 * the handler comes first whatever the hypervisor does (Bochs' SVM holds
 * it back as the APM says; README, known limits). */
static void events_sti_shadow_holds_interrupt_one_instruction(void)
{
    struct vm_instance vm;
    struct hv_vcpu_events *e = events_buffer();
    struct hvt_code code;
    if (events_guest(&vm, "events_shadow", 1) < 0)
        return;
    hvt_code_start(&code, &vm, HANDLERS_GPA);
    hvt_mov_eax_imm(&code, VECTOR_IRQ);
    uint32_t handler_out = hvt_out_imm(&code, HVT_PORT_VECTOR, 4);
    hvt_hlt(&code);
    set_gate(&vm, VECTOR_IRQ, HANDLERS_GPA);
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    uint32_t first = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    hvt_hlt(&code);

    e->flags = HV_VCPUEVENT_VALID_INTERRUPT | HV_VCPUEVENT_VALID_SHADOW;
    e->interrupt.injected = 1;
    e->interrupt.nr = VECTOR_IRQ;
    e->interrupt.shadow = 1;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS of an interrupt under STI's shadow"))
        return;
    if (hv_backend() != HV_BACKEND_VMX) {
        if (!hvt_ok(hv_run(vm.vcpu), "RUN"))
            return;
        ctl_printf("hvtest: info shadow: SVM's first exit under an STI shadow set by "
                   "SET_VCPU_EVENTS: %s\n",
                   vm.run->exit_reason == HV_EXIT_IO && vm.run->io.port == HVT_PORT_VALUE
                       ? "the guest's instruction (shadow held)"
                       : "not the guest's instruction (QEMU ignores a VMCB shadow)");
        return;
    }
    if (hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0, first,
                           "the first instruction runs in the shadow") &&
        hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_IRQ, handler_out,
                           "then the interrupt's handler"))
        hvt_ok(get_events(&vm, e, "after the interrupt") &&
               hvt_eq(e->interrupt.injected, 0, "interrupt.injected once delivered"), "");
}

/* NMI masking: an NMI set pending while masked waits for the guest's
 * IRET and is delivered right after it (before the next instruction's
 * exit), and one made pending inside the handler waits for the handler's
 * IRET instead of nesting. */
static void events_nmi_masked_waits_for_iret(void)
{
    struct vm_instance vm;
    struct hv_vcpu_events *e = events_buffer();
    struct hvt_code code;
    static const uint8_t push_eax[] = { 0x50 }, pop_eax_iret[] = { 0x58, 0xcf };
    if (events_guest(&vm, "events_nmi", 0) < 0)
        return;
    hvt_code_start(&code, &vm, HANDLERS_GPA);
    hvt_bytes(&code, push_eax, sizeof(push_eax));
    hvt_mov_eax_imm(&code, 2);
    uint32_t nmi_out = hvt_out_imm(&code, HVT_PORT_VECTOR, 4);
    hvt_mov_eax_imm(&code, 3);
    uint32_t nmi_out2 = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_bytes(&code, pop_eax_iret, sizeof(pop_eax_iret));
    set_gate(&vm, 2, HANDLERS_GPA);
    /* out 1; an IRET to the next instruction (as an NMI handler's would
     * be); out 4; hlt */
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 1);
    uint32_t first = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    uint32_t after_iret = code.at + 1 + 1 + 5 + 1;
    hvt_bytes(&code, (const uint8_t[]){ 0x9c, 0x0e, 0x68 }, 3);   /* pushfd; push cs; push */
    hvt_bytes(&code, (const uint8_t *)&after_iret, 4);             /* imm32 */
    hvt_bytes(&code, (const uint8_t[]){ 0xcf }, 1);               /* iretd */
    hvt_mov_eax_imm(&code, 4);
    uint32_t last = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (!hvt_eq(last, after_iret + 5, "the assembler's layout"))
        return;

    e->flags = HV_VCPUEVENT_VALID_NMI | HV_VCPUEVENT_VALID_NMI_PENDING;
    e->nmi.masked = 1;
    e->nmi.pending = 1;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS: NMI masked and pending") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 1, first, "masked: the guest runs, no NMI") ||
        !get_events(&vm, e, "while masked") ||
        !hvt_eq(e->nmi.pending, 1, "nmi.pending while masked") ||
        !hvt_eq(e->nmi.masked, 1, "nmi.masked while masked") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, 2, nmi_out,
                            "the NMI right after the guest's IRET unmasked it"))
        return;
    if (!get_events(&vm, e, "in the NMI handler") ||
        !hvt_eq(e->nmi.masked, 1, "nmi.masked in the handler") ||
        !hvt_eq(e->nmi.pending, 0, "nmi.pending in the handler"))
        return;
    memset(e, 0, sizeof(*e));
    e->flags = HV_VCPUEVENT_VALID_NMI_PENDING;
    e->nmi.pending = 1;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS: another NMI in the handler") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 3, nmi_out2,
                            "the handler goes on: the second NMI does not nest") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, 2, nmi_out,
                            "the second NMI right after the handler's IRET") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 3, nmi_out2, "its handler goes on") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 4, last, "back after the IRET") ||
        !get_events(&vm, e, "at the end"))
        return;
    hvt_eq(e->nmi.masked | e->nmi.pending | e->nmi.injected, 0, "NMI state at the end");
}

static uint64_t read_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* hlt; out 7; hlt with an NMI handler that OUTs 2 and returns. Masked,
 * the pending NMI does not end the HLT: RUN sleeps to its deadline, and
 * not into the OUT after the HLT. Unmasked, the NMI wakes it. */
static void events_masked_nmi_leaves_hlt_halted(void)
{
    struct vm_instance vm;
    struct hv_vcpu_events *e = events_buffer();
    struct hvt_code code;
    uint32_t *mp = page_alloc(sizeof(*mp));
    if (!hvt_ok(vmm_create_with(&vm, hvt_sys(), "events_hlt", HVT_GUEST_RAM_MIB, 1, HV_VM_LAPIC),
                "vmm_create_with HV_VM_LAPIC"))
        return;
    hvt_keep(vm.vcpu);
    hvt_keep(vm.vm);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 || hvt_guest_catch_vector(&vm, VECTOR_UD) < 0)
        return;
    hvt_code_start(&code, &vm, HANDLERS_GPA);
    hvt_mov_eax_imm(&code, 2);
    uint32_t nmi_out = hvt_out_imm(&code, HVT_PORT_VECTOR, 4);
    hvt_bytes(&code, (const uint8_t[]){ 0xcf }, 1);                   /* iretd */
    set_gate(&vm, 2, HANDLERS_GPA);
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_hlt(&code);
    hvt_mov_eax_imm(&code, 7);
    uint32_t after = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);

    e->flags = HV_VCPUEVENT_VALID_NMI | HV_VCPUEVENT_VALID_NMI_PENDING;
    e->nmi.masked = 1;
    e->nmi.pending = 1;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS: NMI masked and pending"))
        return;
    uint64_t tsc_per_ms = (uint64_t)hv_check_extension(hvt_sys(), HV_CAP_TSC_KHZ);
    uint32_t reason = HV_EXIT_INTR;
    for (unsigned i = 0; i < 50 && reason == HV_EXIT_INTR; i++) {
        vm.run->deadline_tsc = read_tsc() + 20 * tsc_per_ms;
        if (!hvt_ok(hv_run(vm.vcpu), "RUN with a 20 ms deadline"))
            return;
        reason = vm.run->exit_reason;
    }
    vm.run->deadline_tsc = 0;
    if (!hvt_eq(reason, HV_EXIT_DEADLINE, "RUN of a HLT with a masked NMI ends at the deadline") ||
        !hvt_ok(hv_get_mp_state(vm.vcpu, mp), "GET_MP_STATE") ||
        !hvt_eq(*mp, HV_MP_STATE_HALTED, "the vcpu is still halted") ||
        !get_events(&vm, e, "while halted") ||
        !hvt_eq(e->nmi.pending, 1, "the NMI still pending"))
        return;
    memset(e, 0, sizeof(*e));
    e->flags = HV_VCPUEVENT_VALID_NMI;
    if (hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS: NMI unmasked") &&
        hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, 2, nmi_out, "the NMI wakes the HLT"))
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 7, after, "after the handler's IRET");
}

const struct hvtest_case hvtest_events_cases[] = {
    { "vcpu_events_round_trip", events_round_trip },
    { "vcpu_events_refuse_bad_input", events_refuse_bad_input },
    { "vcpu_events_exception_reaches_guest_idt", events_exception_reaches_guest_idt },
    { "vcpu_events_sti_shadow_holds_interrupt_one_instruction",
      events_sti_shadow_holds_interrupt_one_instruction },
    { "vcpu_events_nmi_masked_waits_for_iret", events_nmi_masked_waits_for_iret },
    { "vcpu_events_masked_nmi_leaves_hlt_halted", events_masked_nmi_leaves_hlt_halted },
    { NULL, NULL },
};
