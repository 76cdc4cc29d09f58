/*
 * Ending a test guest. QEMU's isa-debug-exit device (and the VMM) take the
 * status written to port 0xf4; on a machine without it the guest halts
 * with interrupts off, which is as stopped as it gets.
 */
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/runtime/port_io.h"

#define DEBUG_EXIT_PORT 0xf4

void guest_exit(uint32_t status)
{
    outl(DEBUG_EXIT_PORT, status);
    for (;;)
        __asm__ volatile("cli; hlt");
}
