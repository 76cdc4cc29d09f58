/*
 * Object lifetime (abi/README.md section 1): a VM lives while its VM
 * handle or any vcpu handle is open, in whatever order they close; when
 * the last one closes every hypervisor page it used comes back, which
 * GET_STATS shows. Also the documented limits: HV_CAP_MAX_VMS live VMs
 * and a full handle table give -HV_ENOSPC without leaking.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define LOOP_VMS        1000
#define LOOP_RUN_EVERY  100
#define MAX_DUPS        4096
#define GUEST_VALUE     0x11fe0001u

/* A tiny guest that OUTs GUEST_VALUE and halts; returns the OUT's address. */
static uint32_t value_program(struct vm_instance *vm)
{
    struct hvt_code code;
    uint32_t out;

    hvt_code_start(&code, vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, GUEST_VALUE);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    return out;
}

static void close_vm_first_vcpu_keeps_working(void)
{
    struct hv_stats base, now;
    struct hv_regs regs;
    struct vm_instance vm;
    uint32_t out;

    if (!hvt_stats(&base) || hvt_guest_create(&vm, "hvtest") < 0)
        return;
    out = value_program(&vm);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_err(hv_close(vm.vm), 0, "CLOSE of the VM handle") ||
        !hvt_stats(&now) ||
        !hvt_eq(now.vms, base.vms + 1, "GET_STATS vms with only the vcpu handle open"))
        return;
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, GUEST_VALUE, out,
                            "RUN after the VM handle closed") ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS after the VM handle closed") ||
        !hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_HLT, "second RUN"))
        return;
    if (hvt_err(hv_close(vm.vcpu), 0, "CLOSE of the vcpu handle"))
        hvt_stats_unchanged(&base, "after the last handle closed");
}

static void close_vcpu_first_then_vm(void)
{
    struct hv_stats base, now;
    struct hv_memory_region region;
    struct vm_instance vm;
    long second;

    if (!hvt_stats(&base) || hvt_guest_create(&vm, "hvtest") < 0 ||
        !hvt_err(hv_close(vm.vcpu), 0, "CLOSE of the vcpu handle") ||
        !hvt_stats(&now))
        return;
    /* The vcpu belongs to the VM, which is still open. */
    if (!hvt_eq(now.vms, base.vms + 1, "GET_STATS vms after closing the vcpu handle") ||
        !hvt_eq(now.vcpus, base.vcpus + 1,
                "GET_STATS vcpus after closing its handle (freed with the VM)"))
        return;
    memset(&region, 0, sizeof(region));
    region.slot = 0;
    if (!hvt_err(hv_set_memory_region(vm.vm, &region), 0,
                 "deleting slot 0 through the VM handle") ||
        !hvt_ok(second = hvt_keep(hv_create_vcpu(vm.vm, 1, page_alloc(HV_RUN_PAGE_SIZE))),
                "CREATE_VCPU slot 1 through the VM handle") ||
        !hvt_err(hv_close(second), 0, "CLOSE of the second vcpu") ||
        !hvt_err(hv_close(vm.vm), 0, "CLOSE of the VM handle"))
        return;
    hvt_stats_unchanged(&base, "after the VM handle closed last");
}

static void dup_vm_handle_keeps_vm_alive(void)
{
    struct hv_stats base, now;
    struct vm_instance vm;
    long dup, vcpu;
    uint32_t out;

    if (!hvt_stats(&base) || hvt_guest_create(&vm, "hvtest") < 0)
        return;
    out = value_program(&vm);
    dup = hvt_keep(hv_dup(vm.vm, HV_RIGHTS_ALL));
    if (!hvt_ok(dup, "DUP of the VM handle") ||
        !hvt_err(hv_close(vm.vcpu), 0, "CLOSE of the vcpu") ||
        !hvt_err(hv_close(vm.vm), 0, "CLOSE of the original VM handle") ||
        !hvt_stats(&now) ||
        !hvt_eq(now.vms, base.vms + 1, "GET_STATS vms with only the duplicate open"))
        return;
    /* The VM, its memory and its vcpu 0 are all still there. */
    if (!hvt_err(hv_create_vcpu(dup, 0, page_alloc(HV_RUN_PAGE_SIZE)), -HV_EEXIST,
                 "CREATE_VCPU slot 0 through the duplicate"))
        return;
    vm.run = page_alloc(HV_RUN_PAGE_SIZE);   /* vcpu 0 keeps its own */
    vcpu = hvt_keep(hv_create_vcpu(dup, 1, vm.run));
    if (!hvt_ok(vcpu, "CREATE_VCPU slot 1 through the duplicate"))
        return;
    vm.vcpu = vcpu;
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, GUEST_VALUE, out,
                            "RUN of a vcpu made through the duplicate") ||
        !hvt_err(hv_close(vcpu), 0, "CLOSE of the new vcpu") ||
        !hvt_err(hv_close(dup), 0, "CLOSE of the duplicate"))
        return;
    hvt_stats_unchanged(&base, "after the duplicate closed");
}

