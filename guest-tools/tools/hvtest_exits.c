/*
 * The exits RUN reports for the instructions a guest uses to talk to its
 * VMM (abi/README.md section 8): OUT and IN (also the string forms), HLT,
 * VMMCALL, CPUID answered inside the hypervisor, and immediate_exit. Each
 * tiny guest is assembled here; each run-page field is checked.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

/* Stored in exit_rip before a RUN that must overwrite it. */
#define POISON_RIP 0xdead0000dead0000ull

static void run_out_reports_port_size_data(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t out1, out2, out4, out_imm, exits;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_dx_imm(&code, 0x1234);
    hvt_mov_eax_imm(&code, 0x89abcdef);
    out1 = hvt_out_dx(&code, 1);
    out2 = hvt_out_dx(&code, 2);
    out4 = hvt_out_dx(&code, 4);
    out_imm = hvt_out_imm(&code, 0x80, 1);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, 0x1234, 1, 0xef, out1, "out dx, al") ||
        !hvt_run_expect_out(&vm, 0x1234, 2, 0xcdef, out2, "out dx, ax"))
        return;
    exits = (uint32_t)vm.run->exit_count;
    if (!hvt_run_expect_out(&vm, 0x1234, 4, 0x89abcdef, out4, "out dx, eax") ||
        !hvt_true(vm.run->exit_count > exits,
                  "run page exit_count did not grow between exits") ||
        !hvt_run_expect_out(&vm, 0x80, 1, 0xef, out_imm, "out 0x80, al") ||
        !hvt_run(&vm))
        return;
    hvt_exit_is(&vm, HV_EXIT_HLT, "after the OUTs");
}

/* Stores value at the run page's I/O data for the pending IN. */
static int answer_in(struct vm_instance *vm, unsigned size, uint32_t value,
                     const char *what)
{
    struct hv_run *run = vm->run;

    if (!hvt_run_past_slices(vm) || !hvt_exit_is(vm, HV_EXIT_IO, what))
        return 0;
    if (run->io.direction != HV_IO_IN || run->io.port != HVT_PORT_INPUT ||
        run->io.size != size || run->io.count != 1) {
        hvt_fail("%s: expected IN of %u bytes from port 0x%x, got %s of %u "
                 "bytes, port 0x%x", what, size, HVT_PORT_INPUT,
                 run->io.direction == HV_IO_IN ? "IN" : "OUT", run->io.size,
                 run->io.port);
        return 0;
    }
    if (!hvt_eq(run->io.data_offset, HV_RUN_IO_DATA_OFFSET, "IN data_offset"))
        return 0;
    memcpy((uint8_t *)run + run->io.data_offset, &value, size);
    return 1;
}

/* RUN completes a pending IN before it looks at immediate_exit: RAX
 * holds the data although the guest was not entered. */
static int in_completes_before_immediate_exit(struct vm_instance *vm, uint32_t eax)
{
    struct hv_regs regs;

    vm->run->immediate_exit = 1;
    if (!hvt_run(vm) || !hvt_exit_is(vm, HV_EXIT_INTR, "RUN with immediate_exit after IN") ||
        !hvt_err(hv_get_regs(vm->vcpu, &regs), 0, "GET_REGS"))
        return 0;
    vm->run->immediate_exit = 0;
    return hvt_eq(regs.rax & 0xffffffff, eax,
                  "EAX after an immediate exit that followed an IN");
}

