/*
 * A PC guest's life cycle (see pc_vm.h): the VM and its vcpus in the state
 * a PC's firmware hands over, the machine around them and its hooks into
 * the hypervisor, loading, and the verdict text.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/linux_boot.h"
#include "guest-tools/vmm/pc/host_rtc.h"
#include "guest-tools/vmm/pc/pc_internal.h"

#define LAPIC_LVT_LINT0      0x350
#define LAPIC_DELIVERY_EXTINT (7u << 8)

/* ---- the machine's hooks (called under the device lock) ---------------- */

/* An IOAPIC message: the hypervisor delivers it to the local APICs. Any
 * vcpu handle of the VM serves, and none needs to be idle.
 *
 * An ExtINT message asks the CPU it reaches to fetch its vector from the
 * 8259s, whose INTR this VMM gives the BSP through LINT0 already
 * (pc_run.c); like QEMU, which takes the 8259's vector only where LINT0
 * accepts it, it adds nothing to that path and is not sent on. Linux's
 * check_timer sends one to logical destination 0, i.e. to no CPU, which
 * hardware drops too. (KVM's in-kernel IOAPIC drops them all.) */
static void deliver_msi(void *ctx, uint64_t address, uint32_t data)
{
    struct pc_vm *pc = ctx;
    long rc;

    if (((data >> MSI_DATA_DELIVERY_SHIFT) & 7) == IOAPIC_DELIVERY_EXTINT)
        return;
    rc = hv_signal_msi(pc->vm.vcpus[0].handle, address, data);

    /* Refused messages (a vector below 16, say) are what a
     * misprogrammed IOAPIC sends on hardware too: lost. Say so once. */
    if (rc < 0 && !__atomic_exchange_n(&pc->msi_refusal_noted, 1, __ATOMIC_RELAXED))
        ctl_printf("guest %s: IOAPIC message 0x%lx/0x%x refused (%s), dropped\n",
                   pc->vm.name, address, data, hv_strerror(rc));
}

static void intr_changed(void *ctx, bool level)
{
    struct pc_vm *pc = ctx;

    if (level)
        __atomic_store_n(&pc->bsp_attention, 1, __ATOMIC_RELEASE);
}

/* Does the line being printed hold the prompt? (Under the device lock.) */
static bool line_has_prompt(const struct pc_vm *pc)
{
    const struct guest_console_line *line = &pc->com1_line;
    size_t n = strlen(pc->options.prompt);

    for (size_t at = 0; at + n <= line->len; at++)
        if (memcmp(line->text + at, pc->options.prompt, n) == 0)
            return true;
    return false;
}

static void console_output(void *ctx, uint8_t byte)
{
    struct pc_vm *pc = ctx;

    /* The input waits for the prompt's line to end; it is typed once the
     * UART's call has returned (pc_unlock_devices), not from inside it. */
    if (pc->input_held && byte == '\n' && line_has_prompt(pc)) {
        pc->input_held = false;
        pc->input_due = true;
    }
    guest_console_put(&pc->com1_line, byte);
}

/* ---- creation -------------------------------------------------------------- */

/* The BSP's LINT0 takes the 8259's INTR as ExtINT, as QEMU's reset and
 * PC firmware leave it, so that a guest that never touches its APIC gets
 * PIC interrupts; APs wait for INIT-SIPI-SIPI. */
static int set_firmware_cpu_state(struct pc_vm *pc)
{
    struct vm_instance *vm = &pc->vm;
    long rc = hv_get_lapic(vm->vcpus[0].handle, &pc->bsp_lapic);

    if (rc == 0) {
        uint32_t lint0 = LAPIC_DELIVERY_EXTINT;
        memcpy(pc->bsp_lapic.regs + LAPIC_LVT_LINT0, &lint0, sizeof(lint0));
        rc = hv_set_lapic(vm->vcpus[0].handle, &pc->bsp_lapic);
    }
    for (unsigned k = 1; rc == 0 && k < vm->vcpu_count; k++)
        rc = hv_set_mp_state(vm->vcpus[k].handle, HV_MP_STATE_UNINITIALIZED);
    if (rc < 0)
        ctl_printf("guest %s: setting the vcpus' start state failed: %s\n", vm->name,
                   hv_strerror(rc));
    return (int)rc;
}

static int build_machine(struct pc_vm *pc)
{
    struct vm_instance *vm = &pc->vm;
    struct pc_machine_hooks hooks = { deliver_msi, intr_changed, console_output, pc };
    struct pc_machine_config config = {
        .cpu_count = vm->vcpu_count,
        .ram_below_4g = vm->ram_below_4g,
        .ram_above_4g = vm->ram_size - vm->ram_below_4g,
        .bios_area = vmm_guest_ram(vm, PC_ACPI_TABLES_ADDRESS, PC_BIOS_AREA_SIZE),
    };
    int rc;

    if (pc->wall_clock_known)
        config.wall_clock_seconds = pc->wall_clock_seconds;
    else
        ctl_printf("guest %s: no host RTC answers; the guest's clock starts at 1970\n",
                   vm->name);
    pc->machine = page_alloc(sizeof(*pc->machine));
    if (pc->machine == NULL)
        return -HV_ENOMEM;
    rc = pc_machine_init(pc->machine, &config, &hooks);
    if (rc < 0)
        ctl_printf("guest %s: building the PC platform failed: %s\n", vm->name, hv_strerror(rc));
    return rc;
}

