/*
 * Memory regions by their effect on tiny guests written here: a guest
 * reads what the VMM wrote and writes what the VMM reads, faults with
 * HV_EXIT_MMIO on a deleted region or when it writes read-only memory, and
 * sees new memory when a slot is re-added (translations are flushed).
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define EXTRA_GPA 0x40000000u        /* a region far above the 2 MiB of RAM */
#define DATA_VALUE 0xc0ffee42u

/* A guest with its RAM and a page of the VMM's memory at EXTRA_GPA in
 * slot 1 (read-only when flags say so). */
static int guest_with_extra(struct vm_instance *vm, uint32_t **extra,
                            uint32_t flags)
{
    struct hv_memory_region region;

    if (hvt_guest_create(vm, "hvtest") < 0)
        return -1;
    *extra = page_alloc(PAGE_SIZE);
    memset(&region, 0, sizeof(region));
    region.slot = 1;
    region.flags = flags;
    region.guest_phys = EXTRA_GPA;
    region.size = PAGE_SIZE;
    region.control_addr = (uint64_t)(uintptr_t)*extra;
    return hvt_err(hv_set_memory_region(vm->vm, &region), 0,
                   "SET_MEMORY_REGION slot 1") ? 0 : -1;
}

static void guest_reads_memory_vmm_wrote(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t *extra, out_ram, out_extra;

    if (guest_with_extra(&vm, &extra, 0) < 0)
        return;
    memcpy(vm.ram + HVT_DATA_GPA, &(uint32_t){ DATA_VALUE }, 4);
    extra[1] = 0x5eed1234;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_load_eax(&code, HVT_DATA_GPA);
    out_ram = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_load_eax(&code, EXTRA_GPA + 4);
    out_extra = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, DATA_VALUE, out_ram,
                            "guest load from slot 0 (RAM at 0)") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x5eed1234, out_extra,
                            "guest load from slot 1 at 0x40000000"))
        return;
    if (hvt_run(&vm))
        hvt_exit_is(&vm, HV_EXIT_HLT, "after the loads");
}

static void vmm_reads_memory_guest_wrote(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t *extra, ram_word;

    if (guest_with_extra(&vm, &extra, 0) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 0x600dcafe);
    hvt_store_eax(&code, HVT_DATA_GPA + 8);
    hvt_store_eax(&code, EXTRA_GPA + 12);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 || !hvt_run(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_HLT, "after the guest's stores"))
        return;
    memcpy(&ram_word, vm.ram + HVT_DATA_GPA + 8, 4);
    if (hvt_eq(ram_word, 0x600dcafe, "VMM's view of the guest's store to slot 0"))
        hvt_eq(extra[3], 0x600dcafe, "VMM's view of the guest's store to slot 1");
}

/* Guest: load from EXTRA_GPA, OUT it, HLT; returns the load's address. */
static uint32_t read_extra_program(struct vm_instance *vm, uint32_t *out_insn)
{
    struct hvt_code code;
    uint32_t load;

    hvt_code_start(&code, vm, HVT_CODE_GPA);
    load = hvt_load_eax(&code, EXTRA_GPA);
    *out_insn = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    return load;
}

static int check_mmio(const struct vm_instance *vm, uint64_t phys, int is_write,
                      uint32_t insn, const char *what)
{
    const struct hv_run *run = vm->run;
    struct hv_regs regs;

    if (!hvt_exit_is(vm, HV_EXIT_MMIO, what) ||
        !hvt_eq(run->mmio.phys_addr, phys, "MMIO phys_addr") ||
        !hvt_eq(run->mmio.is_write, (uint64_t)is_write, "MMIO is_write") ||
        !hvt_eq(run->exit_rip, insn, "MMIO exit_rip (the faulting instruction)") ||
        !hvt_true(run->mmio.insn_length > 0 && run->mmio.insn_length <= 15,
                  "MMIO insn_length: expected 1..15 bytes"))
        return 0;
    /* Paging off, flat segments: the linear address is the physical one,
     * if the hypervisor knows it. */
    if (run->mmio.linear_addr != ~0ull &&
        !hvt_eq(run->mmio.linear_addr, phys, "MMIO linear_addr (known: flat, no paging)"))
        return 0;
    if (!hvt_true(memcmp(run->mmio.insn_bytes, vm->ram + insn,
                         run->mmio.insn_length) == 0,
                  "MMIO insn_bytes differ from the instruction in guest RAM") ||
        !hvt_err(hv_get_regs(vm->vcpu, &regs), 0, "GET_REGS after MMIO"))
        return 0;
    return hvt_eq(regs.rip, insn, "RIP after MMIO (must stay at the instruction)");
}

