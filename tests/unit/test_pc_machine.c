// sources: guest-tools/vmm/pc/pc_machine.c guest-tools/vmm/pc/io_bus.c guest-tools/vmm/e820.c guest-tools/vmm/devices/acpi_pm.c guest-tools/vmm/devices/acpi_tables.c guest-tools/vmm/devices/calendar.c guest-tools/vmm/devices/fw_cfg.c guest-tools/vmm/devices/i8042.c guest-tools/vmm/devices/i8254.c guest-tools/vmm/devices/i8254_counter.c guest-tools/vmm/devices/i8259.c guest-tools/vmm/devices/ioapic.c guest-tools/vmm/devices/mc146818.c guest-tools/vmm/devices/pc_cmos.c guest-tools/vmm/devices/pci_host.c guest-tools/vmm/devices/uart16550.c
/* Unit tests for the PC platform's wiring (guest-tools/vmm/pc/pc_machine.c),
 * driven through ports and MMIO as a guest drives them: the PIT through the
 * 8259 (PIC mode) and through IOAPIC pin 2 (APIC mode), COM1's IRQ 4, the
 * level SCI with remote IRR and EOI, every way the machine stops, the
 * firmware's share (ACPI tables, CMOS, fw_cfg, host bridge), console input
 * under RTS flow control, and ports nobody claims. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest-tools/vmm/pc/pc_machine.h"

#define MIB (1ull << 20)
#define MS 1000000ull
#define IOAPIC 0xfec00000u

static struct pc_machine *m;
static uint8_t bios_area[PC_BIOS_AREA_SIZE];
static uint64_t now;

/* What the hooks saw. */
static unsigned msi_count, intr_changes;
static uint64_t msi_address;
static uint32_t msi_data;
static bool intr_level;
static char output[256];
static unsigned output_len;

static void deliver_msi(void *ctx, uint64_t address, uint32_t data)
{
    (void)ctx;
    msi_count++;
    msi_address = address;
    msi_data = data;
}

static void intr_changed(void *ctx, bool level)
{
    (void)ctx;
    intr_changes++;
    intr_level = level;
}

static void console_output(void *ctx, uint8_t byte)
{
    (void)ctx;
    if (output_len < sizeof(output) - 1)
        output[output_len++] = (char)byte;
}

static int boot(unsigned cpus)
{
    static const struct pc_machine_hooks hooks = { deliver_msi, intr_changed, console_output, NULL };
    struct pc_machine_config config = {
        .cpu_count = cpus, .ram_below_4g = 64 * MIB, .ram_above_4g = 0,
        .wall_clock_seconds = 1700000000, /* 2023-11-14 22:13:20 UTC */
        .bios_area = bios_area,
    };
    free(m);
    m = calloc(1, sizeof(*m));
    memset(bios_area, 0, sizeof(bios_area));
    now = 0;
    msi_count = intr_changes = output_len = 0;
    intr_level = false;
    return pc_machine_init(m, &config, &hooks);
}

static int setup(void **state)
{
    (void)state;
    return boot(2);
}

static int teardown(void **state)
{
    (void)state;
    free(m);
    m = NULL;
    return 0;
}

static void outb(uint16_t port, uint8_t v) { assert_true(pc_machine_port_write(m, port, 1, v, now)); }
static void outl(uint16_t port, uint32_t v) { assert_true(pc_machine_port_write(m, port, 4, v, now)); }
static uint8_t inb(uint16_t port)
{
    uint32_t v;
    assert_true(pc_machine_port_read(m, port, 1, now, &v));
    return (uint8_t)v;
}
static uint32_t inl(uint16_t port)
{
    uint32_t v;
    assert_true(pc_machine_port_read(m, port, 4, now, &v));
    return v;
}

static void ioapic_entry(unsigned pin, uint32_t low)
{
    assert_true(pc_machine_mmio_write(m, IOAPIC, 4, 0x10 + 2 * pin + 1, now));
    assert_true(pc_machine_mmio_write(m, IOAPIC + 0x10, 4, 0, now));
    assert_true(pc_machine_mmio_write(m, IOAPIC, 4, 0x10 + 2 * pin, now));
    assert_true(pc_machine_mmio_write(m, IOAPIC + 0x10, 4, low, now));
}

static void run_to_next_event(void)
{
    uint64_t next = pc_machine_next_event_ns(m);
    assert_true(next != DEVICE_TIME_NEVER);
    now = next > now ? next : now;
    pc_machine_advance(m, now);
}

