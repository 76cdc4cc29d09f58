// sources: guest-tools/vmm/devices/i8259.c
/* The i8259 model's register interface as a guest drives it: reads and
 * writes of 1, 2 or 4 bytes at any of its offsets, time moving on between
 * them, its input lines moving and the CPU acknowledging. Whatever the guest does, the model must not touch memory it
 * does not own (ASan) nor compute undefined values (UBSan). */
#include "tests/fuzz/fuzz_input.h"

#include "guest-tools/vmm/devices/i8259.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void line(void *ctx, unsigned irq, bool level)
{
    (void)ctx, (void)irq, (void)level;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct fuzz_access a = { 0 };
    static const uint16_t ports[6] = { I8259_MASTER_PORT, I8259_MASTER_PORT + 1,
                                       I8259_SLAVE_PORT, I8259_SLAVE_PORT + 1,
                                       I8259_ELCR_PORT, I8259_ELCR_PORT + 1 };
    static struct i8259_pair dev;
    i8259_init(&dev, (struct irq_line){ line, NULL, 0 });
    while (fuzz_more(&in)) {
        fuzz_next_access(&in, 6, &a);
        if (a.write)
            i8259_write(&dev, ports[a.offset], a.size, a.value, a.now_ns);
        else
            i8259_read(&dev, ports[a.offset], a.size, a.now_ns);
        /* Lines moving, and the CPU taking what the pair offers. */
        i8259_set_irq(&dev, (a.value >> 8) % 16, a.value & 0x10000);
        if (i8259_intr(&dev) && (a.value & 0x20000))
            i8259_acknowledge(&dev);
    }
    return 0;
}
