/*
 * bench: the cost of the hypervisor's hot paths, in TSC ticks measured in
 * the control domain. Run under QEMU with -icount shift=0 (`make bench`) a
 * tick is one executed instruction and a VMRUN with its #VMEXIT counts as
 * one, so each figure is the length of our own code path, reproducible
 * anywhere. Each figure is the median of BENCH_SAMPLES.
 *
 *   null hypercall   GET_API_VERSION on the system handle
 *   GET_REGS         on a vcpu handle
 *   SET_REGS         of the registers GET_REGS gave
 *   OUT round trip   RUN of a guest that executes OUT to a port the VMM
 *                    handles; the next RUN resumes it
 *   guest CPUID      timed by the guest itself; handled in the hypervisor
 *   MMIO round trip  RUN of a guest that writes to a guest-physical
 *                    address without memory; the VMM moves RIP past the
 *                    instruction (GET_REGS/SET_REGS, not timed) before the
 *                    next RUN resumes it
 *   MMIO write, the VMM's whole work: the same with GET_REGS and SET_REGS
 *                    timed, and RUN of the guest in a VM with
 *                    HV_VM_DECODED_MMIO, where the next RUN completes it
 *
 * The KVM column is Linux 6.1 KVM on the same emulated CPU, measured the
 * same way (PLATFORM.md). A second table (bench_smp.c) compares GET_REGS
 * from several CPUs on their own vcpus with all of them on one vcpu; a
 * third (bench_lapic.c) has the local APIC's paths.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/cmdline.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/bench.h"
#include "guest-tools/tools/tool.h"
#include "guest-tools/vmm/vmm.h"

#define BENCH_SAMPLES      1000
#define BENCH_WARMUP       50
#define BENCH_GUEST_RAM    8       /* MiB */
#define BENCH_RESULTS_GPA  0x300000
#define BENCH_PORT_LOOP    0x80
#define BENCH_PORT_DONE    0x81
#define BENCH_PORT_XSTATE  0x82
#define BENCH_MMIO         0xd0000000u

static uint64_t samples[BENCH_SAMPLES];

/* Median by insertion sort: 1000 values, run once per figure. */
uint64_t bench_median(uint64_t *values, unsigned count)
{
    for (unsigned i = 1; i < count; i++) {
        uint64_t v = values[i];
        unsigned j = i;
        for (; j > 0 && values[j - 1] > v; j--)
            values[j] = values[j - 1];
        values[j] = v;
    }
    return values[count / 2];
}

bool bench_run_to_port(const struct vm_instance *vm, uint16_t port)
{
    for (unsigned runs = 0; runs < 1000000; runs++) {
        if (hv_run(vm->vcpu) < 0)
            return false;
        const struct hv_run *run = vm->run;
        if (run->exit_reason == HV_EXIT_INTR)
            continue;
        if (run->exit_reason == HV_EXIT_IO && run->io.direction == HV_IO_OUT &&
            run->io.port == port)
            return true;
        ctl_printf("bench: guest %s: waiting for port 0x%x, got exit %u at rip 0x%lx\n",
                   vm->name, port, run->exit_reason, run->exit_rip);
        return false;
    }
    return false;
}

struct figure {
    const char *name;
    uint64_t measured;
    uint64_t target;
    uint64_t kvm;
};

/* A figure without a target or a KVM figure (0) shows "-" there (no KVM
 * figure measured for it: PLATFORM.md). */
static void print_table(const struct figure *figures, unsigned count)
{
    unsigned over = 0, targeted = 0;
    ctl_printf("bench: %-36s %8s %8s %8s\n", "path (median of 1000, instructions)",
               "ours", "target", "KVM");
    for (unsigned i = 0; i < count; i++) {
        const struct figure *f = &figures[i];
        char target[24] = "-", kvm[24] = "-";
        if (f->target)
            snprintf(target, sizeof(target), "%lu", f->target);
        if (f->kvm)
            snprintf(kvm, sizeof(kvm), "%lu", f->kvm);
        bool above = f->target && f->measured > f->target;
        ctl_printf("bench: %-36s %8lu %8s %8s%s\n", f->name, f->measured, target, kvm,
                   above ? "  ABOVE TARGET" : "");
        targeted += f->target != 0;
        over += above;
    }
    ctl_printf("bench: %u of %u figures within target\n", targeted - over, targeted);
}

