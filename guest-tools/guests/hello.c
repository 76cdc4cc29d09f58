/*
 * hello: the smallest useful guest. It proves the VMM loads and starts a
 * multiboot kernel (output appears), that CPUID works inside it (the
 * vendor string), and that the exit port carries a status (0x10).
 */
#include "guest-tools/guests/lib/guest.h"

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    uint32_t max_leaf, vendor[4];

    (void)multiboot_info;
    serial_puts("Hello from the test guest\n");
    serial_puts("multiboot magic ");
    serial_put_hex(magic);
    serial_puts("\n");

    /* Leaf 0 returns the vendor in EBX, EDX, ECX order. */
    cpuid(0, &max_leaf, &vendor[0], &vendor[2], &vendor[1]);
    vendor[3] = 0;
    serial_puts("CPUID leaf 0: vendor \"");
    serial_puts((const char *)vendor);
    serial_puts("\", max leaf ");
    serial_put_hex(max_leaf);
    serial_puts("\n");
    return GUEST_STATUS_HELLO;
}