static void dup_vcpu_handle_holds_vm_reference(void)
{
    struct hv_stats base;
    struct vm_instance vm;
    long dup;
    uint32_t out;

    if (!hvt_stats(&base) || hvt_guest_create(&vm, "hvtest") < 0)
        return;
    out = value_program(&vm);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    dup = hvt_keep(hv_dup(vm.vcpu, HV_RIGHTS_ALL));
    if (!hvt_ok(dup, "DUP of the vcpu handle") ||
        !hvt_err(hv_close(vm.vcpu), 0, "CLOSE of the vcpu handle") ||
        !hvt_err(hv_close(vm.vm), 0, "CLOSE of the VM handle"))
        return;
    vm.vcpu = dup;
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, GUEST_VALUE, out,
                            "RUN through the duplicate vcpu handle") ||
        !hvt_err(hv_close(dup), 0, "CLOSE of the duplicate"))
        return;
    hvt_stats_unchanged(&base, "after the duplicate vcpu handle closed");
}

/* One VM of the loop: memory, a vcpu, sometimes a run, then both closed. */
static int one_loop_vm(unsigned i, const struct hv_memory_region *region,
                       struct hv_run *run, const struct hv_sregs *sregs,
                       const struct hv_regs *regs)
{
    long vm = hv_create_vm(hvt_sys()), vcpu;
    int ok;

    if (!hvt_ok(vm, "CREATE_VM in the loop"))
        return 0;
    vcpu = hv_create_vcpu(vm, i % HV_MAX_VCPUS, run);
    ok = hvt_err(hv_set_memory_region(vm, region), 0, "SET_MEMORY_REGION in the loop") &&
         hvt_ok(vcpu, "CREATE_VCPU in the loop");
    if (ok && i % LOOP_RUN_EVERY == 0) {
        run->exit_reason = HV_EXIT_UNKNOWN;
        ok = hvt_err(hv_set_sregs(vcpu, sregs), 0, "SET_SREGS in the loop") &&
             hvt_err(hv_set_regs(vcpu, regs), 0, "SET_REGS in the loop") &&
             hvt_err(hv_run(vcpu), 0, "RUN in the loop");
        /* A loaded host can end the slice before the guest's first
         * instruction: that RUN returns HV_EXIT_INTR and the next goes on. */
        for (unsigned slices = 0; ok && run->exit_reason == HV_EXIT_INTR && slices < 100; slices++)
            ok = hvt_err(hv_run(vcpu), 0, "RUN in the loop");
        ok = ok && hvt_eq(run->exit_reason, HV_EXIT_HLT, "exit of a loop VM (HLT)");
    }
    /* Alternate which handle closes last. */
    if (i % 2 == 0) {
        hv_close(vcpu);
        hv_close(vm);
    } else {
        hv_close(vm);
        hv_close(vcpu);
    }
    return ok;
}

static void create_destroy_1000_vms(void)
{
    struct hv_stats before, after;
    struct vm_instance vm;
    struct hv_memory_region region;
    struct hv_sregs sregs;
    struct hv_regs regs;
    struct hv_run *run = page_alloc(HV_RUN_PAGE_SIZE);
    unsigned i;

    /* Borrow a guest's RAM (with its GDT and a HLT) for every VM. */
    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    vm.ram[HVT_CODE_GPA] = 0xf4;
    hv_close(vm.vcpu);
    hv_close(vm.vm);
    hvt_sregs_flat32(&sregs);
    memset(&regs, 0, sizeof(regs));
    regs.rip = HVT_CODE_GPA;
    regs.rflags = 2;
    memset(&region, 0, sizeof(region));
    region.size = vm.ram_size;
    region.control_addr = (uint64_t)(uintptr_t)vm.ram;

    if (!hvt_stats(&before))
        return;
    for (i = 0; i < LOOP_VMS; i++) {
        if (!one_loop_vm(i, &region, run, &sregs, &regs))
            break;
    }
    if (!hvt_stats(&after))
        return;
    ctl_printf("create_destroy_1000_vms: %u VMs made and destroyed; hypervisor free "
               "frames before %lu, after %lu\n", i, before.free_frames,
               after.free_frames);
    if (!hvt_failed())
        hvt_stats_unchanged(&before, "after 1000 VMs were made and destroyed");
}

