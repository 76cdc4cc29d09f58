/*
 * The hypervisor keeps the walk to a paging guest's code page with the
 * entries it read (mmu/code_walk.h), so that the next exit from that page
 * needs no walk for the instruction's bytes. A guest that points the same
 * linear page at other code must then get that code's bytes: here an MMIO
 * store on a 4 KiB page the guest's tables map, run once, then the page
 * remapped by the VMM (as another vcpu would write the tables) and run
 * again after the guest reloads CR3. The VMM sees each store's bytes in
 * HV_EXIT_MMIO; a kept walk believed without its entries' compare would
 * hand it the first page's again. The first store is made twice before the
 * remap, so that the second exit takes the kept walk.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define CODE_GPA     HVT_CODE_GPA
#define PD_GPA       0x5000u      /* hvt_guest_long64's: PD[0] maps 0-2 MiB */
#define PT_GPA       0x6000u      /* maps linear 4 MiB + 4 KiB pages */
#define STORE_LINEAR 0x400000u    /* PT[0]: one of the two pages below */
#define MMIO_LINEAR  0x401000u    /* PT[1]: MMIO_GPA */
#define FIRST_GPA    0x30000u     /* mov [rbx], eax; ret */
#define SECOND_GPA   0x31000u     /* mov [rbx], ecx; ret */
#define MMIO_GPA     0x300000u    /* above the guest's 2 MiB of RAM */
#define PTE_PRESENT_WRITE 0x3ull

static void put_entry(struct vm_instance *vm, uint32_t at, uint64_t entry)
{
    memcpy(vm->ram + at, &entry, 8);
}

/* CALL rel32 from `code`'s place to linear `target` (the code runs where
 * it lies: the first 2 MiB are identity-mapped). */
static uint32_t call_to(struct hvt_code *code, uint32_t target)
{
    uint32_t rel = target - (code->at + 5);
    uint8_t bytes[5] = { 0xe8, (uint8_t)rel, (uint8_t)(rel >> 8), (uint8_t)(rel >> 16),
                         (uint8_t)(rel >> 24) };
    return hvt_bytes(code, bytes, sizeof(bytes));
}

/* An HV_EXIT_MMIO of the 4-byte store at STORE_LINEAR, whose bytes start
 * with `opcode_modrm`; skips it as the VMM's write emulation would. */
static int expect_store(struct vm_instance *vm, const uint8_t opcode_modrm[2], const char *what)
{
    const struct hv_run *run = vm->run;
    struct hv_regs regs;

    if (!hvt_run_past_slices(vm) || !hvt_exit_is(vm, HV_EXIT_MMIO, what) ||
        !hvt_eq(run->mmio.phys_addr, MMIO_GPA, "MMIO phys_addr") ||
        !hvt_eq(run->mmio.is_write, 1, "MMIO is_write") ||
        !hvt_eq(run->exit_rip, STORE_LINEAR, "MMIO exit_rip") ||
        !hvt_true(run->mmio.insn_length >= 2, "MMIO insn_length: the store's two bytes") ||
        !hvt_true(memcmp(run->mmio.insn_bytes, opcode_modrm, 2) == 0,
                  "MMIO insn_bytes are not those of the page the guest maps now") ||
        !hvt_ok(hv_get_regs(vm->vcpu, &regs), "GET_REGS after MMIO"))
        return 0;
    regs.rip += 2;
    return hvt_ok(hv_set_regs(vm->vcpu, &regs), "SET_REGS past the store");
}

static void remapped_code_page_gives_the_new_bytes(void)
{
    static const uint8_t first[] = { 0x89, 0x03, 0xc3 };   /* mov [rbx], eax; ret */
    static const uint8_t second[] = { 0x89, 0x0b, 0xc3 };  /* mov [rbx], ecx; ret */
    static const uint8_t set_rbx[] = { 0xbb, 0x00, 0x10, 0x40, 0x00 }; /* mov ebx, MMIO_LINEAR */
    static const uint8_t reload_cr3[] = { 0x0f, 0x20, 0xd8,  /* mov rax, cr3 */
                                          0x0f, 0x22, 0xd8 }; /* mov cr3, rax */
    struct vm_instance vm;
    struct hvt_code code;

    if (hvt_guest_create(&vm, "code-walk") != 0 || hvt_guest_long64(&vm, CODE_GPA) != 0)
        return;
    memset(vm.ram + PT_GPA, 0, 4096);
    put_entry(&vm, PD_GPA + 2 * 8, PT_GPA | PTE_PRESENT_WRITE);
    put_entry(&vm, PT_GPA + 0 * 8, FIRST_GPA | PTE_PRESENT_WRITE);
    put_entry(&vm, PT_GPA + 1 * 8, MMIO_GPA | PTE_PRESENT_WRITE);
    memcpy(vm.ram + FIRST_GPA, first, sizeof(first));
    memcpy(vm.ram + SECOND_GPA, second, sizeof(second));

    hvt_code_start(&code, &vm, CODE_GPA);
    hvt_bytes(&code, set_rbx, sizeof(set_rbx));
    hvt_mov_eax_imm(&code, 0x600dcafe);
    call_to(&code, STORE_LINEAR);
    call_to(&code, STORE_LINEAR);
    uint32_t out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_bytes(&code, reload_cr3, sizeof(reload_cr3));
    call_to(&code, STORE_LINEAR);
    hvt_hlt(&code);

    if (!expect_store(&vm, first, "the first page's store") ||
        !expect_store(&vm, first, "the first page's store again (the kept walk)") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x600dcafe, out, "the OUT before the remap"))
        return;
    put_entry(&vm, PT_GPA + 0 * 8, SECOND_GPA | PTE_PRESENT_WRITE);
    if (!expect_store(&vm, second, "the store of the page mapped now") || !hvt_run_past_slices(&vm))
        return;
    hvt_exit_is(&vm, HV_EXIT_HLT, "the HLT after the stores");
}

const struct hvtest_case hvtest_code_walk_cases[] = {
    { "remapped_code_page_gives_the_new_bytes", remapped_code_page_gives_the_new_bytes },
    { NULL, NULL },
};
