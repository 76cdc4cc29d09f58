/* Boot sequence of the bootstrap processor, from the loader's hand-off to
 * every CPU running with virtualization on. */
#include "abi/hv_errno.h"
#include "hv/acpi.h"
#include "hv/apic.h"
#include "hv/boot_info.h"
#include "hv/cmdline.h"
#include "hv/console.h"
#include "hv/console_input.h"
#include "hv/control_domain.h"
#include "hv/cpuid.h"
#include "hv/fault_inject.h"
#include "hv/fpu.h"
#include "hv/hypercall.h"
#include "hv/machine_check.h"
#include "hv/memory.h"
#include "hv/msr_switch.h"
#include "hv/multiboot.h"
#include "hv/nmi.h"
#include "hv/percpu.h"
#include "hv/run_watchdog.h"
#include "hv/smp.h"
#include "hv/speculation.h"
#include "hv/time.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/version.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include "hv/x86.h"
#include "mmu/host_map.h"

extern char __image_start[], __bss_end[];

static struct boot_info boot;
static struct hv_options options;
static struct acpi_tables acpi;
static struct madt_info madt;

#define MAX_RESERVED (8 + BOOT_MAX_MODULES + ACPI_MAX_TABLES)
static struct phys_range reserved[MAX_RESERVED];
static unsigned reserved_count;

/* Before our own page tables, physical memory is reachable through the boot
 * identity map of the first 4 GiB only. */
static const void *early_map(uint64_t phys, size_t len, void *ctx)
{
    (void)ctx;
    if (phys + len < phys || phys + len > (4ull << 30))
        return NULL;
    return (const void *)(uintptr_t)phys;
}

static void reserve(uint64_t base, uint64_t end)
{
    if (reserved_count < MAX_RESERVED && end > base)
        reserved[reserved_count++] = (struct phys_range){ base, end };
}

static void reserve_string(const char *s)
{
    uint64_t p = (uint64_t)(uintptr_t)s;
    reserve(p & ~0xfffull, (p & ~0xfffull) + FRAME_SIZE);
}

/* The kick interrupt only needs to end the guest's run: the exit has already
 * happened by the time it is taken. The timer also marks the slice over. */
static void acknowledge_interrupt(struct trap_frame *frame)
{
    (void)frame;
    apic_eoi();
}

/* The timer fired: nothing is armed any more (hv/host_timer.h). */
static void host_timer_fired(struct trap_frame *frame)
{
    (void)frame;
    this_cpu()->host_timer_end = 0;
    apic_eoi();
}

static __attribute__((noreturn)) void stop(const char *why)
{
    pr_error("hv: %s", why);
    pr_error("hv: halted.");
    halt_forever();
}

/* QEMU's TCG names itself in the hypervisor leaf ("TCGTCGTCGTCG"); its
 * emulated CPU is the only one known to need qemu_x87_guard. */
static bool under_qemu_tcg(void)
{
    uint32_t a, b, c, d;
    cpuid_count(1, 0, &a, &b, &c, &d);
    if (!(c & (1u << 31))) /* CPUID.1:ECX.hypervisor */
        return false;
    cpuid_count(0x40000000, 0, &a, &b, &c, &d);
    return b == 0x54474354 && c == 0x43544743 && d == 0x47435447;
}

static void parse_loader_info(uint32_t magic, uint64_t info)
{
    int err;
    if (magic == MULTIBOOT2_LOADER_MAGIC)
        err = multiboot2_parse(early_map(info, 8, NULL),
                               info < (4ull << 30) ? (4ull << 30) - info : 0, &boot);
    else if (magic == MULTIBOOT1_LOADER_MAGIC)
        err = multiboot1_parse(info, early_map, NULL, &boot);
    else
        stop("not started by a multiboot loader (bad magic); boot through GRUB");
    if (err)
        stop("the boot loader's information structure is malformed");
}

