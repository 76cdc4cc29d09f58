/* 16550 UART on a legacy I/O port: the console that works on every PC and
 * emulator before anything else is set up. */
#ifndef HV_SERIAL_H
#define HV_SERIAL_H

#include <stdint.h>

#define COM1_PORT 0x3f8

void serial_init(uint16_t port);
void serial_putc(uint16_t port, char c);

#endif
