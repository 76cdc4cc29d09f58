/*
 * Hypercalls from the control domain's user mode. The ABI is the domain's
 * kernel's, as KVM's and Xen's are their guests' kernels': a VMMCALL or
 * VMCALL from CPL 3 gets -HV_EPERM and does nothing (abi/README.md,
 * section 2). The runtime has no user mode, so the test makes one for
 * the length of a call: a GDT with ring-3 segments and a TSS, an IDT whose
 * gate 0x80 (DPL 3) brings the CPU back, and the user bit on the 2 MiB
 * pages of the code and the stack (the domain's CR4 has no SMEP or SMAP).
 * Everything is put back afterwards but TR, which keeps naming this
 * file's TSS: the domain has no IDT, so nothing reads it.
 */
#include <stddef.h>
#include <stdint.h>

#include "abi/hv_abi.h"
#include "abi/hv_errno.h"
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/tools/hvtest.h"

#define KERNEL_CODE 0x08
#define KERNEL_DATA 0x10
#define USER_DATA   (0x18 | 3)
#define USER_CODE   (0x20 | 3)
#define TSS_SELECTOR 0x28
#define CALL_BACK_VECTOR 0x80
#define PTE_USER    (1ull << 2)
#define PTE_LARGE   (1ull << 7)
#define CR4_SMEP    (1ull << 20)
#define CR4_SMAP    (1ull << 21)
/* The selectors and the vector as the assembly below spells them. */
#define TEXT(x) #x
#define ASM(x) TEXT(x)
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

struct __attribute__((packed)) table_register {
    uint16_t limit;
    uint64_t base;
};

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

static uint64_t gdt[7] __attribute__((aligned(16)));
static uint64_t idt[2 * 256] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t kernel_stack[4096] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));

/* Read and written by the assembly below. */
uint64_t hvt_user_saved_rsp, hvt_user_rax;
uint64_t hvt_user_faulted;

/* hvt_user_call(rip, rsp, rax, rdi, rsi): IRETQ to CPL 3 at rip with those
 * registers; returns the RAX the user code had when it came back through
 * gate 0x80 (hvt_user_back), or through an exception gate
 * (hvt_user_fault, which sets hvt_user_faulted). The user code is the
 * hypercall instruction and INT 0x80. */
uint64_t hvt_user_call(uint64_t rip, uint64_t rsp, uint64_t rax, uint64_t rdi, uint64_t rsi);
void hvt_user_back(void);
void hvt_user_fault(void);
void hvt_user_vmmcall(void);
void hvt_user_vmcall(void);

__asm__(
    ".text\n"
    ".globl hvt_user_call\n"
    "hvt_user_call:\n"
    "    push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "    mov %rsp, hvt_user_saved_rsp(%rip)\n"
    "    pushq $" ASM(USER_DATA) "\n"        /* SS */
    "    push %rsi\n"                /* RSP */
    "    pushq $0x2\n"               /* RFLAGS: IF clear, as the domain runs */
    "    pushq $" ASM(USER_CODE) "\n"        /* CS */
    "    push %rdi\n"                /* RIP */
    "    mov %rdx, %rax\n"
    "    mov %rcx, %rdi\n"
    "    mov %r8, %rsi\n"
    "    iretq\n"
    ".globl hvt_user_back\n"
    "hvt_user_back:\n"
    "    mov %rax, hvt_user_rax(%rip)\n"
    "    jmp 2f\n"
    ".globl hvt_user_fault\n"
    "hvt_user_fault:\n"
    "    movq $1, hvt_user_faulted(%rip)\n"
    "2:  mov $" ASM(KERNEL_DATA) ", %eax\n"
    "    mov %eax, %ss\n mov %eax, %ds\n mov %eax, %es\n"
    "    mov hvt_user_saved_rsp(%rip), %rsp\n"
    "    pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "    mov hvt_user_rax(%rip), %rax\n"
    "    ret\n"
    ".globl hvt_user_vmmcall\n"
    "hvt_user_vmmcall:\n"
    "    vmmcall\n"
    "    int $" ASM(CALL_BACK_VECTOR) "\n"
    ".globl hvt_user_vmcall\n"
    "hvt_user_vmcall:\n"
    "    vmcall\n"
    "    int $" ASM(CALL_BACK_VECTOR) "\n");

static uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static uint64_t read_cr4(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }

static void set_gate(unsigned vector, void (*handler)(void), unsigned dpl)
{
    uint64_t a = (uint64_t)(uintptr_t)handler;
    idt[2 * vector] = (a & 0xffff) | (uint64_t)KERNEL_CODE << 16 |
                      (uint64_t)(0x8e | dpl << 5) << 40 | ((a >> 16) & 0xffff) << 48;
    idt[2 * vector + 1] = a >> 32;
}

