/*
 * outside_memory: reads a byte at guest-physical 0x40000000, beyond the
 * RAM any test VM gets. Under the VMM that is HV_EXIT_MMIO (a read, at
 * this instruction); under plain QEMU with 128 MiB the address is
 * unassigned, the read returns a bus value (0xff or 0) and the guest goes
 * on to print it and exit 0x12.
 */
#include "guest-tools/guests/lib/guest.h"

#define OUTSIDE_ADDRESS 0x40000000u

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    const volatile uint8_t *outside = (const volatile uint8_t *)OUTSIDE_ADDRESS;
    uint8_t value;

    (void)magic;
    (void)multiboot_info;
    serial_puts("reading guest-physical 0x40000000, outside RAM\n");
    value = *outside;
    serial_puts("read ");
    serial_put_hex(value);
    serial_puts(" from 0x40000000\n");
    return GUEST_STATUS_OUTSIDE_MEMORY;
}
