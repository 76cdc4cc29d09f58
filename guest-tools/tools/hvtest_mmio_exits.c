/*
 * Decoded MMIO exits (CREATE_VM's HV_VM_DECODED_MMIO, abi/README.md
 * sections 5 and 8): a guest's MOV, MOVZX or MOVSX on an address without
 * memory ends RUN with HV_EXIT_MMIO carrying the access (decoded 1, len,
 * data for a write), RIP still at the instruction; the next RUN completes
 * it, loading a read's register from the VMM's data as the instruction
 * would. SET_REGS before that RUN abandons the access; other instructions,
 * a MOV of ESP and an access the fault's page does not hold whole stay
 * undecoded, as in a VM without the flag. These guests do not page: the
 * first access from a code page is decoded by the general path, the
 * next ones by the backends' fast path (svm_child_mmio_decoded,
 * vmx_child_mmio_decoded): both are exercised.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define MMIO_GPA 0x40000010u    /* no memory there */
#define RAM_END  (HVT_GUEST_RAM_MIB << 20)

/* A flat 32-bit VM with vcpu 0 at HVT_CODE_GPA. */
static int mmio_vm(struct vm_instance *vm, const char *name, uint32_t flags)
{
    return hvt_guest_create_flags(vm, name, flags) || hvt_guest_flat32(vm, HVT_CODE_GPA) ? -1 : 0;
}

/* An instruction with a 32-bit absolute address (ModRM mod 0, r/m 5):
 * `prefix_and_opcode` (n bytes, the ModRM last), then the address and
 * `imm_size` bytes of `imm`. Returns its address. */
static uint32_t absolute(struct hvt_code *code, const uint8_t *prefix_and_opcode, unsigned n,
                         uint32_t address, uint32_t imm, unsigned imm_size)
{
    uint8_t bytes[16];
    memcpy(bytes, prefix_and_opcode, n);
    for (unsigned i = 0; i < 4; i++)
        bytes[n + i] = (uint8_t)(address >> (8 * i));
    for (unsigned i = 0; i < imm_size; i++)
        bytes[n + 4 + i] = (uint8_t)(imm >> (8 * i));
    return hvt_bytes(code, bytes, n + 4 + imm_size);
}

/* RUN to an HV_EXIT_MMIO at `rip` of `len` bytes at `gpa`, decoded as
 * `decoded` says, a write of `data` when `write`. */
static int mmio_exit_is(struct vm_instance *vm, uint32_t rip, uint64_t gpa, bool write,
                        bool decoded, unsigned len, uint64_t data, const char *what)
{
    const struct hv_run *run = vm->run;
    char text[112];
    if (!hvt_run_past_slices(vm) || !hvt_exit_is(vm, HV_EXIT_MMIO, what))
        return 0;
    snprintf(text, sizeof(text), "%s: exit_rip at the instruction", what);
    if (!hvt_eq(run->exit_rip, rip, text))
        return 0;
    snprintf(text, sizeof(text), "%s: phys_addr", what);
    if (!hvt_eq(run->mmio.phys_addr, gpa, text))
        return 0;
    snprintf(text, sizeof(text), "%s: is_write", what);
    if (!hvt_eq(run->mmio.is_write, write, text))
        return 0;
    snprintf(text, sizeof(text), "%s: decoded", what);
    if (!hvt_eq(run->mmio.decoded, decoded, text))
        return 0;
    if (!decoded)
        return 1;
    snprintf(text, sizeof(text), "%s: len", what);
    if (!hvt_eq(run->mmio.len, len, text))
        return 0;
    snprintf(text, sizeof(text), "%s: data", what);
    return !write || hvt_eq(run->mmio.data, data, text);
}

