/*
 * Writing the multiboot1 information block (see multiboot_info.h). The
 * layout is computed first, in one pass that only adds sizes, so that the
 * range check happens before anything is written; the second pass writes.
 */
#include "abi/hv_errno.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/e820.h"
#include "guest-tools/vmm/multiboot.h"
#include "guest-tools/vmm/multiboot_info.h"

#define PAGE 4096ull

static uint64_t align_up(uint64_t value, uint64_t alignment)
{
    return (value + alignment - 1) & ~(alignment - 1);
}

/* Offsets of each part from info_address, and where the modules start. */
struct block_layout {
    uint64_t cmdline, mmap, mods, mod_cmdlines, modules, end;
    uint32_t mmap_length;
    unsigned e820_count;
    struct e820_entry e820[E820_MAX_ENTRIES];
};

static int plan(struct block_layout *l, uint64_t ram_below_4g, uint64_t ram_above_4g,
                uint64_t info_address, const char *cmdline,
                const struct multiboot_module_image *modules, unsigned count)
{
    uint64_t at;

    l->e820_count = e820_build(ram_below_4g, ram_above_4g, l->e820);
    l->mmap_length = l->e820_count * (uint32_t)sizeof(struct multiboot_mmap_entry);
    l->cmdline = align_up(sizeof(struct multiboot_info), 16);
    l->mmap = align_up(l->cmdline + strlen(cmdline) + 1, 16);
    l->mods = align_up(l->mmap + l->mmap_length, 16);
    l->mod_cmdlines = l->mods + (uint64_t)count * sizeof(struct multiboot_module);
    at = l->mod_cmdlines;
    for (unsigned i = 0; i < count; i++)
        at += strlen(modules[i].cmdline) + 1;
    at = align_up(info_address + at, PAGE);
    l->modules = at;
    for (unsigned i = 0; i < count; i++) {
        /* A module of 4 GiB or more cannot be named in 32 bits anyway. */
        if (modules[i].size >= ram_below_4g)
            return -HV_ERANGE;
        at = align_up(at + modules[i].size, PAGE);
    }
    l->end = at;
    return at <= ram_below_4g ? 0 : -HV_ERANGE;
}

int multiboot_info_write(uint8_t *ram, uint64_t ram_below_4g, uint64_t ram_above_4g,
                         uint64_t info_address, const char *cmdline,
                         const struct multiboot_module_image *modules, unsigned module_count,
                         struct multiboot_info_result *result)
{
    struct block_layout l;
    struct multiboot_info info;
    uint64_t cmdline_at, module_at;
    int rc;

    if (info_address >= ram_below_4g || (info_address & (PAGE - 1)))
        return -HV_ERANGE;
    rc = plan(&l, ram_below_4g, ram_above_4g, info_address, cmdline, modules, module_count);
    /* Below 1 MiB it all must fit in conventional memory: 640 KiB to 1
     * MiB is no RAM in the map (firmware's tables live there in a `pc`
     * VM). Else it starts at 1 MiB, above a kernel that ends below. */
    if (info_address < E820_HIGH_RAM_START && (rc < 0 || l.end > E820_LOW_RAM_END)) {
        info_address = E820_HIGH_RAM_START;
        rc = plan(&l, ram_below_4g, ram_above_4g, info_address, cmdline, modules,
                  module_count);
    }
    if (rc < 0)
        return rc;
    /* Everything from the structure to the first module, zeroed first so
     * that padding and fields not announced in `flags` read 0. */
    memset(ram + info_address, 0, l.modules - info_address);

    memset(&info, 0, sizeof(info));
    info.flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MODS |
                 MULTIBOOT_INFO_MEM_MAP;
    info.mem_lower = MULTIBOOT_LOW_MEMORY_KIB;
    info.mem_upper = (uint32_t)((ram_below_4g - E820_HIGH_RAM_START) >> 10);
    info.cmdline = (uint32_t)(info_address + l.cmdline);
    info.mods_count = module_count;
    info.mods_addr = (uint32_t)(info_address + l.mods);
    info.mmap_length = l.mmap_length;
    info.mmap_addr = (uint32_t)(info_address + l.mmap);
    memcpy(ram + info_address, &info, sizeof(info));
    memcpy(ram + info_address + l.cmdline, cmdline, strlen(cmdline) + 1);

    for (unsigned i = 0; i < l.e820_count; i++) {
        struct multiboot_mmap_entry entry = {
            .size = sizeof(entry) - sizeof(entry.size),
            .base_addr = l.e820[i].address,
            .length = l.e820[i].length,
            .type = l.e820[i].type,
        };
        memcpy(ram + info_address + l.mmap + i * sizeof(entry), &entry, sizeof(entry));
    }

    cmdline_at = info_address + l.mod_cmdlines;
    module_at = l.modules;
    for (unsigned i = 0; i < module_count; i++) {
        size_t len = strlen(modules[i].cmdline) + 1;
        struct multiboot_module mod = {
            .mod_start = (uint32_t)module_at,
            .mod_end = (uint32_t)(module_at + modules[i].size),
            .cmdline = (uint32_t)cmdline_at,
        };
        memcpy(ram + info_address + l.mods + i * sizeof(mod), &mod, sizeof(mod));
        memcpy(ram + cmdline_at, modules[i].cmdline, len);
        memcpy(ram + module_at, modules[i].data, modules[i].size);
        cmdline_at += len;
        module_at = align_up(module_at + modules[i].size, PAGE);
    }
    result->info_address = info_address;
    result->modules_start = l.modules;
    result->end = l.end;
    return 0;
}
