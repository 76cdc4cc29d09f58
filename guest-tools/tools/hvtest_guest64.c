/*
 * 64-bit guests for the tests that need long mode (SYSCALL, SWAPGS): the
 * first 2 MiB identity-mapped by one large page that user mode may use
 * too, a GDT laid out as SYSCALL and SYSRET expect it (SDM vol. 2B,
 * SYSCALL/SYSRET: kernel CS at STAR[47:32] with SS above it; SYSRET's SS
 * at STAR[63:48] + 8 and 64-bit CS at + 16), and a second vcpu on the same
 * VM for tests that run two vcpus by turns. The code emitters of
 * hvtest_guest.c work here too wherever the 32-bit and 64-bit encodings
 * agree (MOV r32, imm32; OUT; HLT); the others are below.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define CR0_PE  (1ull << 0)
#define CR0_ET  (1ull << 4)
#define CR0_NE  (1ull << 5)
#define CR0_WP  (1ull << 16)
#define CR0_PG  (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define PTE_PRESENT_WRITE_USER 0x7ull
#define PDE_LARGE (1ull << 7)
#define TYPE_CODE_EXEC_READ_ACCESSED  0xb
#define TYPE_DATA_READ_WRITE_ACCESSED 0x3
#define TYPE_TSS_BUSY 0xb

/* Page tables in the free pages between the IDT and the stack. */
#define PML4_GPA 0x3000u
#define PDPT_GPA 0x4000u
#define PD_GPA   0x5000u

static const uint64_t gdt64_entries[6] = {
    0,
    0x00af9b000000ffffull,      /* 0x08: kernel code, 64-bit (L) */
    0x00cf93000000ffffull,      /* 0x10: kernel data */
    0x00cffb000000ffffull,      /* 0x18: user code, 32-bit (unused) */
    0x00cff3000000ffffull,      /* 0x20: user data: SYSRET's SS */
    0x00affb000000ffffull,      /* 0x28: user code, 64-bit: SYSRET's CS */
};

static void write_tables(struct vm_instance *vm)
{
    uint64_t pml4e = PDPT_GPA | PTE_PRESENT_WRITE_USER;
    uint64_t pdpte = PD_GPA | PTE_PRESENT_WRITE_USER;
    uint64_t pde = 0 | PDE_LARGE | PTE_PRESENT_WRITE_USER;

    memset(vm->ram + PML4_GPA, 0, 3 * 4096);
    memcpy(vm->ram + PML4_GPA, &pml4e, 8);
    memcpy(vm->ram + PDPT_GPA, &pdpte, 8);
    memcpy(vm->ram + PD_GPA, &pde, 8);
    memcpy(vm->ram + HVT_GDT_GPA, gdt64_entries, sizeof(gdt64_entries));
}

int hvt_guest_long64(struct vm_instance *vm, uint64_t entry)
{
    struct hv_sregs s, *sregs = &s;
    struct hv_regs r, *regs = &r;

    write_tables(vm);
    memset(sregs, 0, sizeof(*sregs));
    hvt_flat_segment(&sregs->cs, HVT64_SELECTOR_KERNEL_CODE, TYPE_CODE_EXEC_READ_ACCESSED, 1);
    hvt_flat_segment(&sregs->ds, HVT64_SELECTOR_KERNEL_DATA, TYPE_DATA_READ_WRITE_ACCESSED, 0);
    hvt_flat_segment(&sregs->es, HVT64_SELECTOR_KERNEL_DATA, TYPE_DATA_READ_WRITE_ACCESSED, 0);
    hvt_flat_segment(&sregs->fs, HVT64_SELECTOR_KERNEL_DATA, TYPE_DATA_READ_WRITE_ACCESSED, 0);
    hvt_flat_segment(&sregs->gs, HVT64_SELECTOR_KERNEL_DATA, TYPE_DATA_READ_WRITE_ACCESSED, 0);
    hvt_flat_segment(&sregs->ss, HVT64_SELECTOR_KERNEL_DATA, TYPE_DATA_READ_WRITE_ACCESSED, 0);
    /* Entry wants a present busy TSS in TR; nothing here uses it. */
    sregs->tr.limit = 0x67;
    sregs->tr.type = TYPE_TSS_BUSY;
    sregs->tr.present = 1;
    sregs->ldt.unusable = 1;
    sregs->gdt.base = HVT_GDT_GPA;
    sregs->gdt.limit = sizeof(gdt64_entries) - 1;
    sregs->idt.base = HVT_IDT_GPA;
    sregs->idt.limit = 0;             /* any exception is a triple fault */
    sregs->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    sregs->cr3 = PML4_GPA;
    sregs->cr4 = CR4_PAE;
    sregs->efer = EFER_SCE | EFER_LME | EFER_LMA;
    if (!hvt_ok(hv_set_sregs(vm->vcpu, sregs), "SET_SREGS (64-bit)"))
        return -1;
    memset(regs, 0, sizeof(*regs));
    regs->rip = entry;
    regs->rsp = HVT_STACK_TOP;
    regs->rflags = 0x2;
    if (!hvt_ok(hv_set_regs(vm->vcpu, regs), "SET_REGS (64-bit)"))
        return -1;
    return 0;
}

