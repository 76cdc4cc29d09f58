/*
 * bench, third table: the local APIC's hot paths (issue 11), with the
 * bench_lapic guest in a VM whose APICs are the hypervisor's
 * (HV_VM_LAPIC). The guest times its APIC writes itself and leaves the
 * samples in its RAM (see guest-tools/guests/bench_lapic.c); the VMM
 * reads them, then times SIGNAL_MSI from outside. Figures are medians of
 * the last BENCH_LAPIC_SAMPLES rounds, in TSC ticks (instructions under
 * QEMU -icount and Bochs):
 *   EOI        the guest's EOI write, from its RDTSC to the next: the
 *              exit, the hypervisor's EOI, the entry (one guest store);
 *   self-IPI   the ICR write to the handler's first RDTSC, less the
 *              guest's own way from INT to that RDTSC (phase 0's median),
 *              which is no hypervisor code;
 *   timer      a one-shot count of 1 armed, the host timer's interrupt,
 *              the injection and the handler's EOI, less the same;
 *   MSI        SIGNAL_MSI on the vcpu and RUN until the handler's OUT
 *              (two hypercalls, the guest's delivery and its handler);
 * and the same in x2APIC mode (WRMSR exits: EOI 0x80B, self-IPI through
 * the ICR 0x830 and the SELF IPI register 0x83F, the TSC-deadline timer),
 * the path of a guest that finds x2APIC in CPUID, as Linux does.
 * An IPI to a vcpu on another CPU and a wake from HLT by an IPI need two
 * CPUs side by side: bench_ipi.c's table, which `make bench` runs under
 * Bochs.
 */
#include <stdbool.h>

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/cmdline.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/tools/bench.h"
#include "guest-tools/vmm/vmm.h"

#define BENCH_LAPIC_ROUNDS      1100      /* as the guest */
#define BENCH_LAPIC_SAMPLES     1000      /* the last ones of each phase */
#define BENCH_LAPIC_RESULTS     0x300000
#define BENCH_LAPIC_PORT_PHASES 0x90
#define BENCH_LAPIC_PORT_MSI    0x91
#define BENCH_LAPIC_PORT_X2APIC 0x92
#define BENCH_LAPIC_VECTOR_MSI  0x43
#define BENCH_LAPIC_RAM         8         /* MiB */
#define BENCH_LAPIC_MSI_ADDRESS 0xfee00000u /* destination APIC ID 0 */

static uint64_t samples[BENCH_LAPIC_SAMPLES];

/* Median of the guest's last samples of phase `phase`. */
static uint64_t phase_median(const struct vm_instance *vm, unsigned phase)
{
    const volatile uint32_t *results =
        (const volatile uint32_t *)(vm->ram + BENCH_LAPIC_RESULTS);
    unsigned first = phase * BENCH_LAPIC_ROUNDS + (BENCH_LAPIC_ROUNDS - BENCH_LAPIC_SAMPLES);
    for (unsigned i = 0; i < BENCH_LAPIC_SAMPLES; i++)
        samples[i] = results[first + i];
    return bench_median(samples, BENCH_LAPIC_SAMPLES);
}

/* SIGNAL_MSI and the RUN that delivers it, until the handler's OUT. */
static uint64_t time_msi(struct vm_instance *vm)
{
    for (unsigned i = 0; i < BENCH_LAPIC_ROUNDS; i++) {
        uint64_t start = rdtsc();
        if (hv_signal_msi(vm->vcpu, BENCH_LAPIC_MSI_ADDRESS, BENCH_LAPIC_VECTOR_MSI) != 1)
            return 0;
        if (!bench_run_to_port(vm, BENCH_LAPIC_PORT_MSI))
            return 0;
        uint64_t end = rdtsc();
        if (i >= BENCH_LAPIC_ROUNDS - BENCH_LAPIC_SAMPLES)
            samples[i - (BENCH_LAPIC_ROUNDS - BENCH_LAPIC_SAMPLES)] = end - start;
    }
    return bench_median(samples, BENCH_LAPIC_SAMPLES);
}

static void print_row(const char *name, uint64_t measured, uint64_t target)
{
    if (target)
        ctl_printf("bench: %-46s %8lu %8lu%s\n", name, measured, target,
                   measured > target ? "  ABOVE TARGET" : "");
    else
        ctl_printf("bench: %-46s %8lu %8s\n", name, measured, "-");
}

int bench_lapic_table(const struct hv_boot_info *info)
{
    const struct hv_boot_module *guest = module_find(info, "bench_lapic");
    if (!guest) {
        ctl_printf("bench: needs the bench_lapic module\n");
        return 1;
    }
    struct vm_instance vm;
    if (vmm_create_with(&vm, info->system_handle, "bench_lapic", BENCH_LAPIC_RAM, 1,
                        HV_VM_LAPIC) < 0)
        return 1;
    if (vmm_load_module(&vm, guest) < 0 || !bench_run_to_port(&vm, BENCH_LAPIC_PORT_PHASES)) {
        vmm_destroy(&vm);
        return 1;
    }
    uint64_t soft = phase_median(&vm, 0);
    uint64_t self_ipi = phase_median(&vm, 1);
    uint64_t eoi = phase_median(&vm, 2);
    uint64_t timer = phase_median(&vm, 3);
    uint64_t msi = time_msi(&vm);
    if (!msi) {
        vmm_destroy(&vm);
        ctl_printf("bench: SIGNAL_MSI round trip could not be measured\n");
        return 1;
    }
    if (!bench_run_to_port(&vm, BENCH_LAPIC_PORT_X2APIC)) {
        vmm_destroy(&vm);
        ctl_printf("bench: the x2APIC phases did not finish\n");
        return 1;
    }
    uint64_t x2_self_ipi = phase_median(&vm, 4);
    uint64_t x2_eoi = phase_median(&vm, 5);
    uint64_t x2_self_ipi_reg = phase_median(&vm, 6);
    uint64_t x2_timer = phase_median(&vm, 7);
    vmm_destroy(&vm);
    ctl_printf("bench: local APIC in the hypervisor (xAPIC guest, median of %u, instructions)\n",
               BENCH_LAPIC_SAMPLES);
    ctl_printf("bench: %-46s %8s %8s\n", "path", "ours", "target");
    print_row("EOI (guest's write to the handler's next insn)", eoi, 150);
    print_row("self-IPI (ICR write to handler, less INT path)",
              self_ipi > soft ? self_ipi - soft : 0, 300);
    print_row("LAPIC timer end to end (arm 1 tick, fire, EOI)",
              timer > soft ? timer - soft : 0, 600);
    print_row("SIGNAL_MSI + RUN to the handler's OUT (VMM)", msi, 0);
    ctl_printf("bench: local APIC in the hypervisor (x2APIC guest, WRMSR exits, median of %u)\n",
               BENCH_LAPIC_SAMPLES);
    ctl_printf("bench: %-46s %8s %8s\n", "path", "ours", "target");
    print_row("x2APIC EOI (WRMSR 0x80B to the next insn)", x2_eoi, 150);
    print_row("x2APIC self-IPI, ICR 0x830, less INT path",
              x2_self_ipi > soft ? x2_self_ipi - soft : 0, 300);
    print_row("x2APIC self-IPI, SELF IPI 0x83F, less INT path",
              x2_self_ipi_reg > soft ? x2_self_ipi_reg - soft : 0, 300);
    print_row("TSC-deadline timer end to end (passed, EOI)",
              x2_timer > soft ? x2_timer - soft : 0, 600);
    ctl_printf("bench: the guest's own INT-to-handler path subtracted above: %lu\n", soft);
    return 0;
}
