// sources: guest-tools/vmm/devices/mc146818.c guest-tools/vmm/devices/calendar.c guest-tools/vmm/devices/pc_cmos.c
/* The mc146818 model's register interface as a guest drives it: reads and
 * writes of 1, 2 or 4 bytes at any of its offsets, time moving on between
 * them, the clock running. Whatever the guest does, the model must not touch memory it
 * does not own (ASan) nor compute undefined values (UBSan). */
#include "tests/fuzz/fuzz_input.h"

#include "guest-tools/vmm/devices/mc146818.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void line(void *ctx, unsigned irq, bool level)
{
    (void)ctx, (void)irq, (void)level;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct fuzz_access a = { 0 };
    static struct mc146818 dev;
    mc146818_init(&dev, (struct irq_line){ line, NULL, 8 }, 1700000000);
    while (fuzz_more(&in)) {
        fuzz_next_access(&in, 2, &a);
        if (a.write)
            mc146818_write(&dev, a.offset, a.size, a.value, a.now_ns);
        else
            mc146818_read(&dev, a.offset, a.size, a.now_ns);
        mc146818_advance(&dev, a.now_ns);
        mc146818_next_event_ns(&dev);
    }
    return 0;
}
