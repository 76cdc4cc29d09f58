// sources: guest-tools/vmm/devices/pci_host.c
/* Unit tests for PCI configuration mechanism #1 and the host bridge
 * (guest-tools/vmm/devices/pci_host.c), driven through the ports as a
 * guest's PCI scan drives them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest-tools/vmm/devices/pci_host.h"

static struct pci_host host;

static int setup(void **state)
{
    (void)state;
    memset(&host, 0xa5, sizeof(host)); /* init must not rely on zeroed memory */
    pci_host_init(&host);
    return 0;
}

static uint32_t address_of(unsigned bus, unsigned device, unsigned function, unsigned reg)
{
    return PCI_CONFIG_ADDRESS_ENABLE | bus << 16 | device << 11 | function << 8 | (reg & 0xfc);
}

/* An access of `size` bytes at config offset `reg`, through the byte lane
 * of CONFIG_DATA that offset falls on, as Linux's pci_conf1_read does. */
static uint32_t config_read(unsigned bus, unsigned device, unsigned function, unsigned reg,
                            unsigned size)
{
    pci_host_write(&host, PCI_CONFIG_ADDRESS_PORT, 4, address_of(bus, device, function, reg), 0);
    return pci_host_read(&host, (uint16_t)(PCI_CONFIG_DATA_PORT + (reg & 3)), size, 0);
}

static void config_write(unsigned bus, unsigned device, unsigned function, unsigned reg,
                         unsigned size, uint32_t value)
{
    pci_host_write(&host, PCI_CONFIG_ADDRESS_PORT, 4, address_of(bus, device, function, reg), 0);
    pci_host_write(&host, (uint16_t)(PCI_CONFIG_DATA_PORT + (reg & 3)), size, value, 0);
}