int pc_vm_create(struct pc_vm **out, hv_handle_t sys, const struct pc_options *options)
{
    struct page_mark mark = page_alloc_mark();
    struct pc_vm *pc = page_alloc(sizeof(*pc));
    long khz;
    int rc;

    *out = NULL;
    if (pc == NULL) {
        ctl_printf("guest %s: out of control-domain memory\n", options->name);
        return -HV_ENOMEM;
    }
    memset(pc, 0, sizeof(*pc));
    pc->mark = mark;
    pc->options = *options;
    rc = vmm_create_with(&pc->vm, sys, options->name, options->ram_mib, options->cpus,
                         HV_VM_LAPIC | HV_VM_DECODED_MMIO);
    if (rc < 0) {
        page_alloc_release(mark);
        return rc;
    }
    pc->vm.aps_wait_for_sipi = 1;
    /* Guest time starts now: the devices are built at time 0. */
    khz = hv_check_extension(sys, HV_CAP_TSC_KHZ);
    if (khz <= 0) {
        ctl_printf("guest %s: the hypervisor gives no TSC rate (HV_CAP_TSC_KHZ)\n", options->name);
        pc_vm_destroy(pc);
        return -HV_ENOTSUP;
    }
    /* The RTC's time at guest time 0: read at a second's edge right
     * before it, so that the guest's seconds tick with the host's. */
    pc->wall_clock_known = host_rtc_read_at_edge(&pc->wall_clock_seconds, (uint64_t)khz);
    pc->clock = (struct guest_clock){ .start_tsc = __builtin_ia32_rdtsc(), .tsc_khz = (uint64_t)khz };
    snprintf(pc->prefix, sizeof(pc->prefix), "[guest %s] ", options->name);
    pc->com1_line.prefix = pc->prefix;
    pc->mp_idle = page_alloc(options->cpus);
    if (pc->mp_idle != NULL)
        for (unsigned k = 1; k < options->cpus; k++)
            pc->mp_idle[k] = 1;      /* APs wait for SIPI: a look is enough */
    rc = pc->mp_idle == NULL ? -HV_ENOMEM : set_firmware_cpu_state(pc);
    if (rc == 0)
        rc = build_machine(pc);
    if (rc < 0) {
        pc_vm_destroy(pc);
        return rc;
    }
    *out = pc;
    return 0;
}

/* Identity mapping: a module's physical address is a pointer. */
static const uint8_t *module_bytes(const struct hv_boot_module *mod)
{
    return (const uint8_t *)(uintptr_t)mod->guest_phys;
}

int pc_vm_load_linux(struct pc_vm *pc, const struct hv_boot_module *kernel,
                     const struct hv_boot_module *initrd)
{
    return vmm_load_linux(&pc->vm, module_bytes(kernel), kernel->size,
                          initrd ? module_bytes(initrd) : NULL, initrd ? initrd->size : 0,
                          pc->options.guest_cmdline, pc->machine->acpi.rsdp_address);
}

int pc_vm_load(struct pc_vm *pc, const struct hv_boot_module *kernel,
               const struct hv_boot_module *const *modules, unsigned module_count)
{
    if (linux_is_bzimage(module_bytes(kernel), kernel->size)) {
        if (module_count != 0)
            ctl_printf("guest %s: a Linux guest takes its initrd by initrd=; %u modules "
                       "ignored\n", pc->vm.name, module_count);
        return pc_vm_load_linux(pc, kernel, NULL);
    }
    return vmm_load_module_with(&pc->vm, kernel, modules, module_count);
}

void pc_vm_destroy(struct pc_vm *pc)
{
    struct page_mark mark = pc->mark;

    pc_console_detach(pc);
    vmm_destroy(&pc->vm);
    page_alloc_release(mark);   /* the pc_vm itself was the first allocation */
}

size_t vmm_pc_console_input(struct pc_vm *pc, const uint8_t *bytes, size_t len)
{
    uint64_t now = pc_lock_devices(pc);
    size_t queued = pc_machine_queue_input(pc->machine, bytes, len, now);

    pc_unlock_devices(pc);
    pc_notify_runner0(pc, NULL);   /* an interrupt, or the UART's timeout */
    return queued;
}

void pc_vm_end_text(const struct pc_result *result, uint64_t timeout_seconds, char *text,
                    size_t size)
{
    switch (result->end) {
    case PC_END_EXITED:
        snprintf(text, size, "exited with status %u", result->exit_status);
        break;
    case PC_END_POWER_OFF:
        snprintf(text, size, "powered off");
        break;
    case PC_END_RESET:
        snprintf(text, size, "reset");
        break;
    case PC_END_TIMEOUT:
        snprintf(text, size, "stopped: timeout after %lu s", timeout_seconds);
        break;
    default:
        snprintf(text, size, "stopped: %s", result->why ? result->why : "?");
        break;
    }
}
