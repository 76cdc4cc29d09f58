/*
 * Guest paths on which an emulator we test on goes wrong: states that once
 * crashed QEMU 7.2 itself (issue 13, problem 6), where the hypervisor now
 * hands the emulator an equivalent state it survives, and state that
 * Bochs 2.7 carries from one VMCS to the next, which the hypervisor no
 * longer believes. Each test runs the same on hardware, Bochs and QEMU;
 * under an unguarded hypervisor the QEMU runs end here with the emulator
 * gone, and the Bochs run fails its check.
 *
 * cpl3_exception_with_reset_tr: a 32-bit guest at CPL 3 takes #UD with TR
 * as SET_SREGS accepts it (busy 32-bit TSS, type 11). The CPU switches to
 * SS0:ESP0 from the TSS and pushes SS, ESP, EFLAGS, CS and EIP there.
 * QEMU aborted ("invalid tss type") when the VMCB held type 11; the SVM
 * backend now keeps the busy bit out of the VMCB (svm/svm_tr.h), and
 * GET_SREGS still reports type 11 afterwards.
 *
 * cr8_write_while_window_pending: a 64-bit guest with IF=0 writes CR8
 * while the VMM has asked for the interrupt window, so the hypervisor
 * waits for it with a virtual interrupt pending (V_IRQ on SVM). QEMU's
 * CR8 write then re-evaluates that interrupt outside its iothread lock
 * and fails an assertion in tcg_handle_interrupt; the SVM backend now
 * intercepts CR8 writes while it waits for the window (svm/svm_cr8.c).
 * The guest reads back what it wrote, and GET_SREGS reports it.
 *
 * nmi_after_a_handler_that_exited_to_the_vmm: a 32-bit guest with IF=0
 * takes an NMI whose handler OUTs (its RUN ends inside the handler) and
 * IRETs; two OUTs later a second NMI must come at once, and
 * GET_VCPU_EVENTS must show NMIs unmasked. Bochs 2.7's VM entry never
 * clears NMI blocking, so the control domain, having run while the child
 * was in its handler, kept that blocking and handed it back to the child
 * at every exit after; the VMX backend now believes the saved blocking
 * only while an NMI it gave the guest may still be in its handler
 * (vmx/vmx_events.c).
 *
 * efer_lme_with_paging_off: a flat 32-bit guest sets EFER.LME with
 * paging off and halts, the architectural first step into long mode.
 * QEMU's #VMEXIT then reloaded the host's CR0 as if it were activating
 * long mode and, the guest's CR4.PAE being clear, dropped it: the
 * control domain ran on with paging off and triple-faulted. The SVM
 * backend keeps LME out of the VMCB until the guest sets CR0.PG
 * (svm/svm_lme.c). The guest reads LME back with RDMSR, GET_SREGS
 * reports it, and the guest then enables PAE paging, far-jumps to a
 * 64-bit code segment and reads LME and LMA there.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"
#include "guest-tools/tools/hvtest_events.h"

#define TSS_GPA        0x4000u
#define RING0_STACK    0x7000u
#define USER_CODE_SEL  0x1b     /* RPL 3; never loaded from the GDT here */
#define USER_DATA_SEL  0x23
#define VECTOR_NMI     2
#define TSS32_BUSY     11

static void user_segment(struct hv_segment *s, uint16_t selector)
{
    s->selector = selector;
    s->dpl = 3;
}