static void test_host_bridge_identity(void **state)
{
    (void)state;
    assert_int_equal(config_read(0, 0, 0, PCI_VENDOR_ID, 4), 0x29c08086);
    assert_int_equal(config_read(0, 0, 0, PCI_VENDOR_ID, 2), 0x8086);
    assert_int_equal(config_read(0, 0, 0, PCI_DEVICE_ID, 2), 0x29c0);
    assert_int_equal(config_read(0, 0, 0, PCI_COMMAND, 2), 0x0103);
    assert_int_equal(config_read(0, 0, 0, PCI_STATUS, 2), 0x0000);
    assert_int_equal(config_read(0, 0, 0, PCI_REVISION_ID, 4), 0x06000000);
    assert_int_equal(config_read(0, 0, 0, PCI_REVISION_ID, 1), 0x00);
    assert_int_equal(config_read(0, 0, 0, PCI_CLASS_PROG, 1), 0x00);
    assert_int_equal(config_read(0, 0, 0, PCI_CLASS_DEVICE, 2), 0x0600);
    assert_int_equal(config_read(0, 0, 0, PCI_HEADER_TYPE, 1), 0x00);
    assert_int_equal(config_read(0, 0, 0, PCI_LATENCY_TIMER, 1), 0x00);
    /* QEMU's subsystem IDs, as its q35 MCH has them. */
    assert_int_equal(config_read(0, 0, 0, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
    assert_int_equal(config_read(0, 0, 0, PCI_SUBSYSTEM_ID, 2), 0x1100);
    /* No BARs, ROM, capabilities or interrupt; device-specific space zero. */
    for (unsigned reg = PCI_BAR0; reg < 0x100; reg += 4)
        if (reg != PCI_SUBSYSTEM_VENDOR_ID)
            assert_int_equal(config_read(0, 0, 0, reg, 4), 0);
}

static void test_absent_devices_read_all_ones(void **state)
{
    (void)state;
    /* A brute-force scan of every bus finds exactly one function. */
    unsigned found = 0;
    for (unsigned bus = 0; bus < 256; bus++)
        for (unsigned device = 0; device < 32; device++)
            for (unsigned function = 0; function < 8; function++)
                if (config_read(bus, device, function, PCI_VENDOR_ID, 2) != 0xffff)
                    found++;
    assert_int_equal(found, 1);
    assert_int_equal(config_read(0, 1, 0, PCI_VENDOR_ID, 4), 0xffffffff);
    assert_int_equal(config_read(0, 0, 1, PCI_CLASS_DEVICE, 2), 0xffff);
    assert_int_equal(config_read(1, 0, 0, PCI_HEADER_TYPE, 1), 0xff);
    assert_int_equal(config_read(255, 31, 7, 0xfc, 4), 0xffffffff);
    /* Writes to them vanish and leave the bridge alone. */
    config_write(0, 1, 0, PCI_COMMAND, 2, 0xffff);
    config_write(1, 0, 0, PCI_COMMAND, 2, 0xffff);
    assert_int_equal(config_read(0, 0, 0, PCI_COMMAND, 2), 0x0103);
    assert_int_equal(config_read(0, 1, 0, PCI_COMMAND, 2), 0xffff);
}

static void test_byte_lanes(void **state)
{
    (void)state;
    /* Register 0x00 holds 86 80 c0 29; port 0xcfc + n is byte n. */
    const uint8_t bytes[4] = { 0x86, 0x80, 0xc0, 0x29 };
    for (unsigned n = 0; n < 4; n++)
        assert_int_equal(config_read(0, 0, 0, n, 1), bytes[n]);
    assert_int_equal(config_read(0, 0, 0, 1, 2), 0xc080);
    assert_int_equal(config_read(0, 0, 0, 2, 2), 0x29c0);
    assert_int_equal(config_read(0, 0, 0, PCI_REVISION_ID + 3, 1), 0x06);
    /* Accesses that leave the dword reach nothing and float high. */
    pci_host_write(&host, PCI_CONFIG_ADDRESS_PORT, 4, address_of(0, 0, 0, 0), 0);
    assert_int_equal(pci_host_read(&host, 0xcfd, 4, 0), 0xffffffff);
    assert_int_equal(pci_host_read(&host, 0xcff, 2, 0), 0xffff);
    assert_int_equal(pci_host_read(&host, 0xcfc, 3, 0), 0xffffff);
    assert_int_equal(pci_host_read(&host, 0xcfc, 8, 0), 0xffffffff);
    assert_int_equal(pci_host_read(&host, 0xcfc, 4, 0), 0x29c08086);
}

static void test_read_only_and_writable_fields(void **state)
{
    (void)state;
    /* Identity, class and BARs ignore writes; a BAR sizing probe reads 0
     * ("not implemented"). */
    config_write(0, 0, 0, PCI_VENDOR_ID, 4, 0);
    config_write(0, 0, 0, PCI_DEVICE_ID, 2, 0xbeef);
    config_write(0, 0, 0, PCI_REVISION_ID, 4, 0xffffffff);
    config_write(0, 0, 0, PCI_HEADER_TYPE, 1, 0x80);
    config_write(0, 0, 0, PCI_BAR0, 4, 0xffffffff);
    config_write(0, 0, 0, 0x3c, 1, 0x0b);
    config_write(0, 0, 0, 0x59, 1, 0x30);
    assert_int_equal(config_read(0, 0, 0, PCI_VENDOR_ID, 4), 0x29c08086);
    assert_int_equal(config_read(0, 0, 0, PCI_REVISION_ID, 4), 0x06000000);
    assert_int_equal(config_read(0, 0, 0, PCI_HEADER_TYPE, 1), 0x00);
    assert_int_equal(config_read(0, 0, 0, PCI_BAR0, 4), 0);
    assert_int_equal(config_read(0, 0, 0, 0x3c, 1), 0);
    assert_int_equal(config_read(0, 0, 0, 0x58, 4), 0);

    /* Command: the I/O, memory, master, parity and SERR# enables stick,
     * nothing else does. */
    config_write(0, 0, 0, PCI_COMMAND, 2, 0xffff);
    assert_int_equal(config_read(0, 0, 0, PCI_COMMAND, 2), 0x0147);
    config_write(0, 0, 0, PCI_COMMAND, 2, 0);
    assert_int_equal(config_read(0, 0, 0, PCI_COMMAND, 2), 0x0000);
    /* A byte write to the command's high byte sets SERR# alone; a word
     * write to status (write-one-to-clear) touches neither half. */
    config_write(0, 0, 0, PCI_COMMAND + 1, 1, 0x01);
    assert_int_equal(config_read(0, 0, 0, PCI_COMMAND, 4), 0x00000100);
    config_write(0, 0, 0, PCI_STATUS, 2, 0xffff);
    assert_int_equal(config_read(0, 0, 0, PCI_COMMAND, 4), 0x00000100);
    /* Latency timer: bits 7:3. Cache line size next to it stays zero. */
    config_write(0, 0, 0, PCI_CACHE_LINE_SIZE, 4, 0xffffffff);
    assert_int_equal(config_read(0, 0, 0, PCI_CACHE_LINE_SIZE, 4), 0x0000f800);
    config_write(0, 0, 0, PCI_LATENCY_TIMER, 1, 0x47);
    assert_int_equal(config_read(0, 0, 0, PCI_LATENCY_TIMER, 1), 0x40);
}

static void test_config_address(void **state)
{
    (void)state;
    assert_int_equal(pci_host_read(&host, PCI_CONFIG_ADDRESS_PORT, 4, 0), 0);
    /* Reserved bits 30:24 and 1:0 read as zero. */
    pci_host_write(&host, PCI_CONFIG_ADDRESS_PORT, 4, 0xffffffff, 0);
    assert_int_equal(pci_host_read(&host, PCI_CONFIG_ADDRESS_PORT, 4, 0), 0x80fffffc);
    pci_host_write(&host, PCI_CONFIG_ADDRESS_PORT, 4, 0x7f123457, 0);
    assert_int_equal(pci_host_read(&host, PCI_CONFIG_ADDRESS_PORT, 4, 0), 0x00123454);
    /* Byte and word accesses at 0xcf8-0xcfb are not CONFIG_ADDRESS: 0xcf9
     * belongs to the reset device. */
    assert_false(pci_host_decodes(0xcf9, 1));
    assert_false(pci_host_decodes(0xcf8, 1));
    assert_false(pci_host_decodes(0xcf8, 2));
    assert_false(pci_host_decodes(0xcfa, 2));
    assert_false(pci_host_decodes(0xcfc, 8));
    assert_true(pci_host_decodes(0xcf8, 4));
    for (uint16_t port = 0xcfc; port <= 0xcff; port++)
        assert_true(pci_host_decodes(port, 1));
    assert_false(pci_host_decodes(0xd00, 1));
    pci_host_write(&host, 0xcf8, 1, 0x80, 0);
    pci_host_write(&host, 0xcf8, 2, 0x8000, 0);
    assert_int_equal(pci_host_read(&host, PCI_CONFIG_ADDRESS_PORT, 4, 0), 0x00123454);
    assert_int_equal(pci_host_read(&host, 0xcf8, 2, 0), 0xffff);
    assert_int_equal(pci_host_read(&host, 0xcf9, 1, 0), 0xff);

    /* With the enable bit clear CONFIG_DATA reaches nothing. */
    pci_host_write(&host, PCI_CONFIG_ADDRESS_PORT, 4, 0, 0);
    assert_int_equal(pci_host_read(&host, PCI_CONFIG_DATA_PORT, 4, 0), 0xffffffff);
    pci_host_write(&host, PCI_CONFIG_ADDRESS_PORT, 4, PCI_COMMAND, 0);
    pci_host_write(&host, PCI_CONFIG_DATA_PORT, 2, 0xffff, 0);
    assert_int_equal(config_read(0, 0, 0, PCI_COMMAND, 2), 0x0103);
}

static uint64_t rng_state;
static uint32_t next_random(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static void test_garbage(void **state)
{
    (void)state;
    rng_state = 0xcf8cfcull;
    for (unsigned step = 0; step < 200000; step++) {
        uint16_t port = (uint16_t)(0xcf6 + next_random() % 12);
        unsigned size = next_random() % 6;
        uint32_t value = next_random();
        /* Aim at the bridge often enough to reach its registers. */
        if (port == PCI_CONFIG_ADDRESS_PORT && size == 4 && (next_random() & 1))
            value &= 0x800000fcu;
        if (next_random() & 1)
            pci_host_write(&host, port, size, value, 0);
        else
            (void)pci_host_read(&host, port, size, 0);
        assert_int_equal(host.config_address & ~PCI_CONFIG_ADDRESS_WRITABLE, 0);
        assert_int_equal(host.bridge_command & ~0x0147, 0);
        assert_int_equal(host.bridge_latency_timer & 7, 0);
    }
    assert_int_equal(config_read(0, 0, 0, PCI_VENDOR_ID, 4), 0x29c08086);
    assert_int_equal(config_read(0, 0, 0, PCI_REVISION_ID, 4), 0x06000000);
    assert_int_equal(config_read(0, 0, 0, PCI_COMMAND, 2) & 0xfeb8, 0x0000);
    assert_int_equal(config_read(0, 3, 0, PCI_VENDOR_ID, 4), 0xffffffff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_host_bridge_identity, setup),
        cmocka_unit_test_setup(test_absent_devices_read_all_ones, setup),
        cmocka_unit_test_setup(test_byte_lanes, setup),
        cmocka_unit_test_setup(test_read_only_and_writable_fields, setup),
        cmocka_unit_test_setup(test_config_address, setup),
        cmocka_unit_test_setup(test_garbage, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
