/*
 * Building and driving the PC platform (see pc_machine.h): each device's
 * ports and interrupt lines are wired here and nowhere else, so this file
 * is the machine's wiring diagram.
 */
#include "abi/hv_errno.h"
#include "guest-tools/vmm/devices/pc_cmos.h"
#include "guest-tools/vmm/pc/pc_machine.h"

#define PIT_IOAPIC_PIN 2   /* ISA IRQ 0 on a PC's IOAPIC (MADT override) */

/* ---- interrupt lines --------------------------------------------------- */

/* ISA IRQ `line` drives the PIC input of that number and the IOAPIC pin
 * the MADT names for it. */
static void isa_irq(void *ctx, unsigned line, bool level)
{
    struct pc_machine *m = ctx;

    i8259_set_irq(&m->pic, line, level);
    ioapic_set_irq(&m->ioapic, line == 0 ? PIT_IOAPIC_PIN : line, level);
}

static struct irq_line isa_line(struct pc_machine *m, unsigned line)
{
    return (struct irq_line){ .set = isa_irq, .ctx = m, .line = line };
}

static void pic_intr(void *ctx, unsigned line, bool level)
{
    struct pc_machine *m = ctx;

    (void)line;
    if (m->hooks.intr_changed)
        m->hooks.intr_changed(m->hooks.ctx, level);
}

static void uart_transmit(void *ctx, uint8_t byte)
{
    struct pc_machine *m = ctx;

    if (m->hooks.console_output)
        m->hooks.console_output(m->hooks.ctx, byte);
}

static void stop_machine(struct pc_machine *m, enum pc_stop_reason reason, uint32_t status)
{
    if (m->stop != PC_STOP_NONE)
        return;                     /* the first request is the one acted on */
    m->stop = reason;
    m->exit_status = status;
}

static void platform_request_received(void *ctx, enum platform_request request)
{
    stop_machine(ctx, request == PLATFORM_REQUEST_POWER_OFF ? PC_STOP_POWER_OFF
                                                            : PC_STOP_RESET, 0);
}

/* ---- ports --------------------------------------------------------------- */

static uint32_t pic_read(void *d, uint64_t port, unsigned size, uint64_t now)
{ return i8259_read(&((struct pc_machine *)d)->pic, (uint16_t)port, size, now); }
static void pic_write(void *d, uint64_t port, unsigned size, uint32_t value, uint64_t now)
{ i8259_write(&((struct pc_machine *)d)->pic, (uint16_t)port, size, value, now); }

static uint32_t pit_read(void *d, uint64_t port, unsigned size, uint64_t now)
{ return i8254_read(&((struct pc_machine *)d)->pit, (uint16_t)port, size, now); }
static void pit_write(void *d, uint64_t port, unsigned size, uint32_t value, uint64_t now)
{ i8254_write(&((struct pc_machine *)d)->pit, (uint16_t)port, size, value, now); }

static uint32_t kbc_read(void *d, uint64_t port, unsigned size, uint64_t now)
{ return i8042_read(&((struct pc_machine *)d)->kbc, (unsigned)(port - I8042_PORT_BASE), size, now); }
static void kbc_write(void *d, uint64_t port, unsigned size, uint32_t value, uint64_t now)
{ i8042_write(&((struct pc_machine *)d)->kbc, (unsigned)(port - I8042_PORT_BASE), size, value, now); }

static uint32_t rtc_read(void *d, uint64_t port, unsigned size, uint64_t now)
{ return mc146818_read(&((struct pc_machine *)d)->rtc, (unsigned)(port - MC146818_PORT_BASE), size, now); }
static void rtc_write(void *d, uint64_t port, unsigned size, uint32_t value, uint64_t now)
{ mc146818_write(&((struct pc_machine *)d)->rtc, (unsigned)(port - MC146818_PORT_BASE), size, value, now); }

static uint32_t fw_cfg_port_read(void *d, uint64_t port, unsigned size, uint64_t now)
{ return fw_cfg_read(&((struct pc_machine *)d)->fw_cfg, (uint16_t)port, size, now); }
static void fw_cfg_port_write(void *d, uint64_t port, unsigned size, uint32_t value, uint64_t now)
{ fw_cfg_write(&((struct pc_machine *)d)->fw_cfg, (uint16_t)port, size, value, now); }