static uint64_t time_null_hypercall(hv_handle_t sys)
{
    for (unsigned i = 0; i < BENCH_WARMUP + BENCH_SAMPLES; i++) {
        uint64_t start = rdtsc();
        hv_get_api_version(sys);
        uint64_t end = rdtsc();
        if (i >= BENCH_WARMUP)
            samples[i - BENCH_WARMUP] = end - start;
    }
    return bench_median(samples, BENCH_SAMPLES);
}

/* The floor under every hypercall: a call number the hypervisor rejects
 * before looking at the handle. Printed as a diagnostic line. */
static uint64_t time_unknown_call(void)
{
    for (unsigned i = 0; i < BENCH_WARMUP + BENCH_SAMPLES; i++) {
        uint64_t start = rdtsc();
        hv_call(0xffff, 0, 0, 0, 0, 0, 0);
        uint64_t end = rdtsc();
        if (i >= BENCH_WARMUP)
            samples[i - BENCH_WARMUP] = end - start;
    }
    return bench_median(samples, BENCH_SAMPLES);
}

static uint64_t time_get_regs(hv_handle_t vcpu)
{
    struct hv_regs regs;
    for (unsigned i = 0; i < BENCH_WARMUP + BENCH_SAMPLES; i++) {
        uint64_t start = rdtsc();
        hv_get_regs(vcpu, &regs);
        uint64_t end = rdtsc();
        if (i >= BENCH_WARMUP)
            samples[i - BENCH_WARMUP] = end - start;
    }
    return bench_median(samples, BENCH_SAMPLES);
}

/* SET_REGS of the registers the vcpu has (read once, untimed): a VMM's
 * answer to a hypercall or an emulated instruction. Out of line: inlined,
 * it moved a load into the timed part of GET_REGS' loop. */
static __attribute__((noinline)) uint64_t time_set_regs(hv_handle_t vcpu)
{
    struct hv_regs regs;
    if (hv_get_regs(vcpu, &regs) < 0)
        return 0;
    for (unsigned i = 0; i < BENCH_WARMUP + BENCH_SAMPLES; i++) {
        uint64_t start = rdtsc();
        long err = hv_set_regs(vcpu, &regs);
        uint64_t end = rdtsc();
        if (err < 0)
            return 0;
        if (i >= BENCH_WARMUP)
            samples[i - BENCH_WARMUP] = end - start;
    }
    return bench_median(samples, BENCH_SAMPLES);
}

/* Times RUN until the guest has done BENCH_SAMPLES OUTs to `port`; 0 if
 * the guest stopped doing them. */
static uint64_t time_out_round_trip(struct vm_instance *vm, uint16_t port)
{
    unsigned done = 0, runs = 0;
    while (done < BENCH_SAMPLES && runs++ < BENCH_SAMPLES * 3) {
        uint64_t start = rdtsc();
        long err = hv_run(vm->vcpu);
        uint64_t end = rdtsc();
        const struct hv_run *run = vm->run;
        if (err < 0)
            return 0;
        if (run->exit_reason == HV_EXIT_INTR)
            continue;                   /* a time slice ended: not a sample */
        if (run->exit_reason != HV_EXIT_IO || run->io.port != port) {
            ctl_printf("bench: waiting for OUTs to port 0x%x, got exit %u at rip 0x%lx\n",
                       port, run->exit_reason, run->exit_rip);
            return 0;
        }
        if (runs > BENCH_WARMUP / 2)
            samples[done++] = end - start;
    }
    return done == BENCH_SAMPLES ? bench_median(samples, BENCH_SAMPLES) : 0;
}

