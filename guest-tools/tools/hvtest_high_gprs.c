/*
 * Instructions the hypervisor emulates inside RUN see R12-R15 as the guest
 * has them. The guest loops keep those four in the CPU across the exits
 * they complete themselves; an exit that emulates an instruction naming
 * one of them must find the guest's current value, and one that writes it
 * must leave it in the guest. Each guest below starts with other values in
 * R12-R15 (set by SET_REGS) than the ones its code moves there, so that a
 * stale copy shows. xAPIC MMIO is emulated on both backends; MOV to CR4 on
 * SVM (always intercepted) and on VMX when it changes a bit the
 * hypervisor owns; MOV to and from CR8 on VMX; a decoded MMIO access,
 * completed by the next RUN.
 */
#include <stdbool.h>

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define CODE_GPA HVT_CODE_GPA
#define PDPT_GPA 0x4000u          /* hvt_guest_long64's */
#define HIGH_PD_GPA 0x6000u       /* maps 3-4 GiB, for the xAPIC page */
#define APIC_GPA 0xfee00000u
#define PTE_PRESENT_WRITE 0x3ull
#define PDE_LARGE (1ull << 7)
#define STALE_R12 0x28ull         /* CR4 PAE|DE: a CR4 the guest may hold */
#define STALE_R13 0x50ull
#define STALE_R14 0x77ull
#define STALE_R15 0x9ull

/* A 64-bit guest at CODE_GPA running `code`, R12-R15 at the stale values. */
static int high_gprs_guest(struct vm_instance *vm, const char *name, uint32_t vm_flags,
                           const uint8_t *code, unsigned size)
{
    struct hv_regs regs;

    if (!hvt_ok(vmm_create_with(vm, hvt_sys(), name, HVT_GUEST_RAM_MIB, 1, vm_flags),
                "vmm_create_with"))
        return 0;
    hvt_keep(vm->vcpu);
    hvt_keep(vm->vm);
    if (hvt_guest_long64(vm, CODE_GPA) != 0)
        return 0;
    memcpy(vm->ram + CODE_GPA, code, size);
    if (!hvt_ok(hv_get_regs(vm->vcpu, &regs), "GET_REGS"))
        return 0;
    regs.r12 = STALE_R12;
    regs.r13 = STALE_R13;
    regs.r14 = STALE_R14;
    regs.r15 = STALE_R15;
    return hvt_ok(hv_set_regs(vm->vcpu, &regs), "SET_REGS");
}

/* The OUT at `out_at` and R12-R15 as expected then; without a local APIC
 * (whose HLT sleeps in RUN), the HLT after the OUT too. */
static void expect_out_and_gprs(struct vm_instance *vm, uint32_t value, uint32_t out_at,
                                const uint64_t high[4], bool lapic, const char *what)
{
    struct hv_regs regs;

    if (!hvt_run_expect_out(vm, HVT_PORT_VALUE, 4, value, out_at, what) ||
        !hvt_ok(hv_get_regs(vm->vcpu, &regs), "GET_REGS after the OUT"))
        return;
    if (!hvt_eq(regs.r12, high[0], "R12") || !hvt_eq(regs.r13, high[1], "R13") ||
        !hvt_eq(regs.r14, high[2], "R14") || !hvt_eq(regs.r15, high[3], "R15") || lapic ||
        !hvt_run_past_slices(vm))
        return;
    hvt_exit_is(vm, HV_EXIT_HLT, "the HLT after the OUT");
}

/* TPR written from R13 and read back into R14, through the xAPIC page. */
static void xapic_access_through_r13_r14(void)
{
    static const uint8_t code[] = {
        0xbb, 0x00, 0x00, 0xe0, 0xfe,             /* mov ebx, 0xfee00000 */
        0x41, 0xbd, 0x30, 0x00, 0x00, 0x00,       /* mov r13d, 0x30 */
        0x44, 0x89, 0xab, 0x80, 0x00, 0x00, 0x00, /* mov [rbx + 0x80], r13d (TPR) */
        0x44, 0x8b, 0xb3, 0x80, 0x00, 0x00, 0x00, /* mov r14d, [rbx + 0x80] */
        0x44, 0x89, 0xf0,                         /* mov eax, r14d */
        0xe7, HVT_PORT_VALUE,                     /* out HVT_PORT_VALUE, eax */
        0xf4,                                     /* hlt */
    };
    const uint64_t high[4] = { STALE_R12, 0x30, 0x30, STALE_R15 };
    struct vm_instance vm;
    uint64_t pdpte = HIGH_PD_GPA | PTE_PRESENT_WRITE;
    uint64_t pde = APIC_GPA | PDE_LARGE | PTE_PRESENT_WRITE;

    if (!high_gprs_guest(&vm, "xapic-r13-r14", HV_VM_LAPIC, code, sizeof(code)))
        return;
    memset(vm.ram + HIGH_PD_GPA, 0, 4096);
    memcpy(vm.ram + PDPT_GPA + 3 * 8, &pdpte, 8);
    memcpy(vm.ram + HIGH_PD_GPA + ((APIC_GPA >> 21) & 511) * 8, &pde, 8);
    expect_out_and_gprs(&vm, 0x30, CODE_GPA + 28, high, true,
                        "OUT of the TPR written from R13 and read into R14");
}

