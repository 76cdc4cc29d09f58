/*
 * Hostile guests: the guest modules given to the control domain
 * (triple_fault, vmmcall, outside_memory, spin) and a few tiny guests of
 * our own that fault, use SVM instructions or run without memory. Each
 * must end its RUN with the documented exit, and afterwards a second VM
 * running `hello` (next to the hostile one, still open) must run correctly.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define MODULE_MAX_INTR 50          /* slices a module may use to get there */
#define HYPERCALL_NR 0x1234
#define VMMCALL_STATUS 0x11
#define OUTSIDE_ADDRESS 0x40000000u
#define SPIN_RUNS 5
#define SPIN_MAX_TICKS 5000000000ull /* TSC ticks: ~2 s, 200 time slices */
#define VECTOR_UD 6
#define VECTOR_GP 13
#define RESET_VECTOR 0xfffffff0ull

static char output[512];            /* COM1 output of the hostile guest */

static uint64_t read_tsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* Runs a module guest, servicing its COM1, to its first other exit. */
static int run_module_to_exit(struct vm_instance *vm, uint32_t reason, const char *what)
{
    if (!hvt_err(hvt_run_serviced(vm, output, sizeof(output), MODULE_MAX_INTR), 0, what))
        return 0;
    return hvt_exit_is(vm, reason, what);
}

static void triple_fault_gives_shutdown_until_state_set(void)
{
    struct vm_instance vm;

    if (hvt_module_guest(&vm, "triple_fault") < 0 ||
        !run_module_to_exit(&vm, HV_EXIT_SHUTDOWN, "RUN of triple_fault"))
        return;
    for (unsigned i = 0; i < 3; i++) {
        vm.run->exit_reason = HV_EXIT_UNKNOWN;
        if (!hvt_run(&vm) ||
            !hvt_exit_is(&vm, HV_EXIT_SHUTDOWN, "RUN again after the shutdown"))
            return;
    }
    hvt_hello_still_runs("a triple fault");
}

/* After a shutdown, SET_SREGS (and SET_REGS) give the vcpu a fresh state
 * that runs: nothing of the dead context (such as the event whose delivery
 * triple-faulted) may come back. */
static void set_sregs_revives_shut_down_vcpu(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t out;

    if (hvt_module_guest(&vm, "triple_fault") < 0 ||
        !run_module_to_exit(&vm, HV_EXIT_SHUTDOWN, "RUN of triple_fault"))
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 0x5e7);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x5e7, out,
                            "RUN after SET_SREGS and SET_REGS on the shut-down vcpu"))
        return;
    hvt_hello_still_runs("a revived triple fault");
}

static void vmmcall_gives_hypercall_exit(void)
{
    /* VMMCALL (0f 01 d9) or, on VMX, VMCALL (0f 01 c1): same length. */
    static const uint8_t vmmcall[2] = { 0x0f, 0x01 };
    struct vm_instance vm;
    struct hv_regs regs;
    uint64_t rip;
    uint32_t status = 0;

    if (hvt_module_guest(&vm, "vmmcall") < 0 ||
        !run_module_to_exit(&vm, HV_EXIT_HYPERCALL, "RUN of vmmcall") ||
        !hvt_eq(vm.run->hypercall.nr, HYPERCALL_NR, "hypercall nr"))
        return;
    rip = vm.run->exit_rip;
    if (!hvt_true(rip + 3 <= vm.ram_size &&
                  memcmp(vm.ram + rip, vmmcall, sizeof(vmmcall)) == 0,
                  "hypercall exit_rip does not point at the VMMCALL") ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS after the hypercall") ||
        !hvt_eq(regs.rip, rip + 3, "RIP after the hypercall (past VMMCALL)"))
        return;
    /* Resumed, the guest goes on to print and exit 0x11. */
    if (!run_module_to_exit(&vm, HV_EXIT_IO, "RUN after the hypercall") ||
        !hvt_eq(vm.run->io.port, 0xf4, "port of the guest's exit"))
        return;
    memcpy(&status, (uint8_t *)vm.run + vm.run->io.data_offset, vm.run->io.size);
    if (hvt_eq(status, VMMCALL_STATUS, "vmmcall guest's exit status after resuming"))
        hvt_hello_still_runs("a guest VMMCALL");
}

