/*
 * Success paths of the calls on the system handle and on any handle, each
 * checked by its effect: GET_API_VERSION, CHECK_EXTENSION, CREATE_VM,
 * CREATE_VCPU, GET_STATS, CONSOLE_WRITE, DUP and CLOSE.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define CONSOLE_WRITE_MAX 4096

static void get_api_version_returns_version(void)
{
    if (!hvt_eq((uint64_t)hv_get_api_version(hvt_sys()), HV_API_VERSION,
                "GET_API_VERSION"))
        return;
    hvt_eq(hv_cpuid_api_version(), HV_API_VERSION,
           "CPUID leaf 0x40000001 EAX (API version)");
    hvt_eq(hvt_info()->api_version, HV_API_VERSION, "boot info api_version");
}

/* Section 10: the boot information the control domain started with. */
static void boot_info_consistent(void)
{
    const struct hv_boot_info *info = hvt_info();

    if (!hvt_eq(info->magic, HV_BOOT_MAGIC, "boot info magic") ||
        !hvt_true(info->cpu_count >= 1, "boot info cpu_count is 0") ||
        !hvt_true(info->system_handle > 0, "boot info system handle not positive") ||
        !hvt_true(info->free_start <= info->free_end &&
                  info->free_end <= info->memory_size,
                  "boot info: not free_start <= free_end <= memory_size") ||
        !hvt_true(info->module_count <= HV_BOOT_MAX_MODULES,
                  "boot info module_count above HV_BOOT_MAX_MODULES"))
        return;
    /* Modules are copied into the top of the domain's RAM, above the free
     * range, without overlapping one another's pages. */
    for (unsigned i = 0; i < info->module_count; i++) {
        const struct hv_boot_module *m = &info->modules[i];

        if (!hvt_true(m->guest_phys >= info->free_end && m->size > 0 &&
                      m->guest_phys + m->size <= info->memory_size,
                      "boot info: a module lies outside [free_end, memory_size)"))
            return;
        for (unsigned j = 0; j < i; j++) {
            const struct hv_boot_module *o = &info->modules[j];

            if (!hvt_true(m->guest_phys + m->size <= o->guest_phys ||
                          o->guest_phys + o->size <= m->guest_phys,
                          "boot info: two modules overlap"))
                return;
        }
    }
}

static void check_extension_values(void)
{
    hv_handle_t sys = hvt_sys();

    if (!hvt_eq((uint64_t)hv_check_extension(sys, HV_CAP_MAX_VCPUS), HV_MAX_VCPUS,
                "CHECK_EXTENSION(HV_CAP_MAX_VCPUS)") ||
        !hvt_eq((uint64_t)hv_check_extension(sys, HV_CAP_MAX_MEMORY_SLOTS),
                HV_MAX_MEMORY_SLOTS, "CHECK_EXTENSION(HV_CAP_MAX_MEMORY_SLOTS)") ||
        !hvt_eq((uint64_t)hv_check_extension(sys, HV_CAP_READONLY_MEM), 1,
                "CHECK_EXTENSION(HV_CAP_READONLY_MEM)"))
        return;
    if (!hvt_eq((uint64_t)hv_check_extension(sys, HV_CAP_BACKEND), hv_backend(),
                "CHECK_EXTENSION(HV_CAP_BACKEND) vs CPUID 0x40000001 EBX") ||
        !hvt_eq(hvt_info()->backend, hv_backend(), "boot info backend vs CPUID"))
        return;
    if (!hvt_eq((uint64_t)hv_check_extension(sys, HV_CAP_VCPU_EVENTS), 1,
                "CHECK_EXTENSION(HV_CAP_VCPU_EVENTS)") ||
        !hvt_eq((uint64_t)hv_check_extension(sys, HV_CAP_USER_MSR), 1,
                "CHECK_EXTENSION(HV_CAP_USER_MSR)") ||
        !hvt_eq((uint64_t)hv_check_extension(sys, HV_CAP_DECODED_MMIO), 1,
                "CHECK_EXTENSION(HV_CAP_DECODED_MMIO)"))
        return;
    /* Only VMX has it (neither emulator's SVM offers AVIC). */
    long apicv = hv_check_extension(sys, HV_CAP_APIC_VIRTUALIZATION);
    if (!hvt_true(apicv == 0 || (apicv == 1 && hv_backend() == HV_BACKEND_VMX),
                  "CHECK_EXTENSION(HV_CAP_APIC_VIRTUALIZATION): 0, or 1 on VMX"))
        return;
    hvt_true(hv_check_extension(sys, HV_CAP_MAX_VMS) > 0,
             "CHECK_EXTENSION(HV_CAP_MAX_VMS): expected a positive count");
}

