/*
 * The MSRs entry and exit do not switch by themselves (abi/README.md,
 * GET_MSRS/SET_MSRS): SYSCALL, SWAPGS and RDTSCP in a guest use the
 * vcpu's own STAR, LSTAR, SFMASK, KERNEL_GS_BASE and TSC_AUX, with vcpus
 * of different VMs, and of one VM, taking turns on this CPU, and the
 * control domain's own values are there again when RUN returns.
 *
 * Every test runs on control-domain vcpu 0, so every RUN here is on the
 * same physical CPU: the turns are real switches on one CPU.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define CPUID_80000001_EDX_RDTSCP (1u << 27)
#define RFLAGS_FIXED 0x2ull
#define RFLAGS_DF    (1ull << 10)
#define RFLAGS_IOPL3 (3ull << 12)
#define SFMASK_VALUE 0x3700ull     /* TF, IF, DF, IOPL */
#define SYSCALL_HANDLER_GPA 0x11000u
#define USER_CODE_GPA       0x12000u

/* ---- the control domain's own MSRs (it is a guest too) -------------- */

/* KERNEL_GS_BASE as SWAPGS sees it: swapped into GS_BASE, read, swapped
 * back. Nothing in the control domain uses GS meanwhile (no interrupts
 * reach it). */
static uint64_t ctl_kernel_gs_base_by_swapgs(void)
{
    uint64_t value;

    __asm__ volatile("swapgs" ::: "memory");
    value = hvt_ctl_rdmsr(HV_MSR_GS_BASE);
    __asm__ volatile("swapgs" ::: "memory");
    return value;
}

static uint32_t ctl_rdtscp_aux(void)
{
    uint32_t lo, hi, aux;

    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    return aux;
}

static int cpu_has_rdtscp(void)
{
    uint32_t a, b, c, d;

    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u), "c"(0));
    return (d & CPUID_80000001_EDX_RDTSCP) != 0;
}

/* ---- helpers ---------------------------------------------------------- */

static int set_msr(long vcpu, uint32_t index, uint64_t value, const char *what)
{
    struct hvt_msr_list *list = hvt_msr_list();

    hvt_msr_add(list, index, value);
    return hvt_err(hv_set_msrs(vcpu, &list->header), 1, what);
}

static int msr_is(long vcpu, uint32_t index, uint64_t want, const char *what)
{
    uint64_t value;

    return hvt_get_msr(vcpu, index, &value, what) && hvt_eq(value, want, what);
}

/* jmp rel8 back to `target`. */
static void jmp_back(struct hvt_code *code, uint32_t target)
{
    uint8_t insn[2] = { 0xeb, (uint8_t)(target - (code->at + 2)) };

    hvt_bytes(code, insn, 2);
}

/* ---- SWAPGS in two VMs by turns --------------------------------------- */

struct swapgs_vm {
    struct vm_instance vm;
    const char *name;
    uint64_t gs, kernel_gs;       /* what the guest should see next */
    uint32_t out_gs, out_kernel_gs;
};

/* A guest that loops on: SWAPGS, OUT of GS_BASE, OUT of KERNEL_GS_BASE. */
static int swapgs_guest(struct swapgs_vm *g)
{
    struct hvt_code code;
    uint32_t loop;

    if (hvt_guest_create(&g->vm, "hvtest") < 0 || hvt_guest_long64(&g->vm, HVT_CODE_GPA) < 0)
        return 0;
    hvt_code_start(&code, &g->vm, HVT_CODE_GPA);
    loop = hvt64_insn(&code, HVT64_SWAPGS);
    hvt64_mov_ecx_imm(&code, HV_MSR_GS_BASE);
    hvt64_insn(&code, HVT64_RDMSR);
    g->out_gs = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt64_mov_ecx_imm(&code, HV_MSR_KERNEL_GS_BASE);
    hvt64_insn(&code, HVT64_RDMSR);
    g->out_kernel_gs = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    jmp_back(&code, loop);
    return set_msr(g->vm.vcpu, HV_MSR_GS_BASE, g->gs, "SET_MSRS of GS_BASE") &&
           set_msr(g->vm.vcpu, HV_MSR_KERNEL_GS_BASE, g->kernel_gs,
                   "SET_MSRS of KERNEL_GS_BASE");
}