static uint32_t pm_read(void *d, uint64_t port, unsigned size, uint64_t now)
{ return acpi_pm_read(&((struct pc_machine *)d)->pm, (unsigned)(port - ACPI_PC_PM_BASE), size, now); }
static void pm_write(void *d, uint64_t port, unsigned size, uint32_t value, uint64_t now)
{ acpi_pm_write(&((struct pc_machine *)d)->pm, (unsigned)(port - ACPI_PC_PM_BASE), size, value, now); }

/* The console's queued bytes, as many as the receiver takes now, while
 * the guest asserts RTS. */
static void pump_input(struct pc_machine *m, uint64_t now)
{
    while (m->input_count > 0 && (m->com1.mcr & UART_MCR_RTS)) {
        size_t room = uart16550_receive_room(&m->com1);
        size_t run = PC_INPUT_QUEUE_SIZE - m->input_head, taken;

        if (room == 0)
            return;
        if (run > m->input_count)
            run = m->input_count;
        if (run > room)
            run = room;
        taken = uart16550_receive(&m->com1, m->input + m->input_head, run, now);
        if (taken == 0)
            return;              /* loopback: the line is cut off */
        m->input_head = (unsigned)((m->input_head + taken) % PC_INPUT_QUEUE_SIZE);
        m->input_count -= (unsigned)taken;
    }
}

static uint32_t com1_read(void *d, uint64_t port, unsigned size, uint64_t now)
{
    struct pc_machine *m = d;
    uint32_t value = uart16550_read(&m->com1, (unsigned)(port - PC_COM1_PORT), size, now);

    pump_input(m, now);          /* reading RBR made room */
    return value;
}

static void com1_write(void *d, uint64_t port, unsigned size, uint32_t value, uint64_t now)
{
    struct pc_machine *m = d;

    uart16550_write(&m->com1, (unsigned)(port - PC_COM1_PORT), size, value, now);
    pump_input(m, now);          /* RTS may have come on */
}

/* isa-debug-exit (QEMU): any write ends the machine with the value. */
static void debug_exit_write(void *d, uint64_t port, unsigned size, uint32_t value, uint64_t now)
{
    (void)port;
    (void)size;
    (void)now;
    stop_machine(d, PC_STOP_DEBUG_EXIT, value);
}

/* 0xcf8-0xcff: PCI configuration mechanism #1, except a byte at 0xcf9,
 * which is the chipset's reset control register. */
static uint32_t chipset_read(void *d, uint64_t port, unsigned size, uint64_t now)
{
    struct pc_machine *m = d;

    if (pci_host_decodes((uint16_t)port, size))
        return pci_host_read(&m->pci, (uint16_t)port, size, now);
    if (port == ACPI_RESET_CONTROL_PORT && size == 1)
        return acpi_pm_reset_control_read(&m->pm);
    return 0xffffffffu;
}

static void chipset_write(void *d, uint64_t port, unsigned size, uint32_t value, uint64_t now)
{
    struct pc_machine *m = d;

    if (pci_host_decodes((uint16_t)port, size))
        pci_host_write(&m->pci, (uint16_t)port, size, value, now);
    else if (port == ACPI_RESET_CONTROL_PORT && size == 1)
        acpi_pm_reset_control_write(&m->pm, (uint8_t)value);
}

static uint32_t ioapic_mmio_read(void *d, uint64_t address, unsigned size, uint64_t now)
{ return ioapic_read(&((struct pc_machine *)d)->ioapic, address - IOAPIC_DEFAULT_BASE, size, now); }
static void ioapic_mmio_write(void *d, uint64_t address, unsigned size, uint32_t value, uint64_t now)
{ ioapic_write(&((struct pc_machine *)d)->ioapic, address - IOAPIC_DEFAULT_BASE, size, value, now); }

