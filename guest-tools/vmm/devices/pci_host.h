/*
 * PCI host: configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2) with
 * one device behind it, the host bridge at 00:00.0 with the identity QEMU's
 * q35 machine gives its MCH (Intel 82G33/P35 DRAM controller, 8086:29c0
 * rev 00, subsystem 1af4:1100), so that a guest sees the host bridge it
 * sees under `qemu -machine q35`. Every other bus, device and function is
 * absent: its vendor ID reads 0xffff, so a scan finds exactly one device.
 *
 * Guest view:
 * - 0xcf8 CONFIG_ADDRESS: dword accesses only (byte and word accesses there
 *   are ordinary I/O: 0xcf9 is the reset control register, another device).
 *   Bit 31 enable, 23:16 bus, 15:11 device, 10:8 function, 7:2 register;
 *   bits 30:24 and 1:0 read as zero.
 * - 0xcfc-0xcff CONFIG_DATA: 1, 2 or 4 bytes in the byte lanes of the
 *   dword CONFIG_ADDRESS selects, port 0xcfc + n being byte n. With the
 *   enable bit clear, or an access that leaves the dword, reads float high
 *   and writes are dropped.
 * - The bridge's header is read-only but for the command register's I/O,
 *   memory, bus master, parity and SERR# enables (0x0103 at reset: I/O,
 *   memory and SERR# on, as SeaBIOS leaves QEMU's MCH) and the latency
 *   timer's upper five bits; status reads 0. BARs, ROM and interrupt
 *   registers are not implemented (read zero); the device-specific space
 *   from 0x40 (PCIEXBAR and the rest of the MCH's) reads zero and ignores
 *   writes.
 *
 * Interface: pci_host_init(); pci_host_decodes() says whether an access to
 * a port belongs to this model, so that the VMM routes the byte at 0xcf9
 * to its reset device; pci_host_read()/pci_host_write() for those.
 *
 * Locking: none inside; the VMM serialises calls on one pci_host.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_PCI_HOST_H
#define GUEST_TOOLS_VMM_DEVICES_PCI_HOST_H

#include "guest-tools/vmm/devices/device.h"

#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT    0xcfc

#define PCI_CONFIG_ADDRESS_ENABLE   (1u << 31)
/* Bits that hold state: enable, bus, device, function, register. */
#define PCI_CONFIG_ADDRESS_WRITABLE (PCI_CONFIG_ADDRESS_ENABLE | 0x00fffffcu)

/* Type 0 header offsets (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CLASS_DEVICE   0x0a /* subclass at 0x0a, base class at 0x0b */
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER  0x0d
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID   0x2e

#define PCI_COMMAND_IO            (1u << 0)
#define PCI_COMMAND_MEMORY        (1u << 1)
#define PCI_COMMAND_MASTER        (1u << 2)
#define PCI_COMMAND_PARITY        (1u << 6)
#define PCI_COMMAND_SERR          (1u << 8)

/* The MCH as QEMU's q35 machine presents it (read from its configuration
 * space under QEMU 7.2): Intel's IDs and class, QEMU's subsystem IDs. */
#define PCI_HOST_VENDOR_INTEL   0x8086
#define PCI_HOST_DEVICE_Q35_MCH 0x29c0
#define PCI_HOST_REVISION       0x00
#define PCI_HOST_CLASS_BRIDGE   0x06
#define PCI_HOST_SUBCLASS_HOST  0x00
#define PCI_HOST_SUBSYSTEM_VENDOR 0x1af4 /* Red Hat, QEMU's default */
#define PCI_HOST_SUBSYSTEM        0x1100

struct pci_host {
    uint32_t config_address;  /* CONFIG_ADDRESS as written, reserved bits clear */
    uint16_t bridge_command;  /* only writable bits are ever set */
    uint8_t bridge_latency_timer;
};

void pci_host_init(struct pci_host *pci_host);

bool pci_host_decodes(uint16_t port, unsigned size);
uint32_t pci_host_read(struct pci_host *pci_host, uint16_t port, unsigned size, uint64_t now_ns);
void pci_host_write(struct pci_host *pci_host, uint16_t port, unsigned size, uint32_t value,
                    uint64_t now_ns);

#endif
