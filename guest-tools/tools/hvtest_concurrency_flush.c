/*
 * A memory-region change reaches every CPU before SET_MEMORY_REGION
 * returns: a guest on another CPU that keeps writing a page of a region
 * (with no exit of its own: `inc dword [page]; jmp back`) writes nothing
 * more once the deletion of that region has returned, because the
 * hypervisor pushed its vcpu out of the guest and renewed its TLB tag
 * before returning. The flush waits only for vcpus that may be in their
 * guest: a vcpu halted in the hypervisor (a HLT of a HV_VM_LAPIC VM) will
 * read the new translations before it enters again, and a region change
 * next to it returns at once (it once waited four time slices for an
 * answer that never came, and then gave up). The same holds for a guest
 * whose loop also stores to its xAPIC's EOI register: the backends
 * complete that exit in place and re-enter without a new TLB tag, so it
 * must not look to the flush like a vcpu that left its guest (it once
 * did: the deletion then returned at once and, under Bochs' VMX, whose
 * TLB keeps a VPID's translations across entries, the guest went on
 * writing the deleted page). With one CPU the tests have nothing to
 * check and pass.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest_concurrency.h"

#define REGION_SLOT  1
#define REGION_GPA   0x400000u
#define WRITES_FIRST 1000u          /* the guest is seen writing before the cut */
#define SETTLE_TICKS 2000000ull     /* far beyond an IPI's way under TCG */

static struct spin_run writer;

/* `eoi_stores`: a HV_VM_LAPIC VM whose loop also stores EAX to its
 * xAPIC's EOI register (nothing in service: the store retires nothing). */
static int writer_guest(struct vm_instance *vm, volatile uint32_t **counter, bool eoi_stores)
{
    struct hvt_code code;
    struct hv_memory_region region;
    uint32_t *page = page_alloc(4096);

    memset(page, 0, 4096);
    *counter = page;
    if (!eoi_stores) {
        if (hvt_guest_create(vm, "hvtest") < 0)
            return 0;
    } else {
        if (!hvt_ok(vmm_create_with(vm, hvt_sys(), "hvtest", HVT_GUEST_RAM_MIB, 1, HV_VM_LAPIC),
                    "vmm_create_with HV_VM_LAPIC"))
            return 0;
        hvt_keep(vm->vcpu);
        hvt_keep(vm->vm);
    }
    region = (struct hv_memory_region){ .slot = REGION_SLOT, .guest_phys = REGION_GPA,
                                        .size = 4096, .control_addr = hv_gpa(page) };
    if (!hvt_err(hv_set_memory_region(vm->vm, &region), 0, "SET_MEMORY_REGION of the page"))
        return 0;
    hvt_code_start(&code, vm, HVT_CODE_GPA);
    const uint8_t inc[] = { 0xff, 0x05, REGION_GPA & 0xff, (REGION_GPA >> 8) & 0xff,
                            (REGION_GPA >> 16) & 0xff, REGION_GPA >> 24 }; /* inc [page] */
    const uint8_t eoi[] = { 0x89, 0x05, 0xb0, 0x00, 0xe0, 0xfe };     /* mov [0xfee000b0], eax */
    hvt_bytes(&code, inc, sizeof(inc));
    if (eoi_stores)
        hvt_bytes(&code, eoi, sizeof(eoi));
    const uint8_t back[] = { 0xeb, (uint8_t)-(int)(sizeof(inc) + 2 + (eoi_stores ? sizeof(eoi) : 0)) };
    hvt_bytes(&code, back, sizeof(back));                             /* jmp back */
    return hvt_guest_flat32(vm, HVT_CODE_GPA) == 0;
}

