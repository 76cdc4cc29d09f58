/*
 * A guest's own debug registers at work (abi/README.md section 7): its
 * own hardware breakpoint fires in the guest, through its own #DB handler,
 * and so does its own single step, with BS in the DR6 it reads;
 * while DEBUG_GUEST holds the CPU's debug registers, the guest's MOV from
 * DR reads its own values and its MOV to DR changes only its own, which
 * GET/SET_DEBUGREGS see and which are in force again once debugging is
 * off; DEBUG_GUEST's breakpoint still ends RUN with HV_EXIT_DEBUG; and a
 * single step over an emulated MOV DR stops after it.
 *
 * The breakpoint a guest enables itself is disabled by the guest itself
 * before its RUN ends, by its own MOV to DR7: under QEMU that is what
 * takes it out of the emulator's list again (README, limits).
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define GPR_EAX 0
#define GPR_EDX 2
#define GPR_EBX 3
#define GATE_INTERRUPT_32 0x8e
#define TARGET_GPA  (HVT_CODE_GPA + 0x100)  /* where the guest's breakpoint is */
#define HANDLER_GPA (HVT_HANDLER_GPA + 0x100)
#define DR7_L0_EXECUTE 0x401u
#define DR6_B0 0xffff0ff1u             /* DR6 after breakpoint 0 alone */
#define DR7_VALUE 0x000d0700u          /* LE, GE; slot 0 write of 4 bytes; none enabled */

/* Points IDT gate `vector` at handler (the IDT installed by
 * hvt_guest_catch_vector). */
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

static void emit_mov_ebx_eax(struct hvt_code *code) /* 89 C3 */
{
    static const uint8_t op[] = { 0x89, 0xc3 };
    hvt_bytes(code, op, sizeof(op));
}

static void emit_mov_eax_ebx(struct hvt_code *code) /* 89 D8 */
{
    static const uint8_t op[] = { 0x89, 0xd8 };
    hvt_bytes(code, op, sizeof(op));
}

/* DR0 at TARGET_GPA, L0 for an execute breakpoint, a jump there. The #DB
 * handler reads DR6, disables the breakpoint, and reports DR6 and the EIP
 * the exception pushed (the breakpoint's: it is a fault). */
static void guest_breakpoint_fires_in_guest(void)
{
    static const uint8_t jmp_eax[] = { 0xff, 0xe0 }, eip_from_stack[] = { 0x8b, 0x04, 0x24 },
                         nop = 0x90;
    static const uint64_t db[4] = { TARGET_GPA, 0, 0, 0 };
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_debugregs *regs = page_alloc(sizeof(*regs));
    uint32_t missed, dr6_out, eip_out;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        hvt_guest_catch_vector(&vm, 1) < 0)
        return;
    set_gate(&vm, 1, HANDLER_GPA);
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_set_dr(&code, 0, TARGET_GPA);
    hvt_set_dr(&code, 7, DR7_L0_EXECUTE);
    hvt_mov_eax_imm(&code, TARGET_GPA);
    hvt_bytes(&code, jmp_eax, sizeof(jmp_eax));
    hvt_code_start(&code, &vm, TARGET_GPA);
    hvt_bytes(&code, &nop, 1);
    hvt_mov_eax_imm(&code, 0x5a);
    missed = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    hvt_hlt(&code);
    hvt_code_start(&code, &vm, HANDLER_GPA);
    hvt_mov_from_dr(&code, 6, GPR_EAX);
    emit_mov_ebx_eax(&code);
    hvt_set_dr(&code, 7, 0x400);
    emit_mov_eax_ebx(&code);
    dr6_out = hvt_out_imm(&code, HVT_PORT_ECHO, 4);
    hvt_bytes(&code, eip_from_stack, sizeof(eip_from_stack));
    eip_out = hvt_out_imm(&code, HVT_PORT_ECHO, 4);
    hvt_hlt(&code);

    if (!hvt_run(&vm))
        return;
    if (vm.run->exit_reason == HV_EXIT_IO && vm.run->exit_rip == missed) {
        hvt_fail("the guest's breakpoint at 0x%x never fired: it ran on to its OUT",
                 TARGET_GPA);
        return;
    }
    if (!hvt_exit_is(&vm, HV_EXIT_IO, "the guest's #DB handler") ||
        !hvt_eq(vm.run->exit_rip, dr6_out, "exit_rip: the handler's OUT of DR6") ||
        !hvt_eq(*(uint32_t *)((uint8_t *)vm.run + vm.run->io.data_offset), DR6_B0,
                "DR6 the guest's handler read") ||
        !hvt_run_expect_dr(&vm, eip_out, TARGET_GPA, "EIP the #DB pushed") ||
        !hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_HLT, "the handler's HLT") ||
        !hvt_err(hv_get_debugregs(vm.vcpu, regs), 0, "GET_DEBUGREGS"))
        return;
    hvt_debugregs_eq(regs, db, DR6_B0, 0x400, "GET_DEBUGREGS after the breakpoint");
}

