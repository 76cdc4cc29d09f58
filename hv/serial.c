#include "hv/serial.h"

#include "hv/x86.h"

/* 16550 registers (offsets from the base port) and bits. */
enum {
    UART_DATA = 0,
    UART_IER = 1,
    UART_FCR = 2,
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
};
#define LCR_DLAB  0x80
#define LCR_8N1   0x03
#define LSR_THRE  0x20

void serial_init(uint16_t port)
{
    outb(port + UART_IER, 0);          /* we poll; no interrupts */
    outb(port + UART_LCR, LCR_DLAB);
    outb(port + UART_DATA, 1);          /* divisor 1: 115200 baud */
    outb(port + UART_IER, 0);
    outb(port + UART_LCR, LCR_8N1);
    outb(port + UART_FCR, 0xc7);        /* enable and clear FIFOs */
    outb(port + UART_MCR, 0x03);        /* DTR, RTS */
}

void serial_putc(uint16_t port, char c)
{
    /* Bounded wait: a missing UART reads 0xff (THRE set) and a stuck one
     * must not hang the hypervisor forever. */
    for (unsigned spins = 0; spins < 100000; spins++)
        if (inb(port + UART_LSR) & LSR_THRE)
            break;
    outb(port + UART_DATA, (uint8_t)c);
}
