/*
 * pc_reset: the guest resets the machine through the reset control
 * register at port 0xcf9 (Intel ICH9 data sheet, RST_CNT: bit 2 RST_CPU
 * starts the reset on its 0 -> 1 transition, bit 1 SYS_RST makes it a
 * hard one). QEMU with -no-reboot then exits with status 0; the VMM ends
 * (or restarts) the VM. Still running a second later is a failure.
 */
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/timing.h"

#define RESET_CONTROL 0xcf9
#define RST_CNT_SYS_RST 0x02
#define RST_CNT_RST_CPU 0x04

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    (void)magic;
    (void)multiboot_info;
    pc_start("pc_reset: reset through port 0xcf9");
    serial_puts("reset: writing SYS_RST, then SYS_RST | RST_CPU, to port 0xcf9\n");
    outb(RESET_CONTROL, RST_CNT_SYS_RST);
    outb(RESET_CONTROL, RST_CNT_SYS_RST | RST_CNT_RST_CPU);
    delay_us(1000000);
    check("reset: the machine is still running a second later", 0);
    pc_finish();
}