static void vcpu_msr_swapgs_sees_own_kernel_gs_base(void)
{
    struct swapgs_vm vms[2] = {
        { .name = "VM A", .gs = 0x0a000000, .kernel_gs = 0x0a100000 },
        { .name = "VM B", .gs = 0x0b000000, .kernel_gs = 0x0b100000 },
    };
    char what[96];

    if (!swapgs_guest(&vms[0]) || !swapgs_guest(&vms[1]))
        return;
    for (unsigned round = 0; round < 4; round++) {
        for (unsigned v = 0; v < 2; v++) {
            uint64_t old_gs = vms[v].gs;
            vms[v].gs = vms[v].kernel_gs;
            vms[v].kernel_gs = old_gs;
            snprintf(what, sizeof(what), "%s's GS_BASE after SWAPGS %u", vms[v].name, round + 1);
            if (!hvt_run_expect_out(&vms[v].vm, HVT_PORT_VALUE, 4, (uint32_t)vms[v].gs,
                                    vms[v].out_gs, what))
                return;
        }
        for (unsigned v = 0; v < 2; v++) {
            snprintf(what, sizeof(what), "%s's KERNEL_GS_BASE after SWAPGS %u",
                     vms[v].name, round + 1);
            if (!hvt_run_expect_out(&vms[v].vm, HVT_PORT_VALUE, 4, (uint32_t)vms[v].kernel_gs,
                                    vms[v].out_kernel_gs, what))
                return;
        }
        /* Between RUNs the VMM reads what the guest's SWAPGS left, and a
         * value it sets is the one the guest's next SWAPGS brings in. */
        snprintf(what, sizeof(what), "GET_MSRS of VM A's KERNEL_GS_BASE after round %u", round + 1);
        if (!msr_is(vms[0].vm.vcpu, HV_MSR_KERNEL_GS_BASE, vms[0].kernel_gs, what))
            return;
        vms[0].kernel_gs = 0x0a200000 + round * 0x1000;
        if (!set_msr(vms[0].vm.vcpu, HV_MSR_KERNEL_GS_BASE, vms[0].kernel_gs,
                     "SET_MSRS of VM A's KERNEL_GS_BASE between RUNs"))
            return;
    }
}

/* ---- SYSCALL and SYSRET ----------------------------------------------- */