static void init_pics(uint8_t master_mask)
{
    static const uint8_t seq[][2] = {
        { 0x20, 0x11 }, { 0x21, 0x30 }, { 0x21, 0x04 }, { 0x21, 0x01 },
        { 0xa0, 0x11 }, { 0xa1, 0x38 }, { 0xa1, 0x02 }, { 0xa1, 0x01 }, { 0xa1, 0xff },
    };
    for (unsigned i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
        outb(seq[i][0], seq[i][1]);
    outb(0x21, master_mask);
}

static void start_pit_1ms(void)
{
    outb(0x43, 0x34);                  /* counter 0, mode 2 */
    outb(0x40, 1193 & 0xff);
    outb(0x40, 1193 >> 8);
}

static void test_pit_through_the_8259(void **state)
{
    (void)state;
    init_pics(0xfe);
    start_pit_1ms();
    if (pc_machine_intr(m)) {          /* the mode change's edge */
        assert_int_equal(pc_machine_acknowledge(m), 0x30);
        outb(0x20, 0x20);
    }
    for (unsigned tick = 0; tick < 5; tick++) {
        run_to_next_event();
        assert_true(pc_machine_intr(m));
        assert_true(intr_level);
        assert_int_equal(pc_machine_acknowledge(m), 0x30);
        outb(0x20, 0x20);              /* EOI */
        assert_false(pc_machine_intr(m));
    }
    assert_true(now >= 4 * MS && now <= 6 * MS);
    assert_int_equal(msi_count, 0);    /* IOAPIC entries are masked at reset */
}

static void test_pit_through_ioapic_pin_2(void **state)
{
    (void)state;
    init_pics(0xff);                   /* APIC mode: the 8259s masked */
    ioapic_entry(2, 0x40);             /* fixed, physical, APIC 0, edge */
    ioapic_entry(0, 0x41);             /* pin 0 is not the PIT's */
    start_pit_1ms();
    unsigned before = msi_count;
    for (unsigned tick = 0; tick < 3; tick++)
        run_to_next_event();
    assert_true(msi_count - before >= 3);
    assert_int_equal(msi_address, 0xfee00000u);
    assert_int_equal(msi_data, 0x4040);   /* vector 0x40, level asserted, edge */
    assert_false(pc_machine_intr(m));
}

static void test_com1_irq4(void **state)
{
    (void)state;
    init_pics(0xff);
    ioapic_entry(PC_COM1_IRQ, 0x24);
    outb(0x3fc, UART_MCR_OUT2);        /* OUT2 gates the IRQ line */
    outb(0x3f9, UART_IER_THRI);        /* THR empty: interrupt at once */
    assert_int_equal(msi_count, 1);
    assert_int_equal(msi_data, 0x4024);
    /* The same line reaches the 8259. */
    outb(0x21, 0xef);
    assert_true(pc_machine_intr(m));
    assert_int_equal(pc_machine_acknowledge(m), 0x34);
    /* Output goes to the console hook. */
    outb(0x3f8, 'o');
    outb(0x3f8, 'k');
    assert_int_equal(output_len, 2);
    assert_memory_equal(output, "ok", 2);
}

static void test_level_sci_and_eoi(void **state)
{
    (void)state;
    ioapic_entry(ACPI_PC_SCI_IRQ, 0x49 | 1u << 15);     /* level, active high */
    assert_true(pc_machine_port_write(m, ACPI_PC_PM_BASE + ACPI_PM1_EN, 2, ACPI_PM1_PWRBTN, now));
    acpi_pm_press_power_button(&m->pm, now);
    assert_int_equal(msi_count, 1);
    assert_int_equal(msi_data, 0xc049);   /* level-triggered */
    pc_machine_advance(m, now += MS);
    assert_int_equal(msi_count, 1);   /* remote IRR holds it */
    pc_machine_eoi(m, 0x49);
    assert_int_equal(msi_count, 2);   /* still asserted: sent again */
    assert_true(pc_machine_port_write(m, ACPI_PC_PM_BASE + ACPI_PM1_STS, 2, ACPI_PM1_PWRBTN, now));
    pc_machine_eoi(m, 0x49);
    assert_int_equal(msi_count, 2);
}

static void test_stops(void **state)
{
    (void)state;
    /* A dword at 0xcf8 is PCI's; a byte at 0xcf9 resets. */
    outl(0xcf8, 0x80000000u);
    assert_int_equal(m->stop, PC_STOP_NONE);
    assert_int_equal(inl(0xcfc), 0x29c08086u);
    outb(0xcf9, 0x06);
    assert_int_equal(m->stop, PC_STOP_RESET);
    /* The first request wins. */
    outl(0xf4, 0x10);
    assert_int_equal(m->stop, PC_STOP_RESET);

    assert_int_equal(boot(1), 0);
    outl(0xf4, 0x21);
    assert_int_equal(m->stop, PC_STOP_DEBUG_EXIT);
    assert_int_equal(m->exit_status, 0x21);

    assert_int_equal(boot(1), 0);
    outb(0x64, 0xfe);                  /* pulse the reset line */
    assert_int_equal(m->stop, PC_STOP_RESET);

    assert_int_equal(boot(1), 0);
    assert_true(pc_machine_port_write(m, ACPI_PC_PM_BASE + ACPI_PM1_CNT, 2,
                                      ACPI_PM1_CNT_SLP_EN | ACPI_PC_S5_SLEEP_TYPE << 10 | 1, now));
    assert_int_equal(m->stop, PC_STOP_POWER_OFF);
}

static uint8_t cmos(uint8_t index)
{
    outb(0x70, index);
    return inb(0x71);
}

static void test_firmware_share(void **state)
{
    (void)state;
    assert_int_equal(boot(4), 0);
    /* The RSDP heads the BIOS area, on a 16-byte boundary. */
    assert_memory_equal(bios_area, "RSD PTR ", 8);
    assert_int_equal(m->acpi.rsdp_address, PC_ACPI_TABLES_ADDRESS);
    const uint8_t *madt = bios_area + m->acpi.madt_offset;
    assert_memory_equal(madt, "APIC", 4);
    unsigned cpus = 0;
    for (uint32_t at = 44, length = madt[4] | madt[5] << 8; at < length; at += madt[at + 1])
        if (madt[at] == 0)
            assert_int_equal(madt[at + 3], cpus++);    /* APIC ID = vcpu slot */
    assert_int_equal(cpus, 4);
    /* CMOS: CPUs less one, 64 KiB units above 16 MiB; the RTC in BCD. */
    assert_int_equal(cmos(0x5f), 3);
    uint8_t units_low = cmos(0x34), units_high = cmos(0x35);
    assert_int_equal(units_low | units_high << 8, (64 - 16) * 16);
    assert_int_equal(cmos(0x09), 0x23);    /* year */
    assert_int_equal(cmos(0x08), 0x11);    /* November */
    assert_int_equal(cmos(0x04), 0x22);    /* 22 h */
    /* fw_cfg: signature, CPU count, and etc/e820 through the directory. */
    assert_true(pc_machine_port_write(m, 0x510, 2, 0x0000, now));
    char sig[4];
    for (unsigned i = 0; i < 4; i++)
        sig[i] = (char)inb(0x511);
    assert_memory_equal(sig, "QEMU", 4);
    assert_true(pc_machine_port_write(m, 0x510, 2, 0x0005, now));
    uint8_t low = inb(0x511), high = inb(0x511);
    assert_int_equal(low | high << 8, 4);
    assert_true(pc_machine_port_write(m, 0x510, 2, 0x0019, now));
    uint8_t dir[4 + 64];
    for (unsigned i = 0; i < sizeof(dir); i++)
        dir[i] = inb(0x511);
    assert_int_equal(dir[3], 1);                        /* one file, big endian */
    assert_int_equal(dir[4 + 3], 3 * 20);               /* its size */
    assert_string_equal((const char *)dir + 4 + 8, "etc/e820");
    assert_true(pc_machine_port_write(m, 0x510, 2, (uint16_t)(dir[4 + 4] << 8 | dir[4 + 5]), now));
    uint8_t entry[20];
    for (unsigned i = 0; i < 20; i++)
        entry[i] = inb(0x511);
    assert_int_equal(entry[16], 1);                     /* RAM from 0 */
    assert_int_equal(entry[8] | entry[9] << 8 | entry[10] << 16, 0xa0000);
}

static void test_console_input_waits_for_rts(void **state)
{
    (void)state;
    assert_int_equal(pc_machine_queue_input(m, (const uint8_t *)"hello", 5, now), 5);
    assert_int_equal(inb(0x3fd) & UART_LSR_DR, 0);     /* RTS off: nothing yet */
    outb(0x3fa, UART_FCR_ENABLE);                      /* FIFOs on */
    outb(0x3fc, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    char got[64];
    unsigned n = 0;
    while (inb(0x3fd) & UART_LSR_DR)
        got[n++] = (char)inb(0x3f8);
    assert_int_equal(n, 5);
    assert_memory_equal(got, "hello", 5);

    /* More than the FIFO holds: the rest waits, nothing overruns. */
    uint8_t line[40];
    for (unsigned i = 0; i < sizeof(line); i++)
        line[i] = (uint8_t)('A' + i);
    assert_int_equal(pc_machine_queue_input(m, line, sizeof(line), now), sizeof(line));
    assert_int_equal(m->input_count, sizeof(line) - UART16550_FIFO_SIZE);
    n = 0;
    while (inb(0x3fd) & UART_LSR_DR)
        got[n++] = (char)inb(0x3f8);
    assert_int_equal(n, sizeof(line));
    assert_memory_equal(got, line, sizeof(line));
    assert_int_equal(inb(0x3fd) & UART_LSR_OE, 0);
}

static void test_unclaimed_ports(void **state)
{
    (void)state;
    uint32_t v;
    assert_false(pc_machine_port_read(m, 0x2f8, 1, now, &v));   /* no COM2 */
    assert_int_equal(v, 0xff);
    assert_false(pc_machine_port_write(m, 0x3c0, 1, 0, now));   /* no VGA */
    assert_true(pc_machine_port_write(m, 0x80, 1, 0x55, now));  /* POST: claimed, ignored */
    uint64_t w;
    assert_false(pc_machine_mmio_read(m, 0xfed00000u, 4, now, &w)); /* no HPET */
    assert_int_equal(m->stop, PC_STOP_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pit_through_the_8259, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pit_through_ioapic_pin_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_com1_irq4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_sci_and_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_firmware_share, setup, teardown),
        cmocka_unit_test_setup_teardown(test_console_input_waits_for_rts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unclaimed_ports, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