static void check_extension_unknown_returns_0(void)
{
    /* 1 << 32 | 1 would read as HV_CAP_MAX_VCPUS if the hypervisor cut the
     * argument to 32 bits. */
    static const uint64_t unknown[] = {
        0, 63, 100, 1000, 0xffffffffull, (1ull << 32) | HV_CAP_MAX_VCPUS,
        ~0ull,
    };

    for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        long rc = hv_check_extension(hvt_sys(), unknown[i]);

        if (rc != 0) {
            hvt_fail("CHECK_EXTENSION(0x%lx): expected 0 for an unknown "
                     "extension, got %ld", unknown[i], rc);
            return;
        }
    }
}

static void create_vm_returns_vm_handle(void)
{
    struct hv_stats before, after;
    struct hv_memory_region region = { .slot = 0, .size = 0 };
    long vm, other;

    if (!hvt_stats(&before))
        return;
    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM") || !hvt_true(vm > 0, "CREATE_VM: handle <= 0"))
        return;
    if (!hvt_stats(&after) ||
        !hvt_eq(after.vms, before.vms + 1, "GET_STATS vms after CREATE_VM") ||
        !hvt_eq(after.handles, before.handles + 1, "GET_STATS handles after CREATE_VM") ||
        !hvt_eq(after.vcpus, before.vcpus, "GET_STATS vcpus after CREATE_VM"))
        return;
    /* A VM handle: VM calls take it, vcpu calls refuse it by type. It
     * starts without memory (slot 0 is not in use). */
    if (!hvt_err(hv_set_memory_region(vm, &region), -HV_ENOENT,
                 "SET_MEMORY_REGION deleting slot 0 of a new VM") ||
        !hvt_err(hv_run(vm), -HV_EBADTYPE, "RUN on the new VM handle"))
        return;
    other = hvt_keep(hv_create_vm(hvt_sys()));
    if (hvt_ok(other, "second CREATE_VM"))
        hvt_true(other != vm, "two CREATE_VMs returned the same handle");
}

static void create_vcpu_returns_vcpu_handle(void)
{
    struct hv_run *run = page_alloc(HV_RUN_PAGE_SIZE);
    struct hv_stats before, after;
    struct hv_regs regs;
    long vm, vcpu, last;

    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM") || !hvt_stats(&before))
        return;
    vcpu = hvt_keep(hv_create_vcpu(vm, 0, run));
    if (!hvt_ok(vcpu, "CREATE_VCPU slot 0") ||
        !hvt_true(vcpu > 0 && vcpu != vm, "CREATE_VCPU: not a new positive handle"))
        return;
    if (!hvt_stats(&after) ||
        !hvt_eq(after.vcpus, before.vcpus + 1, "GET_STATS vcpus after CREATE_VCPU") ||
        !hvt_eq(after.handles, before.handles + 1,
                "GET_STATS handles after CREATE_VCPU") ||
        !hvt_eq(after.vms, before.vms, "GET_STATS vms after CREATE_VCPU"))
        return;
    if (!hvt_err(hv_get_regs(vcpu, &regs), 0, "GET_REGS on the new vcpu") ||
        !hvt_err(hv_create_vcpu(vcpu, 1, run), -HV_EBADTYPE,
                 "CREATE_VCPU on the vcpu handle"))
        return;
    /* The highest slot is a valid one. */
    last = hvt_keep(hv_create_vcpu(vm, HV_MAX_VCPUS - 1,
                                   page_alloc(HV_RUN_PAGE_SIZE)));
    hvt_ok(last, "CREATE_VCPU slot 63");
}

