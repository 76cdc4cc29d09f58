// sources: guest-tools/vmm/devices/pci_host.c
/* The pci_host model's register interface as a guest drives it: reads and
 * writes of 1, 2 or 4 bytes at any of its offsets, time moving on between
 * them. Whatever the guest does, the model must not touch memory it
 * does not own (ASan) nor compute undefined values (UBSan). */
#include "tests/fuzz/fuzz_input.h"

#include "guest-tools/vmm/devices/pci_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct fuzz_access a = { 0 };
    static struct pci_host dev;
    pci_host_init(&dev);
    while (fuzz_more(&in)) {
        fuzz_next_access(&in, 8, &a);
        uint16_t port = (uint16_t)(PCI_CONFIG_ADDRESS_PORT + a.offset);
        if (!pci_host_decodes(port, a.size))
            continue;
        if (a.write)
            pci_host_write(&dev, port, a.size, a.value, a.now_ns);
        else
            pci_host_read(&dev, port, a.size, a.now_ns);

    }
    return 0;
}
