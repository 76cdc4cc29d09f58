/*
 * SET_SREGS and the hardware's guest-state rules (abi/README.md, GET_SREGS /
 * SET_SREGS): a 32-bit PAE guest set from scratch runs and takes an
 * interrupt through its IDT (with EPT, VM entry takes its page-directory
 * pointers from the VMCS, which SET_SREGS loads), page-directory pointers
 * with reserved bits are refused as MOV to CR3 refuses them, a state set
 * abandons a pending single-step trap, and states VM entry or VMRUN
 * refuses are refused without changing anything. The random sweep over
 * many states is in hvtest_sregs_sweep.c.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PCIDE (1ull << 17)
#define RFLAGS_TF 0x100u
#define RFLAGS_IF 0x200u
#define VECTOR_DB 1
#define VECTOR_GP 13
#define VECTOR_IRQ 0x40

/* PAE tables identity-mapping the guest's first 2 MiB with one large page:
 * the page-directory-pointer table (32 bytes, 32-byte aligned) and the
 * page directory, below the stack. */
#define PAE_PDPT_GPA 0x3000u
#define PAE_PD_GPA   0x4000u
#define PTE_P  0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull
#define PDPTE_RESERVED_BIT1 (1ull << 1) /* R/W: reserved there by Intel and AMD */

static void write_u64(struct vm_instance *vm, uint32_t gpa, uint64_t value)
{
    memcpy(vm->ram + gpa, &value, sizeof(value));
}

static void pae_tables(struct vm_instance *vm)
{
    memset(vm->ram + PAE_PDPT_GPA, 0, 4096);
    memset(vm->ram + PAE_PD_GPA, 0, 4096);
    write_u64(vm, PAE_PDPT_GPA, PAE_PD_GPA | PTE_P);
    write_u64(vm, PAE_PD_GPA, 0 | PTE_P | PTE_RW | PTE_PS);
}

/* The suite's flat 32-bit state with PAE paging through pae_tables. */
static void pae_sregs(struct hv_sregs *s)
{
    hvt_sregs_flat32(s);
    s->cr0 |= CR0_PG;
    s->cr4 = CR4_PAE;
    s->cr3 = PAE_PDPT_GPA;
}

/* A 2 MiB guest in the PAE state at HVT_CODE_GPA, RFLAGS as given. */
static int pae_guest(struct vm_instance *vm, uint32_t rflags)
{
    struct hv_sregs s;
    struct hv_regs regs;

    if (hvt_guest_create(vm, "hvtest") < 0 || hvt_guest_flat32(vm, HVT_CODE_GPA) < 0)
        return 0;
    pae_tables(vm);
    pae_sregs(&s);
    if (!hvt_err(hv_set_sregs(vm->vcpu, &s), 0, "SET_SREGS of a 32-bit PAE state") ||
        !hvt_ok(hv_get_regs(vm->vcpu, &regs), "GET_REGS"))
        return 0;
    regs.rflags = 0x2 | rflags;
    return hvt_ok(hv_set_regs(vm->vcpu, &regs), "SET_REGS");
}

static void sregs_pae_guest_runs_and_takes_interrupt(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_sregs got;

    if (!pae_guest(&vm, RFLAGS_IF) || hvt_guest_catch_vector(&vm, VECTOR_IRQ) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 0x9ae0);
    uint32_t out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_jmp_self(&code);
    /* Its first instruction is fetched through the PAE tables. */
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x9ae0, out, "the PAE guest's OUT") ||
        !hvt_ok(hv_get_sregs(vm.vcpu, &got), "GET_SREGS") ||
        !hvt_eq(got.cr3, PAE_PDPT_GPA, "CR3 of the PAE guest") ||
        !hvt_eq(got.cr4 & CR4_PAE, CR4_PAE, "CR4.PAE of the PAE guest") ||
        !hvt_eq(got.cr0 & CR0_PG, CR0_PG, "CR0.PG of the PAE guest"))
        return;
    /* Delivery reads the IDT and the handler through the same tables. */
    uint32_t handler_out = HVT_HANDLER_GPA + VECTOR_IRQ * 16 + 5;
    if (hvt_err(hv_interrupt(vm.vcpu, VECTOR_IRQ), 0, "INTERRUPT 0x40"))
        hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_IRQ, handler_out,
                           "the interrupt handler of the PAE guest");
}

