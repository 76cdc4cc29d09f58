/*
 * Wide accesses to 8-bit ISA chips. The ISA bus splits a 16- or 32-bit port
 * access to an 8-bit device into byte accesses to consecutive ports, low
 * byte first: `inw 0x70` reads the index register and then the data port,
 * `outw 0x70` selects a CMOS byte and writes it. The byte-wide models (UART,
 * RTC, i8042, ACPI PM block) decode one byte at a time and let these helpers
 * compose the wider access, so that they behave as the bus makes the chip
 * behave and a guest cannot reach a case the byte decoder did not plan for.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_BYTE_PORTS_H
#define GUEST_TOOLS_VMM_DEVICES_BYTE_PORTS_H

#include <stdbool.h>
#include <stdint.h>

typedef uint8_t (*byte_port_read_fn)(void *chip, unsigned offset, uint64_t now_ns);
typedef void (*byte_port_write_fn)(void *chip, unsigned offset, uint8_t value, uint64_t now_ns);

static inline bool byte_port_size_valid(unsigned size)
{
    return size == 1 || size == 2 || size == 4;
}

/* A read of a size the contract does not allow floats the bus: all ones. */
static inline uint32_t byte_port_read(void *chip, byte_port_read_fn read_byte, unsigned offset,
                                      unsigned size, uint64_t now_ns)
{
    uint32_t value = 0;

    if (!byte_port_size_valid(size))
        return UINT32_MAX;
    for (unsigned i = 0; i < size; i++)
        value |= (uint32_t)read_byte(chip, offset + i, now_ns) << (8 * i);
    return value;
}

static inline void byte_port_write(void *chip, byte_port_write_fn write_byte, unsigned offset,
                                   unsigned size, uint32_t value, uint64_t now_ns)
{
    if (!byte_port_size_valid(size))
        return;
    for (unsigned i = 0; i < size; i++)
        write_byte(chip, offset + i, (uint8_t)(value >> (8 * i)), now_ns);
}

#endif
