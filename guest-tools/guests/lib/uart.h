/*
 * COM1's 16550A registers (PC16550D data sheet) for the guests that use
 * more than serial.c's polled output: interrupts and input.
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_UART_H
#define GUEST_TOOLS_GUESTS_LIB_UART_H

#include <stdint.h>

#define COM1_BASE   0x3f8
#define COM1_IRQ    4
#define UART_RBR    (COM1_BASE + 0)   /* read */
#define UART_DLL    (COM1_BASE + 0)   /* with LCR_DLAB */
#define UART_DLM    (COM1_BASE + 1)
#define UART_IER    (COM1_BASE + 1)
#define UART_IIR    (COM1_BASE + 2)   /* read */
#define UART_FCR    (COM1_BASE + 2)   /* write */
#define UART_LCR    (COM1_BASE + 3)
#define UART_MCR    (COM1_BASE + 4)
#define UART_LSR    (COM1_BASE + 5)

#define IER_RECEIVED    0x01          /* received data available */
#define IER_THR_EMPTY   0x02
#define IIR_NONE        0x01          /* no interrupt pending */
#define IIR_ID_MASK     0x0e
#define IIR_THR_EMPTY   0x02
#define IIR_RECEIVED    0x04
#define IIR_TIMEOUT     0x0c          /* character timeout (FIFO mode) */
#define FCR_ENABLE      0x01
#define FCR_CLEAR_RX    0x02
#define FCR_CLEAR_TX    0x04          /* trigger level bits 7:6 = 0: 1 byte */
#define LCR_8N1         0x03
#define LCR_DLAB        0x80          /* divisor latch access */
#define MCR_DTR         0x01
#define MCR_RTS         0x02          /* request to send: ready for input */
#define MCR_OUT2        0x08          /* gates INTR onto the IRQ line on a PC */
#define LSR_DATA_READY  0x01
#define LSR_THR_EMPTY   0x20

/* 115200 baud, 8 data bits, no parity, 1 stop bit, FIFOs and interrupts
 * off. Not every firmware leaves COM1 so (Bochs' BIOS leaves 5 data bits).
 * RTS stays off until a guest is ready for input and raises it: the
 * `pc` tool's UART paces typed input by RTS, as the wire's flow control
 * would (QEMU sends whatever RTS says). */
void uart_init(void);

/* A byte from COM1 by polling, or -1 after timeout_ms (timing_init
 * first). */
int serial_read_byte(uint32_t timeout_ms);
/* Reads up to CR or LF (not stored; a leading CR/LF is skipped) into
 * line, at most size - 1 bytes, and terminates it. Returns its length,
 * or -1 on timeout. */
int serial_read_line(char *line, uint32_t size, uint32_t timeout_ms);

#endif