static void run_in_completes_into_rax(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t echo1, echo2, echo4;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    /* IN AL and IN AX replace only their part of EAX; IN EAX all of it. */
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 0xaabbccdd);
    hvt_in_imm(&code, HVT_PORT_INPUT, 1);
    echo1 = hvt_out_imm(&code, HVT_PORT_ECHO, 4);
    hvt_in_imm(&code, HVT_PORT_INPUT, 2);
    echo2 = hvt_out_imm(&code, HVT_PORT_ECHO, 4);
    hvt_in_imm(&code, HVT_PORT_INPUT, 4);
    echo4 = hvt_out_imm(&code, HVT_PORT_ECHO, 4);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !answer_in(&vm, 1, 0x5a, "in al") ||
        !in_completes_before_immediate_exit(&vm, 0xaabbcc5a) ||
        !hvt_run_expect_out(&vm, HVT_PORT_ECHO, 4, 0xaabbcc5a, echo1,
                            "EAX after in al (0x5a)") ||
        !answer_in(&vm, 2, 0x1234, "in ax") ||
        !hvt_run_expect_out(&vm, HVT_PORT_ECHO, 4, 0xaabb1234, echo2,
                            "EAX after in ax (0x1234)") ||
        !answer_in(&vm, 4, 0xdeadbeef, "in eax") ||
        !hvt_run_expect_out(&vm, HVT_PORT_ECHO, 4, 0xdeadbeef, echo4,
                            "EAX after in eax (0xdeadbeef)"))
        return;
    if (hvt_run_past_slices(&vm))
        hvt_exit_is(&vm, HV_EXIT_HLT, "after the INs");
}

/* SET_SREGS, like SET_REGS, abandons an IN the guest has not received:
 * the next RUN leaves EAX as it was (abi/README.md section 8). It once
 * wrote the run page's data bytes into AL all the same. */
static void set_sregs_abandons_an_unfinished_in(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_sregs sregs;
    uint32_t echo;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 0xaabbccdd);
    hvt_in_imm(&code, HVT_PORT_INPUT, 1);
    echo = hvt_out_imm(&code, HVT_PORT_ECHO, 4);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 || !answer_in(&vm, 1, 0x5a, "in al") ||
        !hvt_err(hv_get_sregs(vm.vcpu, &sregs), 0, "GET_SREGS after the IN exit") ||
        !hvt_err(hv_set_sregs(vm.vcpu, &sregs), 0, "SET_SREGS of the same state"))
        return;
    hvt_run_expect_out(&vm, HVT_PORT_ECHO, 4, 0xaabbccdd, echo,
                       "EAX after SET_SREGS abandoned the IN");
}

/* An MMIO exit says it decoded nothing (`mmio.decoded` 0), whatever an
 * earlier exit left in the run page's union: a hypercall's R10 lies where
 * `decoded` and `len` are (it once showed through). */
static void mmio_exit_after_a_hypercall_is_not_decoded(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_regs regs;
    const struct hv_run *run;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    run = vm.run;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_vmmcall(&code);
    hvt_load_eax(&code, 0x40000000u);                 /* no memory there */
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS"))
        return;
    regs.r10 = 0x040101ull;   /* bytes 1 and 2: where decoded and len lie */
    regs.r8 = 0x5555;
    if (!hvt_err(hv_set_regs(vm.vcpu, &regs), 0, "SET_REGS of R10 and R8") ||
        !hvt_run_past_slices(&vm) || !hvt_exit_is(&vm, HV_EXIT_HYPERCALL, "guest VMMCALL") ||
        !hvt_run_past_slices(&vm) || !hvt_exit_is(&vm, HV_EXIT_MMIO, "load from no memory"))
        return;
    if (hvt_eq(run->mmio.phys_addr, 0x40000000u, "MMIO address"))
        hvt_eq(run->mmio.decoded, 0, "mmio.decoded after a hypercall exit");
}

/* An instruction the hypervisor completes, ending at 4 GiB in 32-bit
 * code: EIP wraps to 0, as on a CPU. It once became 0x100000000, which
 * VM entry refuses (HV_EXIT_FAIL_ENTRY on VMX). `insn` fills the last
 * bytes of a page at the top of the 32-bit space; at 0 an OUT reports. */