static void cpl3_exception_with_reset_tr(void)
{
    static const uint8_t ud2[] = { 0x0f, 0x0b };
    struct vm_instance vm;
    struct hv_sregs s;
    struct hv_regs r;
    uint32_t frame[5];

    if (hvt_guest_create(&vm, "cpl3-tss") != 0 ||
        hvt_guest_flat32(&vm, HVT_CODE_GPA) != 0 ||
        hvt_guest_catch_vector(&vm, VECTOR_UD) != 0)
        return;
    memcpy(vm.ram + HVT_CODE_GPA, ud2, sizeof(ud2));
    /* 32-bit TSS: ESP0 at offset 4, SS0 at offset 8. */
    uint32_t esp0 = RING0_STACK, ss0 = HVT_SELECTOR_DATA;
    memset(vm.ram + TSS_GPA, 0, 0x68);
    memcpy(vm.ram + TSS_GPA + 4, &esp0, 4);
    memcpy(vm.ram + TSS_GPA + 8, &ss0, 4);

    if (!hvt_ok(hv_get_sregs(vm.vcpu, &s), "GET_SREGS"))
        return;
    user_segment(&s.cs, USER_CODE_SEL);
    user_segment(&s.ss, USER_DATA_SEL);
    user_segment(&s.ds, USER_DATA_SEL);
    user_segment(&s.es, USER_DATA_SEL);
    user_segment(&s.fs, USER_DATA_SEL);
    user_segment(&s.gs, USER_DATA_SEL);
    s.tr.base = TSS_GPA;
    s.tr.limit = 0x67;
    s.tr.type = TSS32_BUSY;
    if (!hvt_ok(hv_set_sregs(vm.vcpu, &s), "SET_SREGS (CPL 3, busy TSS)") ||
        !hvt_ok(hv_get_sregs(vm.vcpu, &s), "GET_SREGS before RUN") ||
        !hvt_eq(s.tr.type, TSS32_BUSY, "TR type reported before RUN"))
        return;

    uint32_t handler_out = HVT_HANDLER_GPA + VECTOR_UD * 16 + 5;
    if (!hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_UD, handler_out,
                            "#UD at CPL 3 through the TSS's ring-0 stack"))
        return;
    if (!hvt_ok(hv_get_regs(vm.vcpu, &r), "GET_REGS") ||
        !hvt_eq(r.rsp, RING0_STACK - sizeof(frame), "ESP: ESP0 less a five-word frame") ||
        !hvt_ok(hv_get_sregs(vm.vcpu, &s), "GET_SREGS after RUN"))
        return;
    memcpy(frame, vm.ram + RING0_STACK - sizeof(frame), sizeof(frame));
    if (!hvt_eq(frame[0], HVT_CODE_GPA, "pushed EIP: the UD2") ||
        !hvt_eq(frame[1], USER_CODE_SEL, "pushed CS") ||
        !hvt_eq(frame[3], HVT_STACK_TOP, "pushed ESP: the CPL-3 stack") ||
        !hvt_eq(frame[4], USER_DATA_SEL, "pushed SS") ||
        !hvt_eq(s.cs.selector, HVT_SELECTOR_CODE, "CS: the handler's") ||
        !hvt_eq(s.ss.dpl, 0, "CPL 0 in the handler") ||
        !hvt_eq(s.tr.type, TSS32_BUSY, "TR type reported after RUN") ||
        !hvt_eq(s.tr.base, TSS_GPA, "TR base after RUN"))
        return;
    /* The state GET_SREGS reports must be one SET_SREGS takes back. */
    hvt_ok(hv_set_sregs(vm.vcpu, &s), "SET_SREGS of what GET_SREGS reported");
}

static void cr8_write_while_window_pending(void)
{
    /* mov eax, 5; mov cr8, rax; xor eax, eax; mov rax, cr8; out 0xe0, eax; hlt */
    static const uint8_t program[] = {
        0xb8, 0x05, 0x00, 0x00, 0x00, 0x44, 0x0f, 0x22, 0xc0, 0x31, 0xc0,
        0x44, 0x0f, 0x20, 0xc0, 0xe7, HVT_PORT_VALUE, 0xf4,
    };
    const uint32_t out_at = HVT_CODE_GPA + 15;
    struct vm_instance vm;
    struct hv_sregs s;

    if (hvt_guest_create(&vm, "cr8-window") != 0 || hvt_guest_long64(&vm, HVT_CODE_GPA) != 0)
        return;
    memcpy(vm.ram + HVT_CODE_GPA, program, sizeof(program));
    vm.run->request_interrupt_window = 1; /* IF is 0: the window stays shut */
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 5, out_at,
                            "CR8 read back after a write during the window wait"))
        return;
    vm.run->request_interrupt_window = 0;
    if (!hvt_ok(hv_get_sregs(vm.vcpu, &s), "GET_SREGS") || !hvt_eq(s.cr8, 5, "CR8 reported"))
        return;
    if (!hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_HLT, "the HLT after the OUT"))
        return;
}

