/*
 * Instructions the hypervisor completes or refuses for a guest (abi/README.md
 * section 11): CPUID, VMMCALL/VMCALL, HLT and RDMSR with prefixes resume
 * after the whole instruction, in a child and in the control domain
 * itself; INVD goes on without an exit to the VMM; a MOV to CR0 or CR4
 * that the CPU refuses gives the guest #GP through its IDT, never a
 * failed entry, and one it accepts takes effect.
 *
 * Prefixes: segment overrides, which every one of these instructions
 * ignores (66/F2/F3 make another instruction of VMCALL on VMX), and in the
 * control domain's 64-bit code a REX prefix. The control domain's own
 * sequences are built so that a hypervisor skipping a fixed length lands
 * on a harmless instruction whose effect the test sees, not on a crash.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define VECTOR_UD 6
#define VECTOR_GP 13
#define CR0_PE 0x1u
#define CR0_ET 0x10u
#define CR0_NE 0x20u
#define CR0_NW 0x20000000u
#define CR0_PG 0x80000000u
#define CR4_PSE 0x10u
#define CR4_VMXE 0x2000u
#define CR4_RESERVED_15 0x8000u
#define MSR_EFER 0xc0000080u

/* A fresh 32-bit guest that reports #UD and #GP through its IDT. */
static int guest_with_handlers(struct vm_instance *vm, struct hvt_code *code)
{
    if (hvt_guest_create(vm, "hvtest") < 0)
        return -1;
    hvt_code_start(code, vm, HVT_CODE_GPA);
    return 0;
}

static int enter_with_handlers(struct vm_instance *vm)
{
    if (hvt_guest_flat32(vm, HVT_CODE_GPA) < 0 ||
        hvt_guest_catch_vector(vm, VECTOR_UD) < 0 ||
        hvt_guest_catch_vector(vm, VECTOR_GP) < 0)
        return -1;
    return 0;
}

static uint32_t handler_out(unsigned vector)
{
    return HVT_HANDLER_GPA + vector * 16 + 5; /* after its mov eax, vector */
}

static void invd_goes_on_in_guest(void)
{
    static const uint8_t invd[] = { 0x0f, 0x08 };
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t out;

    if (guest_with_handlers(&vm, &code) < 0)
        return;
    hvt_mov_eax_imm(&code, 0x1a7d);
    hvt_bytes(&code, invd, sizeof(invd));
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (enter_with_handlers(&vm) == 0)
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x1a7d, out,
                           "guest after INVD (no exit to the VMM, no #UD)");
}

/* CPUID 0x40000000 behind `prefixes`, then OUT of EBX: the signature at
 * the OUT means the guest resumed right after the whole instruction. */
static int prefixed_cpuid(const uint8_t *prefixes, unsigned count, const char *what)
{
    static const uint8_t cpuid[] = { 0x0f, 0xa2 }, mov_eax_ebx[] = { 0x89, 0xd8 };
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t out;

    if (guest_with_handlers(&vm, &code) < 0)
        return 0;
    hvt_mov_eax_imm(&code, HV_CPUID_SIGNATURE);
    hvt_bytes(&code, prefixes, count);
    hvt_bytes(&code, cpuid, sizeof(cpuid));
    hvt_bytes(&code, mov_eax_ebx, sizeof(mov_eax_ebx));
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    return enter_with_handlers(&vm) == 0 &&
           hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, HV_SIGNATURE_EBX, out, what);
}

static void prefixed_cpuid_resumes_after_it(void)
{
    static const uint8_t operand_size[] = { 0x66 };
    static const uint8_t segments[] = { 0x2e, 0x3e, 0x26, 0x64 };
    if (prefixed_cpuid(operand_size, sizeof(operand_size), "66 0f a2 (CPUID)"))
        prefixed_cpuid(segments, sizeof(segments), "2e 3e 26 64 0f a2 (CPUID)");
}

