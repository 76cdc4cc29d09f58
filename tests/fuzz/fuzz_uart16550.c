// sources: guest-tools/vmm/devices/uart16550.c
/* The uart16550 model's register interface as a guest drives it: reads and
 * writes of 1, 2 or 4 bytes at any of its offsets, time moving on between
 * them, and bytes arriving on its input. Whatever the guest does, the model must not touch memory it
 * does not own (ASan) nor compute undefined values (UBSan). */
#include "tests/fuzz/fuzz_input.h"

#include "guest-tools/vmm/devices/uart16550.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void line(void *ctx, unsigned irq, bool level)
{
    (void)ctx, (void)irq, (void)level;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct fuzz_access a = { 0 };
    static struct uart16550 dev;
    uart16550_init(&dev, (struct irq_line){ line, NULL, 4 }, NULL, NULL);
    while (fuzz_more(&in)) {
        fuzz_next_access(&in, 8, &a);
        if (a.write)
            uart16550_write(&dev, a.offset, a.size, a.value, a.now_ns);
        else
            uart16550_read(&dev, a.offset, a.size, a.now_ns);
        if ((a.value & 0x700) == 0x700) {
            uint8_t byte = (uint8_t)a.value;
            uart16550_receive(&dev, &byte, 1, a.now_ns);
        }
        uart16550_advance(&dev, a.now_ns);
        uart16550_next_event_ns(&dev);
    }
    return 0;
}
