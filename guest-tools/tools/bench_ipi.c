/*
 * bench, fourth table: the local APIC's paths between two CPUs (issue
 * 11), with the bench_ipi guest in a 2-vcpu HV_VM_LAPIC VM, vcpu 0 run
 * from control-domain CPU 0 and vcpu 1 from CPU 1 (see
 * guest-tools/guests/bench_ipi.c for the guest's phases). Rows:
 *   IPI, running  vcpu 0's x2APIC ICR write to vcpu 1's handler, vcpu 1
 *                 in its guest: the sender's exit and IPI, the kick, the
 *                 receiver's exit and injection;
 *   IPI, halted   the same with vcpu 1 asleep in the hypervisor's HLT;
 *                 each with the sender's share beside it (its ICR write
 *                 to its next instruction);
 *   MSI, halted   SIGNAL_MSI from the VMM on CPU 0 (a device interrupt
 *                 the VMM's IOAPIC routes) to vcpu 1 asleep in HLT, until
 *                 the VMM sees its handler's count move.
 * The figures are TSC differences between two CPUs, so they mean a path
 * length only where the CPUs run side by side on one TSC: under Bochs (1
 * tick an instruction on each CPU at once; its quantum, 16 instructions
 * here, bounds the error). Under QEMU -icount the CPUs take turns and the
 * figure holds the turn-taking; `make bench` prints it from Bochs only.
 */
#include <stdbool.h>

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/cmdline.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/tools/bench.h"
#include "guest-tools/vmm/vmm.h"

#define BENCH_IPI_ROUNDS      1100      /* as the guest */
#define BENCH_IPI_SAMPLES     1000      /* the last ones of each phase */
#define BENCH_IPI_RESULTS     0x300000
#define BENCH_IPI_MSI_COUNT   0x2ff000
#define BENCH_IPI_QUIT        0x2ff004
#define BENCH_IPI_AP_ID       0x2ff008
#define BENCH_IPI_PORT_PHASES 0x94
#define BENCH_IPI_PORT_DONE   0x95
#define BENCH_IPI_VECTOR_MSI  0x51
#define BENCH_IPI_RAM         8         /* MiB */
#define SETTLE_TICKS          20000     /* as the guest */

static uint64_t samples[BENCH_IPI_SAMPLES];

struct receiver {
    const struct vmm_vcpu *vcpu;
    volatile bool stop;
    bool done;                      /* it reached BENCH_IPI_PORT_DONE */
    uint32_t last_exit;
};

/* CPU 1: RUN vcpu 1 until its OUT to BENCH_IPI_PORT_DONE, through time
 * slices and kicks; a kick with `stop` set ends it early. */
static void run_receiver(unsigned cpu, void *arg)
{
    struct receiver *r = arg;
    (void)cpu;
    while (!r->stop) {
        if (hv_run(r->vcpu->handle) < 0)
            return;
        const struct hv_run *run = r->vcpu->run;
        r->last_exit = run->exit_reason;
        if (run->exit_reason == HV_EXIT_INTR)
            continue;
        r->done = run->exit_reason == HV_EXIT_IO && run->io.direction == HV_IO_OUT &&
                  run->io.port == BENCH_IPI_PORT_DONE;
        return;
    }
}

static volatile uint32_t *guest_word(const struct vm_instance *vm, uint64_t gpa)
{
    return (volatile uint32_t *)(vm->ram + gpa);
}

static uint64_t phase_median(const struct vm_instance *vm, unsigned phase)
{
    const volatile uint32_t *results = guest_word(vm, BENCH_IPI_RESULTS);
    unsigned first = phase * BENCH_IPI_ROUNDS + (BENCH_IPI_ROUNDS - BENCH_IPI_SAMPLES);
    for (unsigned i = 0; i < BENCH_IPI_SAMPLES; i++)
        samples[i] = results[first + i];
    return bench_median(samples, BENCH_IPI_SAMPLES);
}

static void settle(void)
{
    uint64_t start = rdtsc();
    while (rdtsc() - start < SETTLE_TICKS)
        __asm__ volatile("pause");
}