static int add_ranges(struct pc_machine *m)
{
    static const struct {
        uint16_t base, length;
        io_bus_read_fn read;
        io_bus_write_fn write;
        const char *name;
    } ports[] = {
        { I8259_MASTER_PORT, 2, pic_read, pic_write, "8259 master" },
        { I8259_SLAVE_PORT, 2, pic_read, pic_write, "8259 slave" },
        { I8259_ELCR_PORT, 2, pic_read, pic_write, "ELCR" },
        { I8254_PORT, I8254_PORTS, pit_read, pit_write, "8254" },
        { I8254_SYSTEM_CONTROL_PORT, 1, pit_read, pit_write, "port B" },
        { I8042_PORT_BASE + I8042_DATA, 1, kbc_read, kbc_write, "i8042 data" },
        { I8042_PORT_BASE + I8042_STATUS, 1, kbc_read, kbc_write, "i8042 command" },
        { MC146818_PORT_BASE, MC146818_PORT_COUNT, rtc_read, rtc_write, "RTC" },
        { PC_PORT_POST, 1, NULL, NULL, "POST" },
        { PC_PORT_DEBUG_EXIT, PC_DEBUG_EXIT_PORTS, NULL, debug_exit_write, "isa-debug-exit" },
        { PC_COM1_PORT, UART16550_PORT_COUNT, com1_read, com1_write, "COM1" },
        { FW_CFG_PORT_SELECTOR, 2, fw_cfg_port_read, fw_cfg_port_write, "fw_cfg" },
        { ACPI_PC_PM_BASE, ACPI_PM_PORT_COUNT, pm_read, pm_write, "ACPI PM" },
        { PCI_CONFIG_ADDRESS_PORT, 8, chipset_read, chipset_write, "PCI config, reset" },
    };
    int rc = 0;

    io_bus_init(&m->ports);
    io_bus_init(&m->mmio);
    for (unsigned i = 0; rc == 0 && i < sizeof(ports) / sizeof(ports[0]); i++)
        rc = io_bus_add(&m->ports, ports[i].base, ports[i].length, ports[i].read,
                        ports[i].write, m, ports[i].name);
    if (rc == 0)
        rc = io_bus_add(&m->mmio, IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_SIZE, ioapic_mmio_read,
                        ioapic_mmio_write, m, "IOAPIC");
    return rc;
}

/* ---- firmware's share ------------------------------------------------------ */

static int write_acpi_tables(struct pc_machine *m, const struct pc_machine_config *config)
{
    struct acpi_platform platform;

    acpi_platform_pc_defaults(&platform);
    for (unsigned i = 0; i < config->cpu_count; i++)
        m->apic_ids[i] = (uint8_t)i;          /* the hypervisor's: the vcpu slot */
    platform.cpu_count = config->cpu_count;
    platform.apic_ids = m->apic_ids;
    return acpi_tables_build(config->bios_area, PC_BIOS_AREA_SIZE, PC_ACPI_TABLES_ADDRESS,
                             &platform, &m->acpi);
}

static int add_fw_cfg_items(struct pc_machine *m, const struct pc_machine_config *config)
{
    struct e820_entry map[E820_MAX_ENTRIES];
    unsigned count = e820_build(config->ram_below_4g, config->ram_above_4g, map);
    uint32_t bytes = e820_to_fw_cfg(map, count, m->e820_file);
    int rc;

    fw_cfg_init(&m->fw_cfg, config->ram_below_4g + config->ram_above_4g,
                (uint16_t)config->cpu_count, (uint16_t)config->cpu_count);
    rc = fw_cfg_add_file(&m->fw_cfg, "etc/e820", m->e820_file, bytes);
    return rc < 0 ? rc : 0;
}

