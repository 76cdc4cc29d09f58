/*
 * Every tool the control domain can run, by name. "hvtest" (the ABI test
 * suite) and "bench" (exit-cost benchmarks) plug in here when they exist.
 */
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/tool.h"

const struct tool ctl_tools[] = {
    { "demo", "run every guest module and report how each ended", demo_main },
    { "pc", "boot every guest module on the virtual PC (LAPIC, IOAPIC, PIC, PIT, RTC, "
      "ACPI, COM1)", pc_main },
    { "hvtest", "hypercall ABI conformance tests", hvtest_main },
    { "bench", "exit and hypercall latency benchmarks [ipi: the two-CPU APIC paths]",
      bench_main },
    { "region_churn", "memory-slot add/delete cycles across the guest-physical "
      "space [cycles]", region_churn_main },
    { "readline", "read lines typed at the hypervisor's console and echo them "
      "[lines]", readline_main },
    { "fuzz", "random hypercalls checked against the ABI's error rules, then a leak "
      "check [seed] [calls]", fuzz_main },
    { "mcwait", "count machine checks injected from outside (system test)", mcwait_main },
    { "crash", "stop this control domain with a page fault it cannot deliver (system "
      "test of the hypervisor's report)", crash_main },
    { NULL, NULL, NULL },
};

const struct tool *tool_find(const char *name)
{
    for (const struct tool *t = ctl_tools; t->name != NULL; t++) {
        if (strcmp(t->name, name) == 0)
            return t;
    }
    return NULL;
}
