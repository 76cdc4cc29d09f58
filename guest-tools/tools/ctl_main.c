/*
 * The control domain's C entry, called by start.S on every vcpu. vcpu 0
 * finds the hypervisor, sets up the console and the page allocator, runs
 * the tool the command line names and powers the machine off with its
 * result; the other vcpus have no work yet and halt.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/cmdline.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/power.h"
#include "guest-tools/tools/tool.h"

#define MAX_ARGS     32

void ctl_main(const struct hv_boot_info *info, unsigned cpu);

/* Words of the domain's command line; argv points into args_buffer. */
static char args_buffer[sizeof(((struct hv_boot_info *)0)->cmdline) + 1];
static char *argv[MAX_ARGS + 1];
static char default_tool[] = "demo";     /* for an empty command line */

static void list_tools(void)
{
    for (const struct tool *t = ctl_tools; t->name != NULL; t++)
        ctl_printf("  %-8s %s\n", t->name, t->summary);
}

/* Everything before the tool runs; 0 or a negated HV_E* code. Without
 * the hypervisor there is no console, so failures there are silent and
 * visible only in the power-off status. */
static int set_up(const struct hv_boot_info *info)
{
    long version;

    if (info->magic != HV_BOOT_MAGIC)
        return -HV_EINVAL;
    if (hv_init() < 0)
        return -HV_ENODEV;
    console_init(info->system_handle);
    smp_init(info->system_handle, info->cpu_count);

    version = hv_get_api_version(info->system_handle);
    ctl_printf("control domain: %u CPUs, %lu MiB RAM, %u modules, %s backend, "
               "API version %ld\n", info->cpu_count, info->memory_size >> 20,
               info->module_count, hv_backend_name(hv_backend()), version);
    if (version != HV_API_VERSION) {
        ctl_printf("hypervisor API version %ld, this control domain needs %u\n",
                   version, HV_API_VERSION);
        return -HV_ENOTSUP;
    }
    page_alloc_init(info->free_start, info->free_end);
    ctl_printf("free memory: 0x%lx..0x%lx (%lu MiB)\n", info->free_start,
               info->free_end, page_alloc_free_bytes() >> 20);
    return 0;
}

void ctl_main(const struct hv_boot_info *info, unsigned cpu)
{
    const struct tool *tool;
    int argc, status;

    if (cpu != 0)
        smp_idle_loop(cpu);      /* waits for vcpu 0 to hand it work */
    if (set_up(info) < 0) {
        console_flush();
        power_off(1);
    }

    argc = cmdline_split(info->cmdline, sizeof(info->cmdline), args_buffer,
                         sizeof(args_buffer), argv, MAX_ARGS + 1);
    if (argc == 0) {
        argv[0] = default_tool;
        argv[1] = NULL;
        argc = 1;
    }
    tool = tool_find(argv[0]);
    if (tool == NULL) {
        ctl_printf("unknown tool \"%s\"; known tools:\n", argv[0]);
        list_tools();
        console_flush();
        power_off(1);
    }

    ctl_printf("running tool %s\n", tool->name);
    status = tool->main(info, argc, argv);
    ctl_printf("tool %s finished with status %d\n", tool->name, status);
    console_flush();
    power_off(status == 0 ? 0 : 1);
}
