/*
 * Address-range dispatch (see io_bus.h). A machine has a couple of dozen
 * ranges at most, so a linear search is as fast as anything cleverer and
 * obviously right.
 */
#include "abi/hv_errno.h"
#include "guest-tools/vmm/pc/io_bus.h"

void io_bus_init(struct io_bus *bus)
{
    bus->count = 0;
}

int io_bus_add(struct io_bus *bus, uint64_t base, uint64_t length, io_bus_read_fn read,
               io_bus_write_fn write, void *device, const char *name)
{
    if (length == 0 || base + length < base)
        return -HV_EINVAL;
    for (unsigned i = 0; i < bus->count; i++) {
        const struct io_bus_range *r = &bus->ranges[i];
        if (base < r->base + r->length && r->base < base + length)
            return -HV_EEXIST;
    }
    if (bus->count == IO_BUS_MAX_RANGES)
        return -HV_ENOSPC;
    bus->ranges[bus->count++] = (struct io_bus_range){
        .base = base, .length = length, .read = read, .write = write,
        .device = device, .name = name,
    };
    return 0;
}

const struct io_bus_range *io_bus_find(const struct io_bus *bus, uint64_t address)
{
    for (unsigned i = 0; i < bus->count; i++) {
        const struct io_bus_range *r = &bus->ranges[i];
        if (address - r->base < r->length)
            return r;
    }
    return NULL;
}

static uint32_t ones(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static bool read_piece(const struct io_bus *bus, uint64_t address, unsigned size,
                       uint64_t now_ns, uint32_t *value)
{
    const struct io_bus_range *r = io_bus_find(bus, address);

    if (r == NULL) {
        *value = ones(size);
        return false;
    }
    *value = r->read ? r->read(r->device, address, size, now_ns) & ones(size)
                     : ones(size);
    return true;
}

static bool write_piece(const struct io_bus *bus, uint64_t address, unsigned size,
                        uint32_t value, uint64_t now_ns)
{
    const struct io_bus_range *r = io_bus_find(bus, address);

    if (r == NULL)
        return false;
    if (r->write)
        r->write(r->device, address, size, value & ones(size), now_ns);
    return true;
}

bool io_bus_read(const struct io_bus *bus, uint64_t address, unsigned size, uint64_t now_ns,
                 uint64_t *value)
{
    uint32_t low, high;
    bool claimed;

    if (size == 8) {
        claimed = read_piece(bus, address, 4, now_ns, &low);
        claimed |= read_piece(bus, address + 4, 4, now_ns, &high);
        *value = (uint64_t)high << 32 | low;
        return claimed;
    }
    if (size != 1 && size != 2 && size != 4) {
        *value = ~0ull;
        return false;
    }
    claimed = read_piece(bus, address, size, now_ns, &low);
    *value = low;
    return claimed;
}

bool io_bus_write(const struct io_bus *bus, uint64_t address, unsigned size, uint64_t value,
                  uint64_t now_ns)
{
    bool claimed;

    if (size == 8) {
        claimed = write_piece(bus, address, 4, (uint32_t)value, now_ns);
        claimed |= write_piece(bus, address + 4, 4, (uint32_t)(value >> 32), now_ns);
        return claimed;
    }
    if (size != 1 && size != 2 && size != 4)
        return false;
    return write_piece(bus, address, size, (uint32_t)value, now_ns);
}