/* CR4 read into R12, OSFXSR and OSXMMEXCPT flipped there, written back. */
static void mov_to_cr4_from_r12(void)
{
    static const uint8_t code[] = {
        0x41, 0x0f, 0x20, 0xe4,                   /* mov r12, cr4 */
        0x49, 0x81, 0xf4, 0x00, 0x06, 0x00, 0x00, /* xor r12, 0x600 */
        0x41, 0x0f, 0x22, 0xe4,                   /* mov cr4, r12 */
        0x0f, 0x20, 0xe0,                         /* mov rax, cr4 */
        0xe7, HVT_PORT_VALUE,                     /* out HVT_PORT_VALUE, eax */
        0xf4,                                     /* hlt */
    };
    const uint64_t cr4 = 0x20 ^ 0x600;            /* hvt_guest_long64's CR4 is PAE */
    const uint64_t high[4] = { cr4, STALE_R13, STALE_R14, STALE_R15 };
    struct vm_instance vm;

    if (!high_gprs_guest(&vm, "cr4-r12", 0, code, sizeof(code)))
        return;
    expect_out_and_gprs(&vm, (uint32_t)cr4, CODE_GPA + 18, high, false,
                        "OUT of CR4 after MOV CR4, R12");
}

/* CR8 written from R15 and read back into R12. */
static void cr8_through_r15_r12(void)
{
    static const uint8_t code[] = {
        0x41, 0xbf, 0x07, 0x00, 0x00, 0x00,       /* mov r15d, 7 */
        0x45, 0x0f, 0x22, 0xc7,                   /* mov cr8, r15 */
        0x45, 0x0f, 0x20, 0xc4,                   /* mov r12, cr8 */
        0x44, 0x89, 0xe0,                         /* mov eax, r12d */
        0xe7, HVT_PORT_VALUE,                     /* out HVT_PORT_VALUE, eax */
        0xf4,                                     /* hlt */
    };
    const uint64_t high[4] = { 7, STALE_R13, STALE_R14, 7 };
    struct vm_instance vm;

    if (!high_gprs_guest(&vm, "cr8-r15-r12", 0, code, sizeof(code)))
        return;
    expect_out_and_gprs(&vm, 7, CODE_GPA + 17, high, false, "OUT of CR8 written from R15, read into R12");
}

/* Decoded MMIO (HV_VM_DECODED_MMIO) in a 64-bit paging guest, the
 * general path's: an 8-byte store from R13 and an 8-byte load into R14,
 * at an address without memory that the guest maps at 4 GiB - 19 MiB. */
static void decoded_mmio_through_r13_r14(void)
{
    static const uint8_t code[] = {
        0xbb, 0x00, 0x00, 0xd0, 0xfe,             /* mov ebx, 0xfed00000 */
        0x49, 0xbd, 0x88, 0x77, 0x66, 0x55,
        0x44, 0x33, 0x22, 0x11,                   /* mov r13, 0x1122334455667788 */
        0x4c, 0x89, 0x2b,                         /* mov [rbx], r13 */
        0x4c, 0x8b, 0x73, 0x08,                   /* mov r14, [rbx + 8] */
        0x44, 0x89, 0xf0,                         /* mov eax, r14d */
        0xe7, HVT_PORT_VALUE,                     /* out HVT_PORT_VALUE, eax */
        0xf4,                                     /* hlt */
    };
    const uint64_t mmio = 0xfed00000u, loaded = 0xaabbccdd99887766ull;
    const uint64_t high[4] = { STALE_R12, 0x1122334455667788ull, loaded, STALE_R15 };
    uint64_t pdpte = HIGH_PD_GPA | PTE_PRESENT_WRITE;
    uint64_t pde = (mmio & ~0x1fffffull) | PDE_LARGE | PTE_PRESENT_WRITE;
    struct vm_instance vm;

    if (!high_gprs_guest(&vm, "mmio-r13-r14", HV_VM_DECODED_MMIO, code, sizeof(code)))
        return;
    memset(vm.ram + HIGH_PD_GPA, 0, 4096);
    memcpy(vm.ram + PDPT_GPA + 3 * 8, &pdpte, 8);
    memcpy(vm.ram + HIGH_PD_GPA + ((mmio >> 21) & 511) * 8, &pde, 8);
    const struct hv_run *run = vm.run;
    if (!hvt_run_past_slices(&vm) || !hvt_exit_is(&vm, HV_EXIT_MMIO, "the store from R13") ||
        !hvt_eq(run->mmio.phys_addr, mmio, "the store's address") ||
        !hvt_eq(run->mmio.decoded, 1, "the store decoded") ||
        !hvt_eq(run->mmio.len, 8, "the store's length") ||
        !hvt_eq(run->mmio.data, 0x1122334455667788ull, "R13's value in the store") ||
        !hvt_run_past_slices(&vm) || !hvt_exit_is(&vm, HV_EXIT_MMIO, "the load into R14") ||
        !hvt_eq(run->mmio.phys_addr, mmio + 8, "the load's address") ||
        !hvt_eq(run->mmio.decoded, 1, "the load decoded") ||
        !hvt_eq(run->mmio.len, 8, "the load's length"))
        return;
    vm.run->mmio.data = loaded;
    expect_out_and_gprs(&vm, (uint32_t)loaded, CODE_GPA + 25, high, false,
                        "OUT of the value loaded into R14");
}

const struct hvtest_case hvtest_high_gprs_cases[] = {
    { "xapic_access_through_r13_r14", xapic_access_through_r13_r14 },
    { "mov_to_cr4_from_r12", mov_to_cr4_from_r12 },
    { "cr8_through_r15_r12", cr8_through_r15_r12 },
    { "decoded_mmio_through_r13_r14", decoded_mmio_through_r13_r14 },
    { NULL, NULL },
};
