/*
 * Power off through the emulators' debug ports, then halt.
 */
#include "guest-tools/runtime/port_io.h"
#include "guest-tools/runtime/power.h"

void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

void power_off(int status)
{
    const char *bochs = "Shutdown";

    outl(POWER_DEBUG_EXIT_PORT, (uint32_t)status);
    for (const char *p = bochs; *p != '\0'; p++)
        outb(POWER_BOCHS_PORT, (uint8_t)*p);
    halt_forever();
}
