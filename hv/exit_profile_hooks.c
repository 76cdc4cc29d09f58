/* The exit profile's hooks and report, in a bench build only
 * (HV_EXIT_PROFILE; see exit_profile.h). */
#ifdef HV_EXIT_PROFILE
#include "hv/acpi.h"
#include "hv/console.h"
#include "hv/exit_profile.h"
#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/x86.h"

struct exit_profile exit_profiles[MAX_CPUS];

void exit_profile_on_exit(struct vcpu *vcpu, unsigned cls)
{
    uint64_t now = rdtsc();
    struct percpu *cpu = this_cpu();
    if (vcpu->vm->is_control)
        exit_profile_control_exit(&exit_profiles[cpu->index], now, cpu->idle_tsc);
    else
        exit_profile_child_exit(&exit_profiles[cpu->index], cls, now, cpu->idle_tsc);
}

void exit_profile_on_enter(struct vcpu *vcpu)
{
    uint64_t now = rdtsc();
    struct percpu *cpu = this_cpu();
    if (vcpu->vm->is_control)
        exit_profile_control_enter(&exit_profiles[cpu->index], now, cpu->idle_tsc);
    else
        exit_profile_child_enter(&exit_profiles[cpu->index], now, cpu->idle_tsc);
}

/* Other CPUs may be counting meanwhile: a bench reads this after its one
 * guest ended, when they are not. */
void exit_profile_report(void)
{
    static const char *const by_names[EXIT_PROFILE_BY_COUNT] = { "hypervisor", "vmm" };
    for (unsigned i = 0; i < cpu_count; i++) {
        struct exit_profile *p = &exit_profiles[i];
        for (unsigned c = 0; c < EXIT_PROFILE_CLASSES; c++)
            for (unsigned b = 0; b < EXIT_PROFILE_BY_COUNT; b++)
                if (p->cells[c][b].exits)
                    pr_info("exit profile: cpu%u %s by %s: %lu exits, %lu ticks\n", i,
                            exit_profile_class_name(c), by_names[b], p->cells[c][b].exits,
                            p->cells[c][b].ticks);
        if (p->xstate_runs)
            pr_info("exit profile xstate: cpu%u: %lu RUNs, %lu ticks\n", i, p->xstate_runs,
                    p->xstate_ticks);
        exit_profile_clear(p);
    }
}
#endif
