/*
 * demo: boot each guest module in turn in its own VM and report how it
 * ended. A module's name is the first word of its command line. Guests
 * that never stop on their own (spin, bench_guest) are cut off by the
 * run limits below; every outcome is reported, and only a failure to
 * build or run a VM counts as the demo failing.
 *
 * smp_hello runs with one vcpu per control-domain CPU (at most
 * DEMO_SMP_VCPUS), vcpu k on CPU k, and each vcpu's end is reported.
 */
#include "guest-tools/runtime/cmdline.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/tool.h"
#include "guest-tools/vmm/vmm.h"

#define DEMO_RAM_MIB        16
#define DEMO_MAX_INTR_EXITS 20      /* ~200 ms of 10 ms time slices */
#define DEMO_MAX_EXITS      20000   /* for guests that exit in a loop */
#define DEMO_SMP_GUEST      "smp_hello"
#define DEMO_SMP_VCPUS      4

/* Runs a loaded SMP VM, vcpu k on CPU k, and says how each vcpu ended. */
static int run_smp(struct vm_instance *vm)
{
    int rc = vmm_run_smp(vm, DEMO_MAX_INTR_EXITS, DEMO_MAX_EXITS);

    for (unsigned k = 0; k < vm->vcpu_count; k++) {
        const struct vmm_result *r = &vm->vcpus[k].result;
        ctl_printf("demo: guest %s vcpu %u (on cpu %u) stopped: %s after "
                   "%lu exits\n", vm->name, k, k, vmm_stop_name(r->stop),
                   r->exits);
    }
    return rc;
}

/* Runs one module; 0 when it could be loaded and run to a stop. */
static int run_module(const struct hv_boot_info *info, unsigned index)
{
    const struct hv_boot_module *mod = &info->modules[index];
    char name[VMM_NAME_MAX];
    struct vm_instance vm;
    struct vmm_result result;
    unsigned vcpus = 1;
    int rc;

    if (cmdline_first_word(mod->cmdline, sizeof(mod->cmdline), name,
                           sizeof(name)) == 0) {
        ctl_printf("demo: module %u has no name (empty command line), "
                   "skipped\n", index + 1);
        return -HV_EINVAL;
    }
    if (strcmp(name, DEMO_SMP_GUEST) == 0)
        vcpus = smp_cpu_count() < DEMO_SMP_VCPUS ? smp_cpu_count()
                                                 : DEMO_SMP_VCPUS;
    ctl_printf("demo: starting guest %s (module %u of %u, %lu bytes, %u MiB "
               "RAM, %u vcpu%s)\n", name, index + 1, module_count(info),
               mod->size, DEMO_RAM_MIB, vcpus, vcpus == 1 ? "" : "s");
    rc = vmm_create_smp(&vm, info->system_handle, name, DEMO_RAM_MIB, vcpus);
    if (rc < 0)
        return rc;
    rc = vmm_load_module(&vm, mod);
    if (rc == 0 && vcpus > 1) {
        rc = run_smp(&vm);
        vmm_destroy(&vm);
        return rc;
    }
    if (rc == 0)
        rc = vmm_run(&vm, DEMO_MAX_INTR_EXITS, DEMO_MAX_EXITS, &result);
    if (rc == 0)
        ctl_printf("demo: guest %s stopped: %s after %lu exits\n", name,
                   vmm_stop_name(result.stop), result.exits);
    vmm_destroy(&vm);
    return rc;
}

int demo_main(const struct hv_boot_info *info, int argc, char **argv)
{
    unsigned count = module_count(info), failed = 0;

    (void)argc;
    (void)argv;
    if (count == 0)
        ctl_printf("demo: no guest modules given\n");
    for (unsigned i = 0; i < count; i++) {
        if (run_module(info, i) < 0)
            failed++;
    }
    ctl_printf("demo: %u guests run, %u failed to run\n", count - failed, failed);
    ctl_printf("demo done\n");
    return failed == 0 ? 0 : 1;
}
