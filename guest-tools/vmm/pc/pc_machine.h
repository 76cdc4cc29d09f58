/*
 * The PC a guest sees, apart from its CPUs and their local APICs (which the
 * hypervisor keeps): the device models of ../devices wired as QEMU's q35
 * machine wires them, the port-I/O and MMIO buses that reach them, and the
 * firmware's share (ACPI tables, CMOS contents, fw_cfg items, the host
 * bridge as SeaBIOS leaves it).
 *
 *   ports  0x20-0x21, 0xa0-0xa1, 0x4d0-0x4d1  8259 pair and ELCR
 *          0x40-0x43, 0x61                    8254 PIT, port B
 *          0x60, 0x64                         i8042
 *          0x70-0x71                          RTC/CMOS
 *          0x80                               POST code: ignored
 *          0xf4-0xf7                          isa-debug-exit: ends the VM
 *          0x3f8-0x3ff                        COM1 (16550A)
 *          0x510-0x511                        fw_cfg
 *          0x600-0x60b                        ACPI PM1 and PM timer
 *          0xcf8-0xcff                        PCI config (dwords at 0xcf8),
 *                                             reset control (byte at 0xcf9)
 *   MMIO   0xfec00000-0xfec00fff              IOAPIC (ID 0, 24 pins)
 *   IRQs   ISA IRQ n drives PIC input n and IOAPIC pin n, except IRQ 0
 *          (the PIT), which is IOAPIC pin 2 (the MADT says so). PIT 0,
 *          i8042 1 and 12, COM1 4, RTC 8, ACPI SCI 9 (level, active high).
 *   out    the PIC's INTR and every IOAPIC message go to the VMM through
 *          the hooks; so do COM1's transmitted bytes. Power-off (ACPI S5),
 *          reset (0xcf9, i8042) and isa-debug-exit stop the machine: the
 *          first of them is kept in `stop`, later ones are ignored.
 *
 * Console input waits in a queue until the guest asserts RTS (MCR bit 1),
 * as a terminal with hardware flow control waits, and then goes in no
 * faster than the receiver takes it, so a guest that resets its FIFOs
 * while it sets the UART up loses nothing typed before.
 *
 * Time is the caller's guest time in ns (guest_clock.h), never decreasing.
 *
 * Locking: none inside. The VMM holds its device lock around every call;
 * the hooks run inside these calls and must not call back in.
 */
#ifndef GUEST_TOOLS_VMM_PC_PC_MACHINE_H
#define GUEST_TOOLS_VMM_PC_PC_MACHINE_H

#include "guest-tools/vmm/devices/acpi_pm.h"
#include "guest-tools/vmm/devices/acpi_tables.h"
#include "guest-tools/vmm/devices/fw_cfg.h"
#include "guest-tools/vmm/devices/i8042.h"
#include "guest-tools/vmm/devices/i8254.h"
#include "guest-tools/vmm/devices/i8259.h"
#include "guest-tools/vmm/devices/ioapic.h"
#include "guest-tools/vmm/devices/mc146818.h"
#include "guest-tools/vmm/devices/pci_host.h"
#include "guest-tools/vmm/devices/uart16550.h"
#include "guest-tools/vmm/e820.h"
#include "guest-tools/vmm/pc/io_bus.h"

#define PC_PORT_POST          0x80
#define PC_PORT_DEBUG_EXIT    0xf4
#define PC_DEBUG_EXIT_PORTS   4
#define PC_COM1_PORT          0x3f8
#define PC_COM1_IRQ           4
#define PC_ACPI_TABLES_ADDRESS 0xe0000u  /* in the BIOS area the RSDP scan covers */
#define PC_BIOS_AREA_SIZE     0x20000u   /* 0xe0000-0xfffff */
#define PC_INPUT_QUEUE_SIZE   4096

enum pc_stop_reason {
    PC_STOP_NONE,
    PC_STOP_DEBUG_EXIT,   /* exit_status holds the value written */
    PC_STOP_POWER_OFF,
    PC_STOP_RESET,
};