/* What a sample of the MMIO round trip times: RUN alone, the VMM moving
 * RIP (GET_REGS, SET_REGS) outside the timed part; the VMM's whole work
 * for an undecoded access (RUN, GET_REGS, SET_REGS); or RUN of a VM with
 * HV_VM_DECODED_MMIO, which is the whole work there. */
enum mmio_timing { MMIO_RUN_ONLY, MMIO_WHOLE_UNDECODED, MMIO_DECODED };

/* Times RUN until the guest has made BENCH_SAMPLES MMIO writes to
 * BENCH_MMIO, each completed as `timing` says; 0 if the guest stopped
 * making them. */
static uint64_t time_mmio_round_trip(struct vm_instance *vm, enum mmio_timing timing)
{
    unsigned done = 0, runs = 0;
    while (done < BENCH_SAMPLES && runs++ < BENCH_SAMPLES * 3) {
        uint64_t start = rdtsc();
        long err = hv_run(vm->vcpu);
        uint64_t end = rdtsc();
        const struct hv_run *run = vm->run;
        if (err < 0)
            return 0;
        if (run->exit_reason == HV_EXIT_INTR)
            continue;
        if (run->exit_reason == HV_EXIT_IO && run->io.port == BENCH_PORT_XSTATE && !done) {
            runs--;         /* the end of phase 3, which the guest goes on with */
            continue;
        }
        /* The guest's MOV moffs32, EAX: a3 and a 4-byte address. */
        if (run->exit_reason != HV_EXIT_MMIO || run->mmio.phys_addr != BENCH_MMIO ||
            !run->mmio.is_write || run->mmio.insn_length < 5 ||
            run->mmio.insn_bytes[0] != 0xa3 || run->mmio.decoded != (timing == MMIO_DECODED)) {
            ctl_printf("bench: waiting for MMIO writes to 0x%x, got exit %u at rip 0x%lx\n",
                       BENCH_MMIO, run->exit_reason, run->exit_rip);
            return 0;
        }
        if (timing != MMIO_DECODED) {
            struct hv_regs regs;
            if (hv_get_regs(vm->vcpu, &regs) < 0)
                return 0;
            regs.rip += 5;
            if (hv_set_regs(vm->vcpu, &regs) < 0)
                return 0;
            if (timing == MMIO_WHOLE_UNDECODED)
                end = rdtsc();
        }
        if (runs > BENCH_WARMUP / 2)
            samples[done++] = end - start;
    }
    return done == BENCH_SAMPLES ? bench_median(samples, BENCH_SAMPLES) : 0;
}

/* The same guest in a VM with HV_VM_DECODED_MMIO, run through its phases
 * to its MMIO writes; 0 if it could not be made or got there. */
static uint64_t decoded_mmio_figure(hv_handle_t sys, const struct hv_boot_module *guest)
{
    struct vm_instance vm;
    uint64_t figure = 0;
    if (vmm_create_with(&vm, sys, "bench_decoded", BENCH_GUEST_RAM, 1, HV_VM_DECODED_MMIO) < 0)
        return 0;
    if (vmm_load_module(&vm, guest) == 0) {
        for (unsigned runs = 0; runs < 1000000 && figure == 0; runs++) {
            if (hv_run(vm.vcpu) < 0)
                break;
            uint32_t reason = vm.run->exit_reason;
            if (reason == HV_EXIT_MMIO) {
                /* the first write, completed by the next RUN, untimed */
                figure = time_mmio_round_trip(&vm, MMIO_DECODED);
                break;
            }
            if (reason != HV_EXIT_IO && reason != HV_EXIT_INTR)
                break;
        }
    }
    vmm_destroy(&vm);
    return figure;
}

