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
 *
 * Guests whose modules say `together` run at once, where the first of
 * them comes in the order, their vcpus sharing the CPUs (pc_vms_run);
 * their ends are reported in module order once all have ended. Input
 * then goes to the guest Ctrl-A n names, or to the first one still
 * running.
 *
 * `pc beside <tool> [args]` runs the `together` guests on CPUs 1.. while
 * CPU 0 runs the tool (e.g. hvtest, the conformance suite), whose jobs
 * for the other CPUs run there between the guests' quanta; the modules
 * not marked `together` are the tool's, not booted. The pc tool's status
 * is then the other tool's if that failed.
 */
#include "guest-tools/libhv/libhv.h"
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

/* Builds and loads module `index` as a guest in *pc; 0, or a negated
 * HV_E* code after saying why (nothing left to destroy then). */
static int prepare_guest(const struct hv_boot_info *info, unsigned index, struct pc_vm **out)
{
    const struct pc_options *o = &options[index];
    const struct hv_boot_module *extra[HV_BOOT_MAX_MODULES];
    const struct hv_boot_module *initrd = NULL;
    struct pc_vm *pc;
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
    if (rc < 0) {
        pc_vm_destroy(pc);
        return rc;
    }
    *out = pc;
    return 0;
}

static void report_end(unsigned index, const struct pc_result *result)
{
    char verdict[64];

    pc_vm_end_text(result, options[index].timeout_seconds, verdict, sizeof(verdict));
    ctl_printf("guest %s %s\n", options[index].name, verdict);
}

/* Builds, loads and runs module `index`; 0 when it ran to an end. */
static int run_guest(const struct hv_boot_info *info, unsigned index)
{
    struct pc_result result;
    struct pc_vm *pc;
    int rc = prepare_guest(info, index, &pc);

    if (rc < 0)
        return rc;
    rc = pc_vm_run(pc, &result);
    if (rc == 0)
        report_end(index, &result);
    pc_vm_destroy(pc);
    return rc;
}

/* The tool run beside the guests, on CPU 0. */
struct beside {
    const struct tool *tool;
    const struct hv_boot_info *info;
    int argc;
    char **argv;
    int status;
};

static void run_beside(void *arg)
{
    struct beside *b = arg;

    ctl_printf("pc: running tool %s beside the guests\n", b->tool->name);
    b->status = b->tool->main(b->info, b->argc, b->argv);
    ctl_printf("pc: tool %s beside the guests finished with status %d\n", b->tool->name,
               b->status);
}

/* Builds the guests of `members` (module indices), runs those built at
 * once (beside `b` if not NULL), reports their ends in module order and
 * destroys them in reverse (the allocator is a stack). Counts into *ran
 * and *failed. */
static void run_together(const struct hv_boot_info *info, const unsigned *members,
                         unsigned count, struct beside *b, unsigned *ran, unsigned *failed)
{
    struct pc_vm *pcs[PC_GROUP_MAX];
    struct pc_result results[PC_GROUP_MAX];
    unsigned built[PC_GROUP_MAX], n = 0;
    int rc;

    for (unsigned i = 0; i < count; i++) {
        if (prepare_guest(info, members[i], &pcs[n]) < 0) {
            (*failed)++;
            continue;
        }
        built[n++] = members[i];
    }
    if (n == 0 && b == NULL)
        return;
    ctl_printf("pc: %u guest%s together%s\n", n, n == 1 ? "" : "s",
               b != NULL ? ", beside the tool on CPU 0" : "");
    if (b == NULL)
        rc = pc_vms_run(pcs, n, results);
    else if (n == 0) {
        run_beside(b);
        rc = 0;
    } else
        rc = pc_vms_run_beside(pcs, n, results, run_beside, b);
    if (rc < 0)
        ctl_printf("pc: running the guests together failed: %s\n", hv_strerror(rc));
    for (unsigned g = 0; g < n; g++) {
        if (rc == 0) {
            report_end(built[g], &results[g]);
            (*ran)++;
        } else {
            (*failed)++;
        }
    }
    for (unsigned g = n; g-- > 0;)
        pc_vm_destroy(pcs[g]);
}

int pc_main(const struct hv_boot_info *info, int argc, char **argv)
{
    unsigned count = module_count(info), ran = 0, failed = 0, together[PC_GROUP_MAX];
    unsigned together_count = 0;
    bool together_done = false;
    struct beside beside = { .info = info }, *b = NULL;

    if (argc >= 3 && strcmp(argv[1], "beside") == 0) {
        beside.tool = tool_find(argv[2]);
        if (beside.tool == NULL || beside.tool->main == pc_main) {
            ctl_printf("pc: no tool %s to run beside the guests\n", argv[2]);
            return 1;
        }
        beside.argc = argc - 2;
        beside.argv = argv + 2;
        b = &beside;
    } else if (argc > 1) {
        ctl_printf("pc: unknown arguments (pc [beside <tool> [args]])\n");
        return 1;
    }
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
        if (options[i].together && !together_done) {
            /* The group, at its first member's place. */
            for (unsigned j = i; j < count && together_count < PC_GROUP_MAX; j++)
                if (parsed[j] == 0 && options[j].together && owner_of(j, count) == NULL)
                    together[together_count++] = j;
            run_together(info, together, together_count, b, &ran, &failed);
            together_done = true;
        }
        if (options[i].together)
            continue;
        if (b != NULL) {
            ctl_printf("pc: module %u (%s) is left to tool %s\n", i + 1, options[i].name,
                       b->tool->name);
            continue;
        }
        if (run_guest(info, i) < 0)
            failed++;
        else
            ran++;
    }
    if (b != NULL && !together_done)
        run_together(info, together, 0, b, &ran, &failed);
    ctl_printf("pc: %u guests run, %u failed to run\n", ran, failed);
    ctl_printf("pc done\n");
    if (b != NULL && b->status != 0)
        return b->status;
    return failed == 0 ? 0 : 1;
}
