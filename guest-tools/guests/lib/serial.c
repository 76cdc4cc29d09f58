/*
 * COM1 output by polling, the simplest driver that works on QEMU's 16550
 * and on the VMM's model of it. The UART is used as firmware left it: QEMU
 * ignores baud settings and the VMM has none, so there is no init.
 */
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/runtime/port_io.h"

#define COM1_THR 0x3f8     /* transmit holding register */
#define COM1_LSR 0x3fd     /* line status register */
#define LSR_THR_EMPTY 0x20 /* room for the next byte */

void serial_putc(char c)
{
    while ((inb(COM1_LSR) & LSR_THR_EMPTY) == 0)
        ;
    outb(COM1_THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\n')
            serial_putc('\r');  /* a terminal on the serial line wants CR LF */
        serial_putc(*s);
    }
}

void serial_put_hex(uint32_t value)
{
    serial_puts("0x");
    for (int shift = 28; shift >= 0; shift -= 4)
        serial_putc("0123456789abcdef"[(value >> shift) & 0xf]);
}

void serial_put_dec(uint32_t value)
{
    char digits[10];
    int n = 0;

    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0)
        serial_putc(digits[--n]);
}