static void find_cpus(void)
{
    const void *rsdp = boot.rsdp;
    if (!rsdp) {
        uint64_t phys = acpi_find_rsdp_bios(early_map, NULL);
        rsdp = phys ? early_map(phys, 36, NULL) : NULL;
    }
    if (!rsdp || acpi_walk(rsdp, early_map, NULL, &acpi)) {
        pr_warn("acpi: no usable ACPI tables; running on the boot CPU only");
        return;
    }
    for (unsigned i = 0; i < acpi.count; i++)
        reserve(acpi.tables[i].phys, acpi.tables[i].phys + acpi.tables[i].length);

    const struct acpi_table_ref *ref = acpi_find(&acpi, "APIC");
    if (!ref) {
        pr_warn("acpi: no MADT; running on the boot CPU only");
        return;
    }
    const uint8_t *table = early_map(ref->phys, ref->length, NULL);
    int err = madt_parse(table, ref->length, &madt);
    if (err == -HV_ENODEV)
        pr_warn("acpi: MADT lists no usable CPU; running on the boot CPU only");
    else if (err)
        pr_warn("acpi: MADT is malformed; running on the boot CPU only");
    if (madt.cpus_dropped)
        pr_warn("acpi: %u CPUs beyond the supported %u are ignored",
                madt.cpus_dropped, MAX_CPUS);
    if (options.acpi_dump)
        for (uint32_t off = 0; off < ref->length; off += 32) {
            char hex[65];
            unsigned n = 0;
            for (uint32_t i = off; i < off + 32 && i < ref->length; i++) {
                hex[n++] = "0123456789abcdef"[table[i] >> 4];
                hex[n++] = "0123456789abcdef"[table[i] & 15];
            }
            hex[n] = '\0';
            pr_info("acpi-dump APIC %04x %s", off, hex);
        }
}

static void reserve_boot_ranges(void)
{
    reserve(0, 0x100000); /* real-mode area: IVT, BDA, EBDA, option ROMs */
    reserve((uint64_t)(uintptr_t)__image_start, (uint64_t)(uintptr_t)__bss_end);
    reserve(boot.info_start & ~0xfffull, boot.info_end);
    reserve_string(boot.cmdline);
    for (unsigned i = 0; i < boot.module_count; i++) {
        reserve(boot.modules[i].start, boot.modules[i].end);
        reserve_string(boot.modules[i].cmdline);
    }
}

