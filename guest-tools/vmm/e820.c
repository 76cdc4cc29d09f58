/*
 * Building the E820 map of a VM (see e820.h). The layout is fixed by the
 * VMM's own choices (RAM from 0 and from 4 GiB, the ACPI tables in the
 * BIOS area), so the map is written out rather than computed from a list
 * of regions.
 */
#include "guest-tools/vmm/e820.h"

static void put(struct e820_entry *entry, uint64_t address, uint64_t end, uint32_t type)
{
    entry->address = address;
    entry->length = end - address;
    entry->type = type;
}

unsigned e820_build(uint64_t ram_below_4g, uint64_t ram_above_4g, struct e820_entry *entries)
{
    unsigned n = 0;

    put(&entries[n++], 0, E820_LOW_RAM_END, E820_RAM);
    put(&entries[n++], E820_BIOS_AREA, E820_HIGH_RAM_START, E820_RESERVED);
    if (ram_below_4g > E820_HIGH_RAM_START)
        put(&entries[n++], E820_HIGH_RAM_START, ram_below_4g, E820_RAM);
    if (ram_above_4g != 0)
        put(&entries[n++], E820_4G, E820_4G + ram_above_4g, E820_RAM);
    return n;
}

static void put_le(uint8_t *out, uint64_t value, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        out[i] = (uint8_t)(value >> (8 * i));
}

unsigned e820_to_fw_cfg(const struct e820_entry *entries, unsigned count, uint8_t *out)
{
    for (unsigned i = 0; i < count; i++) {
        uint8_t *entry = out + i * E820_FW_CFG_ENTRY_SIZE;
        put_le(entry, entries[i].address, 8);
        put_le(entry + 8, entries[i].length, 8);
        put_le(entry + 16, entries[i].type, 4);
    }
    return count * E820_FW_CFG_ENTRY_SIZE;
}