static void decoded_mmio_writes_carry_their_values(void)
{
    static const uint8_t mov_store[] = { 0x89, 0x05 };          /* mov [a], eax */
    static const uint8_t mov_store_ah[] = { 0x88, 0x25 };       /* mov [a], ah */
    static const uint8_t mov_imm32[] = { 0xc7, 0x05 };          /* mov dword [a], imm32 */
    static const uint8_t mov_imm16[] = { 0x66, 0xc7, 0x05 };    /* mov word [a], imm16 */
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_regs regs;

    if (mmio_vm(&vm, "mmio_writes", HV_VM_DECODED_MMIO) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 0x11223344u);
    uint32_t store = absolute(&code, mov_store, 2, MMIO_GPA, 0, 0);
    uint32_t store_ah = absolute(&code, mov_store_ah, 2, MMIO_GPA + 1, 0, 0);
    uint32_t imm32 = absolute(&code, mov_imm32, 2, MMIO_GPA + 4, 0xcafef00du, 4);
    uint32_t imm16 = absolute(&code, mov_imm16, 3, MMIO_GPA + 8, 0xbeef, 2);
    uint32_t out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (!mmio_exit_is(&vm, store, MMIO_GPA, true, true, 4, 0x11223344u, "mov [mmio], eax") ||
        !hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS at the exit") ||
        !hvt_eq(regs.rip, store, "RIP stays at the instruction until the next RUN") ||
        !mmio_exit_is(&vm, store_ah, MMIO_GPA + 1, true, true, 1, 0x33, "mov [mmio], ah") ||
        !mmio_exit_is(&vm, imm32, MMIO_GPA + 4, true, true, 4, 0xcafef00du,
                      "mov dword [mmio], imm32") ||
        !mmio_exit_is(&vm, imm16, MMIO_GPA + 8, true, true, 2, 0xbeef, "mov word [mmio], imm16"))
        return;
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x11223344u, out,
                       "the guest goes on after the stores, EAX kept");
}

/* Each read answered with `answer`; the guest reports the register. */
static int answered_read(struct vm_instance *vm, uint32_t rip, uint64_t gpa, unsigned len,
                         uint64_t answer, uint32_t out, uint32_t reported, const char *what)
{
    if (!mmio_exit_is(vm, rip, gpa, false, true, len, 0, what))
        return 0;
    vm->run->mmio.data = answer;
    return hvt_run_expect_out(vm, HVT_PORT_VALUE, 4, reported, out, what);
}

static void decoded_mmio_reads_load_the_vmm_data(void)
{
    static const uint8_t mov_load[] = { 0x8b, 0x05 };           /* mov eax, [a] */
    static const uint8_t mov_load_ah[] = { 0x8a, 0x25 };        /* mov ah, [a] */
    static const uint8_t movzx_byte[] = { 0x0f, 0xb6, 0x05 };   /* movzx eax, byte [a] */
    static const uint8_t movsx_word[] = { 0x0f, 0xbf, 0x05 };   /* movsx eax, word [a] */
    static const uint8_t mov_load16[] = { 0x66, 0x8b, 0x05 };   /* mov ax, [a] */
    struct vm_instance vm;
    struct hvt_code code;

    if (mmio_vm(&vm, "mmio_reads", HV_VM_DECODED_MMIO) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 0xaaaaaaaau);
    uint32_t load = absolute(&code, mov_load, 2, MMIO_GPA, 0, 0);
    uint32_t out1 = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    uint32_t load_ah = absolute(&code, mov_load_ah, 2, MMIO_GPA + 1, 0, 0);
    uint32_t out2 = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    uint32_t zx = absolute(&code, movzx_byte, 3, MMIO_GPA + 2, 0, 0);
    uint32_t out3 = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    uint32_t sx = absolute(&code, movsx_word, 3, MMIO_GPA + 4, 0, 0);
    uint32_t out4 = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    uint32_t load16 = absolute(&code, mov_load16, 3, MMIO_GPA + 6, 0, 0);
    uint32_t out5 = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    /* The answer's bytes beyond len never reach the register. */
    if (!answered_read(&vm, load, MMIO_GPA, 4, 0xffffffff12345678ull, out1, 0x12345678u,
                       "mov eax, [mmio]") ||
        !answered_read(&vm, load_ah, MMIO_GPA + 1, 1, 0x99, out2, 0x12349978u,
                       "mov ah, [mmio]: bits 15:8") ||
        !answered_read(&vm, zx, MMIO_GPA + 2, 1, 0x80, out3, 0x80, "movzx eax, byte [mmio]") ||
        !answered_read(&vm, sx, MMIO_GPA + 4, 2, 0x8001, out4, 0xffff8001u,
                       "movsx eax, word [mmio]"))
        return;
    answered_read(&vm, load16, MMIO_GPA + 6, 2, 0x4321, out5, 0xffff4321u,
                  "mov ax, [mmio]: the upper half kept");
}

