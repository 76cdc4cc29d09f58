/*
 * Port I/O for code that runs directly on (virtual) hardware: the control
 * domain, whose accesses to a few ports (0xf4, 0x8900) the hypervisor passes
 * to the machine, and the 32-bit test guests. The instructions encode the
 * same way in 32- and 64-bit mode, so both builds share this header.
 */
#ifndef GUEST_TOOLS_RUNTIME_PORT_IO_H
#define GUEST_TOOLS_RUNTIME_PORT_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t value)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t value)
{
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t value;

    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

#endif
