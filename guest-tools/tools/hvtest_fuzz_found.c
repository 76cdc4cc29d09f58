/*
 * Regression tests for what the `fuzz` tool found (guest-tools/tools/
 * fuzz.c), one test each.
 *
 * real_mode_exception_has_no_error_code: an exception the hypervisor
 * injects into a real-mode guest (#GP from RDMSR of an MSR it does not
 * virtualise) carries no error code, as the CPU delivers none in real
 * mode. On VMX the error code made VM entry fail (VM-instruction error 7,
 * invalid control field): RUN ended with HV_EXIT_FAIL_ENTRY after an
 * accepted SET_SREGS, and, as the failed VMRESUME's VMCS was then taken
 * for clear, every later RUN of the vcpu failed with error 4 (VMLAUNCH of
 * a launched VMCS) whatever state it was given.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define HANDLER_GPA 0x3000u
#define CODE_GPA    0x1000u
#define STACK_GPA   0x8000u

static void real_mode_segment(struct hv_segment *s, uint8_t type)
{
    memset(s, 0, sizeof(*s));
    s->limit = 0xffff;
    s->type = type;
    s->present = 1;
    s->s = 1;
}

static int real_mode_state(struct vm_instance *vm, uint32_t rip)
{
    struct hv_sregs s;
    struct hv_regs r;

    memset(&s, 0, sizeof(s));
    real_mode_segment(&s.cs, 0xb);
    real_mode_segment(&s.ds, 0x3);
    real_mode_segment(&s.es, 0x3);
    real_mode_segment(&s.fs, 0x3);
    real_mode_segment(&s.gs, 0x3);
    real_mode_segment(&s.ss, 0x3);
    s.tr.limit = 0xffff;
    s.tr.type = 0xb;
    s.tr.present = 1;
    s.ldt.unusable = 1;
    s.ldt.type = 2;
    s.idt.limit = 0x3ff;            /* the real-mode IVT at 0 */
    s.gdt.limit = 0xffff;
    s.cr0 = 0x60000010;
    s.apic_base = 0xfee00900ull;
    if (!hvt_ok(hv_set_sregs(vm->vcpu, &s), "SET_SREGS (real mode)"))
        return 0;
    memset(&r, 0, sizeof(r));
    r.rip = rip;
    r.rsp = STACK_GPA;
    r.rflags = 2;
    return hvt_ok(hv_set_regs(vm->vcpu, &r), "SET_REGS (real mode)");
}

static void real_mode_exception_has_no_error_code(void)
{
    /* mov ecx, 0x4b564d99 (an MSR no one virtualises); rdmsr; hlt */
    static const uint8_t code[] = { 0x66, 0xb9, 0x99, 0x4d, 0x56, 0x4b, 0x0f, 0x32, 0xf4 };
    const uint32_t rdmsr_ip = CODE_GPA + 6;
    struct vm_instance vm;
    struct hv_regs r;
    uint16_t frame[3];

    if (hvt_guest_create(&vm, "real-mode-gp") != 0)
        return;
    /* IVT entry 13 (#GP) -> 0000:HANDLER_GPA, where a HLT waits. */
    uint16_t gate[2] = { HANDLER_GPA, 0 };
    memcpy(vm.ram + 13 * 4, gate, sizeof(gate));
    vm.ram[HANDLER_GPA] = 0xf4;
    memcpy(vm.ram + CODE_GPA, code, sizeof(code));
    for (unsigned round = 0; round < 2; round++) {
        /* The second round is the same program on the same vcpu: it must
         * enter as the first did. */
        if (!real_mode_state(&vm, CODE_GPA) || !hvt_run(&vm) ||
            !hvt_exit_is(&vm, HV_EXIT_HLT, "real-mode RDMSR of an unknown MSR (#GP)") ||
            !hvt_eq(vm.run->exit_rip, HANDLER_GPA, "exit RIP: the #GP handler's HLT") ||
            !hvt_ok(hv_get_regs(vm.vcpu, &r), "GET_REGS"))
            return;
        /* IP, CS, FLAGS: six bytes, no error code. */
        if (!hvt_eq(r.rsp, STACK_GPA - 6, "RSP after a real-mode #GP (no error code pushed)"))
            return;
        memcpy(frame, vm.ram + STACK_GPA - 6, sizeof(frame));
        if (!hvt_eq(frame[0], rdmsr_ip, "IP pushed: the RDMSR's") ||
            !hvt_eq(frame[1], 0, "CS pushed"))
            return;
    }
}

const struct hvtest_case hvtest_fuzz_found_cases[] = {
    { "real_mode_exception_has_no_error_code", real_mode_exception_has_no_error_code },
    { NULL, NULL },
};