static void get_stats_fields_plausible(void)
{
    struct hv_stats stats;
    const struct hv_boot_info *info = hvt_info();

    if (!hvt_stats(&stats))
        return;
    /* Between tests no child VM of the suite's is left; those counted at
     * its start are another tool's. */
    if (!hvt_eq(stats.vms, hvt_stats_at_start()->vms, "GET_STATS vms with no child VM") ||
        !hvt_eq(stats.vcpus, hvt_stats_at_start()->vcpus, "GET_STATS vcpus with no child VM"))
        return;
    if (!hvt_true(stats.free_frames > 0 && stats.free_frames < (1ull << 40) / 4096,
                  "GET_STATS free_frames not between 0 and 1 TiB of frames") ||
        !hvt_true(stats.handles >= 1,
                  "GET_STATS handles: the system handle is open, got 0"))
        return;
    /* The control domain is a VM with a vcpu per CPU, all live objects. */
    if (stats.objects < 1 + (uint64_t)info->cpu_count)
        hvt_fail("GET_STATS objects expected >= %u (control domain and its "
                 "vcpus), got %lu", 1 + info->cpu_count, stats.objects);
}

static void get_stats_tracks_objects_and_frames(void)
{
    struct hv_stats base, with_vm, with_vcpu;
    long vm, vcpu;

    if (!hvt_stats(&base))
        return;
    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM") || !hvt_stats(&with_vm))
        return;
    if (!hvt_eq(with_vm.objects, base.objects + 1, "GET_STATS objects after CREATE_VM") ||
        !hvt_true(with_vm.free_frames < base.free_frames,
                  "GET_STATS free_frames did not drop after CREATE_VM"))
        return;
    vcpu = hvt_keep(hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE)));
    if (!hvt_ok(vcpu, "CREATE_VCPU") || !hvt_stats(&with_vcpu))
        return;
    if (!hvt_eq(with_vcpu.objects, with_vm.objects + 1,
                "GET_STATS objects after CREATE_VCPU") ||
        !hvt_true(with_vcpu.free_frames < with_vm.free_frames,
                  "GET_STATS free_frames did not drop after CREATE_VCPU"))
        return;
    hv_close(vcpu);
    hv_close(vm);
    hvt_stats_unchanged(&base, "after closing the vcpu and the VM");
}

static void console_write_returns_length(void)
{
    static const char text[] = "[ctl] CONSOLE_WRITE probe: this line came "
                               "through the hypercall as it is\n";
    char *big = page_alloc(CONSOLE_WRITE_MAX);
    static const char head[] = "[ctl] CONSOLE_WRITE probe of 4096 bytes: ";
    long rc;

    rc = hv_console_write(hvt_sys(), (uint64_t)(uintptr_t)text, sizeof(text) - 1);
    if (!hvt_eq((uint64_t)rc, sizeof(text) - 1, "CONSOLE_WRITE return value") ||
        !hvt_err(hv_console_write(hvt_sys(), (uint64_t)(uintptr_t)text, 0), 0,
                 "CONSOLE_WRITE of 0 bytes"))
        return;
    /* The largest write: one long line. */
    memset(big, '.', CONSOLE_WRITE_MAX);
    memcpy(big, head, sizeof(head) - 1);
    big[CONSOLE_WRITE_MAX - 1] = '\n';
    rc = hv_console_write(hvt_sys(), (uint64_t)(uintptr_t)big, CONSOLE_WRITE_MAX);
    hvt_eq((uint64_t)rc, CONSOLE_WRITE_MAX, "CONSOLE_WRITE of 4096 bytes");
}

