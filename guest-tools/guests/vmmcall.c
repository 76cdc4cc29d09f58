/*
 * vmmcall: a child guest's hypercall. Under the VMM on an SVM host this is
 * HV_EXIT_HYPERCALL with nr 0x1234 (the VMM stops the guest and reports
 * it; if it resumed, the guest would print and exit 0x11). Without SVM
 * the instruction raises #UD, and with no IDT set up that escalates to a
 * triple fault: expected under plain QEMU, which has no SVM for its
 * guest by default.
 */
#include "guest-tools/guests/lib/guest.h"

#define HYPERCALL_NR 0x1234

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    uint32_t result = HYPERCALL_NR;

    (void)magic;
    (void)multiboot_info;
    serial_puts("executing VMMCALL with EAX=0x1234\n");
    /* vmmcall's encoding, spelled out for assemblers without it. */
    __asm__ volatile(".byte 0x0f, 0x01, 0xd9" : "+a"(result) : : "memory");
    serial_puts("back from VMMCALL, EAX=");
    serial_put_hex(result);
    serial_puts("\n");
    return GUEST_STATUS_VMMCALL;
}