/* SET_REGS before the completing RUN abandons the access: the guest
 * executes the instruction, and exits, again; its answer then counts. */
static void decoded_mmio_set_regs_abandons_the_access(void)
{
    static const uint8_t mov_load[] = { 0x8b, 0x05 };
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_regs regs;

    if (mmio_vm(&vm, "mmio_abandon", HV_VM_DECODED_MMIO) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    uint32_t load = absolute(&code, mov_load, 2, MMIO_GPA, 0, 0);
    uint32_t out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (!mmio_exit_is(&vm, load, MMIO_GPA, false, true, 4, 0, "mov eax, [mmio]"))
        return;
    vm.run->mmio.data = 0x5555;
    if (!hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS") ||
        !hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS of the same registers") ||
        !mmio_exit_is(&vm, load, MMIO_GPA, false, true, 4, 0, "the load again after SET_REGS"))
        return;
    vm.run->mmio.data = 0x7777;
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x7777, out, "the second answer loaded");
}

/* What stays the VMM's: an instruction the decoder does not know (MOVNTI), a
 * MOV of ESP, and an access that runs past the fault's page. Undecoded,
 * nothing completes it: the next RUN runs it again. An access that begins
 * in RAM and ends in MMIO is reported as the CPU's fault gives it: at the
 * MMIO page's start, with the instruction's size (abi/README.md). */
