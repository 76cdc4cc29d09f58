/* The exit profile's accounting (see exit_profile.h): in the
 * hypervisor's bench build, and in the host's unit tests (hosted C); a
 * product build has none of it. */
#if defined(HV_EXIT_PROFILE) || __STDC_HOSTED__
#include "hv/exit_profile.h"

static const char *const class_names[EXIT_PROFILE_CLASSES] = {
    [EXIT_PROFILE_IO] = "io",           [EXIT_PROFILE_MMIO] = "mmio",
    [EXIT_PROFILE_CPUID] = "cpuid",     [EXIT_PROFILE_RDMSR] = "rdmsr",
    [EXIT_PROFILE_WRMSR] = "wrmsr",     [EXIT_PROFILE_HLT] = "hlt",
    [EXIT_PROFILE_INTERRUPT] = "interrupt", [EXIT_PROFILE_IRQ_WINDOW] = "irq_window",
    [EXIT_PROFILE_CR] = "cr",           [EXIT_PROFILE_XSETBV] = "xsetbv",
    [EXIT_PROFILE_EXCEPTION] = "exception", [EXIT_PROFILE_HYPERCALL] = "hypercall",
    [EXIT_PROFILE_OTHER] = "other",
};

const char *exit_profile_class_name(unsigned cls)
{
    return cls < EXIT_PROFILE_CLASSES ? class_names[cls] : "other";
}

static uint64_t awake(uint64_t since, uint64_t since_idle, uint64_t now, uint64_t idle)
{
    uint64_t ticks = now - since, slept = idle - since_idle;
    return slept < ticks ? ticks - slept : 0;
}

void exit_profile_child_exit(struct exit_profile *p, unsigned cls, uint64_t now, uint64_t idle)
{
    p->child_exit_tsc = now;
    p->child_exit_idle = idle;
    p->child_class = (uint8_t)(cls < EXIT_PROFILE_CLASSES ? cls : EXIT_PROFILE_OTHER);
    p->child_in_exit = true;
}

void exit_profile_child_enter(struct exit_profile *p, uint64_t now, uint64_t idle)
{
    if (p->vmm_way_back) {
        /* The first entry of a RUN after an exit the VMM had: the RUN
         * call's way in, which the exit's first half already counted. */
        p->cells[p->vmm_class][EXIT_PROFILE_BY_VMM].ticks +=
            awake(p->control_exit_tsc, p->control_exit_idle, now, idle);
        p->vmm_way_back = false;
    } else if (p->child_in_exit) {
        struct exit_profile_cell *c = &p->cells[p->child_class][EXIT_PROFILE_BY_HYPERVISOR];
        c->exits++;
        c->ticks += awake(p->child_exit_tsc, p->child_exit_idle, now, idle);
    }
    /* else the vcpu's first entry on this CPU: no exit to finish. */
    p->child_in_exit = false;
}

void exit_profile_control_exit(struct exit_profile *p, uint64_t now, uint64_t idle)
{
    p->control_exit_tsc = now;
    p->control_exit_idle = idle;
}

void exit_profile_control_enter(struct exit_profile *p, uint64_t now, uint64_t idle)
{
    if (!p->child_in_exit)
        return; /* the return of any other call */
    /* The child's loop stopped: RUN returns to the VMM with this exit. */
    struct exit_profile_cell *c = &p->cells[p->child_class][EXIT_PROFILE_BY_VMM];
    c->exits++;
    c->ticks += awake(p->child_exit_tsc, p->child_exit_idle, now, idle);
    p->child_in_exit = false;
    p->vmm_class = p->child_class;
    p->vmm_way_back = true;
}

void exit_profile_clear(struct exit_profile *p)
{
    for (unsigned c = 0; c < EXIT_PROFILE_CLASSES; c++)
        for (unsigned b = 0; b < EXIT_PROFILE_BY_COUNT; b++)
            p->cells[c][b] = (struct exit_profile_cell){ 0, 0 };
    p->xstate_runs = 0;
    p->xstate_ticks = 0;
}
#endif
