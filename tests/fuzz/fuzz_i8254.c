// sources: guest-tools/vmm/devices/i8254.c guest-tools/vmm/devices/i8254_counter.c
/* The i8254 model's register interface as a guest drives it: reads and
 * writes of 1, 2 or 4 bytes at any of its offsets, time moving on between
 * them, the counters' outputs followed. Whatever the guest does, the model must not touch memory it
 * does not own (ASan) nor compute undefined values (UBSan). */
#include "tests/fuzz/fuzz_input.h"

#include "guest-tools/vmm/devices/i8254.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void line(void *ctx, unsigned irq, bool level)
{
    (void)ctx, (void)irq, (void)level;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct fuzz_access a = { 0 };
    static const uint16_t ports[5] = { I8254_PORT, I8254_PORT + 1, I8254_PORT + 2,
                                       I8254_PORT + 3, I8254_SYSTEM_CONTROL_PORT };
    static struct i8254 dev;
    i8254_init(&dev, (struct irq_line){ line, NULL, 0 });
    while (fuzz_more(&in)) {
        fuzz_next_access(&in, 5, &a);
        if (a.write)
            i8254_write(&dev, ports[a.offset], a.size, a.value, a.now_ns);
        else
            i8254_read(&dev, ports[a.offset], a.size, a.now_ns);
        i8254_update(&dev, a.now_ns);
        i8254_next_event_ns(&dev);
    }
    return 0;
}