/* The guest single-steps itself (POPF sets TF, the NOP after it traps)
 * before it ever touched a debug register: its handler reads BS in DR6
 * (on VMX the hypervisor delivers that #DB, as the CPU's DR6 is then the
 * control domain's). */
static void guest_single_step_sets_its_dr6(void)
{
    static const uint8_t set_tf[] = { 0x9c,                                   /* pushfd */
                                      0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, /* or [esp], TF */
                                      0x9d },                                 /* popfd */
                         nop = 0x90, eip_from_stack[] = { 0x8b, 0x04, 0x24 };
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t after, dr6_out, eip_out;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        hvt_guest_catch_vector(&vm, 1) < 0)
        return;
    set_gate(&vm, 1, HANDLER_GPA);
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_bytes(&code, set_tf, sizeof(set_tf));
    after = hvt_bytes(&code, &nop, 1) + 1;
    hvt_hlt(&code);
    hvt_code_start(&code, &vm, HANDLER_GPA);
    dr6_out = hvt_report_dr(&code, 6);
    hvt_bytes(&code, eip_from_stack, sizeof(eip_from_stack));
    eip_out = hvt_out_imm(&code, HVT_PORT_ECHO, 4);
    hvt_hlt(&code);
    if (hvt_run_expect_dr(&vm, dr6_out, 0xffff4ff0, "DR6 the guest's handler read after its step"))
        hvt_run_expect_dr(&vm, eip_out, after, "EIP the single-step #DB pushed");
}

/* The guest single-steps itself over instructions the hypervisor carries
 * out -- CPUID, an emulated RDMSR, an OUT the VMM completes, HLT, a
 * VMMCALL the VMM answers with SET_REGS -- and
 * takes its trap right after each, as after any other instruction: the
 * EIP its #DB handler finds is the next instruction's, and its DR6 says
 * BS. (Until 2026-12, the trap came one instruction late, after the NOP
 * that follows; a HLT halted first.) */
enum stepped_kind { STEP_CPUID, STEP_RDMSR, STEP_OUT, STEP_HLT, STEP_VMMCALL };

static void guest_single_step_over(enum stepped_kind kind, const char *what)
{
    static const uint8_t set_tf[] = { 0x9c,                                   /* pushfd */
                                      0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, /* or [esp], TF */
                                      0x9d },                                 /* popfd */
                         cpuid[] = { 0x0f, 0xa2 }, rdmsr[] = { 0x0f, 0x32 },
                         mov_ecx_tsc_adjust[] = { 0xb9, 0x3b, 0x00, 0x00, 0x00 },
                         nop = 0x90, eip_from_stack[] = { 0x8b, 0x04, 0x24 };
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t stepped, after, eip_out, dr6_out;
    char label[96];

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        hvt_guest_catch_vector(&vm, 1) < 0)
        return;
    set_gate(&vm, 1, HANDLER_GPA);
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 0);
    hvt_bytes(&code, mov_ecx_tsc_adjust, sizeof(mov_ecx_tsc_adjust));
    hvt_bytes(&code, set_tf, sizeof(set_tf));
    switch (kind) {
    case STEP_CPUID: stepped = hvt_bytes(&code, cpuid, sizeof(cpuid)); break;
    case STEP_RDMSR: stepped = hvt_bytes(&code, rdmsr, sizeof(rdmsr)); break;
    case STEP_OUT: stepped = hvt_out_imm(&code, HVT_PORT_VALUE, 1); break;
    case STEP_VMMCALL: stepped = hvt_vmmcall(&code); break;
    default: stepped = hvt_hlt(&code); break;
    }
    after = hvt_bytes(&code, &nop, 1);
    hvt_hlt(&code);
    hvt_code_start(&code, &vm, HANDLER_GPA);
    hvt_bytes(&code, eip_from_stack, sizeof(eip_from_stack));
    eip_out = hvt_out_imm(&code, HVT_PORT_ECHO, 4);
    dr6_out = hvt_report_dr(&code, 6);
    hvt_hlt(&code);
    if (kind == STEP_OUT) {
        snprintf(label, sizeof(label), "%s: the OUT, for the VMM", what);
        if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0, stepped, label))
            return;
    }
    if (kind == STEP_VMMCALL) {
        /* Answered as the ABI says, the registers written back whole. */
        struct hv_regs regs;
        snprintf(label, sizeof(label), "%s: the hypercall, for the VMM", what);
        if (!hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_HYPERCALL, label) ||
            !hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS at the hypercall") ||
            (regs.rax = 0, !hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS of its answer")))
            return;
    }
    snprintf(label, sizeof(label), "%s: EIP the single-step #DB pushed", what);
    if (!hvt_run_expect_dr(&vm, eip_out, after, label))
        return;
    snprintf(label, sizeof(label), "%s: DR6 the guest's handler read", what);
    hvt_run_expect_dr(&vm, dr6_out, 0xffff4ff0, label);
}

