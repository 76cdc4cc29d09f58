/*
 * A bus of address ranges, each claimed by one device: the VMM's port-I/O
 * space (0-0xffff) and its MMIO space (guest-physical addresses without
 * RAM) are one each. An access goes to the range that holds its first
 * byte, with the address itself (most chips are documented by their
 * ports, and several are split over ranges: the PICs at 0x20, 0xa0 and
 * 0x4d0); the device decides what a
 * wide access reaching past its own registers means (device.h: ISA chips
 * split it into bytes). An access no range claims reaches nothing: a read
 * floats high (all ones), a write is lost, and the bus says so, so that
 * the VMM can note it.
 *
 * Ranges are added while the machine is built and never removed; a range
 * that overlaps one already there is refused, so every address has at most
 * one owner.
 *
 * Locking: none inside; the VMM's device lock covers the bus and every
 * device on it.
 */
#ifndef GUEST_TOOLS_VMM_PC_IO_BUS_H
#define GUEST_TOOLS_VMM_PC_IO_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IO_BUS_MAX_RANGES 24

/* size is 1, 2 or 4 bytes (the bus splits an 8-byte MMIO access). */
typedef uint32_t (*io_bus_read_fn)(void *device, uint64_t address, unsigned size,
                                   uint64_t now_ns);
typedef void (*io_bus_write_fn)(void *device, uint64_t address, unsigned size,
                                uint32_t value, uint64_t now_ns);

struct io_bus_range {
    uint64_t base, length;
    io_bus_read_fn read;     /* NULL: reads float high */
    io_bus_write_fn write;   /* NULL: writes are dropped */
    void *device;
    const char *name;
};

struct io_bus {
    unsigned count;
    struct io_bus_range ranges[IO_BUS_MAX_RANGES];
};

void io_bus_init(struct io_bus *bus);

/* Returns 0, -HV_EINVAL for an empty or wrapping range, -HV_EEXIST when it
 * overlaps a range already added, -HV_ENOSPC when the bus is full. */
int io_bus_add(struct io_bus *bus, uint64_t base, uint64_t length, io_bus_read_fn read,
               io_bus_write_fn write, void *device, const char *name);

/* The range holding `address`, or NULL. */
const struct io_bus_range *io_bus_find(const struct io_bus *bus, uint64_t address);

/* An access of 1, 2, 4 or 8 bytes. Returns false when no range claims the
 * address (a read then gives all ones). An 8-byte access is two 4-byte
 * ones, low half first, as a 32-bit bus carries it. */
bool io_bus_read(const struct io_bus *bus, uint64_t address, unsigned size, uint64_t now_ns,
                 uint64_t *value);
bool io_bus_write(const struct io_bus *bus, uint64_t address, unsigned size, uint64_t value,
                  uint64_t now_ns);

#endif