static void nmi_after_a_handler_that_exited_to_the_vmm(void)
{
    struct vm_instance vm;
    struct hv_vcpu_events *e = hvt_events_buffer();
    struct hvt_code code;
    if (hvt_events_guest(&vm, "nmi-after-vmm", 0) < 0)
        return;
    /* The handler: out 2 (to the VMM, NMIs blocked); iretd. */
    hvt_code_start(&code, &vm, HVT_EVENTS_HANDLERS_GPA);
    hvt_mov_eax_imm(&code, VECTOR_NMI);
    uint32_t nmi_out = hvt_out_imm(&code, HVT_PORT_VECTOR, 4);
    hvt_bytes(&code, (const uint8_t[]){ 0xcf }, 1);
    hvt_events_set_gate(&vm, VECTOR_NMI, HVT_EVENTS_HANDLERS_GPA);
    /* out 1; out 5; hlt */
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 1);
    uint32_t first = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_mov_eax_imm(&code, 5);
    uint32_t second = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    uint32_t halt = hvt_hlt(&code);

    e->flags = HV_VCPUEVENT_VALID_NMI_PENDING;
    e->nmi.pending = 1;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS: an NMI pending") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_NMI, nmi_out,
                            "the NMI's handler leaves the RUN for the VMM") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 1, first, "after the handler's IRET") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 5, second, "the guest goes on") ||
        !hvt_ok(hv_set_vcpu_events(vm.vcpu, e), "SET_VCPU_EVENTS: a second NMI pending") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_NMI, nmi_out,
                            "the second NMI, taken at once (IF is 0, nothing blocks it)") ||
        !hvt_get_events(&vm, e, "in the second NMI's handler") ||
        !hvt_eq(e->nmi.masked, 1, "nmi.masked in the handler") ||
        !hvt_run_past_slices(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_HLT, "the HLT after the handler's IRET") ||
        !hvt_eq(vm.run->exit_rip, halt, "RIP of that HLT") ||
        !hvt_get_events(&vm, e, "after the second handler's IRET"))
        return;
    hvt_eq(e->nmi.masked | e->nmi.pending | e->nmi.injected, 0, "NMI state after both IRETs");
}

#define LME_PML4_GPA   0x3000u  /* identity map of the first 2 MiB, one large page */
#define LME_PDPT_GPA   0x4000u
#define LME_PD_GPA     0x5000u
#define SELECTOR_CODE64 0x18
#define EFER_LME       0x100u
#define EFER_LMA       0x400u