/* One case for the five, named without "cpuid": the Bochs SVM run takes
 * the CPUID cases, and Bochs' SVM ends in a triple fault of the host on a
 * step over an intercepted instruction (README, known limits). */
static void guest_single_step_over_completed_instructions(void)
{
    guest_single_step_over(STEP_CPUID, "CPUID");
    guest_single_step_over(STEP_RDMSR, "RDMSR");
    guest_single_step_over(STEP_OUT, "OUT");
    guest_single_step_over(STEP_HLT, "HLT");
    guest_single_step_over(STEP_VMMCALL, "VMMCALL");
}

static long debug_guest(struct vm_instance *vm, uint32_t control, unsigned slot,
                        uint64_t address, uint64_t dr7)
{
    struct hv_guest_debug *debug = page_alloc(sizeof(*debug));

    memset(debug, 0, sizeof(*debug));
    debug->control = control;
    debug->debugreg[slot] = address;
    debug->debugreg[7] = dr7;
    return hv_debug_guest(vm->vcpu, debug);
}

/* The guest's own values and DEBUG_GUEST's stay apart: see the file's
 * comment. Register operands other than EAX check the decoding. */
static void guest_registers_kept_apart_under_debug_guest(void)
{
    static const uint8_t nop = 0x90;
    static const uint64_t during[4] = { 0x12340000, 0x55aa0000, 0, 0 },
                          after[4] = { 0x12340000, 0x55aa0000, 0x77770000, 0 };
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_debugregs *regs = page_alloc(sizeof(*regs));
    uint32_t first, own_dr0, own_dr7, new_dr1, set_dr2, stop, again_dr1, again_dr7;
    int stopped;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_set_dr(&code, 0, (uint32_t)during[0]);
    hvt_set_dr(&code, 7, DR7_VALUE);
    first = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    hvt_mov_from_dr(&code, 0, GPR_EBX);
    emit_mov_eax_ebx(&code);
    own_dr0 = hvt_out_imm(&code, HVT_PORT_ECHO, 4);
    own_dr7 = hvt_report_dr(&code, 7);
    hvt_bytes(&code, (const uint8_t[]){ 0xba }, 1);   /* mov edx, imm32 */
    hvt_bytes(&code, (const uint8_t *)&during[1], 4);
    hvt_mov_to_dr(&code, 1, GPR_EDX);
    new_dr1 = hvt_report_dr(&code, 1);
    set_dr2 = hvt_report_dr(&code, 2);
    stop = hvt_bytes(&code, &nop, 1);
    again_dr1 = hvt_report_dr(&code, 1);
    again_dr7 = hvt_report_dr(&code, 7);
    hvt_hlt(&code);

    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, DR7_VALUE & 0xff, first,
                            "the OUT after the guest's MOVs") ||
        !hvt_err(debug_guest(&vm, HV_GUESTDBG_ENABLE | HV_GUESTDBG_USE_HW_BP, 1, stop,
                             1u << 2), 0, "DEBUG_GUEST breakpoint in slot 1") ||
        !hvt_run_expect_dr(&vm, own_dr0, (uint32_t)during[0],
                           "DR0 the guest reads under DEBUG_GUEST") ||
        !hvt_run_expect_dr(&vm, own_dr7, DR7_VALUE, "DR7 the guest reads under DEBUG_GUEST") ||
        !hvt_run_expect_dr(&vm, new_dr1, (uint32_t)during[1],
                           "DR1 the guest wrote under DEBUG_GUEST") ||
        !hvt_err(hv_get_debugregs(vm.vcpu, regs), 0, "GET_DEBUGREGS under DEBUG_GUEST") ||
        !hvt_debugregs_eq(regs, during, 0xffff0ff0, DR7_VALUE, "GET_DEBUGREGS under DEBUG_GUEST"))
        return;
    regs->db[2] = after[2];
    if (!hvt_err(hv_set_debugregs(vm.vcpu, regs), 0, "SET_DEBUGREGS under DEBUG_GUEST") ||
        !hvt_run_expect_dr(&vm, set_dr2, (uint32_t)after[2],
                           "DR2 the guest reads after SET_DEBUGREGS under DEBUG_GUEST") ||
        (stopped = hvt_run_to_breakpoint(&vm, stop, 2, "slot 1, guest's own aside")) < 0 ||
        (stopped && !hvt_true((vm.run->debug.dr6 & 0xd) == 0,
                              "debug.dr6 names no other breakpoint")) ||
        /* (ran past: DR1 as the guest reads it under DEBUG_GUEST) */
        (!stopped && !hvt_exit_is_out(&vm, HVT_PORT_ECHO, 4, (uint32_t)after[1], again_dr1,
                                      "DR1 the guest reads past the breakpoint")) ||
        !hvt_err(debug_guest(&vm, 0, 0, 0, 0), 0, "DEBUG_GUEST off") ||
        (stopped && !hvt_run_expect_dr(&vm, again_dr1, (uint32_t)after[1],
                                       "DR1 with debugging off")) ||
        !hvt_run_expect_dr(&vm, again_dr7, DR7_VALUE, "DR7 with debugging off") ||
        !hvt_err(hv_get_debugregs(vm.vcpu, regs), 0, "GET_DEBUGREGS with debugging off"))
        return;
    hvt_debugregs_eq(regs, after, 0xffff0ff0, DR7_VALUE, "GET_DEBUGREGS with debugging off");
}

