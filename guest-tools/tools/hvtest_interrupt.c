/*
 * INTERRUPT (abi/README.md section 7) and the run page's interrupt window
 * (section 8), by their effect on a guest with a real IDT: an interrupt
 * queued while the guest has IF=1 runs its handler on the next RUN; one
 * queued while IF=0 waits until STI and its shadow have passed; a VMM that
 * asks for the window gets HV_EXIT_IRQ_WINDOW_OPEN right after them;
 * ready_for_interrupt_injection and if_flag say so on every RUN; one
 * interrupt at a time; SET_REGS and SET_SREGS keep a queued one; vectors
 * above 255 and missing rights are refused.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define VECTOR 0x30
#define GATE_INTERRUPT_32 0x8e
#define RFLAGS_IF 0x200u

/* Gate VECTOR to a handler that OUTs the vector to HVT_PORT_VECTOR and
 * returns with IRET, EAX preserved; returns the OUT's address, or 0 (the
 * test failed). */
static uint32_t install_handler(struct vm_instance *vm)
{
    static const uint8_t push_eax[] = { 0x50 }, pop_eax_iret[] = { 0x58, 0xcf };
    struct hvt_code code;
    struct hv_sregs sregs;
    uint32_t handler = HVT_HANDLER_GPA, out;
    uint8_t *gate = vm->ram + HVT_IDT_GPA + VECTOR * 8;

    hvt_code_start(&code, vm, handler);
    hvt_bytes(&code, push_eax, sizeof(push_eax));
    hvt_mov_eax_imm(&code, VECTOR);
    out = hvt_out_imm(&code, HVT_PORT_VECTOR, 4);
    hvt_bytes(&code, pop_eax_iret, sizeof(pop_eax_iret));
    gate[0] = (uint8_t)handler;
    gate[1] = (uint8_t)(handler >> 8);
    gate[2] = HVT_SELECTOR_CODE;
    gate[3] = 0;
    gate[4] = 0;
    gate[5] = GATE_INTERRUPT_32;
    gate[6] = (uint8_t)(handler >> 16);
    gate[7] = (uint8_t)(handler >> 24);
    if (!hvt_ok(hv_get_sregs(vm->vcpu, &sregs), "GET_SREGS"))
        return 0;
    sregs.idt.base = HVT_IDT_GPA;
    sregs.idt.limit = 256 * 8 - 1;
    return hvt_ok(hv_set_sregs(vm->vcpu, &sregs), "SET_SREGS (IDT)") ? out : 0;
}

/* A flat 32-bit guest at HVT_CODE_GPA with the handler, RFLAGS.IF as
 * given. */
static uint32_t guest_with_handler(struct vm_instance *vm, int interrupts_on)
{
    struct hv_regs regs;
    uint32_t out;

    if (hvt_guest_create(vm, "hvtest") < 0 || hvt_guest_flat32(vm, HVT_CODE_GPA) < 0)
        return 0;
    out = install_handler(vm);
    if (out == 0 || !hvt_ok(hv_get_regs(vm->vcpu, &regs), "GET_REGS"))
        return 0;
    regs.rflags = 0x2 | (interrupts_on ? RFLAGS_IF : 0);
    return hvt_ok(hv_set_regs(vm->vcpu, &regs), "SET_REGS (RFLAGS)") ? out : 0;
}

static int flags_are(const struct vm_instance *vm, unsigned ready, unsigned if_flag,
                     const char *when)
{
    char what[96];

    snprintf(what, sizeof(what), "ready_for_interrupt_injection %s", when);
    if (!hvt_eq(vm->run->ready_for_interrupt_injection, ready, what))
        return 0;
    snprintf(what, sizeof(what), "if_flag %s", when);
    return hvt_eq(vm->run->if_flag, if_flag, what);
}

static void interrupt_runs_handler_when_if_set(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t handler_out = guest_with_handler(&vm, 1), loop;

    if (handler_out == 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    loop = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    hvt_bytes(&code, (const uint8_t[]){ 0xeb, 0xfc }, 2);     /* jmp loop */
    vm.run->ready_for_interrupt_injection = 0x77;
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0, loop, "the loop's OUT") ||
        !flags_are(&vm, 1, 1, "with IF=1 and nothing queued") ||
        !hvt_err(hv_interrupt(vm.vcpu, VECTOR), 0, "INTERRUPT 0x30") ||
        !hvt_err(hv_interrupt(vm.vcpu, VECTOR + 1), -HV_EBUSY,
                 "a second INTERRUPT while the first is pending") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR, handler_out,
                            "RUN after INTERRUPT: the handler's OUT"))
        return;
    if (!flags_are(&vm, 0, 0, "inside the interrupt gate's handler") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0, loop, "the loop after IRET") ||
        !flags_are(&vm, 1, 1, "back in the loop"))
        return;
    /* Taken: another may be queued, and is delivered too. */
    if (hvt_err(hv_interrupt(vm.vcpu, VECTOR), 0, "INTERRUPT after the first was taken"))
        hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR, handler_out,
                           "the second interrupt's handler");
}