static void vcpu_msr_syscall_sysret_use_vmm_values(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t user_cs, user_ss, after_syscall, user_cs_again, halt_at;
    uint32_t got_rax, kernel_cs, kernel_ss, kernel_flags, saved_rip, saved_flags;
    uint8_t jz[2] = { 0x74, 0 };
    uint8_t test_eax[2] = { 0x85, 0xc0 };
    uint8_t mov_r11d[6] = { 0x41, 0xbb };
    uint32_t user_flags = (uint32_t)(RFLAGS_FIXED | RFLAGS_IOPL3);

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_long64(&vm, HVT_CODE_GPA) < 0)
        return;
    /* Ring 0 start: SYSRET to user mode with IOPL 3, so that user code
     * may report with OUT. */
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt64_mov_ecx_imm(&code, USER_CODE_GPA);
    memcpy(mov_r11d + 2, &user_flags, 4);
    hvt_bytes(&code, mov_r11d, 6);
    hvt64_insn(&code, HVT64_SYSRETQ);
    /* User mode: report CS and SS, set DF, SYSCALL with a marker in EAX;
     * after the return report CS again, then SYSCALL with EAX 0: stop. */
    hvt_code_start(&code, &vm, USER_CODE_GPA);
    hvt64_insn(&code, HVT64_MOV_EAX_CS);
    user_cs = hvt_out_imm(&code, HVT_PORT_VALUE, 2);
    hvt64_insn(&code, HVT64_MOV_EAX_SS);
    user_ss = hvt_out_imm(&code, HVT_PORT_VALUE, 2);
    hvt64_insn(&code, HVT64_STD);
    hvt_mov_eax_imm(&code, 0x5ca11);
    hvt64_insn(&code, HVT64_SYSCALL);
    after_syscall = hvt64_insn(&code, HVT64_MOV_EAX_CS);
    user_cs_again = hvt_out_imm(&code, HVT_PORT_VALUE, 2);
    hvt64_insn(&code, HVT64_XOR_EAX_EAX);
    hvt64_insn(&code, HVT64_SYSCALL);
    /* The handler at LSTAR: report what SYSCALL did, SYSRET back. */
    hvt_code_start(&code, &vm, SYSCALL_HANDLER_GPA);
    hvt64_insn(&code, HVT64_PUSHFQ_POP_RDX);       /* before TEST changes them */
    hvt_bytes(&code, test_eax, 2);
    hvt_bytes(&code, jz, 2);
    got_rax = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt64_insn(&code, HVT64_MOV_EAX_CS);
    kernel_cs = hvt_out_imm(&code, HVT_PORT_VALUE, 2);
    hvt64_insn(&code, HVT64_MOV_EAX_SS);
    kernel_ss = hvt_out_imm(&code, HVT_PORT_VALUE, 2);
    hvt64_insn(&code, HVT64_MOV_EAX_EDX);
    kernel_flags = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt64_insn(&code, HVT64_MOV_RAX_RCX);
    saved_rip = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt64_insn(&code, HVT64_MOV_RAX_R11);
    saved_flags = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt64_insn(&code, HVT64_SYSRETQ);
    halt_at = hvt_hlt(&code);
    vm.ram[SYSCALL_HANDLER_GPA + 5] = (uint8_t)(halt_at - (SYSCALL_HANDLER_GPA + 6));

    if (!set_msr(vm.vcpu, HV_MSR_STAR, (uint64_t)HVT64_SELECTOR_USER_BASE << 48 |
                                           (uint64_t)HVT64_SELECTOR_KERNEL_CODE << 32,
                 "SET_MSRS of STAR") ||
        !set_msr(vm.vcpu, HV_MSR_LSTAR, SYSCALL_HANDLER_GPA, "SET_MSRS of LSTAR") ||
        !set_msr(vm.vcpu, HV_MSR_SFMASK, SFMASK_VALUE, "SET_MSRS of SFMASK") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 2, HVT64_SELECTOR_USER_CODE, user_cs,
                            "CS after SYSRET (STAR[63:48] + 16, RPL 3)") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 2, HVT64_SELECTOR_USER_DATA, user_ss,
                            "SS after SYSRET (STAR[63:48] + 8, RPL 3)") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x5ca11, got_rax,
                            "RAX in the SYSCALL handler at LSTAR") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 2, HVT64_SELECTOR_KERNEL_CODE, kernel_cs,
                            "CS after SYSCALL (STAR[47:32])") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 2, HVT64_SELECTOR_KERNEL_DATA, kernel_ss,
                            "SS after SYSCALL (STAR[47:32] + 8)") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, (uint32_t)RFLAGS_FIXED, kernel_flags,
                            "RFLAGS after SYSCALL (the user's, less SFMASK's bits)") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, after_syscall, saved_rip,
                            "RCX after SYSCALL (the return address)") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4,
                            (uint32_t)(RFLAGS_FIXED | RFLAGS_IOPL3 | RFLAGS_DF), saved_flags,
                            "R11 after SYSCALL (the user's RFLAGS)") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 2, HVT64_SELECTOR_USER_CODE, user_cs_again,
                            "CS after the handler's SYSRET") ||
        !hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_HLT, "the second SYSCALL's handler"))
        return;
    msr_is(vm.vcpu, HV_MSR_LSTAR, SYSCALL_HANDLER_GPA, "GET_MSRS of LSTAR after the run");
}

/* ---- RDTSCP in two vcpus by turns --------------------------------------- */

struct aux_vcpu {
    struct vm_instance view;
    uint64_t aux, written;
};

