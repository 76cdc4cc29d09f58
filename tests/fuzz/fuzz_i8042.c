// sources: guest-tools/vmm/devices/i8042.c
/* The i8042 model's register interface as a guest drives it: reads and
 * writes of 1, 2 or 4 bytes at any of its offsets, time moving on between
 * them. Whatever the guest does, the model must not touch memory it
 * does not own (ASan) nor compute undefined values (UBSan). */
#include "tests/fuzz/fuzz_input.h"

#include "guest-tools/vmm/devices/i8042.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void line(void *ctx, unsigned irq, bool level)
{
    (void)ctx, (void)irq, (void)level;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct fuzz_access a = { 0 };
    static struct i8042 dev;
    i8042_init(&dev, (struct irq_line){ line, NULL, 1 }, (struct irq_line){ line, NULL, 12 },
               (struct platform_request_sink){ NULL, NULL });
    while (fuzz_more(&in)) {
        fuzz_next_access(&in, 8, &a);
        if (a.write)
            i8042_write(&dev, a.offset, a.size, a.value, a.now_ns);
        else
            i8042_read(&dev, a.offset, a.size, a.now_ns);
        i8042_a20_enabled(&dev);
    }
    return 0;
}