/* out; sti; nop; out; jmp back: the interrupt window opens at the second
 * OUT, after STI's one-instruction shadow (the NOP). */
static void sti_program(struct vm_instance *vm, uint32_t *first, uint32_t *second)
{
    struct hvt_code code;

    hvt_code_start(&code, vm, HVT_CODE_GPA);
    *first = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    hvt_bytes(&code, (const uint8_t[]){ 0xfb, 0x90 }, 2);     /* sti; nop */
    *second = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    hvt_bytes(&code, (const uint8_t[]){ 0xeb, 0xfc }, 2);     /* jmp second */
}

/* GET and SET of both register sets: a queued interrupt survives them. */
static int state_round_trip(struct vm_instance *vm)
{
    struct hv_regs regs;
    struct hv_sregs sregs;

    return hvt_err(hv_get_regs(vm->vcpu, &regs), 0, "GET_REGS") &&
           hvt_err(hv_set_regs(vm->vcpu, &regs), 0, "SET_REGS with an interrupt queued") &&
           hvt_err(hv_get_sregs(vm->vcpu, &sregs), 0, "GET_SREGS") &&
           hvt_err(hv_set_sregs(vm->vcpu, &sregs), 0, "SET_SREGS with an interrupt queued");
}

static void interrupt_waits_for_sti(void)
{
    struct vm_instance vm;
    uint32_t handler_out = guest_with_handler(&vm, 0), first, second;

    if (handler_out == 0)
        return;
    sti_program(&vm, &first, &second);
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0, first, "the OUT with IF=0") ||
        !flags_are(&vm, 0, 0, "with IF=0") ||
        !hvt_err(hv_interrupt(vm.vcpu, VECTOR), 0, "INTERRUPT with IF=0") ||
        !state_round_trip(&vm) ||
        !hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR, handler_out,
                            "RUN after INTERRUPT with IF=0: the handler once STI ran"))
        return;
    /* The handler ran after STI and the NOP: it returns to the OUT. */
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0, second, "the OUT after the window");
}

static void request_interrupt_window_exits_after_sti(void)
{
    struct vm_instance vm;
    uint32_t handler_out = guest_with_handler(&vm, 0), first, second;

    if (handler_out == 0)
        return;
    sti_program(&vm, &first, &second);
    vm.run->request_interrupt_window = 1;
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0, first,
                            "the OUT with IF=0 and the window requested") ||
        !flags_are(&vm, 0, 0, "with IF=0") || !hvt_run(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_IRQ_WINDOW_OPEN, "RUN over STI with the window requested") ||
        !hvt_eq(vm.run->exit_rip, second, "exit_rip of the window exit (after STI's shadow)") ||
        !flags_are(&vm, 1, 1, "at the window exit"))
        return;
    vm.run->request_interrupt_window = 0;
    if (!hvt_err(hv_interrupt(vm.vcpu, VECTOR), 0, "INTERRUPT at the window") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR, handler_out,
                            "RUN after the window: the handler"))
        return;
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0, second, "the OUT after IRET");
}

static void interrupt_argument_and_rights(void)
{
    struct vm_instance vm;
    long no_write;

    if (guest_with_handler(&vm, 1) == 0)
        return;
    if (!hvt_err(hv_interrupt(vm.vcpu, 256), -HV_EINVAL, "INTERRUPT vector 256") ||
        !hvt_err(hv_call(HV_CALL_INTERRUPT, (uint64_t)vm.vcpu, ~0ull, 0, 0, 0, 0),
                 -HV_EINVAL, "INTERRUPT vector ~0") ||
        !hvt_err(hv_call(HV_CALL_INTERRUPT, (uint64_t)vm.vcpu, 1ull << 32 | VECTOR, 0, 0, 0, 0),
                 -HV_EINVAL, "INTERRUPT vector 0x30 with bit 32"))
        return;
    no_write = hvt_keep(hv_dup(vm.vcpu, HV_RIGHTS_ALL & ~HV_RIGHT_WRITE));
    if (!hvt_ok(no_write, "DUP without WRITE") ||
        !hvt_err(hv_interrupt(no_write, VECTOR), -HV_EPERM, "INTERRUPT without WRITE") ||
        !hvt_err(hv_interrupt(vm.vm, VECTOR), -HV_EBADTYPE, "INTERRUPT on the VM handle"))
        return;
    /* Refused means not queued: a valid one is accepted now, vector 255 too. */
    hvt_err(hv_interrupt(vm.vcpu, 255), 0, "INTERRUPT vector 255 after the refusals");
}