static void memory_region_delete_makes_guest_fault(void)
{
    struct vm_instance vm;
    struct hv_memory_region region;
    struct hvt_code code;
    uint32_t *extra, load, out, store;

    if (guest_with_extra(&vm, &extra, 0) < 0)
        return;
    extra[0] = DATA_VALUE;
    load = read_extra_program(&vm, &out);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, DATA_VALUE, out,
                            "load before the delete"))
        return;
    /* The guest has used the translation; the delete must flush it. */
    memset(&region, 0, sizeof(region));
    region.slot = 1;
    if (!hvt_err(hv_set_memory_region(vm.vm, &region), 0,
                 "SET_MEMORY_REGION size 0 (delete slot 1)") ||
        hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 || !hvt_run_past_slices(&vm) ||
        !check_mmio(&vm, EXTRA_GPA, 0, load, "load after the delete"))
        return;
    /* A store there is an MMIO write. */
    hvt_code_start(&code, &vm, HVT_CODE_GPA + 0x100);
    store = hvt_store_eax(&code, EXTRA_GPA + 8);
    if (hvt_guest_flat32(&vm, store) == 0 && hvt_run_past_slices(&vm))
        check_mmio(&vm, EXTRA_GPA + 8, 1, store, "store after the delete");
}

static void memory_region_readd_sees_new_memory(void)
{
    struct vm_instance vm;
    struct hv_memory_region region;
    uint32_t *extra, *other = page_alloc(PAGE_SIZE), out;

    if (guest_with_extra(&vm, &extra, 0) < 0)
        return;
    extra[0] = 0x11111111;
    other[0] = 0x22222222;
    read_extra_program(&vm, &out);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x11111111, out,
                            "load from the first backing page"))
        return;
    memset(&region, 0, sizeof(region));
    region.slot = 1;
    if (!hvt_err(hv_set_memory_region(vm.vm, &region), 0, "delete slot 1"))
        return;
    region.guest_phys = EXTRA_GPA;
    region.size = PAGE_SIZE;
    region.control_addr = (uint64_t)(uintptr_t)other;
    if (!hvt_err(hv_set_memory_region(vm.vm, &region), 0,
                 "re-add slot 1 over another page") ||
        hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x22222222, out,
                       "load after re-adding the slot (stale translation?)");
}

static void readonly_region_read_ok_write_mmio(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t *extra, out, store;

    if (guest_with_extra(&vm, &extra, HV_MEM_READONLY) < 0)
        return;
    extra[0] = DATA_VALUE;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_load_eax(&code, EXTRA_GPA);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_mov_eax_imm(&code, 0xbad0bad0);
    store = hvt_store_eax(&code, EXTRA_GPA);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, DATA_VALUE, out,
                            "guest read of read-only memory") ||
        !hvt_run(&vm) ||
        !check_mmio(&vm, EXTRA_GPA, 1, store, "guest write to read-only memory"))
        return;
    hvt_eq(extra[0], DATA_VALUE, "read-only memory after the refused write");
}

static void readd_read_only_revokes_write(void)
{
    struct vm_instance vm;
    struct hv_memory_region region;
    struct hvt_code code;
    uint32_t *extra, store;

    if (guest_with_extra(&vm, &extra, 0) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 0x77777777);
    store = hvt_store_eax(&code, EXTRA_GPA);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 || !hvt_run_past_slices(&vm) ||
        !hvt_exit_is(&vm, HV_EXIT_HLT, "store to writable slot 1") ||
        !hvt_eq(extra[0], 0x77777777, "slot 1 after the guest's store"))
        return;
    /* The same page again, read-only: the write access must be gone. */
    memset(&region, 0, sizeof(region));
    region.slot = 1;
    if (!hvt_err(hv_set_memory_region(vm.vm, &region), 0, "delete slot 1"))
        return;
    region.flags = HV_MEM_READONLY;
    region.guest_phys = EXTRA_GPA;
    region.size = PAGE_SIZE;
    region.control_addr = (uint64_t)(uintptr_t)extra;
    extra[0] = 0;
    if (!hvt_err(hv_set_memory_region(vm.vm, &region), 0, "re-add slot 1 read-only") ||
        hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 || !hvt_run_past_slices(&vm) ||
        !check_mmio(&vm, EXTRA_GPA, 1, store, "store after the slot became read-only"))
        return;
    hvt_eq(extra[0], 0, "read-only slot 1 after the refused store");
}