static void completed_at_4g_wraps(const uint8_t *insn, unsigned n, uint32_t ecx,
                                  const char *what)
{
    static const uint8_t out_hlt[] = { 0xe6, HVT_PORT_VALUE, 0xf4 };
    struct vm_instance vm;
    struct hv_regs regs;
    uint8_t *top = page_alloc(4096);

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    struct hv_memory_region region = { .slot = 1, .guest_phys = 0xfffff000u, .size = 4096,
                                       .control_addr = hv_gpa(top) };
    if (!hvt_err(hv_set_memory_region(vm.vm, &region), 0, "SET_MEMORY_REGION at 4 GiB - 4 KiB"))
        return;
    memset(top, 0xf4, 4096);
    memcpy(top + 4096 - n, insn, n);
    memcpy(vm.ram, out_hlt, sizeof(out_hlt));
    if (hvt_guest_flat32(&vm, (uint32_t)(0x100000000ull - n)) < 0 ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS"))
        return;
    regs.rcx = ecx;
    if (!hvt_err(hv_set_regs(vm.vcpu, &regs), 0, "SET_REGS of ECX") ||
        !hvt_run_past_slices(&vm) || !hvt_exit_is(&vm, HV_EXIT_IO, what))
        return;
    hvt_eq(vm.run->exit_rip, 0, what);
}

static void cpuid_ending_at_4g_wraps_eip(void)
{
    static const uint8_t cpuid[] = { 0x0f, 0xa2 };
    completed_at_4g_wraps(cpuid, sizeof(cpuid), 0, "OUT at 0 after a CPUID ending at 4 GiB");
}

static void rdmsr_ending_at_4g_wraps_eip(void)
{
    static const uint8_t rdmsr[] = { 0x0f, 0x32 };
    completed_at_4g_wraps(rdmsr, sizeof(rdmsr), 0x3b /* IA32_TSC_ADJUST */,
                          "OUT at 0 after an RDMSR ending at 4 GiB");
}

static void hlt_exits_with_rip_past_hlt(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_regs regs;
    uint32_t hlt, out;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 0x4c54);
    hlt = hvt_hlt(&code);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_jmp_self(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 || !hvt_run_past_slices(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_HLT, "guest executing HLT") ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS after HLT") ||
        !hvt_eq(regs.rip, hlt + 1, "RIP after the HLT exit (past the HLT)"))
        return;
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x4c54, out,
                       "RUN after HLT resumes past it");
}

static void hypercall_exit_reports_nr_and_args(void)
{
    static const uint64_t args[5] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5 };
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_regs regs;
    const struct hv_run *run;
    uint32_t call, out;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    run = vm.run;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 0x1234);
    call = hvt_vmmcall(&code);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS"))
        return;
    regs.rdi = args[0];
    regs.rsi = args[1];
    regs.rdx = args[2];
    regs.r10 = args[3];
    regs.r8 = args[4];
    if (!hvt_err(hv_set_regs(vm.vcpu, &regs), 0, "SET_REGS of the arguments") ||
        !hvt_run_past_slices(&vm) || !hvt_exit_is(&vm, HV_EXIT_HYPERCALL, "guest VMMCALL") ||
        !hvt_eq(run->hypercall.nr, 0x1234, "hypercall nr (guest RAX)"))
        return;
    for (unsigned i = 0; i < 5; i++) {
        if (!hvt_eq(run->hypercall.args[i], args[i],
                    "hypercall args[] (guest RDI RSI RDX R10 R8)"))
            return;
    }
    if (!hvt_eq(run->exit_rip, call, "hypercall exit_rip") ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS after VMMCALL") ||
        !hvt_eq(regs.rip, call + 3, "RIP after VMMCALL (past the instruction)"))
        return;
    /* The VMM answers in RAX; the guest resumes after the call. */
    regs.rax = 0x600d;
    if (hvt_err(hv_set_regs(vm.vcpu, &regs), 0, "SET_REGS of the answer"))
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x600d, out,
                           "guest resuming after VMMCALL with the answer");
}