#define MMIO_STACK 0xe0000100u /* no memory there: the VMM's MMIO */

/* RUN ended with HV_EXIT_INTERNAL_ERROR for an event's delivery onto
 * MMIO_STACK (HV_INTERNAL_ERROR_DELIVERY_EVENT). */
static int delivery_error_is(struct vm_instance *vm, unsigned vector, const char *what)
{
    struct hv_run *run = vm->run;
    if (!hvt_exit_is(vm, HV_EXIT_INTERNAL_ERROR, what) ||
        !hvt_eq(run->internal.suberror, HV_INTERNAL_ERROR_DELIVERY_EVENT, what) ||
        !hvt_eq(run->internal.data[0], vector, what) ||
        !hvt_eq(run->internal.data[2], 1, what))
        return 0;
    return hvt_true(run->internal.data[1] >= MMIO_STACK - 16 && run->internal.data[1] < MMIO_STACK,
                    what);
}

static int set_rsp(struct vm_instance *vm, uint64_t rsp, uint64_t *old)
{
    struct hv_regs regs;
    if (!hvt_ok(hv_get_regs(vm->vcpu, &regs), "GET_REGS"))
        return 0;
    if (old)
        *old = regs.rsp;
    regs.rsp = rsp;
    return hvt_ok(hv_set_regs(vm->vcpu, &regs), "SET_REGS (RSP)");
}

/* The delivery of an interrupt, or of an exception, pushes its frame onto
 * a stack where there is no memory (MMIO): no instruction made that
 * access, so RUN ends with HV_EXIT_INTERNAL_ERROR
 * (HV_INTERNAL_ERROR_DELIVERY_EVENT: the vector, the address, a write),
 * as KVM's DELIVERY_EV, rather than an MMIO exit for the instruction at
 * RIP. The event stays pending: with the stack back in RAM, the next RUN
 * delivers it. */
static void delivery_onto_mmio_is_an_internal_error(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint64_t stack;
    uint32_t handler_out = guest_with_handler(&vm, 1);
    if (handler_out == 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_jmp_self(&code);
    if (!set_rsp(&vm, MMIO_STACK, &stack) ||
        !hvt_err(hv_interrupt(vm.vcpu, VECTOR), 0, "INTERRUPT 0x30") || !hvt_run(&vm) ||
        !delivery_error_is(&vm, VECTOR, "interrupt 0x30 pushed onto MMIO") ||
        !set_rsp(&vm, stack, NULL) ||
        !hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR, handler_out,
                            "the interrupt, still pending, with the stack in RAM"))
        return;

    struct vm_instance ud;
    if (hvt_guest_create(&ud, "hvtest_ud") < 0 || hvt_guest_flat32(&ud, HVT_CODE_GPA) < 0 ||
        hvt_guest_catch_vector(&ud, 6) < 0)
        return;
    hvt_code_start(&code, &ud, HVT_CODE_GPA);
    hvt_bytes(&code, (const uint8_t[]){ 0x0f, 0x0b }, 2);      /* ud2 */
    if (!set_rsp(&ud, MMIO_STACK, &stack) || !hvt_run(&ud) ||
        !delivery_error_is(&ud, 6, "#UD pushed onto MMIO") || !set_rsp(&ud, stack, NULL) ||
        !hvt_run(&ud) || !hvt_exit_is(&ud, HV_EXIT_IO, "#UD with the stack in RAM"))
        return;
    hvt_eq(ud.run->io.port, HVT_PORT_VECTOR, "#UD's handler's OUT");
}

const struct hvtest_case hvtest_interrupt_cases[] = {
    { "interrupt_runs_handler_when_if_set", interrupt_runs_handler_when_if_set },
    { "interrupt_waits_for_sti", interrupt_waits_for_sti },
    { "request_interrupt_window_exits_after_sti", request_interrupt_window_exits_after_sti },
    { "interrupt_argument_and_rights", interrupt_argument_and_rights },
    { "interrupt_delivery_onto_mmio_is_an_internal_error", delivery_onto_mmio_is_an_internal_error },
    { NULL, NULL },
};
