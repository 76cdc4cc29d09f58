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
 *
 * real_mode_load_of_an_unusable_segment: a real-mode guest set with an
 * unusable DS (as GET_SREGS reports one a guest nulled in protected mode
 * before it went back to real mode) loads DS with POP DS, sets CR0.PE and
 * OUTs. A real-mode load changes a segment's selector, base, S and P only,
 * so on Bochs DS kept the type bits it entered with, none, and the entry
 * after the MOV to CR0 failed ("DS not accessed"): RUN gave
 * HV_EXIT_FAIL_ENTRY after an accepted SET_SREGS. The VMX backend now
 * enters unusable segments typed as accessed data (vmx/vmx_segments.c).
 * Whether GET_SREGS then reports DS usable is the CPU's: QEMU's SVM, as
 * AMD's real-mode loads, changes only the selector and base, so the
 * segment stays not present, which the ABI reads as unusable.
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

static int real_mode_state_ds(struct vm_instance *vm, uint32_t rip, bool ds_unusable)
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
    s.ds.unusable = ds_unusable;
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

static int real_mode_state(struct vm_instance *vm, uint32_t rip)
{
    return real_mode_state_ds(vm, rip, false);
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
        if (!real_mode_state(&vm, CODE_GPA) || !hvt_run_past_slices(&vm) ||
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

static void real_mode_load_of_an_unusable_segment(void)
{
    static const uint8_t code[] = {
        0x31, 0xc0,                 /* xor ax, ax */
        0x50,                       /* push ax */
        0x1f,                       /* pop ds: DS usable again, selector 0 */
        0x0f, 0x20, 0xc0,           /* mov eax, cr0 */
        0x0c, 0x01,                 /* or al, 1 (PE) */
        0x0f, 0x22, 0xc0,           /* mov cr0, eax */
        0xe6, HVT_PORT_VALUE,       /* out HVT_PORT_VALUE, al (16-bit protected mode) */
        0xf4,                       /* hlt */
    };
    const uint32_t out_ip = CODE_GPA + 12;
    struct vm_instance vm;
    struct hv_sregs s;

    if (hvt_guest_create(&vm, "real-mode-unusable-ds") != 0)
        return;
    memcpy(vm.ram + CODE_GPA, code, sizeof(code));
    if (!real_mode_state_ds(&vm, CODE_GPA, true) ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0x11, out_ip,
                            "OUT after POP DS and MOV CR0 (PE) from real mode") ||
        !hvt_ok(hv_get_sregs(vm.vcpu, &s), "GET_SREGS in protected mode") ||
        !hvt_eq(s.cr0 & 1, 1, "CR0.PE") || !hvt_eq(s.ds.selector, 0, "DS selector") || !hvt_eq(s.ds.base, 0, "DS base") ||
        !hvt_run_past_slices(&vm))
        return;
    hvt_exit_is(&vm, HV_EXIT_HLT, "the HLT after the OUT");
}

const struct hvtest_case hvtest_fuzz_found_cases[] = {
    { "real_mode_exception_has_no_error_code", real_mode_exception_has_no_error_code },
    { "real_mode_load_of_an_unusable_segment", real_mode_load_of_an_unusable_segment },
    { NULL, NULL },
};
