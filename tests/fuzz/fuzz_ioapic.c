// sources: guest-tools/vmm/devices/ioapic.c
/* The ioapic model's register interface as a guest drives it: reads and
 * writes of 1, 2 or 4 bytes at any of its offsets, time moving on between
 * them, its pins moving (also pins it does not have) and EOIs. Whatever the guest does, the model must not touch memory it
 * does not own (ASan) nor compute undefined values (UBSan). */
#include "tests/fuzz/fuzz_input.h"

#include "guest-tools/vmm/devices/ioapic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct fuzz_access a = { 0 };
    static struct ioapic dev;
    ioapic_init(&dev, 1, (struct msi_sink){ NULL, NULL });
    while (fuzz_more(&in)) {
        fuzz_next_access(&in, IOAPIC_MMIO_SIZE, &a);
        /* Most accesses where the registers are: IOREGSEL and IOWIN. */
        if (!(a.value & 0x80000000u))
            a.offset &= 0x1f;
        if (a.write)
            ioapic_write(&dev, a.offset, a.size, a.value, a.now_ns);
        else
            ioapic_read(&dev, a.offset, a.size, a.now_ns);
        ioapic_set_irq(&dev, (a.value >> 8) % 32, a.value & 0x10000);
        if (a.value & 0x20000)
            ioapic_eoi(&dev, (uint8_t)(a.value >> 24));
    }
    return 0;
}