static void prefixed_hypercall_resumes_after_it(void)
{
    static const uint8_t prefixes[] = { 0x3e, 0x26 };
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_regs regs;
    uint32_t call, out;

    if (guest_with_handlers(&vm, &code) < 0)
        return;
    hvt_mov_eax_imm(&code, 0x4242);
    call = hvt_bytes(&code, prefixes, sizeof(prefixes));
    hvt_vmmcall(&code);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (enter_with_handlers(&vm) < 0 || !hvt_run(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_HYPERCALL, "3e 26 VMMCALL/VMCALL") ||
        !hvt_eq(vm.run->hypercall.nr, 0x4242, "hypercall nr") ||
        !hvt_eq(vm.run->exit_rip, call, "hypercall exit_rip (at the first prefix)") ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS") ||
        !hvt_eq(regs.rip, call + sizeof(prefixes) + 3,
                "RIP after a prefixed hypercall (past all of it)"))
        return;
    regs.rax = 0x600d;
    if (hvt_err(hv_set_regs(vm.vcpu, &regs), 0, "SET_REGS of the answer"))
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x600d, out,
                           "guest resuming after the prefixed hypercall");
}

static void prefixed_hlt_and_rdmsr_resume_after_them(void)
{
    static const uint8_t hlt[] = { 0x2e, 0xf4 }, rdmsr[] = { 0x3e, 0x64, 0x0f, 0x32 };
    static const uint8_t mov_ecx[] = { 0xb9 };
    uint32_t msr = MSR_EFER;
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_regs regs;
    uint32_t at, out;

    if (guest_with_handlers(&vm, &code) < 0)
        return;
    at = hvt_bytes(&code, hlt, sizeof(hlt));
    hvt_bytes(&code, mov_ecx, 1);
    hvt_bytes(&code, (const uint8_t *)&msr, 4);
    hvt_mov_eax_imm(&code, 0xdead);
    hvt_bytes(&code, rdmsr, sizeof(rdmsr));
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (enter_with_handlers(&vm) < 0 || !hvt_run_past_slices(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_HLT, "2e f4 (HLT)") ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS") ||
        !hvt_eq(regs.rip, at + sizeof(hlt), "RIP after a prefixed HLT"))
        return;
    /* EFER of the flat 32-bit state is 0: RDMSR's EAX says it ran. */
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0, out,
                       "EAX after 3e 64 0f 32 (RDMSR of EFER)");
}

/* The control domain's own CPUID: 2e 48 0f a2. Skipping two bytes would
 * run CPUID again on its own answer (EAX 0x40000001 gives the ABI
 * version): harmless, and seen. */
