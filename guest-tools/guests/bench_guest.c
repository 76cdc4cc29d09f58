/*
 * bench_guest: the cheapest exit a guest can cause in a loop, an OUT to
 * port 0x80 (the POST-code port, harmless on real hardware). Each one is a
 * round trip guest -> hypervisor -> VMM -> guest, so a benchmark counts
 * how many the VMM resumes per second.
 */
#include "guest-tools/guests/lib/guest.h"

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    (void)magic;
    (void)multiboot_info;
    serial_puts("bench_guest: looping on OUT to port 0x80\n");
    __asm__ volatile("xorl %%eax, %%eax\n"
                     "1:\n\t"
                     "outb %%al, $0x80\n\t"
                     "jmp 1b"
                     : : : "eax");
    return GUEST_STATUS_UNEXPECTED;
}