static void delete_stops_writes_on_other_cpu(bool eoi_stores)
{
    struct hv_stats before;
    struct vm_instance vm;
    volatile uint32_t *counter;

    if (conc_cpus() < 2)
        return;
    if (!hvt_stats(&before) || !writer_guest(&vm, &counter, eoi_stores))
        return;
    conc_spin_init(&writer, &vm);
    smp_call(1, conc_spin_job, &writer);
    if (!conc_wait_running(&writer, "the writing guest"))
        return;
    while (*counter < WRITES_FIRST)
        __asm__ volatile("pause");

    struct hv_memory_region gone = { .slot = REGION_SLOT, .guest_phys = REGION_GPA };
    long rc = hv_set_memory_region(vm.vm, &gone);
    uint32_t at_return = *counter;
    uint64_t until = conc_tsc() + SETTLE_TICKS;
    while (conc_tsc() < until)
        __asm__ volatile("pause");
    uint32_t later = *counter;

    __atomic_store_n(&writer.stop, 1, __ATOMIC_RELEASE);
    hv_kick(writer.vcpu);
    smp_wait(1);
    if (!hvt_err(rc, 0, "SET_MEMORY_REGION deleting the page") ||
        !hvt_eq(later, at_return, "guest writes to the page after its deletion returned"))
        return;
    /* The guest is stuck at its write, now to guest-physical memory with
     * none behind it: the VMM sees that (after the HV_EXIT_INTR that answers
     * a kick which found the RUN already over, if it did). */
    if (!hvt_run(&vm))
        return;
    if (vm.run->exit_reason == HV_EXIT_INTR && !hvt_run(&vm))
        return;
    /* (INC reads before it writes: whether the fault reports the read or
     * the write is the CPU's choice, so is_write is not checked.) */
    if (!hvt_exit_is(&vm, HV_EXIT_MMIO, "the access after the deletion") ||
        !hvt_eq(vm.run->mmio.phys_addr, REGION_GPA, "MMIO address"))
        return;
    if (!hvt_err(hv_close(vm.vcpu), 0, "CLOSE of the vcpu") ||
        !hvt_err(hv_close(vm.vm), 0, "CLOSE of the VM"))
        return;
    hvt_stats_unchanged(&before, "after closing the VM");
}

static void region_delete_stops_writes_on_other_cpu(void)
{
    delete_stops_writes_on_other_cpu(false);
}

static void region_delete_stops_writes_of_a_guest_storing_to_its_apic(void)
{
    delete_stops_writes_on_other_cpu(true);
}

static uint64_t slice_ticks(void)
{
    return 10 * (uint64_t)hv_check_extension(hvt_sys(), HV_CAP_TSC_KHZ); /* 10 ms */
}

/* A HV_VM_LAPIC guest whose vcpu 0 halts with nothing to wake it. */
static int halting_guest(struct vm_instance *vm)
{
    struct hvt_code code;
    if (!hvt_ok(vmm_create_with(vm, hvt_sys(), "hvtest", HVT_GUEST_RAM_MIB, 1, HV_VM_LAPIC),
                "vmm_create_with HV_VM_LAPIC"))
        return 0;
    hvt_keep(vm->vcpu);
    hvt_keep(vm->vm);
    hvt_code_start(&code, vm, HVT_CODE_GPA);
    const uint8_t sti_hlt[] = { 0xfb, 0xf4 };
    hvt_bytes(&code, sti_hlt, sizeof(sti_hlt));
    hvt_jmp_self(&code);
    return hvt_guest_flat32(vm, HVT_CODE_GPA) == 0;
}

static void region_change_does_not_wait_for_halted_vcpu(void)
{
    struct vm_instance vm;
    uint64_t fastest = ~0ull;

    if (conc_cpus() < 2 || !halting_guest(&vm))
        return;
    conc_spin_init(&writer, &vm);
    smp_call(1, conc_spin_job, &writer);
    if (!conc_wait_running(&writer, "the halting guest"))
        return;
    /* Long enough for its HLT to put the vcpu to sleep in the hypervisor. */
    uint64_t until = conc_tsc() + slice_ticks() / 5;
    while (conc_tsc() < until)
        __asm__ volatile("pause");
    uint32_t *page = page_alloc(4096);
    struct hv_memory_region add = { .slot = REGION_SLOT, .guest_phys = REGION_GPA,
                                    .size = 4096, .control_addr = hv_gpa(page) };
    struct hv_memory_region gone = { .slot = REGION_SLOT, .guest_phys = REGION_GPA };
    long rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        uint64_t start = conc_tsc();
        rc = hv_set_memory_region(vm.vm, i % 2 ? &gone : &add);
        uint64_t took = conc_tsc() - start;
        fastest = took < fastest ? took : fastest;
    }
    __atomic_store_n(&writer.stop, 1, __ATOMIC_RELEASE);
    hv_kick(writer.vcpu);
    smp_wait(1);
    if (!hvt_err(rc, 0, "SET_MEMORY_REGION next to a halted vcpu") ||
        !conc_spin_ended_intr(&writer, 1, 0, "the halted vcpu's RUN"))
        return;
    /* Waiting for the halted vcpu took four slices at least. */
    if (fastest >= 2 * slice_ticks())
        hvt_fail("region changes next to a halted vcpu took %lu TSC ticks at the fastest, "
                 "two time slices are %lu", fastest, 2 * slice_ticks());
}

const struct hvtest_case hvtest_concurrency_flush_cases[] = {
    { "region_delete_stops_writes_on_other_cpu", region_delete_stops_writes_on_other_cpu },
    { "region_delete_stops_writes_of_a_guest_storing_to_its_apic",
      region_delete_stops_writes_of_a_guest_storing_to_its_apic },
    { "region_change_does_not_wait_for_halted_vcpu", region_change_does_not_wait_for_halted_vcpu },
    { NULL, NULL },
};
