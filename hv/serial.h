/* 16550 UART on a legacy I/O port: the console that works on every PC and
 * emulator before anything else is set up. */
#ifndef HV_SERIAL_H
#define HV_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#define COM1_PORT 0x3f8

void serial_init(uint16_t port);
void serial_putc(uint16_t port, char c);
/* Takes one received byte if the UART holds one. */
bool serial_getc(uint16_t port, uint8_t *byte);
/* Raises the UART's IRQ while received data waits (IER, and OUT2). */
void serial_enable_receive_interrupt(uint16_t port);

#endif