static void immediate_exit_returns_intr_without_running(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_regs regs;
    uint32_t out;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    vm.run->immediate_exit = 1;
    vm.run->exit_reason = HV_EXIT_UNKNOWN;
    if (!hvt_run(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_INTR, "RUN with immediate_exit set") ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS") ||
        !hvt_eq(regs.rip, HVT_CODE_GPA, "RIP after immediate exit (guest must not run)"))
        return;
    vm.run->immediate_exit = 0;
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0, out,
                       "RUN after clearing immediate_exit");
}

/* "After every RUN ... exit_rip [says] where the guest was": also when RUN
 * returned at once for immediate_exit, before and after other exits. */
static void immediate_exit_reports_guest_rip(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t out;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    vm.run->immediate_exit = 1;
    if (!hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_INTR, "first RUN, immediate_exit") ||
        !hvt_eq(vm.run->exit_rip, HVT_CODE_GPA,
                "exit_rip of an immediate exit before the guest ever ran"))
        return;
    vm.run->immediate_exit = 0;
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0, out, "RUN to the OUT"))
        return;
    vm.run->immediate_exit = 1;
    vm.run->exit_rip = POISON_RIP;
    if (hvt_run(&vm) && hvt_exit_is(&vm, HV_EXIT_INTR, "RUN after the OUT, immediate_exit"))
        hvt_eq(vm.run->exit_rip, out + 2,
               "exit_rip of an immediate exit after an OUT (the guest is past it)");
}

/* The same for a RUN that returns HV_EXIT_SHUTDOWN again without entering. */
static void shutdown_repeat_reports_guest_rip(void)
{
    static const uint8_t ud2[] = { 0x0f, 0x0b };
    struct vm_instance vm;
    struct hvt_code code;
    uint64_t rip;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_bytes(&code, ud2, sizeof(ud2));
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 || !hvt_run_past_slices(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_SHUTDOWN, "ud2 with an empty IDT"))
        return;
    rip = vm.run->exit_rip;
    vm.run->exit_rip = POISON_RIP;
    if (hvt_run_past_slices(&vm) && hvt_exit_is(&vm, HV_EXIT_SHUTDOWN, "RUN again"))
        hvt_eq(vm.run->exit_rip, rip, "exit_rip of a repeated shutdown (as the first)");
}

static void run_string_io_reported(void)
{
    static const uint8_t rep_outsb[] = { 0xf3, 0x6e }, rep_insw[] = { 0xf3, 0x66, 0x6d };
    static const uint8_t mov_ecx[] = { 0xb9 }, mov_esi[] = { 0xbe }, mov_edi[] = { 0xbf };
    struct vm_instance vm;
    struct hvt_code code;
    const struct hv_run *run;
    uint32_t outs, ins, second, imm;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    run = vm.run;
    /* rep outsb: 5 bytes from DATA to port 0x1234; rep insw: 3 words in. */
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_dx_imm(&code, 0x1234);
    imm = 5;
    hvt_bytes(&code, mov_ecx, 1);
    hvt_bytes(&code, (const uint8_t *)&imm, 4);
    imm = HVT_DATA_GPA;
    hvt_bytes(&code, mov_esi, 1);
    hvt_bytes(&code, (const uint8_t *)&imm, 4);
    outs = hvt_bytes(&code, rep_outsb, sizeof(rep_outsb));
    hvt_hlt(&code);
    second = hvt_mov_dx_imm(&code, HVT_PORT_INPUT);
    imm = 3;
    hvt_bytes(&code, mov_ecx, 1);
    hvt_bytes(&code, (const uint8_t *)&imm, 4);
    imm = HVT_DATA_GPA + 0x100;
    hvt_bytes(&code, mov_edi, 1);
    hvt_bytes(&code, (const uint8_t *)&imm, 4);
    ins = hvt_bytes(&code, rep_insw, sizeof(rep_insw));
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 || !hvt_run_past_slices(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_IO, "rep outsb"))
        return;
    if (!hvt_eq(run->io.string, 1, "rep outsb: io.string") ||
        !hvt_eq(run->io.count, 5, "rep outsb: io.count (ECX)") ||
        !hvt_eq(run->io.direction, HV_IO_OUT, "rep outsb: io.direction") ||
        !hvt_eq(run->io.size, 1, "rep outsb: io.size") ||
        !hvt_eq(run->io.port, 0x1234, "rep outsb: io.port") ||
        !hvt_eq(run->exit_rip, outs, "rep outsb: exit_rip"))
        return;
    /* Left to the VMM: it skips the instruction itself. */
    if (hvt_guest_flat32(&vm, second) < 0 || !hvt_run_past_slices(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_IO, "rep insw"))
        return;
    if (hvt_eq(run->io.string, 1, "rep insw: io.string") &&
        hvt_eq(run->io.count, 3, "rep insw: io.count (ECX)") &&
        hvt_eq(run->io.direction, HV_IO_IN, "rep insw: io.direction") &&
        hvt_eq(run->io.size, 2, "rep insw: io.size") &&
        hvt_eq(run->io.port, HVT_PORT_INPUT, "rep insw: io.port"))
        hvt_eq(run->exit_rip, ins, "rep insw: exit_rip");
}

