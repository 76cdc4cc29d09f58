/*
 * User-space MSR exits (CREATE_VM's HV_VM_USER_MSR, abi/README.md sections
 * 5 and 8): a guest's RDMSR or WRMSR of an MSR the hypervisor does not
 * handle ends RUN with HV_EXIT_X86_RDMSR/WRMSR naming the MSR (and the
 * value written); the next RUN completes the instruction with the VMM's
 * data, or gives the guest #GP when the VMM sets error. MSRs the
 * hypervisor handles never exit, values it refuses still give #GP, and a
 * VM without the flag gives #GP as before.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define UNKNOWN_MSR 0x40000123u      /* in no CPU's or hypervisor's list */
#define MSR_MTRR_CAP 0x000000feu     /* the hypervisor answers 0 */
#define MSR_PAT     0x00000277u
#define VECTOR_GP   13

/* A flat 32-bit VM with vcpu 0 at HVT_CODE_GPA and #GP caught. */
static int msr_vm(struct vm_instance *vm, const char *name, uint32_t flags)
{
    return hvt_guest_create_flags(vm, name, flags) || hvt_guest_flat32(vm, HVT_CODE_GPA) ||
                   hvt_guest_catch_vector(vm, VECTOR_GP)
               ? -1
               : 0;
}

/* mov ecx, msr; rdmsr; out eax; mov eax, edx; out eax; hlt. Returns the
 * RDMSR's address; *outs the first OUT's (the second is 2 + 2 later). */
static uint32_t rdmsr_program(struct vm_instance *vm, uint32_t msr, uint32_t *outs)
{
    struct hvt_code code;
    hvt_code_start(&code, vm, HVT_CODE_GPA);
    hvt64_mov_ecx_imm(&code, msr);
    uint32_t at = hvt64_insn(&code, HVT64_RDMSR);
    *outs = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt64_insn(&code, HVT64_MOV_EAX_EDX);
    hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    return at;
}

/* mov ecx, msr; mov eax, low; mov edx, high; wrmsr; out eax; hlt */
static uint32_t wrmsr_program(struct vm_instance *vm, uint32_t msr, uint64_t value,
                              uint32_t *out)
{
    struct hvt_code code;
    hvt_code_start(&code, vm, HVT_CODE_GPA);
    hvt64_mov_ecx_imm(&code, msr);
    hvt_mov_eax_imm(&code, (uint32_t)value);
    hvt64_mov_edx_imm(&code, (uint32_t)(value >> 32));
    uint32_t at = hvt64_insn(&code, HVT64_WRMSR);
    *out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    return at;
}

static int msr_exit_is(struct vm_instance *vm, uint32_t reason, uint32_t msr, uint32_t rip,
                       const char *what)
{
    char text[96];
    if (!hvt_run(vm) || !hvt_exit_is(vm, reason, what))
        return 0;
    snprintf(text, sizeof(text), "%s: msr.index", what);
    if (!hvt_eq(vm->run->msr.index, msr, text))
        return 0;
    snprintf(text, sizeof(text), "%s: exit_rip at the instruction", what);
    return hvt_eq(vm->run->exit_rip, rip, text);
}

static void user_msr_rdmsr_completes_with_vmm_data(void)
{
    struct vm_instance vm;
    uint32_t out;
    if (msr_vm(&vm, "user_rdmsr", HV_VM_USER_MSR) < 0)
        return;
    uint32_t at = rdmsr_program(&vm, UNKNOWN_MSR, &out);
    if (!msr_exit_is(&vm, HV_EXIT_X86_RDMSR, UNKNOWN_MSR, at, "RDMSR of an unknown MSR"))
        return;
    /* A new RIP abandons the access: the RDMSR runs, and exits, again. */
    struct hv_regs regs;
    if (!hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS") ||
        !hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS") ||
        !msr_exit_is(&vm, HV_EXIT_X86_RDMSR, UNKNOWN_MSR, at, "RDMSR again after SET_REGS"))
        return;
    vm.run->msr.error = 0;
    vm.run->msr.data = 0x1122334455667788ull;
    if (hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x55667788, out, "EAX from the VMM's data"))
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x11223344, out + 4, "EDX from the VMM's data");
}