static void max_vms_gives_enospc(void)
{
    long max = hv_check_extension(hvt_sys(), HV_CAP_MAX_VMS);
    long *vms;
    struct hv_stats base, full;
    long count = 0, extra;

    if (!hvt_true(max > 0 && max < MAX_DUPS, "HV_CAP_MAX_VMS out of range") ||
        !hvt_stats(&base))
        return;
    vms = page_alloc((uint64_t)max * sizeof(long));
    while (count < max - (long)base.vms) {
        vms[count] = hv_create_vm(hvt_sys());
        if (!hvt_ok(vms[count], "CREATE_VM below HV_CAP_MAX_VMS"))
            break;
        count++;
    }
    if (!hvt_failed() && hvt_stats(&full) &&
        hvt_eq(full.vms, (uint64_t)max, "GET_STATS vms at HV_CAP_MAX_VMS") &&
        hvt_err(hv_create_vm(hvt_sys()), -HV_ENOSPC, "CREATE_VM beyond HV_CAP_MAX_VMS") &&
        hvt_stats_unchanged(&full, "after the refused CREATE_VM") &&
        hvt_err(hv_close(vms[--count]), 0, "CLOSE of one VM")) {
        extra = hv_create_vm(hvt_sys());
        if (hvt_ok(extra, "CREATE_VM after one VM closed"))
            vms[count++] = extra;
    }
    while (count > 0)
        hv_close(vms[--count]);
}

static void handle_table_full_gives_enospc(void)
{
    long *dups = page_alloc(MAX_DUPS * sizeof(long));
    struct hv_stats base, full;
    long vm = 0, vcpu1 = 0, count = 0, rc;

    if (!hvt_stats(&base))
        return;
    vm = hv_create_vm(hvt_sys());
    if (!hvt_ok(vm, "CREATE_VM"))
        return;
    vcpu1 = hv_create_vcpu(vm, 1, page_alloc(HV_RUN_PAGE_SIZE));
    if (!hvt_ok(vcpu1, "CREATE_VCPU of slot 1"))
        return;
    /* Fill the table with duplicates of the system handle. */
    for (;;) {
        rc = hv_dup(hvt_sys(), HV_RIGHTS_ALL);
        if (rc < 0 || count == MAX_DUPS)
            break;
        dups[count++] = rc;
    }
    if (hvt_err(rc, -HV_ENOSPC, "DUP into a full handle table") &&
        hvt_stats(&full) &&
        hvt_err(hv_create_vm(hvt_sys()), -HV_ENOSPC, "CREATE_VM with a full table") &&
        hvt_err(hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE)), -HV_ENOSPC,
                "CREATE_VCPU with a full table") &&
        hvt_err(hv_create_vcpu(vm, 1, page_alloc(HV_RUN_PAGE_SIZE)), -HV_EEXIST,
                "CREATE_VCPU of a taken slot with a full table") &&
        hvt_stats_unchanged(&full, "after the calls refused for a full table") &&
        hvt_err(hv_close(dups[--count]), 0, "CLOSE of one duplicate")) {
        /* The refused vcpu never existed: its slot is free, and the one
         * handle slot freed takes it. */
        rc = hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE));
        if (hvt_ok(rc, "CREATE_VCPU of slot 0 after one handle was freed") &&
            hvt_err(hv_close(rc), 0, "CLOSE of that vcpu")) {
            rc = hv_dup(hvt_sys(), HV_RIGHTS_ALL);
            if (hvt_ok(rc, "DUP after one slot was freed"))
                dups[count++] = rc;
        }
    }
    ctl_printf("handle_table_full_gives_enospc: %ld handles open when the table "
               "filled\n", base.handles + 2 + count);
    while (count > 0)
        hv_close(dups[--count]);
    hv_close(vcpu1);
    hv_close(vm);
    if (!hvt_failed())
        hvt_stats_unchanged(&base, "after closing the duplicates");
}

const struct hvtest_case hvtest_lifecycle_cases[] = {
    { "close_vm_first_vcpu_keeps_working", close_vm_first_vcpu_keeps_working },
    { "close_vcpu_first_then_vm", close_vcpu_first_then_vm },
    { "dup_vm_handle_keeps_vm_alive", dup_vm_handle_keeps_vm_alive },
    { "dup_vcpu_handle_holds_vm_reference", dup_vcpu_handle_holds_vm_reference },
    { "create_destroy_1000_vms", create_destroy_1000_vms },
    { "max_vms_gives_enospc", max_vms_gives_enospc },
    { "handle_table_full_gives_enospc", handle_table_full_gives_enospc },
    { NULL, NULL },
};
