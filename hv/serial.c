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
#define LSR_DR    0x01  /* a received byte waits in RBR */
#define IER_RDA   0x01  /* interrupt when received data is available */
#define MCR_OUT2  0x08  /* gates the UART's IRQ line on a PC */

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

void serial_enable_receive_interrupt(uint16_t port)
{
    outb(port + UART_MCR, 0x03 | MCR_OUT2);
    outb(port + UART_IER, IER_RDA);
}

bool serial_getc(uint16_t port, uint8_t *byte)
{
    uint8_t lsr = inb(port + UART_LSR);
    /* 0xff: no UART answers on the port; never "data ready". */
    if (lsr == 0xff || !(lsr & LSR_DR))
        return false;
    *byte = inb(port + UART_DATA);
    return true;
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