static void efer_lme_with_paging_off(void)
{
    static const uint8_t set_lme_halt[] = {
        0xb9, 0x80, 0x00, 0x00, 0xc0,   /* mov ecx, 0xc0000080 (EFER) */
        0xb8, 0x00, 0x01, 0x00, 0x00,   /* mov eax, 0x100 (LME) */
        0x31, 0xd2,                     /* xor edx, edx */
        0x0f, 0x30,                     /* wrmsr */
        0xf4,                           /* hlt */
    };
    static const uint8_t rdmsr[] = { 0x0f, 0x32 };
    static const uint8_t enable_paging[] = {
        0x0f, 0x20, 0xe0,               /* mov eax, cr4 */
        0x83, 0xc8, 0x20,               /* or eax, 0x20 (PAE) */
        0x0f, 0x22, 0xe0,               /* mov cr4, eax */
        0xb8, 0x00, 0x30, 0x00, 0x00,   /* mov eax, LME_PML4_GPA */
        0x0f, 0x22, 0xd8,               /* mov cr3, eax */
        0x0f, 0x20, 0xc0,               /* mov eax, cr0 */
        0x0d, 0x00, 0x00, 0x00, 0x80,   /* or eax, 0x80000000 (PG) */
        0x0f, 0x22, 0xc0,               /* mov cr0, eax */
    };
    /* 64-bit code: execute/read, accessed, DPL 0, present, L, G. */
    static const uint64_t code64 = 0x00af9b000000ffffull;
    const uint64_t pml4e = LME_PDPT_GPA | 3, pdpte = LME_PD_GPA | 3, pde = 0x83;
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_sregs s;
    uint8_t far_jmp[7] = { 0xea, 0, 0, 0, 0, SELECTOR_CODE64, 0 };
    uint32_t out32, out64, target;

    if (hvt_guest_create(&vm, "lme-paging-off") != 0 ||
        hvt_guest_flat32(&vm, HVT_CODE_GPA) != 0 ||
        !hvt_ok(hv_get_sregs(vm.vcpu, &s), "GET_SREGS"))
        return;
    memcpy(vm.ram + HVT_GDT_GPA + SELECTOR_CODE64, &code64, sizeof(code64));
    memcpy(vm.ram + LME_PML4_GPA, &pml4e, sizeof(pml4e));
    memcpy(vm.ram + LME_PDPT_GPA, &pdpte, sizeof(pdpte));
    memcpy(vm.ram + LME_PD_GPA, &pde, sizeof(pde));
    s.gdt.limit = SELECTOR_CODE64 + 7;
    if (!hvt_ok(hv_set_sregs(vm.vcpu, &s), "SET_SREGS with a 64-bit code segment"))
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_bytes(&code, set_lme_halt, sizeof(set_lme_halt));
    hvt_bytes(&code, rdmsr, sizeof(rdmsr));
    out32 = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_bytes(&code, enable_paging, sizeof(enable_paging));
    target = code.at + sizeof(far_jmp);
    memcpy(far_jmp + 1, &target, 4);
    hvt_bytes(&code, far_jmp, sizeof(far_jmp));
    hvt_bytes(&code, rdmsr, sizeof(rdmsr));      /* in 64-bit mode now */
    out64 = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);

    if (!hvt_run_past_slices(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_HLT, "HLT after WRMSR EFER.LME, paging off") ||
        !hvt_ok(hv_get_sregs(vm.vcpu, &s), "GET_SREGS at the HLT") ||
        !hvt_eq(s.efer & (EFER_LME | EFER_LMA), EFER_LME, "EFER.LME and LMA reported, paging off") ||
        !hvt_eq(s.cr0 >> 31, 0, "CR0.PG at the HLT"))
        return;
    /* The state GET_SREGS reports goes back as it is. */
    if (!hvt_ok(hv_set_sregs(vm.vcpu, &s), "SET_SREGS of what GET_SREGS reported") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, EFER_LME, out32,
                            "EFER the guest reads with paging off") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, EFER_LME | EFER_LMA, out64,
                            "EFER the guest reads in 64-bit mode"))
        return;
    if (!hvt_ok(hv_get_sregs(vm.vcpu, &s), "GET_SREGS in 64-bit mode") ||
        !hvt_eq(s.efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA, "EFER in 64-bit mode") ||
        !hvt_eq(s.cs.l, 1, "CS.L in 64-bit mode") ||
        !hvt_eq(s.cr0 >> 31, 1, "CR0.PG in 64-bit mode"))
        return;
    if (hvt_run_past_slices(&vm))
        hvt_exit_is(&vm, HV_EXIT_HLT, "the HLT in 64-bit mode");
}

const struct hvtest_case hvtest_emulator_guards_cases[] = {
    { "cpl3_exception_with_reset_tr", cpl3_exception_with_reset_tr },
    { "cr8_write_while_window_pending", cr8_write_while_window_pending },
    { "nmi_after_a_handler_that_exited_to_the_vmm", nmi_after_a_handler_that_exited_to_the_vmm },
    { "efer_lme_with_paging_off", efer_lme_with_paging_off },
    { NULL, NULL },
};
