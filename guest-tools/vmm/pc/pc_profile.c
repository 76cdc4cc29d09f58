/*
 * A PC guest's instruction profile (see pc_profile.h).
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/pc/pc_profile.h"

static const char *const reason_names[PC_PROFILE_REASONS] = {
    [HV_EXIT_UNKNOWN] = "unknown", [HV_EXIT_EXCEPTION] = "exception", [HV_EXIT_IO] = "io",
    [HV_EXIT_HYPERCALL] = "hypercall", [HV_EXIT_DEBUG] = "debug", [HV_EXIT_HLT] = "hlt",
    [HV_EXIT_MMIO] = "mmio", [HV_EXIT_IRQ_WINDOW_OPEN] = "irq_window",
    [HV_EXIT_SHUTDOWN] = "shutdown", [HV_EXIT_FAIL_ENTRY] = "fail_entry",
    [HV_EXIT_INTR] = "intr", [HV_EXIT_INTERNAL_ERROR] = "internal_error",
    [HV_EXIT_IOAPIC_EOI] = "ioapic_eoi", [HV_EXIT_X86_RDMSR] = "rdmsr",
    [HV_EXIT_X86_WRMSR] = "wrmsr", [HV_EXIT_DEADLINE] = "deadline",
};

static uint64_t idle_ticks(hv_handle_t sys)
{
    struct hv_stats stats;

    memset(&stats, 0, sizeof(stats));
    return hv_get_stats(sys, &stats) == 0 ? stats.idle_tsc : 0;
}

void pc_profile_start(struct pc_profile *p, hv_handle_t sys)
{
    p->start_idle = idle_ticks(sys);
    p->start_tsc = __builtin_ia32_rdtsc();
}

void pc_profile_exit(struct pc_profile *p, uint32_t reason, bool after_exit, uint64_t vmm_ticks)
{
    if (reason >= PC_PROFILE_REASONS)
        reason = HV_EXIT_UNKNOWN;
    if (after_exit)
        __atomic_fetch_add(&p->returns_after_exit, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&p->exits[reason], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&p->vmm_ticks[reason], vmm_ticks, __ATOMIC_RELAXED);
}

void pc_profile_end(struct pc_profile *p, hv_handle_t sys)
{
    p->end_tsc = __builtin_ia32_rdtsc();
    p->end_idle = idle_ticks(sys);
}

void pc_profile_report(const struct pc_profile *p, const char *name, uint64_t all_exits)
{
    uint64_t idle = p->end_idle - p->start_idle, ticks = p->end_tsc - p->start_tsc;
    uint64_t vmm_exits = 0, vmm = 0;

    for (unsigned r = 0; r < PC_PROFILE_REASONS; r++) {
        vmm_exits += p->exits[r];
        vmm += p->vmm_ticks[r];
    }
    ctl_printf("guest %s profile: %lu instructions from the first RUN to the end "
               "(%lu TSC ticks less %lu asleep for halted vcpus)\n", name, ticks - idle, ticks,
               idle);
    uint64_t to_vmm = p->returns_after_exit;
    ctl_printf("guest %s profile: %lu exits, %lu to the VMM, %lu handled in the hypervisor "
               "(without those its fast paths finish: plain CPUID, x2APIC EOI and self-IPI); "
               "%lu RUNs returned without entering\n",
               name, all_exits, to_vmm, all_exits > to_vmm ? all_exits - to_vmm : 0,
               vmm_exits - to_vmm);
    for (unsigned r = 0; r < PC_PROFILE_REASONS; r++)
        if (p->exits[r] != 0)
            ctl_printf("guest %s profile: to the VMM %s: %lu returns, %lu instructions in the "
                       "VMM\n", name, reason_names[r] ? reason_names[r] : "other", p->exits[r],
                       p->vmm_ticks[r]);
    ctl_printf("guest %s profile: %lu instructions in the VMM, %lu in the guest and the "
               "hypervisor\n", name, vmm, ticks - idle - vmm);
}
