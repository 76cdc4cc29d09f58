/*
 * triple_fault: makes the CPU shut down. With an IDT of limit 0 every
 * exception vector is out of bounds, so int3 raises #GP, which cannot be
 * delivered either (#DF), which cannot be delivered (triple fault). Under
 * the VMM that is HV_EXIT_SHUTDOWN; plain QEMU resets (or, with
 * -no-reboot, exits).
 */
#include "guest-tools/guests/lib/guest.h"

struct idt_pointer {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    static const struct idt_pointer empty_idt = { 0, 0 };

    (void)magic;
    (void)multiboot_info;
    serial_puts("loading an empty IDT and executing int3: expect a triple fault\n");
    __asm__ volatile("lidt %0\n\tint3" : : "m"(empty_idt) : "memory");
    serial_puts("still running after int3: no triple fault\n");
    return GUEST_STATUS_UNEXPECTED;
}