static void child_cpuid_reports_signature(void)
{
    static const uint8_t cpuid[] = { 0x0f, 0xa2 };
    static const uint8_t mov_eax_ebx[] = { 0x89, 0xd8 }, mov_eax_ecx[] = { 0x89, 0xc8 },
                         mov_eax_edx[] = { 0x89, 0xd0 };
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t out_b, out_c, out_d, out_version;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, HV_CPUID_SIGNATURE);
    hvt_bytes(&code, cpuid, 2);
    hvt_bytes(&code, mov_eax_ebx, 2);
    out_b = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_bytes(&code, mov_eax_ecx, 2);
    out_c = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_bytes(&code, mov_eax_edx, 2);
    out_d = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_mov_eax_imm(&code, HV_CPUID_FEATURES);
    hvt_bytes(&code, cpuid, 2);
    out_version = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    if (hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, HV_SIGNATURE_EBX, out_b,
                           "child CPUID 0x40000000 EBX") &&
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, HV_SIGNATURE_ECX, out_c,
                           "child CPUID 0x40000000 ECX") &&
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, HV_SIGNATURE_EDX, out_d,
                           "child CPUID 0x40000000 EDX"))
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, HV_API_VERSION, out_version,
                           "child CPUID 0x40000001 EAX");
}

const struct hvtest_case hvtest_exits_cases[] = {
    { "run_out_reports_port_size_data", run_out_reports_port_size_data },
    { "run_in_completes_into_rax", run_in_completes_into_rax },
    { "set_sregs_abandons_an_unfinished_in", set_sregs_abandons_an_unfinished_in },
    { "mmio_exit_after_a_hypercall_is_not_decoded", mmio_exit_after_a_hypercall_is_not_decoded },
    { "run_string_io_reported", run_string_io_reported },
    { "hlt_exits_with_rip_past_hlt", hlt_exits_with_rip_past_hlt },
    { "cpuid_ending_at_4g_wraps_eip", cpuid_ending_at_4g_wraps_eip },
    { "rdmsr_ending_at_4g_wraps_eip", rdmsr_ending_at_4g_wraps_eip },
    { "hypercall_exit_reports_nr_and_args", hypercall_exit_reports_nr_and_args },
    { "immediate_exit_returns_intr_without_running",
      immediate_exit_returns_intr_without_running },
    { "immediate_exit_reports_guest_rip", immediate_exit_reports_guest_rip },
    { "shutdown_repeat_reports_guest_rip", shutdown_repeat_reports_guest_rip },
    { "child_cpuid_reports_signature", child_cpuid_reports_signature },
    { NULL, NULL },
};