/* A present page-directory pointer with a reserved bit (1) is refused as
 * MOV to CR3 would refuse it, and nothing changes; a not-present one may
 * hold anything. */
static void sregs_pae_reserved_pdpte_refused(void)
{
    struct vm_instance vm;
    struct hv_sregs s, before, got;

    if (!pae_guest(&vm, 0) || !hvt_ok(hv_get_sregs(vm.vcpu, &before), "GET_SREGS"))
        return;
    pae_sregs(&s);
    s.cr3 = PAE_PDPT_GPA + 0x20;             /* a second table, next to the first */
    write_u64(&vm, PAE_PDPT_GPA + 0x20, PAE_PD_GPA | PTE_P);
    write_u64(&vm, PAE_PDPT_GPA + 0x28, PTE_P | PDPTE_RESERVED_BIT1);
    if (!hvt_err(hv_set_sregs(vm.vcpu, &s), -HV_EINVAL,
                 "SET_SREGS with a present PDPTE holding reserved bit 1") ||
        !hvt_ok(hv_get_sregs(vm.vcpu, &got), "GET_SREGS") ||
        !hvt_eq(got.cr3, before.cr3, "CR3 after the refused SET_SREGS"))
        return;
    write_u64(&vm, PAE_PDPT_GPA + 0x28, PDPTE_RESERVED_BIT1 | 1ull << 5);  /* not present */
    hvt_err(hv_set_sregs(vm.vcpu, &s), 0, "SET_SREGS with reserved bits in a PDPTE not present");
}

/* The guest's own MOV to CR3 of such a table: #GP on VMX, where the CPU
 * loads the pointers at the MOV (SDM 3A 4.4.1). An AMD CPU under nested
 * paging reads them at each walk instead: there the MOV may complete and
 * only a walk through that pointer faults (abi/README.md). */
static void sregs_pae_guest_mov_cr3_reserved_pdpte(void)
{
    struct vm_instance vm;
    struct hvt_code code;

    if (!pae_guest(&vm, 0) || hvt_guest_catch_vector(&vm, VECTOR_GP) < 0)
        return;
    /* Pointer 3 (the 3-4 GiB quarter, never used) is present with bit 1. */
    write_u64(&vm, PAE_PDPT_GPA + 0x20, PAE_PD_GPA | PTE_P);
    write_u64(&vm, PAE_PDPT_GPA + 0x38, PTE_P | PDPTE_RESERVED_BIT1);
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, PAE_PDPT_GPA + 0x20);
    static const uint8_t mov_cr3_eax[] = { 0x0f, 0x22, 0xd8 };
    hvt_bytes(&code, mov_cr3_eax, sizeof(mov_cr3_eax));
    hvt_mov_eax_imm(&code, 0xc3);
    uint32_t after = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    uint32_t gp_out = HVT_HANDLER_GPA + VECTOR_GP * 16 + 5;
    if (hv_backend() == HV_BACKEND_VMX) {
        hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, VECTOR_GP, gp_out,
                           "MOV to CR3 of a PDPT with a reserved bit: #GP");
        return;
    }
    if (!hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_IO, "MOV to CR3 of a PDPT with a reserved bit"))
        return;
    uint32_t at = (uint32_t)vm.run->exit_rip;
    hvt_true(at == after || at == gp_out, "MOV to CR3: either #GP or the next OUT");
}