static void outside_memory_gives_mmio(void)
{
    struct vm_instance vm;
    const struct hv_run *run;
    struct hv_regs regs;

    if (hvt_module_guest(&vm, "outside_memory") < 0 ||
        !run_module_to_exit(&vm, HV_EXIT_MMIO, "RUN of outside_memory"))
        return;
    run = vm.run;
    if (!hvt_eq(run->mmio.phys_addr, OUTSIDE_ADDRESS, "MMIO phys_addr") ||
        !hvt_eq(run->mmio.is_write, 0, "MMIO is_write (a read)") ||
        !hvt_true(run->mmio.insn_length > 0 && run->mmio.insn_length <= 15,
                  "MMIO insn_length: expected 1..15") ||
        !hvt_true(run->exit_rip + run->mmio.insn_length <= vm.ram_size &&
                  memcmp(vm.ram + run->exit_rip, run->mmio.insn_bytes,
                         run->mmio.insn_length) == 0,
                  "MMIO insn_bytes differ from guest memory at exit_rip") ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS after MMIO") ||
        !hvt_eq(regs.rip, run->exit_rip, "RIP after MMIO (at the instruction)"))
        return;
    /* Not emulated, RUN faults again at the same place. */
    if (!hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_MMIO, "RUN again") ||
        !hvt_eq(vm.run->mmio.phys_addr, OUTSIDE_ADDRESS, "MMIO phys_addr again"))
        return;
    hvt_hello_still_runs("an access outside guest memory");
}

static void spin_returns_intr_each_slice(void)
{
    struct vm_instance vm;
    struct hv_regs before, after;
    uint64_t longest = 0, total = 0;

    if (hvt_module_guest(&vm, "spin") < 0 ||
        !run_module_to_exit(&vm, HV_EXIT_INTR, "RUN of spin (time slice)"))
        return;
    for (unsigned i = 0; i < SPIN_RUNS; i++) {
        uint64_t start = read_tsc(), ticks;

        vm.run->exit_reason = HV_EXIT_UNKNOWN;
        if (!hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_INTR, "RUN of a spinning guest"))
            return;
        ticks = read_tsc() - start;
        total += ticks;
        if (ticks > longest)
            longest = ticks;
    }
    ctl_printf("spin_returns_intr_each_slice: RUN took %lu TSC ticks on average, "
               "%lu at most\n", total / SPIN_RUNS, longest);
    if (!hvt_true(longest < SPIN_MAX_TICKS, "RUN of a spinning guest took longer "
                  "than 5e9 TSC ticks: not bounded by its time slice"))
        return;
    /* immediate_exit: back at once, the guest not entered. */
    if (!hvt_err(hv_get_regs(vm.vcpu, &before), 0, "GET_REGS"))
        return;
    vm.run->immediate_exit = 1;
    vm.run->exit_reason = HV_EXIT_UNKNOWN;
    if (!hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_INTR, "RUN with immediate_exit") ||
        !hvt_err(hv_get_regs(vm.vcpu, &after), 0, "GET_REGS") ||
        !hvt_eq(after.rip, before.rip, "RIP across an immediate exit"))
        return;
    vm.run->immediate_exit = 0;
    hvt_hello_still_runs("a guest spinning for its whole time slices");
}

static void svm_instructions_raise_ud_in_guest(void)
{
    static const struct { const char *name; uint8_t modrm; } insns[] = {
        { "VMRUN", 0xd8 }, { "VMLOAD", 0xda }, { "VMSAVE", 0xdb },
        { "STGI", 0xdc }, { "CLGI", 0xdd }, { "SKINIT", 0xde }, { "INVLPGA", 0xdf },
    };
    struct vm_instance vm;
    struct hvt_code code;
    char what[64];

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    /* The child sees no SVM in CPUID and EFER.SVME clear: as on such a
     * CPU, each instruction must raise #UD in the guest. */
    for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
        uint8_t bytes[3] = { 0x0f, 0x01, insns[i].modrm };

        hvt_code_start(&code, &vm, HVT_CODE_GPA);
        hvt_bytes(&code, bytes, 3);
        hvt_hlt(&code);
        if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
            hvt_guest_catch_vector(&vm, VECTOR_UD) < 0 ||
            hvt_guest_catch_vector(&vm, VECTOR_GP) < 0)
            return;
        snprintf(what, sizeof(what), "guest executing %s (#UD handler's OUT)",
                 insns[i].name);
        if (!hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_UD,
                                HVT_HANDLER_GPA + VECTOR_UD * 16 + 5, what))
            return;
    }
    hvt_hello_still_runs("guest SVM instructions");
}

static void run_without_memory_faults_at_reset_vector(void)
{
    long vm, vcpu;
    struct hv_run *run = page_alloc(HV_RUN_PAGE_SIZE);

    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM"))
        return;
    vcpu = hvt_keep(hv_create_vcpu(vm, 0, run));
    if (!hvt_ok(vcpu, "CREATE_VCPU") || !hvt_err(hv_run(vcpu), 0, "RUN"))
        return;
    /* The reset state fetches its first instruction at 0xfffffff0. */
    if (run->exit_reason != HV_EXIT_MMIO) {
        hvt_fail("RUN of a VM without memory: expected HV_EXIT_MMIO, got %s",
                 hvt_exit_name(run->exit_reason));
        return;
    }
    if (!hvt_eq(run->mmio.phys_addr, RESET_VECTOR, "MMIO phys_addr (reset vector)") ||
        !hvt_eq(run->mmio.is_write, 0, "MMIO is_write of an instruction fetch"))
        return;
    hvt_hello_still_runs("a VM without memory");
}

