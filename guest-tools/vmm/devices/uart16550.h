/*
 * 16550A UART (National Semiconductor PC16550D data sheet) as a PC wires it:
 * eight byte registers at a base port (COM1 0x3f8, IRQ 4; COM2 0x2f8,
 * IRQ 3), the interrupt output gated by MCR OUT2, a 1.8432 MHz baud clock.
 *
 * Interface (device.h contract):
 *   uart16550_init        power-on state; `irq` is the chip's INTR pin after
 *                         the OUT2 gate, `transmit` receives each byte the
 *                         guest sends (not called in loopback mode).
 *   uart16550_read/write  `offset` 0-7 from the base port, `size` 1, 2 or 4
 *                         (wider accesses reach consecutive registers).
 *   uart16550_receive     bytes arriving on the serial input (the console)
 *                         at `now_ns`; returns how many the receive FIFO (16
 *                         bytes, or the 1-byte RBR with FIFOs off) queued.
 *                         The rest overran: lost, with LSR OE set. In
 *                         loopback the input is cut off and nothing queues.
 *   uart16550_receive_room how many bytes the receiver takes without
 *                         overrun; a VMM that offers no more than that never
 *                         loses input (flow control the real wire lacks) and
 *                         offers the rest after the guest reads RBR.
 *   uart16550_advance     brings the model to `now_ns`; call it at
 *                         uart16550_next_event_ns (the receiver's character
 *                         timeout), which may change after any other call.
 *
 * Transmission takes no time: THRE and TEMT are set again as soon as a byte
 * is written, which drivers accept (a fast line). Reception is instant as
 * well; the character timeout (4 character times at the programmed baud
 * and frame format) is the one timed event, so that a short line typed at
 * the console reaches a driver whose FIFO trigger level is 8 or 14.
 *
 * Locking: none inside; the VMM serialises all calls on one uart16550.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_UART16550_H
#define GUEST_TOOLS_VMM_DEVICES_UART16550_H

#include "guest-tools/vmm/devices/device.h"

#define UART16550_PORT_COUNT 8
#define UART16550_FIFO_SIZE  16

/* Register offsets (data sheet table II). */
#define UART_RBR 0 /* receive buffer (read, DLAB 0) */
#define UART_THR 0 /* transmit holding (write, DLAB 0) */
#define UART_DLL 0 /* divisor latch low (DLAB 1) */
#define UART_IER 1 /* interrupt enable (DLAB 0) */
#define UART_DLM 1 /* divisor latch high (DLAB 1) */
#define UART_IIR 2 /* interrupt identification (read) */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_MSR 6 /* modem status */
#define UART_SCR 7 /* scratch */

#define UART_IER_RDI  0x01 /* received data available (and timeout) */
#define UART_IER_THRI 0x02 /* transmit holding register empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI  0x08 /* modem status */
#define UART_IER_MASK 0x0f /* bits 7:4 read 0 on a 16550A */

#define UART_IIR_NO_INT   0x01
#define UART_IIR_MSI      0x00
#define UART_IIR_THRI     0x02
#define UART_IIR_RDI      0x04
#define UART_IIR_RLSI     0x06
#define UART_IIR_TIMEOUT  0x0c
#define UART_IIR_ID_MASK  0x0f
#define UART_IIR_FIFO_ON  0xc0 /* both bits set: a 16550A with FIFOs on */

#define UART_FCR_ENABLE       0x01
#define UART_FCR_CLEAR_RCVR   0x02
#define UART_FCR_CLEAR_XMIT   0x04
#define UART_FCR_DMA_SELECT   0x08
#define UART_FCR_TRIGGER_MASK 0xc0 /* 1, 4, 8 or 14 bytes */

#define UART_LCR_WORD_LENGTH 0x03 /* 5 + n data bits */
#define UART_LCR_STOP        0x04 /* 2 stop bits (1.5 with 5 data bits) */
#define UART_LCR_PARITY      0x08
#define UART_LCR_DLAB        0x80

#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08 /* on a PC: enables the IRQ line's driver */
#define UART_MCR_LOOP 0x10
#define UART_MCR_MASK 0x1f

#define UART_LSR_DR   0x01 /* data ready */
#define UART_LSR_OE   0x02 /* overrun error */
#define UART_LSR_THRE 0x20 /* transmit holding register empty */
#define UART_LSR_TEMT 0x40 /* transmitter empty */

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04 /* trailing edge of ring indicator */
#define UART_MSR_DDCD 0x08
#define UART_MSR_DELTA_MASK 0x0f
#define UART_MSR_CTS  0x10
#define UART_MSR_DSR  0x20
#define UART_MSR_RI   0x40
#define UART_MSR_DCD  0x80

struct uart16550 {
    struct irq_line irq;
    void (*transmit)(void *ctx, uint8_t byte);
    void *transmit_ctx;

    uint8_t ier, lcr, mcr, scr, fcr; /* fcr: the last value written */
    uint16_t divisor;
    uint8_t lsr_errors;             /* OE, kept until LSR is read */
    uint8_t msr_inputs;             /* CTS, DSR, RI, DCD as the chip sees them */
    uint8_t msr_deltas;             /* bits 3:0, kept until MSR is read */
    bool thr_interrupt;             /* THRE interrupt pending */

    /* Receive FIFO (one byte deep when FIFOs are off, as the RBR). */
    uint8_t rx_fifo[UART16550_FIFO_SIZE];
    unsigned rx_head, rx_count;
    uint8_t rx_last;                /* what RBR reads when empty */
    uint64_t rx_activity_ns;        /* last byte in or out of the FIFO */
    bool rx_timeout;                /* character timeout indicated */

    bool irq_level;
    uint64_t now_ns;                /* latest time seen: time never runs back */
};

void uart16550_init(struct uart16550 *uart, struct irq_line irq,
                    void (*transmit)(void *ctx, uint8_t byte), void *transmit_ctx);
uint32_t uart16550_read(struct uart16550 *uart, unsigned offset, unsigned size, uint64_t now_ns);
void uart16550_write(struct uart16550 *uart, unsigned offset, unsigned size, uint32_t value,
                     uint64_t now_ns);
size_t uart16550_receive(struct uart16550 *uart, const uint8_t *bytes, size_t count,
                         uint64_t now_ns);
size_t uart16550_receive_room(const struct uart16550 *uart);
void uart16550_advance(struct uart16550 *uart, uint64_t now_ns);
uint64_t uart16550_next_event_ns(const struct uart16550 *uart);

#endif