static void vcpu_msr_rdtscp_reads_own_tsc_aux(void)
{
    struct vm_instance vm;
    struct aux_vcpu v[2] = { { .aux = 0x11, .written = 0x1111 },
                             { .aux = 0x22, .written = 0x2222 } };
    struct hvt_code code;
    uint32_t first, rdmsr_out, second, rdtscp_at;
    char what[96];

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_second_vcpu(&vm, &v[1].view) < 0)
        return;
    v[0].view = vm;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    rdtscp_at = hvt64_insn(&code, HVT64_RDTSCP);
    hvt64_insn(&code, HVT64_MOV_EAX_ECX);
    first = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt64_mov_ecx_imm(&code, HV_MSR_TSC_AUX);
    hvt64_insn(&code, HVT64_RDMSR);
    rdmsr_out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt64_mov_ecx_imm(&code, HV_MSR_TSC_AUX);
    hvt64_insn(&code, HVT64_MOV_EAX_EBX);
    hvt64_insn(&code, HVT64_XOR_EDX_EDX);
    hvt64_insn(&code, HVT64_WRMSR);
    hvt64_insn(&code, HVT64_RDTSCP);
    hvt64_insn(&code, HVT64_MOV_EAX_ECX);
    second = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    for (unsigned i = 0; i < 2; i++) {
        if (hvt_guest_long64(&v[i].view, HVT_CODE_GPA) < 0 || !hvt_set_rbx(&v[i].view, v[i].written) ||
            !set_msr(v[i].view.vcpu, HV_MSR_TSC_AUX, v[i].aux, "SET_MSRS of TSC_AUX"))
            return;
    }
    if (!cpu_has_rdtscp()) {
        /* CPUID does not offer it: #UD, a triple fault with IDT limit 0. */
        if (hvt_run(&vm) && hvt_exit_is(&vm, HV_EXIT_SHUTDOWN, "RDTSCP without CPUID's RDTSCP"))
            hvt_eq(vm.run->exit_rip, rdtscp_at, "where RDTSCP faulted");
        return;
    }
    for (unsigned i = 0; i < 2; i++) {
        snprintf(what, sizeof(what), "vcpu %u's RDTSCP (TSC_AUX from SET_MSRS)", i);
        if (!hvt_run_expect_out(&v[i].view, HVT_PORT_VALUE, 4, (uint32_t)v[i].aux, first, what))
            return;
    }
    for (unsigned i = 0; i < 2; i++) {
        snprintf(what, sizeof(what), "vcpu %u's RDMSR of TSC_AUX", i);
        if (!hvt_run_expect_out(&v[i].view, HVT_PORT_VALUE, 4, (uint32_t)v[i].aux, rdmsr_out, what))
            return;
    }
    for (unsigned i = 0; i < 2; i++) {
        snprintf(what, sizeof(what), "vcpu %u's RDTSCP after its WRMSR of TSC_AUX", i);
        if (!hvt_run_expect_out(&v[i].view, HVT_PORT_VALUE, 4, (uint32_t)v[i].written, second,
                                what))
            return;
    }
    for (unsigned i = 0; i < 2; i++) {
        snprintf(what, sizeof(what), "GET_MSRS of vcpu %u's TSC_AUX after its WRMSR", i);
        if (!msr_is(v[i].view.vcpu, HV_MSR_TSC_AUX, v[i].written, what))
            return;
    }
}

/* ---- the control domain's own values around a child's RUN -------------- */

static const uint32_t ctl_msrs[] = {
    HV_MSR_STAR, HV_MSR_LSTAR, HV_MSR_CSTAR, HV_MSR_SFMASK, HV_MSR_KERNEL_GS_BASE,
    HV_MSR_TSC_AUX,
};
static const char *const ctl_msr_names[] = {
    "STAR", "LSTAR", "CSTAR", "SFMASK", "KERNEL_GS_BASE", "TSC_AUX",
};
#define CTL_MSRS (sizeof(ctl_msrs) / sizeof(ctl_msrs[0]))
static const uint64_t ctl_values[CTL_MSRS] = {
    0x0023001000000000ull, 0xffff800000c01000ull, 0xffff800000c02000ull, 0x4700,
    0x00000000c0c0c000ull, 0xc7,
};
static const uint64_t child_values[CTL_MSRS] = {
    0x001b000800000000ull, 0x00000000000d1000ull, 0x00000000000d2000ull, 0x0300,
    0x00000000000d3000ull, 0xd7,
};