/* A guest single-stepping (TF) exits on its OUT; on VMX the exit leaves
 * the single-step trap pending in the VMCS. A new program set by
 * SET_SREGS and SET_REGS (or SET_REGS alone, with_sregs 0) must start
 * clean: no #DB at its first instruction. */
static void new_program_after_single_step(int with_sregs)
{
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_sregs s;
    struct hv_regs regs;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        hvt_guest_catch_vector(&vm, VECTOR_DB) < 0 ||
        !hvt_ok(hv_get_regs(vm.vcpu, &regs), "GET_REGS"))
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    uint32_t first = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    hvt_jmp_self(&code);
    uint32_t second = HVT_CODE_GPA + 0x100;
    hvt_code_start(&code, &vm, second);
    hvt_mov_eax_imm(&code, 0x5eb);
    uint32_t second_out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    regs.rflags = 0x2 | RFLAGS_TF;
    if (!hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS with TF") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0, first, "the single-stepped OUT"))
        return;
    if (with_sregs) {
        hvt_sregs_flat32(&s);
        s.idt.limit = 256 * 8 - 1;      /* keep catching #DB */
        if (!hvt_ok(hv_set_sregs(vm.vcpu, &s), "SET_SREGS of the new program"))
            return;
    }
    memset(&regs, 0, sizeof(regs));
    regs.rip = second;
    regs.rsp = HVT_STACK_TOP;
    regs.rflags = 0x2;
    if (hvt_ok(hv_set_regs(vm.vcpu, &regs), "SET_REGS of the new program"))
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x5eb, second_out,
                           "the new program's OUT, with no #DB before it");
}

static void sregs_new_state_abandons_pending_single_step(void)
{
    new_program_after_single_step(1);
}

static void regs_new_state_abandons_pending_single_step(void)
{
    new_program_after_single_step(0);
}

/* States VM entry refuses (SDM 3C 27.3.1) although VMRUN takes them,
 * among them the ones a fuzzer found entering on SVM and failing on VMX. */
static const struct {
    const char *what;
    enum { CR4_BITS, GS_S, TR_S, TR_TYPE, CS_P, SS_TYPE, DS_TYPE, LDT_TYPE, CS_BASE } change;
    uint64_t value;
} refused_states[] = {
    { "CR4.PCIDE outside IA-32e mode", CR4_BITS, CR4_PCIDE },
    { "GS usable with S clear", GS_S, 0 },
    { "TR with S set", TR_S, 1 },
    { "TR an available TSS (type 9)", TR_TYPE, 9 },
    { "CS not present", CS_P, 0 },
    { "SS a code segment", SS_TYPE, 0xb },
    { "DS not accessed (type 2)", DS_TYPE, 2 },
    { "LDTR usable with a TSS type", LDT_TYPE, 11 },
    { "CS base above 4 GiB", CS_BASE, 1ull << 32 },
};

static void sregs_refuses_states_vm_entry_refuses(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_sregs good, bad, got;
    char what[96];

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_ok(hv_get_sregs(vm.vcpu, &good), "GET_SREGS"))
        return;
    for (unsigned i = 0; i < sizeof(refused_states) / sizeof(refused_states[0]); i++) {
        bad = good;
        uint8_t v = (uint8_t)refused_states[i].value;
        switch (refused_states[i].change) {
        case CR4_BITS: bad.cr4 |= refused_states[i].value; break;
        case GS_S: bad.gs.s = v; break;
        case TR_S: bad.tr.s = v; break;
        case TR_TYPE: bad.tr.type = v; break;
        case CS_P: bad.cs.present = v; break;
        case SS_TYPE: bad.ss.type = v; break;
        case DS_TYPE: bad.ds.type = v; break;
        case LDT_TYPE: bad.ldt = (struct hv_segment){ .type = v, .present = 1 }; break;
        case CS_BASE: bad.cs.base = refused_states[i].value; break;
        }
        snprintf(what, sizeof(what), "SET_SREGS with %s", refused_states[i].what);
        if (!hvt_err(hv_set_sregs(vm.vcpu, &bad), -HV_EINVAL, what))
            return;
        snprintf(what, sizeof(what), "GET_SREGS after refused %s", refused_states[i].what);
        if (!hvt_ok(hv_get_sregs(vm.vcpu, &got), what) ||
            !hvt_eq(got.cr4, good.cr4, what) || !hvt_eq(got.tr.type, good.tr.type, what) ||
            !hvt_eq(got.gs.s, good.gs.s, what))
            return;
    }
    /* The state as it was still enters. */
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    uint32_t out = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0, out, "the guest after the refusals");
}

