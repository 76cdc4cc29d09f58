/*
 * vmmcall: a child guest's hypercall, with the instruction of the CPU it
 * runs on (VMMCALL on AMD, VMCALL on Intel: each raises #UD on the other).
 * Under the VMM this is HV_EXIT_HYPERCALL with nr 0x1234 (the VMM stops the
 * guest and reports it; if it resumed, the guest would print and exit
 * 0x11). Without a hypervisor the instruction raises #UD, and with no IDT
 * set up that escalates to a triple fault: expected under plain QEMU.
 */
#include <stdbool.h>

#include "guest-tools/guests/lib/guest.h"

#define HYPERCALL_NR 0x1234

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    uint32_t result = HYPERCALL_NR;

    (void)magic;
    (void)multiboot_info;
    uint32_t a, vendor_b, c, d;
    cpuid(0, &a, &vendor_b, &c, &d);
    bool intel = vendor_b == 0x756e6547; /* "Genu" */
    serial_puts(intel ? "executing VMCALL with EAX=0x1234\n"
                      : "executing VMMCALL with EAX=0x1234\n");
    /* The encodings spelled out, for assemblers without the mnemonics. */
    if (intel)
        __asm__ volatile(".byte 0x0f, 0x01, 0xc1" : "+a"(result) : : "memory");
    else
        __asm__ volatile(".byte 0x0f, 0x01, 0xd9" : "+a"(result) : : "memory");
    serial_puts("back from VMMCALL, EAX=");
    serial_put_hex(result);
    serial_puts("\n");
    return GUEST_STATUS_VMMCALL;
}