static void guest_exception_without_idt_shuts_down(void)
{
    static const uint8_t ud2[] = { 0x0f, 0x0b };
    struct vm_instance vm;
    struct hvt_code code;

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_bytes(&code, ud2, sizeof(ud2));
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 || !hvt_run(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_SHUTDOWN, "ud2 with an empty IDT"))
        return;
    hvt_hello_still_runs("a guest's own triple fault");
}

/* A child's VMMCALL with the registers of a real call (CREATE_VM on the
 * system handle, CLOSE of its own VM handle) must only reach its VMM. */
static void child_hypercall_never_reaches_abi(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_stats before;
    struct hv_regs regs;
    static const struct { uint64_t nr; const char *name; } calls[] = {
        { HV_CALL_CREATE_VM, "CREATE_VM" }, { HV_CALL_CLOSE, "CLOSE" },
    };

    if (hvt_guest_create(&vm, "hvtest") < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_vmmcall(&code);
    hvt_hlt(&code);
    for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
            !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS"))
            return;
        regs.rax = calls[i].nr;
        regs.rdi = (uint64_t)(calls[i].nr == HV_CALL_CLOSE ? vm.vm : hvt_sys());
        if (!hvt_err(hv_set_regs(vm.vcpu, &regs), 0, "SET_REGS") || !hvt_stats(&before) ||
            !hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_HYPERCALL, calls[i].name) ||
            !hvt_eq(vm.run->hypercall.nr, calls[i].nr, "hypercall nr") ||
            !hvt_eq(vm.run->hypercall.args[0], regs.rdi, "hypercall args[0] (RDI)") ||
            !hvt_stats_unchanged(&before, "after a child's hypercall"))
            return;
    }
    /* Its VMM's VM handle is still open. */
    if (hvt_ok(hvt_keep(hv_dup(vm.vm, HV_RIGHTS_ALL)),
               "DUP of the VM handle after the child's CLOSE"))
        hvt_hello_still_runs("a child's hypercalls");
}

/* A state SET_SREGS lets through but the CPU refuses (long mode, CR3 with
 * bit 63, a must-be-zero bit) either is refused with -HV_EINVAL or ends
 * RUN with HV_EXIT_FAIL_ENTRY; either way the hypervisor carries on. */
static void unenterable_state_refused_or_fail_entry(void)
{
    struct vm_instance vm;
    struct hv_sregs sregs;
    long rc;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_err(hv_get_sregs(vm.vcpu, &sregs), 0, "GET_SREGS"))
        return;
    sregs.cs.l = 1;
    sregs.cs.db = 0;
    sregs.cr0 |= (1ull << 31);          /* PG */
    sregs.cr4 |= (1ull << 5);           /* PAE */
    sregs.efer |= (1ull << 8) | (1ull << 10); /* LME, LMA */
    sregs.cr3 = (1ull << 63) | 0x5000;
    rc = hv_set_sregs(vm.vcpu, &sregs);
    if (rc == -HV_EINVAL) {
        hvt_hello_still_runs("a refused long-mode CR3");
        return;
    }
    if (!hvt_err(rc, 0, "SET_SREGS with CR3 bit 63 in long mode: -HV_EINVAL or 0") ||
        !hvt_run(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_FAIL_ENTRY, "RUN of a state the CPU refuses"))
        return;
    ctl_printf("unenterable_state_refused_or_fail_entry: SET_SREGS accepted it, RUN "
               "gave HV_EXIT_FAIL_ENTRY, hardware reason 0x%lx\n",
               vm.run->fail_entry.hardware_entry_failure_reason);
    if (hvt_eq(vm.run->fail_entry.cpu, 0, "fail_entry.cpu (the suite runs on CPU 0)"))
        hvt_hello_still_runs("a failed VM entry");
}

const struct hvtest_case hvtest_hostile_cases[] = {
    { "triple_fault_gives_shutdown_until_state_set",
      triple_fault_gives_shutdown_until_state_set },
    { "set_sregs_revives_shut_down_vcpu", set_sregs_revives_shut_down_vcpu },
    { "vmmcall_gives_hypercall_exit", vmmcall_gives_hypercall_exit },
    { "outside_memory_gives_mmio", outside_memory_gives_mmio },
    { "spin_returns_intr_each_slice", spin_returns_intr_each_slice },
    { "svm_instructions_raise_ud_in_guest", svm_instructions_raise_ud_in_guest },
    { "run_without_memory_faults_at_reset_vector",
      run_without_memory_faults_at_reset_vector },
    { "guest_exception_without_idt_shuts_down", guest_exception_without_idt_shuts_down },
    { "child_hypercall_never_reaches_abi", child_hypercall_never_reaches_abi },
    { "unenterable_state_refused_or_fail_entry", unenterable_state_refused_or_fail_entry },
    { NULL, NULL },
};