static void dup_returns_different_working_handle(void)
{
    struct hv_stats before, after;
    struct hv_stats via_dup;
    long dup;

    if (!hvt_stats(&before))
        return;
    dup = hvt_keep(hv_dup(hvt_sys(), HV_RIGHTS_ALL));
    if (!hvt_ok(dup, "DUP of the system handle") ||
        !hvt_true(dup > 0 && dup != hvt_sys(), "DUP returned the same handle"))
        return;
    if (!hvt_eq((uint64_t)hv_get_api_version(dup), HV_API_VERSION,
                "GET_API_VERSION through the duplicate") ||
        !hvt_err(hv_get_stats(dup, &via_dup), 0, "GET_STATS through the duplicate") ||
        !hvt_eq(via_dup.handles, before.handles + 1, "GET_STATS handles after DUP"))
        return;
    if (!hvt_err(hv_close(dup), 0, "CLOSE of the duplicate") ||
        !hvt_stats(&after) ||
        !hvt_eq(after.handles, before.handles, "GET_STATS handles after closing it"))
        return;
    hvt_eq((uint64_t)hv_get_api_version(hvt_sys()), HV_API_VERSION,
           "GET_API_VERSION on the original after closing the duplicate");
}

static void dup_vm_handle_names_same_vm(void)
{
    uint8_t *mem = page_alloc(2 * PAGE_SIZE);
    struct hv_memory_region region = {
        .slot = 3, .guest_phys = 0x100000, .size = PAGE_SIZE,
        .control_addr = (uint64_t)(uintptr_t)mem,
    };
    long vm, dup;

    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM"))
        return;
    dup = hvt_keep(hv_dup(vm, HV_RIGHTS_ALL));
    if (!hvt_ok(dup, "DUP of the VM handle") ||
        !hvt_true(dup != vm, "DUP returned the same handle") ||
        !hvt_err(hv_set_memory_region(dup, &region), 0,
                 "SET_MEMORY_REGION slot 3 through the duplicate"))
        return;
    /* The original sees the slot the duplicate filled: the same VM. */
    region.guest_phys = 0x200000;
    region.control_addr += PAGE_SIZE;
    if (!hvt_err(hv_set_memory_region(vm, &region), -HV_EBUSY,
                 "SET_MEMORY_REGION slot 3 through the original"))
        return;
    region.size = 0;
    hvt_err(hv_set_memory_region(vm, &region), 0,
            "deleting slot 3 through the original");
}

static void close_makes_handle_closed(void)
{
    struct hv_regs regs;
    long vm, vcpu;

    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM"))
        return;
    vcpu = hvt_keep(hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE)));
    if (!hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    if (!hvt_err(hv_close(vcpu), 0, "CLOSE of the vcpu") ||
        !hvt_err(hv_get_regs(vcpu, &regs), -HV_ECLOSED, "GET_REGS after CLOSE") ||
        !hvt_err(hv_run(vcpu), -HV_ECLOSED, "RUN after CLOSE") ||
        !hvt_err(hv_close(vcpu), -HV_ECLOSED, "second CLOSE") ||
        !hvt_err(hv_dup(vcpu, HV_RIGHTS_ALL), -HV_ECLOSED, "DUP after CLOSE"))
        return;
    if (!hvt_err(hv_close(vm), 0, "CLOSE of the VM") ||
        !hvt_err(hv_create_vcpu(vm, 1, page_alloc(HV_RUN_PAGE_SIZE)), -HV_ECLOSED,
                 "CREATE_VCPU after CLOSE of the VM"))
        return;
    hvt_err(hv_close(vm), -HV_ECLOSED, "second CLOSE of the VM");
}

const struct hvtest_case hvtest_calls_cases[] = {
    { "get_api_version_returns_version", get_api_version_returns_version },
    { "boot_info_consistent", boot_info_consistent },
    { "check_extension_values", check_extension_values },
    { "check_extension_unknown_returns_0", check_extension_unknown_returns_0 },
    { "create_vm_returns_vm_handle", create_vm_returns_vm_handle },
    { "create_vcpu_returns_vcpu_handle", create_vcpu_returns_vcpu_handle },
    { "get_stats_fields_plausible", get_stats_fields_plausible },
    { "get_stats_tracks_objects_and_frames", get_stats_tracks_objects_and_frames },
    { "console_write_returns_length", console_write_returns_length },
    { "dup_returns_different_working_handle", dup_returns_different_working_handle },
    { "dup_vm_handle_names_same_vm", dup_vm_handle_names_same_vm },
    { "close_makes_handle_closed", close_makes_handle_closed },
    { NULL, NULL },
};