static void user_msr_wrmsr_exit_carries_value(void)
{
    struct vm_instance vm;
    uint32_t out;
    if (msr_vm(&vm, "user_wrmsr", HV_VM_USER_MSR) < 0)
        return;
    uint32_t at = wrmsr_program(&vm, UNKNOWN_MSR, 0x01020304aabbccddull, &out);
    if (!msr_exit_is(&vm, HV_EXIT_X86_WRMSR, UNKNOWN_MSR, at, "WRMSR of an unknown MSR") ||
        !hvt_eq(vm.run->msr.data, 0x01020304aabbccddull, "msr.data of the WRMSR exit") ||
        !hvt_eq(vm.run->msr.error, 0, "msr.error on the exit"))
        return;
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0xaabbccdd, out, "the guest goes on after WRMSR");
}

static void user_msr_error_gives_guest_gp(void)
{
    struct vm_instance vm;
    uint32_t out;
    if (msr_vm(&vm, "user_msr_gp", HV_VM_USER_MSR) < 0)
        return;
    uint32_t at = rdmsr_program(&vm, UNKNOWN_MSR, &out);
    if (!msr_exit_is(&vm, HV_EXIT_X86_RDMSR, UNKNOWN_MSR, at, "RDMSR of an unknown MSR"))
        return;
    vm.run->msr.error = 1;
    if (!hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_GP,
                            HVT_HANDLER_GPA + VECTOR_GP * 16 + 5, "error = 1: the guest's #GP"))
        return;
    uint32_t wr = wrmsr_program(&vm, UNKNOWN_MSR, 5, &out);
    struct hv_regs regs;
    if (!hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS"))
        return;
    regs.rip = HVT_CODE_GPA;
    regs.rsp = HVT_STACK_TOP;
    if (!hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS to the WRMSR program") ||
        !msr_exit_is(&vm, HV_EXIT_X86_WRMSR, UNKNOWN_MSR, wr, "WRMSR of an unknown MSR"))
        return;
    vm.run->msr.error = 1;
    hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_GP, HVT_HANDLER_GPA + VECTOR_GP * 16 + 5,
                       "error = 1 on WRMSR: the guest's #GP");
}

/* With the flag, what the hypervisor handles stays there: MTRR_CAP reads 0,
 * PAT refuses a reserved memory type with #GP; without it, an unknown
 * MSR is #GP as before. */
static void user_msr_only_for_unknown_msrs(void)
{
    struct vm_instance vm, plain;
    uint32_t out;
    if (msr_vm(&vm, "user_msr_known", HV_VM_USER_MSR) < 0)
        return;
    rdmsr_program(&vm, MSR_MTRR_CAP, &out);
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0, out, "RDMSR of MTRR_CAP: no exit"))
        return;
    struct hv_regs regs;
    wrmsr_program(&vm, MSR_PAT, 0x0202020202020202ull, &out);
    if (!hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS"))
        return;
    regs.rip = HVT_CODE_GPA;
    regs.rsp = HVT_STACK_TOP;
    if (!hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_GP, HVT_HANDLER_GPA + VECTOR_GP * 16 + 5,
                            "WRMSR of PAT with reserved type 2: #GP, no exit"))
        return;
    if (msr_vm(&plain, "no_user_msr", 0) < 0)
        return;
    rdmsr_program(&plain, UNKNOWN_MSR, &out);
    hvt_run_expect_out(&plain, HVT_PORT_VECTOR, 4, VECTOR_GP, HVT_HANDLER_GPA + VECTOR_GP * 16 + 5,
                       "without HV_VM_USER_MSR: #GP");
}

static void user_msr_create_vm_flags(void)
{
    hvt_err(hv_create_vm_flags(hvt_sys(), HV_VM_FLAGS_VALID + 1), -HV_EINVAL,
            "CREATE_VM with the next flag bit");
    hvt_err(hv_call(HV_CALL_CREATE_VM, (uint64_t)hvt_sys(), 1ull << 33 | HV_VM_USER_MSR, 0, 0, 0, 0),
            -HV_EINVAL, "CREATE_VM with bit 33 and HV_VM_USER_MSR");
    long vm = hvt_keep(hv_create_vm_flags(hvt_sys(), HV_VM_USER_MSR | HV_VM_LAPIC));
    hvt_ok(vm, "CREATE_VM with HV_VM_USER_MSR | HV_VM_LAPIC");
}

const struct hvtest_case hvtest_msr_exits_cases[] = {
    { "user_msr_rdmsr_completes_with_vmm_data", user_msr_rdmsr_completes_with_vmm_data },
    { "user_msr_wrmsr_exit_carries_value", user_msr_wrmsr_exit_carries_value },
    { "user_msr_error_gives_guest_gp", user_msr_error_gives_guest_gp },
    { "user_msr_only_for_unknown_msrs", user_msr_only_for_unknown_msrs },
    { "user_msr_create_vm_flags", user_msr_create_vm_flags },
    { NULL, NULL },
};