int pc_machine_init(struct pc_machine *m, const struct pc_machine_config *config,
                    const struct pc_machine_hooks *hooks)
{
    struct acpi_pm_config pm = {
        .sci = isa_line(m, ACPI_PC_SCI_IRQ),
        .platform = { .request = platform_request_received, .ctx = m },
        .s5_sleep_type = ACPI_PC_S5_SLEEP_TYPE,
        .sci_enabled = true,             /* no SMI_CMD: already in ACPI mode */
    };
    struct platform_request_sink platform = { .request = platform_request_received, .ctx = m };
    int rc;

    if (config->cpu_count == 0 || config->cpu_count > ACPI_TABLES_MAX_CPUS ||
        config->ram_below_4g < E820_HIGH_RAM_START || config->bios_area == NULL)
        return -HV_EINVAL;
    m->hooks = *hooks;
    m->stop = PC_STOP_NONE;
    m->exit_status = 0;
    m->input_head = m->input_count = 0;

    i8259_init(&m->pic, (struct irq_line){ .set = pic_intr, .ctx = m });
    ioapic_init(&m->ioapic, 0, (struct msi_sink){ .deliver = hooks->deliver_msi, .ctx = hooks->ctx });
    i8254_init(&m->pit, isa_line(m, 0));
    mc146818_init(&m->rtc, isa_line(m, MC146818_IRQ), config->wall_clock_seconds);
    pc_cmos_fill(&m->rtc, config->ram_below_4g, config->ram_above_4g, config->cpu_count);
    uart16550_init(&m->com1, isa_line(m, PC_COM1_IRQ), uart_transmit, m);
    acpi_pm_init(&m->pm, &pm);
    i8042_init(&m->kbc, isa_line(m, I8042_KEYBOARD_IRQ), isa_line(m, I8042_AUX_IRQ), platform);
    pci_host_init(&m->pci);

    rc = add_ranges(m);
    if (rc == 0)
        rc = write_acpi_tables(m, config);
    if (rc == 0)
        rc = add_fw_cfg_items(m, config);
    return rc;
}

/* ---- the VMM's calls ---------------------------------------------------------- */

bool pc_machine_port_read(struct pc_machine *m, uint16_t port, unsigned size, uint64_t now_ns,
                          uint32_t *value)
{
    uint64_t v;
    bool claimed = io_bus_read(&m->ports, port, size, now_ns, &v);

    *value = (uint32_t)v;
    return claimed;
}

bool pc_machine_port_write(struct pc_machine *m, uint16_t port, unsigned size, uint32_t value,
                           uint64_t now_ns)
{
    return io_bus_write(&m->ports, port, size, value, now_ns);
}

bool pc_machine_mmio_read(struct pc_machine *m, uint64_t address, unsigned size,
                          uint64_t now_ns, uint64_t *value)
{
    return io_bus_read(&m->mmio, address, size, now_ns, value);
}

bool pc_machine_mmio_write(struct pc_machine *m, uint64_t address, unsigned size,
                           uint64_t value, uint64_t now_ns)
{
    return io_bus_write(&m->mmio, address, size, value, now_ns);
}

void pc_machine_advance(struct pc_machine *m, uint64_t now_ns)
{
    i8254_update(&m->pit, now_ns);
    mc146818_advance(&m->rtc, now_ns);
    uart16550_advance(&m->com1, now_ns);
    acpi_pm_advance(&m->pm, now_ns);
    pump_input(m, now_ns);
}

static uint64_t earlier(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t pc_machine_next_event_ns(const struct pc_machine *m)
{
    return earlier(earlier(i8254_next_event_ns(&m->pit), mc146818_next_event_ns(&m->rtc)),
                   earlier(uart16550_next_event_ns(&m->com1), acpi_pm_next_event_ns(&m->pm)));
}

bool pc_machine_intr(const struct pc_machine *m)
{
    return i8259_intr(&m->pic);
}

uint8_t pc_machine_acknowledge(struct pc_machine *m)
{
    return i8259_acknowledge(&m->pic);
}

void pc_machine_eoi(struct pc_machine *m, uint8_t vector)
{
    ioapic_eoi(&m->ioapic, vector);
}

size_t pc_machine_queue_input(struct pc_machine *m, const uint8_t *bytes, size_t count,
                              uint64_t now_ns)
{
    size_t queued = 0;

    while (queued < count && m->input_count < PC_INPUT_QUEUE_SIZE) {
        m->input[(m->input_head + m->input_count) % PC_INPUT_QUEUE_SIZE] = bytes[queued++];
        m->input_count++;
    }
    pump_input(m, now_ns);
    return queued;
}
