/*
 * COM1 as a polling guest sees it: a 16550 whose transmitter is always
 * empty. Bytes written to the transmit register become console lines
 * under the vcpu's prefix (guest_console.h), one line buffer per vcpu so
 * that vcpus printing at once do not mix their text. There is
 * no receiver and no interrupts: every other register reads 0, writes to
 * them are dropped, except the line control register, whose DLAB bit turns
 * the first two registers into the baud divisor (so a guest that sets its
 * baud rate does not print the divisor as text).
 */
#include "guest-tools/vmm/guest_console.h"
#include "guest-tools/vmm/vmm_internal.h"

/* Register offsets from the base port (16550 data sheet). */
#define UART_THR 0          /* transmit holding (DLAB 0, write) */
#define UART_LCR 3          /* line control */
#define UART_LSR 5          /* line status */
#define UART_REGISTERS 8
#define UART_LCR_DLAB 0x80
#define UART_LSR_EMPTY 0x60 /* THR empty and transmitter idle */

int vmm_uart_is_port(uint16_t port)
{
    return port >= VMM_PORT_COM1 && port < VMM_PORT_COM1 + UART_REGISTERS;
}

void vmm_uart_flush(struct vmm_vcpu *vcpu)
{
    guest_console_flush(&vcpu->uart.line);
}

void vmm_uart_access(struct vmm_vcpu *vcpu, uint16_t port, int is_write,
                     uint8_t *data)
{
    struct vmm_uart *uart = &vcpu->uart;
    unsigned reg = port - VMM_PORT_COM1;
    int dlab = (uart->lcr & UART_LCR_DLAB) != 0;

    if (is_write) {
        if (reg == UART_THR && !dlab)
            guest_console_put(&vcpu->uart.line, *data);
        else if (reg == UART_LCR)
            uart->lcr = *data;
        return;
    }
    if (reg == UART_LSR)
        *data = UART_LSR_EMPTY;
    else if (reg == UART_LCR)
        *data = uart->lcr;
    else
        *data = 0;
}