static void decoded_mmio_leaves_the_rest_undecoded(void)
{
    static const uint8_t movnti[] = { 0x0f, 0xc3, 0x05 };      /* movnti [a], eax */
    static const uint8_t mov_store_esp[] = { 0x89, 0x25 };      /* mov [a], esp */
    static const uint8_t mov_store[] = { 0x89, 0x05 };
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_regs regs;

    if (mmio_vm(&vm, "mmio_undecoded", HV_VM_DECODED_MMIO) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    uint32_t store_nt = absolute(&code, movnti, 3, MMIO_GPA, 0, 0);
    uint32_t esp = absolute(&code, mov_store_esp, 2, MMIO_GPA, 0, 0);
    uint32_t past_end = absolute(&code, mov_store, 2, 0x40000ffeu, 0, 0);
    uint32_t from_ram = absolute(&code, mov_store, 2, RAM_END - 2, 0, 0);
    hvt_hlt(&code);
    if (!mmio_exit_is(&vm, store_nt, MMIO_GPA, true, false, 0, 0, "movnti [mmio], eax") ||
        !mmio_exit_is(&vm, store_nt, MMIO_GPA, true, false, 0, 0, "movnti [mmio], eax again"))
        return;
    const char *steps[] = { "mov [mmio], esp", "mov [mmio], eax across the page's end" };
    uint32_t at[] = { esp, past_end };
    uint64_t gpa[] = { MMIO_GPA, 0x40000ffeu };
    for (unsigned i = 0; i < 2; i++) {
        if (!hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS"))
            return;
        regs.rip = at[i];
        if (!hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS past the last") ||
            !mmio_exit_is(&vm, at[i], gpa[i], true, false, 0, 0, steps[i]))
            return;
    }
    if (!hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS"))
        return;
    regs.rip = from_ram;
    regs.rax = 0x11223344u;
    if (hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS to the store from RAM into MMIO"))
        mmio_exit_is(&vm, from_ram, RAM_END, true, true, 4, 0x11223344u,
                     "a store from RAM into MMIO: at the MMIO page's start");
}

/* Under DEBUG_GUEST's single step the access's completion is an
 * instruction the hypervisor carried out: the completing RUN reports the
 * step (HV_EXIT_DEBUG, pc past the load) without entering the guest, with
 * the register loaded, as after an MSR exit. */
static void decoded_mmio_step_reported_after_completion(void)
{
    static const uint8_t mov_load[] = { 0x8b, 0x05 }, inc_esi = 0x46;
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_regs regs;
    struct hv_guest_debug *debug = page_alloc(sizeof(*debug));

    if (mmio_vm(&vm, "mmio_step", HV_VM_DECODED_MMIO) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    uint32_t load = absolute(&code, mov_load, 2, MMIO_GPA, 0, 0);
    uint32_t after = hvt_bytes(&code, &inc_esi, 1);
    hvt_hlt(&code);
    memset(debug, 0, sizeof(*debug));
    debug->control = HV_GUESTDBG_ENABLE | HV_GUESTDBG_SINGLESTEP;
    if (!hvt_ok(hv_debug_guest(vm.vcpu, debug), "DEBUG_GUEST single-step") ||
        !mmio_exit_is(&vm, load, MMIO_GPA, false, true, 4, 0, "the stepped load"))
        return;
    vm.run->mmio.data = 0x1234;
    if (!hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_DEBUG, "the step over the completed load") ||
        !hvt_eq(vm.run->debug.pc, after, "debug.pc: past the load") ||
        !hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS at the step") ||
        !hvt_eq(regs.rax, 0x1234, "EAX: the VMM's data") ||
        !hvt_eq(regs.rsi, 0, "ESI: the INC after the load has not run"))
        return;
    memset(debug, 0, sizeof(*debug));
    if (hvt_ok(hv_debug_guest(vm.vcpu, debug), "DEBUG_GUEST off") && hvt_run_past_slices(&vm))
        hvt_exit_is(&vm, HV_EXIT_HLT, "RUN after stepping is off");
}

/* Without the flag nothing is decoded, and the VMM moves RIP itself. */
static void decoded_mmio_only_with_the_flag(void)
{
    static const uint8_t mov_store[] = { 0x89, 0x05 };
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_regs regs;

    if (mmio_vm(&vm, "mmio_plain", 0) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    uint32_t store = absolute(&code, mov_store, 2, MMIO_GPA, 0, 0);
    uint32_t out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (!hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS"))
        return;
    regs.rax = 0x600d;
    if (!hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS of EAX") ||
        !mmio_exit_is(&vm, store, MMIO_GPA, true, false, 0, 0, "without the flag") ||
        !mmio_exit_is(&vm, store, MMIO_GPA, true, false, 0, 0, "again: RIP never moved") ||
        !hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS"))
        return;
    regs.rip = out;
    if (hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS past the store"))
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x600d, out, "the VMM moved RIP");
}

const struct hvtest_case hvtest_mmio_exits_cases[] = {
    { "decoded_mmio_writes_carry_their_values", decoded_mmio_writes_carry_their_values },
    { "decoded_mmio_reads_load_the_vmm_data", decoded_mmio_reads_load_the_vmm_data },
    { "decoded_mmio_set_regs_abandons_the_access", decoded_mmio_set_regs_abandons_the_access },
    { "decoded_mmio_leaves_the_rest_undecoded", decoded_mmio_leaves_the_rest_undecoded },
    { "decoded_mmio_step_reported_after_completion", decoded_mmio_step_reported_after_completion },
    { "decoded_mmio_only_with_the_flag", decoded_mmio_only_with_the_flag },
    { NULL, NULL },
};
