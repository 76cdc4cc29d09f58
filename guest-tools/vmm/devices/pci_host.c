/*
 * PCI configuration mechanism #1 and the q35 MCH host bridge (see
 * pci_host.h). Configuration space is served a dword at a time: a narrow
 * read takes its bytes from the dword, a narrow write merges into it, so
 * byte lanes and read-only bits are handled in one place.
 */
#include "guest-tools/vmm/devices/pci_host.h"

#define CONFIG_DATA_PORTS 4

/* The enables a guest may change, and what they hold when the guest
 * starts: there is no firmware in the VM, so the bridge starts as SeaBIOS
 * leaves QEMU's MCH (I/O and memory decoding and SERR# on). */
#define BRIDGE_COMMAND_WRITABLE (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
                                 PCI_COMMAND_PARITY | PCI_COMMAND_SERR)
#define BRIDGE_COMMAND_RESET    (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_SERR)
#define BRIDGE_LATENCY_WRITABLE 0xf8u /* bits 2:0 reserved */

void pci_host_init(struct pci_host *pci_host)
{
    pci_host->config_address = 0;
    pci_host->bridge_command = BRIDGE_COMMAND_RESET;
    pci_host->bridge_latency_timer = 0;
}

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static bool data_port(uint16_t port)
{
    return port >= PCI_CONFIG_DATA_PORT && port < PCI_CONFIG_DATA_PORT + CONFIG_DATA_PORTS;
}

bool pci_host_decodes(uint16_t port, unsigned size)
{
    if (size != 1 && size != 2 && size != 4)
        return false;
    /* Only a dword access at 0xcf8 is CONFIG_ADDRESS (PCI 3.0, 3.2.2.3.2). */
    return (port == PCI_CONFIG_ADDRESS_PORT && size == 4) || data_port(port);
}

/* Is CONFIG_ADDRESS pointing at the host bridge, 00:00.0? */
static bool selects_bridge(uint32_t config_address)
{
    return (config_address & 0x00ffff00u) == 0;
}

static uint32_t bridge_read_dword(const struct pci_host *pci_host, uint8_t reg)
{
    switch (reg) {
    case PCI_VENDOR_ID:
        return PCI_HOST_VENDOR_INTEL | (uint32_t)PCI_HOST_DEVICE_Q35_MCH << 16;
    case PCI_COMMAND:
        return pci_host->bridge_command; /* status 0: no capabilities, no errors */
    case PCI_REVISION_ID:
        return PCI_HOST_REVISION | (uint32_t)PCI_HOST_SUBCLASS_HOST << 16 |
               (uint32_t)PCI_HOST_CLASS_BRIDGE << 24;
    case PCI_CACHE_LINE_SIZE:
        /* Cache line size 0, header type 0 (single function), no BIST. */
        return (uint32_t)pci_host->bridge_latency_timer << 8;
    case PCI_SUBSYSTEM_VENDOR_ID:
        return PCI_HOST_SUBSYSTEM_VENDOR | (uint32_t)PCI_HOST_SUBSYSTEM << 16;
    default:
        return 0; /* BARs, ROM, interrupt line/pin, device-specific space */
    }
}

/* `merged` is the dword after the guest's bytes replaced the current ones. */
static void bridge_write_dword(struct pci_host *pci_host, uint8_t reg, uint32_t merged)
{
    switch (reg) {
    case PCI_COMMAND:
        /* The status half has only error bits that are never set, so
         * writing ones to clear them changes nothing. */
        pci_host->bridge_command = (uint16_t)(merged & BRIDGE_COMMAND_WRITABLE);
        break;
    case PCI_CACHE_LINE_SIZE:
        pci_host->bridge_latency_timer = (uint8_t)((merged >> 8) & BRIDGE_LATENCY_WRITABLE);
        break;
    }
}

/* The CONFIG_DATA access the current address and this port/size make, or
 * false when it reaches no configuration space. */
static bool data_access(const struct pci_host *pci_host, uint16_t port, unsigned size,
                        unsigned *byte_offset)
{
    if (!(pci_host->config_address & PCI_CONFIG_ADDRESS_ENABLE))
        return false;
    if (!data_port(port) || (size != 1 && size != 2 && size != 4))
        return false;
    *byte_offset = port - PCI_CONFIG_DATA_PORT;
    return *byte_offset + size <= 4;
}

uint32_t pci_host_read(struct pci_host *pci_host, uint16_t port, unsigned size, uint64_t now_ns)
{
    (void)now_ns;
    if (port == PCI_CONFIG_ADDRESS_PORT && size == 4)
        return pci_host->config_address;
    unsigned byte_offset;
    if (!data_access(pci_host, port, size, &byte_offset))
        return size_mask(size);
    /* Absent devices: nobody claims the cycle and the bus floats high. */
    if (!selects_bridge(pci_host->config_address))
        return size_mask(size);
    uint8_t reg = (uint8_t)(pci_host->config_address & 0xfc);
    return (bridge_read_dword(pci_host, reg) >> (8 * byte_offset)) & size_mask(size);
}

void pci_host_write(struct pci_host *pci_host, uint16_t port, unsigned size, uint32_t value,
                    uint64_t now_ns)
{
    (void)now_ns;
    if (port == PCI_CONFIG_ADDRESS_PORT && size == 4) {
        pci_host->config_address = value & PCI_CONFIG_ADDRESS_WRITABLE;
        return;
    }
    unsigned byte_offset;
    if (!data_access(pci_host, port, size, &byte_offset) ||
        !selects_bridge(pci_host->config_address))
        return;
    uint8_t reg = (uint8_t)(pci_host->config_address & 0xfc);
    uint32_t lanes = size_mask(size) << (8 * byte_offset);
    uint32_t merged = (bridge_read_dword(pci_host, reg) & ~lanes) |
                      ((value << (8 * byte_offset)) & lanes);
    bridge_write_dword(pci_host, reg, merged);
}