/* A 64-bit child that writes its own value into each of them with WRMSR
 * and does a SWAPGS, then halts. */
static int msr_writing_child(struct vm_instance *vm)
{
    struct hvt_code code;

    if (hvt_guest_create(vm, "hvtest") < 0 || hvt_guest_long64(vm, HVT_CODE_GPA) < 0)
        return 0;
    hvt_code_start(&code, vm, HVT_CODE_GPA);
    for (unsigned i = 0; i < CTL_MSRS; i++) {
        hvt64_mov_ecx_imm(&code, ctl_msrs[i]);
        hvt_mov_eax_imm(&code, (uint32_t)child_values[i]);
        hvt64_mov_edx_imm(&code, (uint32_t)(child_values[i] >> 32));
        hvt64_insn(&code, HVT64_WRMSR);
    }
    hvt64_insn(&code, HVT64_SWAPGS);
    hvt_hlt(&code);
    return set_msr(vm->vcpu, HV_MSR_GS_BASE, 0x00000000000d4000ull, "SET_MSRS of GS_BASE");
}

static void vcpu_msr_control_domain_values_survive_run(void)
{
    uint64_t saved[CTL_MSRS];
    struct vm_instance vm;
    char what[96];
    int ok = 1;

    for (unsigned i = 0; i < CTL_MSRS; i++) {
        saved[i] = hvt_ctl_rdmsr(ctl_msrs[i]);
        hvt_ctl_wrmsr(ctl_msrs[i], ctl_values[i]);
    }
    if (msr_writing_child(&vm) && hvt_run(&vm) &&
        hvt_exit_is(&vm, HV_EXIT_HLT, "the child writing its MSRs")) {
        for (unsigned i = 0; ok && i < CTL_MSRS; i++) {
            snprintf(what, sizeof(what), "the control domain's RDMSR of %s after the child's RUN",
                     ctl_msr_names[i]);
            ok = hvt_eq(hvt_ctl_rdmsr(ctl_msrs[i]), ctl_values[i], what);
        }
        ok = ok && hvt_eq(ctl_kernel_gs_base_by_swapgs(), ctl_values[4],
                          "the control domain's KERNEL_GS_BASE through SWAPGS");
        if (ok && cpu_has_rdtscp())
            ok = hvt_eq(ctl_rdtscp_aux(), ctl_values[5], "the control domain's RDTSCP");
        /* And the child's: its WRMSRs, then SWAPGS swapped GS_BASE in. */
        for (unsigned i = 0; ok && i < CTL_MSRS; i++) {
            uint64_t want = ctl_msrs[i] == HV_MSR_KERNEL_GS_BASE ? 0xd4000 : child_values[i];
            snprintf(what, sizeof(what), "GET_MSRS of the child's %s", ctl_msr_names[i]);
            ok = msr_is(vm.vcpu, ctl_msrs[i], want, what);
        }
    }
    for (unsigned i = 0; i < CTL_MSRS; i++)
        hvt_ctl_wrmsr(ctl_msrs[i], saved[i]);
}

const struct hvtest_case hvtest_msr_switch_cases[] = {
    { "vcpu_msr_swapgs_sees_own_kernel_gs_base", vcpu_msr_swapgs_sees_own_kernel_gs_base },
    { "vcpu_msr_syscall_sysret_use_vmm_values", vcpu_msr_syscall_sysret_use_vmm_values },
    { "vcpu_msr_rdtscp_reads_own_tsc_aux", vcpu_msr_rdtscp_reads_own_tsc_aux },
    { "vcpu_msr_control_domain_values_survive_run", vcpu_msr_control_domain_values_survive_run },
    { NULL, NULL },
};