/* What GET_SREGS gives, SET_SREGS takes, whatever the guest did: here it
 * far-jumps to a code descriptor whose accessed bit is clear (QEMU's TCG
 * leaves that bit clear in the VMCB then, and SET_SREGS, with VM entry,
 * wants it: the round trip once failed with -HV_EINVAL, and the pc tool
 * could not give such a guest its #PF). A loaded code or data segment
 * reads as accessed, as its descriptor cache has it. */
static void sregs_round_trip_after_a_far_jump_to_an_unaccessed_descriptor(void)
{
    /* Code, execute/read, not accessed, DPL 0, present, 4 GiB, 32-bit. */
    static const uint64_t unaccessed_code = 0x00cf9a000000ffffull;
    const unsigned selector = 0x18;
    uint8_t far_jmp[7] = { 0xea };
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_sregs s;
    uint32_t target = HVT_CODE_GPA + 0x100, out;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_ok(hv_get_sregs(vm.vcpu, &s), "GET_SREGS"))
        return;
    memcpy(vm.ram + HVT_GDT_GPA + selector, &unaccessed_code, sizeof(unaccessed_code));
    s.gdt.limit = selector + 7;
    if (!hvt_ok(hv_set_sregs(vm.vcpu, &s), "SET_SREGS with a GDT of four entries"))
        return;
    memcpy(far_jmp + 1, &target, 4);
    far_jmp[5] = (uint8_t)selector;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_bytes(&code, far_jmp, sizeof(far_jmp));
    hvt_code_start(&code, &vm, target);
    hvt_mov_eax_imm(&code, 0x5a);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    hvt_hlt(&code);
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, 0x5a, out, "the OUT after the far jump") ||
        !hvt_ok(hv_get_sregs(vm.vcpu, &s), "GET_SREGS after the far jump") ||
        !hvt_eq(s.cs.selector, selector, "CS selector after the far jump") ||
        !hvt_eq(s.cs.type & 1, 1, "CS reads as accessed") ||
        !hvt_err(hv_set_sregs(vm.vcpu, &s), 0, "SET_SREGS of what GET_SREGS gave") ||
        !hvt_run(&vm))
        return;
    hvt_exit_is(&vm, HV_EXIT_HLT, "the HLT after the round trip");
}

const struct hvtest_case hvtest_sregs_cases[] = {
    { "sregs_pae_guest_runs_and_takes_interrupt", sregs_pae_guest_runs_and_takes_interrupt },
    { "sregs_round_trip_after_a_far_jump_to_an_unaccessed_descriptor",
      sregs_round_trip_after_a_far_jump_to_an_unaccessed_descriptor },
    { "sregs_pae_reserved_pdpte_refused", sregs_pae_reserved_pdpte_refused },
    { "sregs_pae_guest_mov_cr3_reserved_pdpte", sregs_pae_guest_mov_cr3_reserved_pdpte },
    { "sregs_new_state_abandons_pending_single_step",
      sregs_new_state_abandons_pending_single_step },
    { "regs_new_state_abandons_pending_single_step", regs_new_state_abandons_pending_single_step },
    { "sregs_refuses_states_vm_entry_refuses", sregs_refuses_states_vm_entry_refuses },
    { NULL, NULL },
};