/* Lets the guest finish its CPUID phase and reads what it measured. */
static uint64_t guest_cpuid_figure(struct vm_instance *vm)
{
    for (unsigned runs = 0; runs < 100000; runs++) {
        if (hv_run(vm->vcpu) < 0)
            return 0;
        const struct hv_run *run = vm->run;
        if (run->exit_reason == HV_EXIT_IO && run->io.port == BENCH_PORT_DONE)
            break;
        if (run->exit_reason != HV_EXIT_IO && run->exit_reason != HV_EXIT_INTR)
            return 0;
    }
    const volatile uint32_t *results =
        (const volatile uint32_t *)(vm->ram + BENCH_RESULTS_GPA);
    /* The guest's first rounds warm up; use its last BENCH_SAMPLES. */
    for (unsigned i = 0; i < BENCH_SAMPLES; i++)
        samples[i] = results[i + 100];
    return bench_median(samples, BENCH_SAMPLES);
}

int bench_main(const struct hv_boot_info *info, int argc, char **argv)
{
    /* `bench ipi`: the two-CPU table alone, for an emulator whose CPUs
     * run side by side (bench_ipi.c). */
    if (argc > 1 && strcmp(argv[1], "ipi") == 0)
        return bench_ipi_table(info);
    const struct hv_boot_module *guest = module_find(info, "bench_guest");
    if (!guest) {
        ctl_printf("bench: needs the bench_guest module\n");
        return 1;
    }
    struct vm_instance vm;
    if (vmm_create(&vm, info->system_handle, "bench_guest", BENCH_GUEST_RAM) < 0)
        return 1;
    if (vmm_load_module(&vm, guest) < 0) {
        vmm_destroy(&vm);
        return 1;
    }
    /* Run the guest to its first OUT so that its state is warm. */
    struct vmm_result result;
    vmm_run(&vm, 0, 1, &result);

    uint64_t start = rdtsc(), overhead = rdtsc() - start;
    /* In this order: the guest's phases follow one another. */
    uint64_t null_call = time_null_hypercall(info->system_handle);
    uint64_t get_regs = time_get_regs(vm.vcpu);
    uint64_t set_regs = time_set_regs(vm.vcpu);
    uint64_t out_trip = time_out_round_trip(&vm, BENCH_PORT_LOOP);
    uint64_t cpuid = guest_cpuid_figure(&vm);
    uint64_t out_trip_xstate = time_out_round_trip(&vm, BENCH_PORT_XSTATE);
    uint64_t mmio_trip = time_mmio_round_trip(&vm, MMIO_RUN_ONLY);
    uint64_t mmio_whole = time_mmio_round_trip(&vm, MMIO_WHOLE_UNDECODED);
    vmm_destroy(&vm);
    uint64_t mmio_decoded = decoded_mmio_figure(info->system_handle, guest);
    /* Targets: issue 14. */
    struct figure figures[] = {
        { "null hypercall (GET_API_VERSION)", null_call, 100, 2765 },
        { "GET_REGS", get_regs, 150, 1368 },
        { "SET_REGS", set_regs, 0, 0 },
        { "RUN round trip, guest OUT to VMM", out_trip, 300, 3327 },
        { "guest CPUID (in the hypervisor)", cpuid, 100, 2613 },
        { "RUN round trip, guest with SSE/AVX state", out_trip_xstate, 300, 3327 },
        { "RUN round trip, guest MMIO write", mmio_trip, 350, 0 },
        { "MMIO write + GET_REGS + SET_REGS", mmio_whole, 0, 0 },
        { "MMIO write, decoded (RUN only)", mmio_decoded, 0, 0 },
    };
    ctl_printf("bench: backend %s; each figure includes its RDTSC pair (%lu)\n",
               hv_backend_name(hv_backend()), overhead);
    ctl_printf("bench: floor: a hypercall with an unknown number costs %lu\n",
               time_unknown_call());
    print_table(figures, sizeof(figures) / sizeof(figures[0]));
    if (bench_smp_table(info->system_handle) != 0)
        return 1;
    if (bench_lapic_table(info) != 0)
        return 1;
    for (unsigned i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
        if (figures[i].measured == 0) {
            ctl_printf("bench: %s could not be measured\n", figures[i].name);
            return 1;
        }
    return 0;
}
