// sources: guest-tools/vmm/devices/acpi_pm.c
/* The acpi_pm model's register interface as a guest drives it: reads and
 * writes of 1, 2 or 4 bytes at any of its offsets, time moving on between
 * them, the power button pressed and the reset register written. Whatever the guest does, the model must not touch memory it
 * does not own (ASan) nor compute undefined values (UBSan). */
#include "tests/fuzz/fuzz_input.h"

#include "guest-tools/vmm/devices/acpi_pm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void line(void *ctx, unsigned irq, bool level)
{
    (void)ctx, (void)irq, (void)level;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct fuzz_access a = { 0 };
    static struct acpi_pm dev;
    struct acpi_pm_config config = { .sci = { line, NULL, 9 }, .s5_sleep_type = 5 };
    acpi_pm_init(&dev, &config);
    while (fuzz_more(&in)) {
        fuzz_next_access(&in, ACPI_PM_PORT_COUNT, &a);
        if (a.write)
            acpi_pm_write(&dev, a.offset, a.size, a.value, a.now_ns);
        else
            acpi_pm_read(&dev, a.offset, a.size, a.now_ns);
        if (a.value & 0x10000)
            acpi_pm_reset_control_write(&dev, (uint8_t)a.value);
        acpi_pm_reset_control_read(&dev);
        if ((a.value & 0x3f00000) == 0x3f00000)
            acpi_pm_press_power_button(&dev, a.now_ns);
        acpi_pm_advance(&dev, a.now_ns);
        acpi_pm_next_event_ns(&dev);
    }
    return 0;
}
