/*
 * Polled COM1 input (uart.h), for guests that are told something by the
 * test harness on their serial line.
 */
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/timing.h"
#include "guest-tools/guests/lib/uart.h"

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
