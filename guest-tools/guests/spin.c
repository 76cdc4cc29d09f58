/*
 * spin: never exits again after its one line. The VMM sees nothing but
 * time-slice ends (HV_EXIT_INTR), which is what tests of preemption and of
 * the run loop's interrupt limit need.
 */
#include "guest-tools/guests/lib/guest.h"

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    (void)magic;
    (void)multiboot_info;
    serial_puts("spinning\n");
    __asm__ volatile("1: jmp 1b");
    return GUEST_STATUS_UNEXPECTED;
}