int hvt_second_vcpu(struct vm_instance *vm, struct vm_instance *view)
{
    struct hv_run *run = page_alloc(HV_RUN_PAGE_SIZE);
    long vcpu = hvt_keep(hv_create_vcpu(vm->vm, 1, run));

    if (!hvt_ok(vcpu, "CREATE_VCPU of vcpu 1"))
        return -1;
    *view = *vm;
    view->vcpu = vcpu;
    view->run = run;
    return 0;
}

int hvt_set_rbx(struct vm_instance *vm, uint64_t rbx)
{
    struct hv_regs regs;

    if (!hvt_ok(hv_get_regs(vm->vcpu, &regs), "GET_REGS"))
        return 0;
    regs.rbx = rbx;
    return hvt_ok(hv_set_regs(vm->vcpu, &regs), "SET_REGS");
}

uint32_t hvt64_mov_ecx_imm(struct hvt_code *code, uint32_t value)
{
    uint8_t insn[5] = { 0xb9 };

    memcpy(insn + 1, &value, 4);
    return hvt_bytes(code, insn, 5);
}

uint32_t hvt64_mov_edx_imm(struct hvt_code *code, uint32_t value)
{
    uint8_t insn[5] = { 0xba };

    memcpy(insn + 1, &value, 4);
    return hvt_bytes(code, insn, 5);
}

uint32_t hvt64_insn(struct hvt_code *code, enum hvt64_insn which)
{
    static const struct { uint8_t length, bytes[3]; } encodings[] = {
        [HVT64_SWAPGS] = { 3, { 0x0f, 0x01, 0xf8 } },
        [HVT64_RDMSR] = { 2, { 0x0f, 0x32 } },
        [HVT64_WRMSR] = { 2, { 0x0f, 0x30 } },
        [HVT64_RDTSCP] = { 3, { 0x0f, 0x01, 0xf9 } },
        [HVT64_SYSCALL] = { 2, { 0x0f, 0x05 } },
        [HVT64_SYSRETQ] = { 3, { 0x48, 0x0f, 0x07 } },
        [HVT64_MOV_EAX_ECX] = { 2, { 0x89, 0xc8 } },
        [HVT64_MOV_EAX_EBX] = { 2, { 0x89, 0xd8 } },
        [HVT64_MOV_RAX_RCX] = { 3, { 0x48, 0x89, 0xc8 } },
        [HVT64_MOV_RAX_R11] = { 3, { 0x4c, 0x89, 0xd8 } },
        [HVT64_MOV_EAX_CS] = { 2, { 0x8c, 0xc8 } },
        [HVT64_MOV_EAX_SS] = { 2, { 0x8c, 0xd0 } },
        [HVT64_XOR_EAX_EAX] = { 2, { 0x31, 0xc0 } },
        [HVT64_XOR_EDX_EDX] = { 2, { 0x31, 0xd2 } },
        [HVT64_PUSHFQ_POP_RDX] = { 2, { 0x9c, 0x5a } },
        [HVT64_MOV_EAX_EDX] = { 2, { 0x89, 0xd0 } },
        [HVT64_STD] = { 1, { 0xfd } },
    };

    return hvt_bytes(code, encodings[which].bytes, encodings[which].length);
}