struct pc_machine_hooks {
    void (*deliver_msi)(void *ctx, uint64_t address, uint32_t data);
    void (*intr_changed)(void *ctx, bool level);   /* the 8259's INTR */
    void (*console_output)(void *ctx, uint8_t byte);
    void *ctx;
};

struct pc_machine_config {
    unsigned cpu_count;            /* 1 .. ACPI_TABLES_MAX_CPUS; APIC IDs 0..n-1 */
    uint64_t ram_below_4g;         /* RAM from 0 (at least 1 MiB) */
    uint64_t ram_above_4g;         /* RAM from 4 GiB */
    uint64_t wall_clock_seconds;   /* what the RTC reads at guest time 0 */
    uint8_t *bios_area;            /* guest RAM at PC_ACPI_TABLES_ADDRESS,
                                    * PC_BIOS_AREA_SIZE bytes */
};

struct pc_machine {
    struct i8259_pair pic;
    struct i8254 pit;
    struct mc146818 rtc;
    struct uart16550 com1;
    struct acpi_pm pm;
    struct i8042 kbc;
    struct ioapic ioapic;
    struct pci_host pci;
    struct fw_cfg fw_cfg;
    struct io_bus ports, mmio;
    struct pc_machine_hooks hooks;

    enum pc_stop_reason stop;
    uint32_t exit_status;

    uint8_t input[PC_INPUT_QUEUE_SIZE];   /* console bytes the UART has not taken */
    unsigned input_head, input_count;

    /* Backing for fw_cfg items and the tables' description; fw_cfg points
     * here, so the machine must not move after pc_machine_init. */
    uint8_t e820_file[E820_MAX_ENTRIES * E820_FW_CFG_ENTRY_SIZE];
    uint8_t apic_ids[ACPI_TABLES_MAX_CPUS];
    struct acpi_tables_layout acpi;
};

/* Builds the machine at guest time 0 and writes the ACPI tables into the
 * BIOS area. Returns 0 or a negated HV_E* code (a configuration the tables
 * or buses refuse). */
int pc_machine_init(struct pc_machine *m, const struct pc_machine_config *config,
                    const struct pc_machine_hooks *hooks);

/* Port I/O and MMIO from the guest. Return false for an address no device
 * claims (a read then gives all ones), so that the VMM can note it. */
bool pc_machine_port_read(struct pc_machine *m, uint16_t port, unsigned size, uint64_t now_ns,
                          uint32_t *value);
bool pc_machine_port_write(struct pc_machine *m, uint16_t port, unsigned size, uint32_t value,
                           uint64_t now_ns);
bool pc_machine_mmio_read(struct pc_machine *m, uint64_t address, unsigned size,
                          uint64_t now_ns, uint64_t *value);
bool pc_machine_mmio_write(struct pc_machine *m, uint64_t address, unsigned size,
                           uint64_t value, uint64_t now_ns);

/* Brings every timed model to now_ns (their interrupts included); call it
 * at pc_machine_next_event_ns, which may change after any other call. */
void pc_machine_advance(struct pc_machine *m, uint64_t now_ns);
uint64_t pc_machine_next_event_ns(const struct pc_machine *m);

/* The 8259 pair's INTR, and the acknowledge cycle for the vector. */
bool pc_machine_intr(const struct pc_machine *m);
uint8_t pc_machine_acknowledge(struct pc_machine *m);

/* A local APIC's EOI of a level-triggered vector (HV_EXIT_IOAPIC_EOI). */
void pc_machine_eoi(struct pc_machine *m, uint8_t vector);

/* Console bytes for COM1's receiver; returns how many the queue took (the
 * rest does not fit and is dropped). */
size_t pc_machine_queue_input(struct pc_machine *m, const uint8_t *bytes, size_t count,
                              uint64_t now_ns);

#endif