/* RUN until an exit that is not the end of a time slice. */
static int run_past_slices(struct vm_instance *vm)
{
    do {
        if (!hvt_run(vm))
            return 0;
    } while (vm->run->exit_reason == HV_EXIT_INTR);
    return 1;
}

/* The store of the loop below, `mov [ebx], eax` after `inc eax`, faults
 * at EXTRA_GPA + `offset` (no slot there) and the VMM completes it: RIP
 * past its two bytes, the OUT that follows carrying the count. */
static int loop_store_faults(struct vm_instance *vm, uint32_t store, uint32_t out,
                             uint32_t count, const char *what)
{
    struct hv_regs regs;

    if (!run_past_slices(vm) ||
        !check_mmio(vm, EXTRA_GPA + 0x10000, 1, store, what) ||
        !hvt_err(hv_get_regs(vm->vcpu, &regs), 0, "GET_REGS"))
        return 0;
    regs.rip = store + 2;
    return hvt_err(hv_set_regs(vm->vcpu, &regs), 0, "SET_REGS past the store") &&
           hvt_run_expect_out(vm, HVT_PORT_VALUE, 4, count, out, "the OUT after the store");
}

/* One instruction that faults again and again, as a guest's MMIO loop
 * does: every exit after the first comes through the backends' MMIO fast
 * path (hv/run_page.h), which must report what the general path reports
 * for the first. Then a dirty-logged slot exists and the same instruction,
 * its bytes still the ones the exits used, writes a logged page: that
 * fault is the hypervisor's to resolve, never an MMIO exit. */
static void mmio_repeated_from_one_instruction(void)
{
    struct vm_instance vm;
    struct hv_memory_region region;
    struct hvt_code code;
    struct hv_regs regs;
    uint32_t *extra, *logged = page_alloc(PAGE_SIZE), top, store, out;
    char what[64];

    if (guest_with_extra(&vm, &extra, 0) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    top = hvt_bytes(&code, (const uint8_t[]){ 0x40 }, 1);           /* inc eax */
    store = hvt_bytes(&code, (const uint8_t[]){ 0x89, 0x03 }, 2);   /* mov [ebx], eax */
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_bytes(&code, (const uint8_t[]){ 0xeb, (uint8_t)(top - (out + 4)) }, 2); /* jmp top */
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS"))
        return;
    regs.rax = 0;
    regs.rbx = EXTRA_GPA + 0x10000;
    if (!hvt_err(hv_set_regs(vm.vcpu, &regs), 0, "SET_REGS"))
        return;
    for (uint32_t i = 1; i <= 4; i++) {
        snprintf(what, sizeof(what), "store %u from the same instruction", i);
        if (!loop_store_faults(&vm, store, out, i, what))
            return;
    }
    memset(&region, 0, sizeof(region));
    region.slot = 2;
    region.flags = HV_MEM_LOG_DIRTY;
    region.guest_phys = EXTRA_GPA + 0x20000;
    region.size = PAGE_SIZE;
    region.control_addr = (uint64_t)(uintptr_t)logged;
    if (!hvt_err(hv_set_memory_region(vm.vm, &region), 0, "SET_MEMORY_REGION slot 2, dirty-logged") ||
        !loop_store_faults(&vm, store, out, 5, "store 5, a dirty-logged slot added") ||
        !loop_store_faults(&vm, store, out, 6, "store 6, the same again") ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS"))
        return;
    regs.rbx = EXTRA_GPA + 0x20000;
    if (!hvt_err(hv_set_regs(vm.vcpu, &regs), 0, "SET_REGS: the store to the logged page") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 7, out,
                            "store 7 to a dirty-logged page: no MMIO exit"))
        return;
    hvt_eq(logged[0], 7, "the dirty-logged page after the store");
}

const struct hvtest_case hvtest_run_cases[] = {
    { "guest_reads_memory_vmm_wrote", guest_reads_memory_vmm_wrote },
    { "vmm_reads_memory_guest_wrote", vmm_reads_memory_guest_wrote },
    { "memory_region_delete_makes_guest_fault", memory_region_delete_makes_guest_fault },
    { "memory_region_readd_sees_new_memory", memory_region_readd_sees_new_memory },
    { "readonly_region_read_ok_write_mmio", readonly_region_read_ok_write_mmio },
    { "readd_read_only_revokes_write", readd_read_only_revokes_write },
    { "mmio_repeated_from_one_instruction", mmio_repeated_from_one_instruction },
    { NULL, NULL },
};
