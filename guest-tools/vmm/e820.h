/*
 * The guest-physical memory map of a VM as a PC's firmware reports it
 * (the BIOS's INT 15h E820 list; ACPI spec, "System Address Map
 * Interfaces"): what the multiboot loader passes in mmap_*, and what
 * fw_cfg's "etc/e820" file holds.
 *
 * A VM's RAM is mapped from guest-physical 0 up to `ram_below_4g` and,
 * when there is more, from 4 GiB up (struct vmm_memory_layout). The map
 * says:
 *   [0, 640 KiB)            RAM (conventional memory)
 *   [0xe0000, 1 MiB)        reserved: the BIOS area, where the VMM puts
 *                           the ACPI tables (found by the RSDP scan)
 *   [1 MiB, ram_below_4g)   RAM
 *   [4 GiB, 4 GiB + above)  RAM, if any
 * The 640 KiB-896 KiB range (VGA window, option ROMs) is left out, as a
 * PC's firmware leaves it out; the VMM's RAM slot covers it all the same.
 *
 * Pure functions over the caller's buffers: no locking, no allocation.
 */
#ifndef GUEST_TOOLS_VMM_E820_H
#define GUEST_TOOLS_VMM_E820_H

#include <stdint.h>

/* Entry types (ACPI 6.0, table 15-312). */
#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3

#define E820_LOW_RAM_END    0xa0000ull   /* 640 KiB */
#define E820_BIOS_AREA      0xe0000ull
#define E820_HIGH_RAM_START 0x100000ull  /* 1 MiB */
#define E820_4G             0x100000000ull
#define E820_MAX_ENTRIES    4

struct e820_entry {
    uint64_t address;
    uint64_t length;
    uint32_t type;
};

/* Fills `entries` (room for E820_MAX_ENTRIES) in ascending order and
 * returns how many. ram_below_4g must be at least 1 MiB. */
unsigned e820_build(uint64_t ram_below_4g, uint64_t ram_above_4g, struct e820_entry *entries);

/* QEMU's "etc/e820" fw_cfg file: packed little-endian { u64 address,
 * u64 length, u32 type }, 20 bytes an entry. Returns the bytes written
 * (count * E820_FW_CFG_ENTRY_SIZE); `out` must have room for them. */
#define E820_FW_CFG_ENTRY_SIZE 20
unsigned e820_to_fw_cfg(const struct e820_entry *entries, unsigned count, uint8_t *out);

#endif
