/*
 * Check lines and the guest's exit (check.h).
 */
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/i8259.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/timing.h"
#include "guest-tools/guests/lib/uart.h"

#define DEBUG_EXIT_PORT    0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900

/* Several CPUs may report at once (pc_smp): the count is atomic, the
 * lines are the caller's to keep apart. */
static volatile uint32_t failures;

void pc_start(const char *banner)
{
    uart_init();
    descriptors_init();
    /* The 8259s remapped above the exceptions and all masked, as an OS
     * does first: firmware leaves them on vectors 8-15 with IRQ0 open,
     * and not every machine routes them through LINT0 (Bochs does not). */
    i8259_init(0x20, 0x28);
    timing_init();
    serial_puts(banner);
    serial_puts("\n");
}

int check(const char *what, int ok)
{
    serial_puts(what);
    serial_puts(ok ? ": pass\n" : ": FAIL\n");
    if (!ok)
        atomic_fetch_inc(&failures);
    return ok;
}

int check_range(const char *what, uint32_t value, uint32_t low, uint32_t high)
{
    int ok = value >= low && value <= high;

    if (ok)
        return check(what, 1);
    serial_puts(what);
    serial_puts(": FAIL (");
    serial_put_dec(value);
    serial_puts(" not in ");
    serial_put_dec(low);
    serial_puts("..");
    serial_put_dec(high);
    serial_puts(")\n");
    atomic_fetch_inc(&failures);
    return 0;
}

int check_values(const char *what, int ok, const struct check_value *values, unsigned count)
{
    if (ok)
        return check(what, 1);
    serial_puts(what);
    serial_puts(": FAIL (");
    for (unsigned i = 0; i < count; i++) {
        serial_puts(i ? ", " : "");
        serial_puts(values[i].name);
        serial_puts(" ");
        serial_put_dec(values[i].value);
    }
    serial_puts(")\n");
    atomic_fetch_inc(&failures);
    return 0;
}

void report_value(const char *what, uint32_t value, const char *unit)
{
    serial_puts(what);
    serial_puts(": ");
    serial_put_dec(value);
    serial_puts(unit);
    serial_puts("\n");
}

void pc_exit(uint32_t status)
{
    outl(DEBUG_EXIT_PORT, status);
    /* Still here: no isa-debug-exit. Bochs ends on this string. */
    for (const char *s = "Shutdown"; *s != '\0'; s++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void pc_finish(void)
{
    if (failures == 0) {
        serial_puts("result: pass\n");
        pc_exit(PC_STATUS_PASS);
    }
    serial_puts("result: FAIL, ");
    serial_put_dec(failures);
    serial_puts(" checks failed\n");
    pc_exit(PC_STATUS_FAIL);
}