static void build_tables(void)
{
    uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof(tss) - 1;
    gdt[0] = 0;
    gdt[KERNEL_CODE / 8] = 0x00af9a000000ffffull; /* 64-bit code, DPL 0 */
    gdt[KERNEL_DATA / 8] = 0x00cf92000000ffffull;
    gdt[USER_DATA / 8] = 0x00cff2000000ffffull;   /* DPL 3 */
    gdt[USER_CODE / 8] = 0x00affa000000ffffull;   /* 64-bit code, DPL 3 */
    /* An available 64-bit TSS each time: LTR marks it busy. */
    gdt[TSS_SELECTOR / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
                            ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
    gdt[TSS_SELECTOR / 8 + 1] = base >> 32;
    tss = (struct tss64){ .iomap_base = sizeof(tss) };
    tss.rsp[0] = (uint64_t)(uintptr_t)(kernel_stack + sizeof(kernel_stack));
    for (unsigned v = 0; v < 256; v++)
        idt[2 * v] = idt[2 * v + 1] = 0;
    for (unsigned v = 0; v < 32; v++)
        set_gate(v, hvt_user_fault, 0);
    set_gate(CALL_BACK_VECTOR, hvt_user_back, 3);
}

/* The paging entries that gave the user bit, with their old values. */
struct user_bits {
    uint64_t *entry[6];
    uint64_t old[6];
    unsigned count;
};

static void give_user_bit(struct user_bits *bits, uint64_t *entry)
{
    for (unsigned i = 0; i < bits->count; i++)
        if (bits->entry[i] == entry)
            return;
    bits->entry[bits->count] = entry;
    bits->old[bits->count++] = *entry;
    *entry |= PTE_USER;
}

#define TABLE_ADDRESS(e) ((uint64_t *)(uintptr_t)((e) & 0x000ffffffffff000ull))

/* The domain's identity map, with 2 MiB pages (hv/control_domain.c). */
static int map_for_user(struct user_bits *bits, uint64_t cr3, uint64_t address)
{
    uint64_t *pml4e = &TABLE_ADDRESS(cr3)[(address >> 39) & 511];
    uint64_t *pdpte = &TABLE_ADDRESS(*pml4e)[(address >> 30) & 511];
    uint64_t *pde = &TABLE_ADDRESS(*pdpte)[(address >> 21) & 511];
    if (!hvt_true((*pde & 1) && (*pde & PTE_LARGE), "a 2 MiB page maps the user code and stack"))
        return 0;
    give_user_bit(bits, pml4e);
    give_user_bit(bits, pdpte);
    give_user_bit(bits, pde);
    return 1;
}

/* One call made from CPL 3: its RAX when the user code came back. */
static int call_from_user_mode(uint64_t rax, uint64_t rdi, uint64_t rsi, uint64_t *result)
{
    if (!hvt_eq(read_cr4() & (CR4_SMEP | CR4_SMAP), 0, "the domain's CR4.SMEP and SMAP"))
        return 0;
    void (*code)(void) = hv_backend() == HV_BACKEND_SVM ? hvt_user_vmmcall : hvt_user_vmcall;
    uint64_t cr3 = read_cr3();
    struct user_bits bits = { .count = 0 };
    if (!map_for_user(&bits, cr3, (uint64_t)(uintptr_t)code) ||
        !map_for_user(&bits, cr3, (uint64_t)(uintptr_t)user_stack)) {
        for (unsigned i = bits.count; i-- > 0;)
            *bits.entry[i] = bits.old[i];
        return 0;
    }
    struct table_register old_gdtr, old_idtr;
    struct table_register gdtr = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };
    struct table_register idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    uint64_t fs = hvt_ctl_rdmsr(MSR_FS_BASE), gs = hvt_ctl_rdmsr(MSR_GS_BASE);
    uint64_t kernel_gs = hvt_ctl_rdmsr(MSR_KERNEL_GS_BASE);
    build_tables();
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(old_gdtr), "=m"(old_idtr));
    __asm__ volatile("lgdt %0; lidt %1; ltr %w2" ::"m"(gdtr), "m"(idtr), "r"(TSS_SELECTOR) : "memory");
    write_cr3(cr3);
    hvt_user_faulted = 0;
    *result = hvt_user_call((uint64_t)(uintptr_t)code,
                            (uint64_t)(uintptr_t)(user_stack + sizeof(user_stack)), rax, rdi, rsi);
    for (unsigned i = bits.count; i-- > 0;)
        *bits.entry[i] = bits.old[i];
    write_cr3(cr3);
    /* CS and SS are 0x08 and 0x10 again, the selectors the domain booted
     * with, and their cached descriptors the same: its empty GDT can
     * come back. */
    __asm__ volatile("lgdt %0; lidt %1" ::"m"(old_gdtr), "m"(old_idtr) : "memory");
    hvt_ctl_wrmsr(MSR_FS_BASE, fs);
    hvt_ctl_wrmsr(MSR_GS_BASE, gs);
    hvt_ctl_wrmsr(MSR_KERNEL_GS_BASE, kernel_gs);
    return hvt_eq(hvt_user_faulted, 0, "an exception in the user code");
}

/* Calls that would succeed, and one that would make a VM, all refused
 * before their number or handle is looked at; GET_STATS (the runner's
 * comparison) shows nothing made. The same calls from CPL 0 work. */
static void hypercall_from_control_domain_user_mode_is_refused(void)
{
    static const struct {
        uint64_t nr;
        const char *what;
    } calls[] = {
        { HV_CALL_GET_API_VERSION, "GET_API_VERSION from CPL 3" },
        { HV_CALL_CREATE_VM, "CREATE_VM from CPL 3" },
        { 0xffff, "an unknown call number from CPL 3" },
    };
    for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        uint64_t result;
        if (!call_from_user_mode(calls[i].nr, (uint64_t)hvt_sys(), 0, &result) ||
            !hvt_err((long)result, -HV_EPERM, calls[i].what))
            return;
    }
    hvt_eq((uint64_t)hv_get_api_version(hvt_sys()), HV_API_VERSION,
           "GET_API_VERSION from CPL 0 afterwards");
}

const struct hvtest_case hvtest_user_mode_cases[] = {
    { "hypercall_from_control_domain_user_mode_is_refused",
      hypercall_from_control_domain_user_mode_is_refused },
    { NULL, NULL },
};
