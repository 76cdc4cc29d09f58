/*
 * A guest whose page tables are on MMIO or on its xAPIC page: the access
 * that faults is the CPU's walk, not the instruction's operand, so there
 * is nothing to emulate or to give the VMM as that instruction's access.
 * RUN ends with HV_EXIT_INTERNAL_ERROR, suberror
 * HV_INTERNAL_ERROR_PAGE_WALK (abi/README.md, section 11), the guest not
 * advanced; with its tables back in RAM it goes on from the same
 * instruction.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define APIC_PAGE   0xfee00000u
#define MMIO_PD     0x10000000u   /* no slot: the VMM's MMIO */
#define PDPT_GPA    0x4000u       /* hvt_guest_long64's tables */
#define RAM_PD_GPA  0x6000u
#define LOAD_VALUE  0x5a5aa5a5u

static void set_pdpte(struct vm_instance *vm, unsigned index, uint64_t pd)
{
    uint64_t entry = pd | 0x7;
    memcpy(vm->ram + PDPT_GPA + index * 8, &entry, 8);
}

/* RUN ends with the page-walk internal error at `pd` (entry 0 of the PD
 * the walk read), the guest still at `rip`. Whether the access is a write
 * is the CPU's to say (AMD's report a walk's access as one). */
static int walk_error_is(struct vm_instance *vm, uint64_t pd, uint64_t rip, const char *what)
{
    struct hv_regs regs;
    if (!hvt_run(vm) || !hvt_exit_is(vm, HV_EXIT_INTERNAL_ERROR, what) ||
        !hvt_eq(vm->run->internal.suberror, HV_INTERNAL_ERROR_PAGE_WALK, what) ||
        !hvt_eq(vm->run->internal.data[0], pd, "the walk's guest-physical address") ||
        !hvt_ok(hv_get_regs(vm->vcpu, &regs), "GET_REGS"))
        return 0;
    return hvt_eq(regs.rip, rip, "RIP: the instruction not done");
}

static void page_tables_on_mmio_or_the_apic_page_are_an_internal_error(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    if (!hvt_ok(vmm_create_with(&vm, hvt_sys(), "hvtest_walk", HVT_GUEST_RAM_MIB, 1, HV_VM_LAPIC),
                "vmm_create_with HV_VM_LAPIC"))
        return;
    hvt_keep(vm.vcpus[0].handle);
    hvt_keep(vm.vm);
    if (hvt_guest_long64(&vm, HVT_CODE_GPA) < 0)
        return;
    uint32_t value = LOAD_VALUE;
    memcpy(vm.ram + HVT_DATA_GPA, &value, 4);
    set_pdpte(&vm, 1, MMIO_PD);
    set_pdpte(&vm, 2, APIC_PAGE);
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    uint32_t mmio_load = hvt_bytes(&code, (const uint8_t[]){ 0xbf }, 1); /* mov edi, imm32 */
    hvt_bytes(&code, (const uint8_t[]){ 0x00, 0x00, 0x02, 0x40 }, 4);     /* 0x40020000 */
    hvt_bytes(&code, (const uint8_t[]){ 0x8b, 0x07 }, 2);                 /* mov eax, [rdi] */
    uint32_t out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    uint32_t apic_store = hvt_bytes(&code, (const uint8_t[]){ 0xbf }, 1);
    hvt_bytes(&code, (const uint8_t[]){ 0xb0, 0x00, 0x00, 0x80 }, 4);     /* 0x800000b0 */
    hvt_bytes(&code, (const uint8_t[]){ 0x89, 0x07 }, 2);                 /* mov [rdi], eax */
    uint32_t out_after_store = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_jmp_self(&code); /* not HLT: a LAPIC VM's HLT sleeps in the hypervisor */
    uint32_t load_rip = mmio_load + 5;
    if (!walk_error_is(&vm, MMIO_PD, load_rip, "a load through a PD on MMIO"))
        return;
    /* The PD in RAM now, mapping 1 GiB to guest-physical 0: the same
     * instruction loads the value. */
    uint64_t pde = 0x80 | 0x7;
    memset(vm.ram + RAM_PD_GPA, 0, 4096);
    memcpy(vm.ram + RAM_PD_GPA, &pde, 8);
    set_pdpte(&vm, 1, RAM_PD_GPA);
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, LOAD_VALUE, out,
                            "the load with its PD back in RAM"))
        return;
    /* The xAPIC page as a PD: the store's walk reads it, not the store.
     * Where the CPU virtualizes the APIC (HV_CAP_APIC_VIRTUALIZATION), a
     * walk through its APIC-access page either exits or reads that page
     * as memory, as the CPU chooses (SDM 3C 29.4.6.1): then the guest
     * goes on through whatever it read, as under KVM's APICv, and that is
     * all the hypervisor answers for. */
    if (hv_check_extension(hvt_sys(), HV_CAP_APIC_VIRTUALIZATION) == 1) {
        if (!hvt_run(&vm))
            return;
        if (vm.run->exit_reason != HV_EXIT_INTERNAL_ERROR) {
            hvt_true(vm.run->exit_reason == HV_EXIT_IO,
                     "the walk through the APIC-access page: an internal error or "
                     "the guest going on to its OUT");
            return;
        }
        hvt_eq(vm.run->internal.suberror, HV_INTERNAL_ERROR_PAGE_WALK,
               "a store through a PD on the APIC page");
        return;
    }
    if (!walk_error_is(&vm, APIC_PAGE, apic_store + 5, "a store through a PD on the APIC page"))
        return;
    set_pdpte(&vm, 2, RAM_PD_GPA);
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, LOAD_VALUE, out_after_store,
                            "the store with its PD back in RAM"))
        return;
    uint32_t stored;
    memcpy(&stored, vm.ram + 0xb0, 4);
    hvt_eq(stored, LOAD_VALUE, "what the store wrote through its PD in RAM");
}

const struct hvtest_case hvtest_page_walk_cases[] = {
    { "page_tables_on_mmio_or_the_apic_page_are_an_internal_error",
      page_tables_on_mmio_or_the_apic_page_are_an_internal_error },
    { NULL, NULL },
};
