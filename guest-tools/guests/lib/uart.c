/*
 * COM1 set-up and polled input (uart.h), for guests that are told
 * something by the test harness on their serial line.
 */
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/timing.h"
#include "guest-tools/guests/lib/uart.h"

void uart_init(void)
{
    outb(UART_IER, 0);
    outb(UART_LCR, LCR_DLAB);
    outb(UART_DLL, 1);                  /* 115200 baud from 1.8432 MHz / 16 */
    outb(UART_DLM, 0);
    outb(UART_LCR, LCR_8N1);
    outb(UART_FCR, 0);
    outb(UART_MCR, MCR_DTR);            /* RTS off: not ready for input yet */
}

int serial_read_byte(uint32_t timeout_ms)
{
    uint64_t end = rdtsc() + ms_to_tsc(timeout_ms);

    while ((inb(UART_LSR) & LSR_DATA_READY) == 0) {
        if (rdtsc() >= end)
            return -1;
        cpu_relax();
    }
    return inb(UART_RBR);
}

int serial_read_line(char *line, uint32_t size, uint32_t timeout_ms)
{
    uint32_t length = 0;

    for (;;) {
        int c = serial_read_byte(timeout_ms);

        if (c < 0)
            return -1;
        if (c == '\r' || c == '\n') {
            if (length == 0)
                continue;
            break;
        }
        if (length + 1 < size)
            line[length++] = (char)c;
    }
    line[length] = '\0';
    return (int)length;
}