/* The MOV DR is carried out by the hypervisor, not the CPU: the step
 * still stops right after it. */
static void single_step_over_mov_from_dr(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_debugregs *regs = page_alloc(sizeof(*regs));
    struct hv_regs gprs;
    uint32_t mov, next;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 1);
    mov = hvt_mov_from_dr(&code, 3, GPR_EAX);
    next = hvt_hlt(&code);
    memset(regs, 0, sizeof(*regs));
    regs->db[3] = 0x4242;
    regs->dr6 = 0xffff0ff0;
    regs->dr7 = 0x400;
    if (!hvt_err(hv_set_debugregs(vm.vcpu, regs), 0, "SET_DEBUGREGS") ||
        !hvt_err(debug_guest(&vm, HV_GUESTDBG_ENABLE | HV_GUESTDBG_SINGLESTEP, 0, 0, 0), 0,
                 "DEBUG_GUEST single-step") ||
        !hvt_run_past_slices(&vm) || !hvt_exit_is(&vm, HV_EXIT_DEBUG, "step over MOV EAX, 1") ||
        !hvt_eq(vm.run->debug.pc, mov, "debug.pc after the first step") ||
        !hvt_run_past_slices(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_DEBUG, "step over MOV EAX, DR3") ||
        !hvt_eq(vm.run->debug.pc, next, "debug.pc after the step over MOV EAX, DR3") ||
        !hvt_eq(vm.run->exit_rip, next, "exit_rip after the step over MOV EAX, DR3") ||
        !hvt_debug_dr6_has(&vm, 1u << 14, "debug.dr6 has BS") ||
        !hvt_err(hv_get_regs(vm.vcpu, &gprs), 0, "GET_REGS"))
        return;
    hvt_eq(gprs.rax, 0x4242, "EAX after the step over MOV EAX, DR3");
}

const struct hvtest_case hvtest_debugregs_guest_cases[] = {
    { "debugregs_guest_breakpoint_fires_in_guest", guest_breakpoint_fires_in_guest },
    { "debugregs_guest_single_step_sets_its_dr6", guest_single_step_sets_its_dr6 },
    { "debugregs_guest_single_step_traps_right_after_completed_instructions",
      guest_single_step_over_completed_instructions },
    { "debugregs_guest_registers_kept_apart_under_debug_guest",
      guest_registers_kept_apart_under_debug_guest },
    { "debugregs_single_step_over_mov_from_dr", single_step_over_mov_from_dr },
    { NULL, NULL },
};