static void control_domain_prefixed_cpuid(void)
{
    uint32_t a = HV_CPUID_SIGNATURE, b, c = 0, d;

    __asm__ volatile(".byte 0x2e, 0x48, 0x0f, 0xa2"
                     : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    if (hvt_eq(b, HV_SIGNATURE_EBX, "EBX of the control domain's 2e 48 0f a2"))
        hvt_eq(a, HV_CPUID_FEATURES, "EAX of the control domain's 2e 48 0f a2 "
               "(run once, not twice)");
}

/* And its hypercall: 2e 48 VMMCALL/VMCALL. Skipping three bytes would
 * land on 01 d9 / 01 c1, an ADD into ECX: harmless, and seen. (SVM's
 * fast path takes a VMMCALL whose byte at RIP + 2 is d9, here 0f.) */
static void control_domain_prefixed_hypercall(void)
{
    uint64_t rax = HV_CALL_GET_API_VERSION, rcx = 0;

    if (hv_backend() == HV_BACKEND_VMX)
        __asm__ volatile(".byte 0x2e, 0x48, 0x0f, 0x01, 0xc1"
                         : "+a"(rax), "+c"(rcx)
                         : "D"((uint64_t)hvt_sys()), "b"(1ull)
                         : "memory");
    else
        __asm__ volatile(".byte 0x2e, 0x48, 0x0f, 0x01, 0xd9"
                         : "+a"(rax), "+c"(rcx)
                         : "D"((uint64_t)hvt_sys()), "b"(1ull)
                         : "memory");
    if (hvt_eq(rax, HV_API_VERSION, "result of the control domain's prefixed "
               "GET_API_VERSION"))
        hvt_eq(rcx, 0, "RCX after the prefixed hypercall (an ADD after it ran "
               "means RIP landed inside it)");
}

/* mov eax, value; mov crN, eax; then the #GP handler's OUT if refused, or
 * mov eax, crN; out if taken. */
static int cr_write(unsigned cr, uint32_t value, int refused, const char *what)
{
    const uint8_t mov_to_cr[] = { 0x0f, 0x22, (uint8_t)(0xc0 | cr << 3) };
    const uint8_t mov_from_cr[] = { 0x0f, 0x20, (uint8_t)(0xc0 | cr << 3) };
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t out;

    if (guest_with_handlers(&vm, &code) < 0)
        return 0;
    hvt_mov_eax_imm(&code, value);
    hvt_bytes(&code, mov_to_cr, sizeof(mov_to_cr));
    hvt_bytes(&code, mov_from_cr, sizeof(mov_from_cr));
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (enter_with_handlers(&vm) < 0)
        return 0;
    if (refused)
        return hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_GP,
                                  handler_out(VECTOR_GP), what);
    return hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, value, out, what);
}

/* NE changes in each write (the flat 32-bit state has it clear), so that on
 * VMX, where the hypervisor owns NE, every one exits and is carried out or
 * refused by the hypervisor. On SVM MOV to CR0 is the CPU's own business,
 * not intercepted: there is nothing of the hypervisor's to check (and
 * QEMU's TCG takes these values without #GP: PLATFORM.md). */
static void cr0_write_refused_gets_gp(void)
{
    if (!cr_write(0, CR0_PE | CR0_ET | CR0_NE, 0, "mov cr0 of PE ET NE (taken)"))
        return;
    if (hv_backend() != HV_BACKEND_VMX) {
        ctl_printf("hvtest: cr0_write_refused_gets_gp: SVM does not intercept MOV to "
                   "CR0; the refusals are the CPU's\n");
        return;
    }
    if (cr_write(0, CR0_PG | CR0_ET | CR0_NE, 1, "mov cr0 of PG without PE (#GP)"))
        cr_write(0, CR0_NW | CR0_PE | CR0_ET | CR0_NE, 1, "mov cr0 of NW without CD (#GP)");
}

/* Both backends own these CR4 writes: VMX through its CR4 mask, SVM by
 * intercepting MOV to CR4. */
static void cr4_write_refused_gets_gp(void)
{
    if (cr_write(4, CR4_PSE, 0, "mov cr4 of PSE (taken)") &&
        cr_write(4, CR4_VMXE, 1, "mov cr4 of VMXE: no VMX in a guest (#GP)"))
        cr_write(4, CR4_PSE | CR4_RESERVED_15, 1, "mov cr4 of reserved bit 15 (#GP)");
}

const struct hvtest_case hvtest_guest_insn_cases[] = {
    { "invd_goes_on_in_guest", invd_goes_on_in_guest },
    { "prefixed_cpuid_resumes_after_it", prefixed_cpuid_resumes_after_it },
    { "prefixed_hypercall_resumes_after_it", prefixed_hypercall_resumes_after_it },
    { "prefixed_hlt_and_rdmsr_resume_after_them", prefixed_hlt_and_rdmsr_resume_after_them },
    { "control_domain_prefixed_cpuid", control_domain_prefixed_cpuid },
    { "control_domain_prefixed_hypercall", control_domain_prefixed_hypercall },
    { "cr0_write_refused_gets_gp", cr0_write_refused_gets_gp },
    { "cr4_write_refused_gets_gp", cr4_write_refused_gets_gp },
    { NULL, NULL },
};