void boot_main(uint32_t magic, uint64_t info);
void boot_main(uint32_t magic, uint64_t info)
{
    console_early_init();
    time_init();
    parse_loader_info(magic, info);
    /* Multiboot1 loaders (GRUB legacy, QEMU -kernel) put the image path
     * first; multiboot2 passes only the arguments. */
    const char *arguments = boot.cmdline;
    if (boot.loader_version == 1) {
        while (*arguments && *arguments != ' ')
            arguments++;
    }
    int cmdline_err = cmdline_parse(arguments, &options);
    console_configure(&options, &boot);
    pr_info("hv: %s %s, loaded by %s (multiboot%u)", HV_NAME, HV_VERSION,
            *boot.loader_name ? boot.loader_name : "a multiboot loader",
            boot.loader_version);
    pr_info("hv: command line \"%s\"", boot.cmdline);
    for (unsigned i = 0; cmdline_err && i < options.unknown_count; i++) {
        char word[48];
        unsigned n = 0;
        for (const char *p = options.unknown[i];
             *p && *p != ' ' && n < sizeof(word) - 1; p++)
            word[n++] = *p;
        word[n] = '\0';
        pr_warn("hv: ignoring bad or unknown option \"%s\"", word);
    }

    find_cpus();
    reserve_boot_ranges();
    uint64_t trampoline = smp_pick_trampoline(&boot, boot.info_start, boot.info_end);
    if (memory_init(&boot, reserved, reserved_count))
        stop("no room for the frame allocator's bitmap below 4 GiB");
    uint64_t host_cr3 = host_map_build(&boot, trampoline);
    if (!host_cr3)
        stop("out of memory while building the hypervisor's page tables");
    pr_info("mem: %llu MiB free in %llu frames, %u modules",
            (unsigned long long)(frame_free_count(&frames) >> 8),
            (unsigned long long)frame_free_count(&frames), boot.module_count);

    idt_init();
    nmi_init();
    machine_check_init();
    legacy_pic_disable();
    apic_choose_mode();
    uint32_t bsp_apic_id = cpuid_ebx_initial_apic_id();
    if (apic_is_x2apic()) {
        apic_init_local();
        bsp_apic_id = apic_self_id();
    }
    struct percpu *bsp = percpu_create(0, bsp_apic_id);
    if (!bsp)
        stop("out of memory for the boot CPU's state");
    percpu_load(bsp);
    percpu_ready = true;
    cpu_count = 1;
    apic_init_local();
    bsp->apic_id = apic_self_id();
    bsp->online = true;
    machine_check_init_cpu();
    apic_timer_calibrate();
    apic_timer_setup(VECTOR_TIMER);
    vcpu_slice_setup_cpu(bsp);
    /* The timer only brings the CPU out of a guest: whether the slice is
     * over is read from the TSC (percpu.slice_end), as the timer may have
     * been armed for an earlier event (a guest's APIC timer, a deadline). */
    interrupt_register(VECTOR_TIMER, host_timer_fired);
    interrupt_register(VECTOR_KICK, acknowledge_interrupt);
    console_input_init(&madt, VECTOR_CONSOLE_INPUT, bsp->apic_id);
    pr_info("cpu: %u CPUs in the MADT, local APIC in %s mode, TSC %llu.%03llu MHz",
            madt.cpu_count ? madt.cpu_count : 1,
            apic_is_x2apic() ? "x2APIC" : "xAPIC",
            (unsigned long long)(tsc_khz() / 1000), (unsigned long long)(tsc_khz() % 1000));

    fpu_probe(!options.no_xsave, options.qemu_x87_guard == GUARD_ON ||
                                     (options.qemu_x87_guard == GUARD_AUTO && under_qemu_tcg()));
    fpu_enable_cpu();
    char fpu_line[96];
    fpu_describe(fpu_line, sizeof(fpu_line));
    pr_info("fpu: guests' extended state switched with %s", fpu_line);

    virt_apic_virtualization_allowed = !options.no_apicv;
    if (virt_select())
        stop("no usable hardware virtualization; see the message above");
    hypercall_bind_backend();
    speculation_probe();
    msr_switch_probe();
    virt_enable_this_cpu();

    unsigned online = 1;
    if (madt.cpu_count > 1) {
        if (!trampoline)
            pr_error("smp: no free page below 1 MiB for the AP trampoline");
        else
            online = smp_start_aps(&madt, trampoline, host_cr3);
    }
    unsigned enabled = 0;
    for (unsigned i = 0; i < cpu_count; i++)
        enabled += percpu_of[i] && percpu_of[i]->virt_enabled;
    unsigned expected = madt.cpu_count ? madt.cpu_count : 1;
    pr_info("smp: %u of %u CPUs up, %s enabled on %u, boot took %llu ms",
            online, expected, virt->name, enabled,
            (unsigned long long)(time_us_since_boot() / 1000));
    if (online == expected && enabled == online)
        pr_info("hv: all CPUs up with virtualization enabled");
    else
        pr_error("hv: not every CPU came up with virtualization enabled");

    if (options.fault_inject) {
        fault_inject_enabled = true;
        pr_warn("hv: fault_inject: FAULT_INJECT can make allocations fail (a test option)");
    }
    if (options.lost_slice_interrupts) {
        run_watchdog_lost_slice_interrupts = true;
        pr_warn("hv: lost_slice_interrupts: children's RUNs end only by the run watchdog's NMI "
                "(a test option)");
    }
    if (options.fault_test) {
        pr_info("hv: fault_test: raising #UD to show the exception report");
        __asm__ volatile("ud2");
    }
    if (boot.module_count == 0) {
        __atomic_store_n(&control_domain_ready, -1, __ATOMIC_RELEASE);
        pr_info("hv: no control domain module given (add a module2 line to "
                "GRUB's entry)");
        pr_info("hv: halted.");
        halt_forever();
    }
    /* The guest CPUID is fixed before the first guest (the control domain)
     * can execute CPUID. */
    if (vm_subsystem_init() || cpuid_init() || control_domain_create(&boot, options.ctl_mem)) {
        __atomic_store_n(&control_domain_ready, -1, __ATOMIC_RELEASE);
        stop("could not start the control domain; see the message above");
    }
    control_domain_run_this_cpu();
}
