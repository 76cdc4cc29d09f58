/*
 * pc: boot every guest module on the virtual PC (vmm/pc/pc_vm.h) in turn,
 * relay its COM1 lines as "[guest <name>] <line>" and end each with
 *   [ctl] guest <name> exited with status <N>    (isa-debug-exit)
 *   [ctl] guest <name> powered off               (ACPI S5)
 *   [ctl] guest <name> reset                     (0xcf9, i8042, triple fault)
 *   [ctl] guest <name> stopped: <why>            (timeout=, an exit it
 *                                                 cannot go on from)
 * A module's command line is "<name> [options] [the guest's own words]"
 * (vmm/pc/pc_options.h: mem=, cpus=, module=, initrd=, timeout=, input=,
 * prompt=). Input typed at the hypervisor's console goes to the running
 * guest's COM1; Ctrl-A then a digit n keeps it for the n-th module's guest
 * (Ctrl-A 0 undoes that; vmm/pc/console_switch.h). A module another guest
 * names with module= or initrd= is that guest's, not booted itself.
 * Only a guest that cannot be built or loaded counts as a failure of the
 * tool; how a guest ends is the guest's business.
 */
#include "guest-tools/runtime/cmdline.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/tool.h"
#include "guest-tools/vmm/pc/pc_vm.h"

/* Options of every module, parsed once (the tool runs on CPU 0 only). */
static struct pc_options options[HV_BOOT_MAX_MODULES];
static int parsed[HV_BOOT_MAX_MODULES];
/* Typed input's routing, kept across the guests run in turn. */
static struct console_switch console;

/* The guest whose module= names module `index`, or NULL. */
static const char *owner_of(unsigned index, unsigned count)
{
    if (parsed[index] < 0)
        return NULL;
    for (unsigned i = 0; i < count; i++) {
        if (parsed[i] < 0 || i == index)
            continue;
        for (unsigned m = 0; m < options[i].module_count; m++)
            if (strcmp(options[i].modules[m], options[index].name) == 0)
                return options[i].name;
        if (strcmp(options[i].initrd, options[index].name) == 0)
            return options[i].name;
    }
    return NULL;
}

/* Builds, loads and runs module `index`; 0 when it ran to an end. */
static int run_guest(const struct hv_boot_info *info, unsigned index)
{
    const struct pc_options *o = &options[index];
    const struct hv_boot_module *extra[HV_BOOT_MAX_MODULES];
    const struct hv_boot_module *initrd = NULL;
    struct pc_result result;
    struct pc_vm *pc;
    char verdict[64];
    int rc;

    for (unsigned m = 0; m < o->module_count; m++) {
        extra[m] = module_find(info, o->modules[m]);
        if (extra[m] == NULL) {
            ctl_printf("pc: guest %s: no boot module named %s (module=)\n", o->name,
                       o->modules[m]);
            return -HV_ENOENT;
        }
    }
    if (o->initrd[0] != '\0' && (initrd = module_find(info, o->initrd)) == NULL) {
        ctl_printf("pc: guest %s: no boot module named %s (initrd=)\n", o->name, o->initrd);
        return -HV_ENOENT;
    }
    ctl_printf("pc: starting guest %s (module %u of %u, %lu bytes, %lu MiB RAM, %u vcpu%s)\n",
               o->name, index + 1, module_count(info), info->modules[index].size, o->ram_mib,
               o->cpus, o->cpus == 1 ? "" : "s");
    rc = pc_vm_create(&pc, info->system_handle, o);
    if (rc < 0)
        return rc;
    pc_vm_attach_console(pc, &console, index + 1);
    if (o->initrd[0] != '\0')
        rc = pc_vm_load_linux(pc, &info->modules[index], initrd);
    else
        rc = pc_vm_load(pc, &info->modules[index], extra, o->module_count);
    if (rc == 0)
        rc = pc_vm_run(pc, &result);
    if (rc == 0) {
        pc_vm_end_text(&result, o->timeout_seconds, verdict, sizeof(verdict));
        ctl_printf("guest %s %s\n", o->name, verdict);
    }
    pc_vm_destroy(pc);
    return rc;
}

int pc_main(const struct hv_boot_info *info, int argc, char **argv)
{
    unsigned count = module_count(info), ran = 0, failed = 0;

    (void)argc;
    (void)argv;
    for (unsigned i = 0; i < count; i++) {
        parsed[i] = pc_options_parse(info->modules[i].cmdline,
                                     sizeof(info->modules[i].cmdline), &options[i]);
    }
    if (count == 0)
        ctl_printf("pc: no guest modules given\n");
    console_switch_init(&console, count);
    if (count > 1)
        ctl_printf("pc: typed input goes to the running guest; Ctrl-A then 1-%u gives it "
                   "to that guest only, Ctrl-A 0 back\n", console.guests);
    else if (count == 1)
        ctl_printf("pc: typed input goes to the guest's COM1\n");
    for (unsigned i = 0; i < count; i++) {
        const char *owner = owner_of(i, count);

        if (parsed[i] < 0) {
            ctl_printf("pc: module %u: %s, skipped\n", i + 1, options[i].error);
            failed++;
            continue;
        }
        if (owner != NULL) {
            ctl_printf("pc: module %u (%s) is passed to guest %s\n", i + 1, options[i].name, owner);
            continue;
        }
        if (run_guest(info, i) < 0)
            failed++;
        else
            ran++;
    }
    ctl_printf("pc: %u guests run, %u failed to run\n", ran, failed);
    ctl_printf("pc done\n");
    return failed == 0 ? 0 : 1;
}