/* SIGNAL_MSI to vcpu 1, halted, until its handler counts it. */
static uint64_t time_msi(const struct vm_instance *vm, uint32_t ap_id)
{
    volatile uint32_t *count = guest_word(vm, BENCH_IPI_MSI_COUNT);
    uint64_t address = 0xfee00000u | (uint64_t)(ap_id & 0xff) << 12;
    for (unsigned i = 0; i < BENCH_IPI_ROUNDS; i++) {
        uint32_t seen = *count;
        settle();
        uint64_t start = rdtsc();
        if (hv_signal_msi(vm->vcpus[1].handle, address, BENCH_IPI_VECTOR_MSI) != 1)
            return 0;
        for (uint64_t spins = 0; *count == seen; spins++) {
            if (spins > 100000000ull)
                return 0;
            __asm__ volatile("pause");
        }
        uint64_t end = rdtsc();
        if (i >= BENCH_IPI_ROUNDS - BENCH_IPI_SAMPLES)
            samples[i - (BENCH_IPI_ROUNDS - BENCH_IPI_SAMPLES)] = end - start;
    }
    return bench_median(samples, BENCH_IPI_SAMPLES);
}

static void print_row(const char *name, uint64_t measured)
{
    ctl_printf("bench: %-46s %8lu\n", name, measured);
}

int bench_ipi_table(const struct hv_boot_info *info)
{
    const struct hv_boot_module *guest = module_find(info, "bench_ipi");
    if (info->cpu_count < 2)
        return 0;
    if (!guest) {
        ctl_printf("bench: needs the bench_ipi module\n");
        return 1;
    }
    struct vm_instance vm;
    if (vmm_create_with(&vm, info->system_handle, "bench_ipi", BENCH_IPI_RAM, 2,
                        HV_VM_LAPIC) < 0)
        return 1;
    if (vmm_load_module(&vm, guest) < 0) {
        vmm_destroy(&vm);
        return 1;
    }
    static struct receiver receiver;
    receiver = (struct receiver){ .vcpu = &vm.vcpus[1] };
    if (!smp_call(1, run_receiver, &receiver)) {
        vmm_destroy(&vm);
        return 1;
    }
    bool ok = bench_run_to_port(&vm, BENCH_IPI_PORT_PHASES);
    uint64_t running = 0, halted = 0, msi = 0, sent_running = 0, sent_halted = 0;
    uint32_t ap_id = *guest_word(&vm, BENCH_IPI_AP_ID);
    if (ok) {
        running = phase_median(&vm, 0);
        halted = phase_median(&vm, 1);
        sent_running = phase_median(&vm, 2);
        sent_halted = phase_median(&vm, 3);
        msi = time_msi(&vm, ap_id);
    }
    /* vcpu 1 leaves at its next interrupt once QUIT is set; a kick ends
     * its RUN if it is not there. */
    *guest_word(&vm, BENCH_IPI_QUIT) = 1;
    hv_signal_msi(vm.vcpus[1].handle, 0xfee00000u | (uint64_t)(ap_id & 0xff) << 12,
                  BENCH_IPI_VECTOR_MSI);
    for (unsigned i = 0; i < 1000 && !receiver.done; i++) {
        settle();
        if (i == 999) {
            receiver.stop = true;
            hv_kick(vm.vcpus[1].handle);
        }
    }
    smp_wait(1);
    vmm_destroy(&vm);
    if (!ok || !msi || !receiver.done) {
        ctl_printf("bench: the two-CPU APIC paths could not be measured (vcpu 1's last "
                   "exit %u)\n", receiver.last_exit);
        return 1;
    }
    ctl_printf("bench: local APIC between two CPUs (x2APIC guest, median of %u; "
               "cross-CPU TSC differences)\n", BENCH_IPI_SAMPLES);
    ctl_printf("bench: %-46s %8s\n", "path", "ours");
    print_row("IPI to a vcpu in its guest (ICR to handler)", running);
    print_row("  of which the sender's ICR write exit", sent_running);
    print_row("IPI waking a vcpu from HLT (ICR to handler)", halted);
    print_row("  of which the sender's ICR write exit", sent_halted);
    print_row("SIGNAL_MSI waking a vcpu from HLT (VMM sees it)", msi);
    return 0;
}
