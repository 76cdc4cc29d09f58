/*
 * pc_firmware: what a PC describes of itself to the software it boots.
 *   fw_cfg (QEMU's firmware configuration interface, docs/specs/fw_cfg
 *   in QEMU: selector port 0x510, data port 0x511): the "QEMU" signature,
 *   the ID's traditional-interface bit, the CPU count and the RAM size,
 *   which the test sets (-smp/-m, cpus=/mem=) and the guest prints;
 *   ACPI: the RSDP found by the BIOS-area scan, the checksums of the
 *   RSDP, the RSDT/XSDT, every table it lists and the DSDT, the MADT's
 *   processor count (printed, and equal to fw_cfg's), \_S5 in the DSDT;
 *   PCI configuration mechanism #1 (ports 0xcf8/0xcfc): the address
 *   register reads back, the host bridge at 00:00.0 is a host bridge
 *   (class 06.00) whose IDs are printed (8086:29c0, q35's), a 16-bit read
 *   of the device ID agrees with the 32-bit one, and an absent function
 *   reads all ones.
 */
#include "guest-tools/guests/lib/acpi.h"
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"

#define FW_CFG_SELECTOR  0x510
#define FW_CFG_DATA      0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID        0x01
#define FW_CFG_RAM_SIZE  0x03
#define FW_CFG_NB_CPUS   0x05
#define FW_CFG_ID_TRADITIONAL 1u

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc
#define PCI_ENABLE         0x80000000u
#define PCI_CLASS_BRIDGE   0x06
#define PCI_SUBCLASS_HOST  0x00

/* Selects an item and reads `size` bytes of it, little-endian. */
static uint64_t fw_cfg_read(uint16_t key, uint32_t size)
{
    uint64_t value = 0;

    outw(FW_CFG_SELECTOR, key);
    for (uint32_t i = 0; i < size; i++)
        value |= (uint64_t)inb(FW_CFG_DATA) << (8 * i);
    return value;
}

static uint32_t check_fw_cfg(void)
{
    uint32_t signature = (uint32_t)fw_cfg_read(FW_CFG_SIGNATURE, 4);
    uint32_t cpus, ram_mib;

    check("fw_cfg: signature \"QEMU\"", signature == ('Q' | 'E' << 8 | 'M' << 16 | 'U' << 24));
    check("fw_cfg: ID has the traditional interface bit",
          (fw_cfg_read(FW_CFG_ID, 4) & FW_CFG_ID_TRADITIONAL) != 0);
    cpus = (uint32_t)fw_cfg_read(FW_CFG_NB_CPUS, 2);
    ram_mib = (uint32_t)(fw_cfg_read(FW_CFG_RAM_SIZE, 8) >> 20);
    report_value("fw_cfg: CPUs", cpus, "");
    report_value("fw_cfg: RAM", ram_mib, " MiB");
    return cpus;
}

static void count_bad_table(const struct acpi_header *table, void *ctx)
{
    if (!acpi_table_ok(table))
        (*(uint32_t *)ctx)++;
}

static int is_root_table(const struct acpi_header *table)
{
    const char *s = table->signature;

    return (s[0] == 'R' || s[0] == 'X') && s[1] == 'S' && s[2] == 'D' && s[3] == 'T';
}

static void check_acpi(uint32_t fw_cfg_cpus)
{
    const struct acpi_header *root, *dsdt;
    struct madt_info madt;
    uint32_t bad = 0;

    if (!check("acpi: RSDP found by the EBDA and BIOS-area scan, checksums valid", acpi_find_rsdp() != 0))
        return;
    root = acpi_root_table();
    check("acpi: RSDT/XSDT checksum valid", root != 0 && is_root_table(root) && acpi_table_ok(root));
    acpi_for_each_table(count_bad_table, &bad);
    dsdt = acpi_find_table("DSDT");
    check("acpi: checksum of every listed table and of the DSDT valid",
          bad == 0 && dsdt != 0 && acpi_table_ok(dsdt));
    check("acpi: FADT present, its DSDT defines \\_S5",
          acpi_find_table("FACP") != 0 && acpi_s5_sleep_type() >= 0);
    if (!check("acpi: MADT present", acpi_parse_madt(&madt) == 0))
        return;
    report_value("acpi: processors in the MADT", madt.processors, "");
    check("acpi: MADT and fw_cfg agree on the CPU count", madt.processors == fw_cfg_cpus);
}

static uint32_t pci_address(uint32_t bus, uint32_t device, uint32_t function, uint32_t offset)
{
    return PCI_ENABLE | bus << 16 | device << 11 | function << 8 | (offset & 0xfc);
}

static uint32_t pci_read32(uint32_t bus, uint32_t device, uint32_t function, uint32_t offset)
{
    outl(PCI_CONFIG_ADDRESS, pci_address(bus, device, function, offset));
    return inl(PCI_CONFIG_DATA);
}

static void put_hex4(uint32_t value)
{
    for (int shift = 12; shift >= 0; shift -= 4)
        serial_putc("0123456789abcdef"[(value >> shift) & 0xf]);
}

static void check_pci(void)
{
    uint32_t ids, class_code, device_word;

    outl(PCI_CONFIG_ADDRESS, pci_address(0, 0, 0, 0x08));
    check("pci: CONFIG_ADDRESS reads back as written",
          inl(PCI_CONFIG_ADDRESS) == pci_address(0, 0, 0, 0x08));
    ids = pci_read32(0, 0, 0, 0x00);
    serial_puts("pci: 00:00.0 is ");
    put_hex4(ids & 0xffff);
    serial_putc(':');
    put_hex4(ids >> 16);
    serial_puts("\n");
    class_code = pci_read32(0, 0, 0, 0x08) >> 8;
    check("pci: 00:00.0 has class 06.00 (host bridge)",
          (class_code >> 16) == PCI_CLASS_BRIDGE && ((class_code >> 8) & 0xff) == PCI_SUBCLASS_HOST);
    outl(PCI_CONFIG_ADDRESS, pci_address(0, 0, 0, 0x00));
    device_word = inw(PCI_CONFIG_DATA + 2);
    check("pci: a 16-bit read at 0xcfe gives the same device ID", device_word == ids >> 16);
    check("pci: absent function ff:1f.7 reads all ones", pci_read32(0xff, 0x1f, 7, 0) == 0xffffffffu);
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    (void)magic;
    (void)multiboot_info;
    pc_start("pc_firmware: fw_cfg, ACPI tables, PCI host bridge");
    check_acpi(check_fw_cfg());
    check_pci();
    pc_finish();
}
