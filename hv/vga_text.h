/* The 80x25 EGA text screen that BIOS boots leave us in. Under UEFI there is
 * none (GRUB reports an RGB framebuffer instead) and only serial is used. */
#ifndef HV_VGA_TEXT_H
#define HV_VGA_TEXT_H

#include <stdint.h>

void vga_text_init(uint64_t address, uint32_t width, uint32_t height);
void vga_text_putc(char c);

#endif
