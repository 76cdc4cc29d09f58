#include "hv/multiboot.h"


#include "abi/hv_errno.h"

/* Multiboot2 tag types (multiboot2 spec, 3.6). */
enum {
    MB2_TAG_END = 0,
    MB2_TAG_CMDLINE = 1,
    MB2_TAG_LOADER_NAME = 2,
    MB2_TAG_MODULE = 3,
    MB2_TAG_MMAP = 6,
    MB2_TAG_FRAMEBUFFER = 8,
    MB2_TAG_ACPI_OLD = 14,
    MB2_TAG_ACPI_NEW = 15,
};

/* Multiboot1 info flags (multiboot spec 0.6.96, 3.3). */
enum {
    MB1_FLAG_CMDLINE = 1u << 2,
    MB1_FLAG_MODULES = 1u << 3,
    MB1_FLAG_MMAP = 1u << 6,
    MB1_FLAG_LOADER_NAME = 1u << 9,
};

static const char empty_string[] = "";

static uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t load64(const uint8_t *p)
{
    return (uint64_t)load32(p) | (uint64_t)load32(p + 4) << 32;
}

/* A string inside a tag must end inside the tag; otherwise it is refused. */
static const char *string_in(const uint8_t *start, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (start[i] == '\0')
            return (const char *)start;
    return NULL;
}

static void boot_info_reset(struct boot_info *out)
{
    uint8_t *p = (uint8_t *)out;
    for (size_t i = 0; i < sizeof(*out); i++)
        p[i] = 0;
    out->cmdline = empty_string;
    out->loader_name = empty_string;
}

static void add_memory(struct boot_info *out, uint64_t base, uint64_t length,
                       uint32_t type)
{
    if (length == 0)
        return;
    if (out->memory_count == BOOT_MAX_MEMORY_RANGES) {
        out->memory_dropped++;
        return;
    }
    struct memory_range *r = &out->memory[out->memory_count++];
    r->base = base;
    /* Clip ranges that would wrap around the address space. */
    r->length = base + length < base ? 0 - base : length;
    r->type = type;
}

static int add_module(struct boot_info *out, uint64_t start, uint64_t end,
                      const char *cmdline)
{
    if (end < start)
        return -HV_EINVAL;
    if (out->module_count == BOOT_MAX_MODULES) {
        out->modules_dropped++;
        return 0;
    }
    struct boot_module *m = &out->modules[out->module_count++];
    m->start = start;
    m->end = end;
    m->cmdline = cmdline ? cmdline : empty_string;
    return 0;
}

static int parse_mmap_tag(const uint8_t *tag, uint32_t size,
                          struct boot_info *out)
{
    if (size < 16)
        return -HV_EINVAL;
    uint32_t entry_size = load32(tag + 8);
    if (entry_size < 24 || entry_size % 8)
        return -HV_EINVAL;
    /* entry_size <= size - off, not off + entry_size <= size: a huge
     * entry_size would wrap the sum and walk off the tag (found by
     * tests/fuzz/fuzz_multiboot2). off never passes size here. */
    for (uint32_t off = 16; entry_size <= size - off; off += entry_size)
        add_memory(out, load64(tag + off), load64(tag + off + 8),
                   load32(tag + off + 16));
    return 0;
}

static int parse_mb2_tag(const uint8_t *tag, uint32_t type, uint32_t size,
                         struct boot_info *out)
{
    switch (type) {
    case MB2_TAG_CMDLINE:
    case MB2_TAG_LOADER_NAME: {
        const char *s = string_in(tag + 8, size - 8);
        if (!s)
            return -HV_EINVAL;
        if (type == MB2_TAG_CMDLINE)
            out->cmdline = s;
        else
            out->loader_name = s;
        return 0;
    }
    case MB2_TAG_MODULE: {
        if (size < 17)
            return -HV_EINVAL;
        const char *s = string_in(tag + 16, size - 16);
        if (!s)
            return -HV_EINVAL;
        return add_module(out, load32(tag + 8), load32(tag + 12), s);
    }
    case MB2_TAG_MMAP:
        return parse_mmap_tag(tag, size, out);
    case MB2_TAG_FRAMEBUFFER:
        if (size < 31)
            return -HV_EINVAL;
        out->framebuffer.address = load64(tag + 8);
        out->framebuffer.pitch = load32(tag + 16);
        out->framebuffer.width = load32(tag + 20);
        out->framebuffer.height = load32(tag + 24);
        out->framebuffer.bpp = tag[28];
        out->framebuffer.kind = tag[29] == 2   ? FRAMEBUFFER_EGA_TEXT
                                : tag[29] == 1 ? FRAMEBUFFER_RGB
                                               : FRAMEBUFFER_NONE;
        return 0;
    case MB2_TAG_ACPI_OLD:
    case MB2_TAG_ACPI_NEW:
        if (size < 8 + 20)
            return -HV_EINVAL;
        /* Prefer the ACPI 2.0 copy: it carries the XSDT address. */
        if (type == MB2_TAG_ACPI_NEW || !out->rsdp)
            out->rsdp = tag + 8;
        return 0;
    default:
        return 0; /* tags we do not need are skipped, as the spec asks */
    }
}

int multiboot2_parse(const void *info, size_t available, struct boot_info *out)
{
    const uint8_t *base = info;
    boot_info_reset(out);
    if (!info || available < 8)
        return -HV_EINVAL;
    uint32_t total = load32(base);
    if (total < 16 || total > available)
        return -HV_EINVAL;
    out->loader_version = 2;
    out->info_start = (uint64_t)(uintptr_t)info;
    out->info_end = out->info_start + total;

    for (uint32_t off = 8; off + 8 <= total;) {
        uint32_t type = load32(base + off);
        uint32_t size = load32(base + off + 4);
        if (size < 8 || size > total - off)
            return -HV_EINVAL;
        if (type == MB2_TAG_END)
            return 0;
        int err = parse_mb2_tag(base + off, type, size, out);
        if (err)
            return err;
        off += (size + 7) & ~7u;
    }
    return -HV_EINVAL; /* no end tag within total_size */
}

int multiboot1_parse(uint64_t info_phys, phys_map_fn map, void *ctx,
                     struct boot_info *out)
{
    boot_info_reset(out);
    const uint8_t *info = map(info_phys, 88, ctx);
    if (!info)
        return -HV_EINVAL;
    out->loader_version = 1;
    out->info_start = info_phys;
    out->info_end = info_phys + 88;
    uint32_t flags = load32(info);

    if (flags & MB1_FLAG_CMDLINE) {
        const char *s = map(load32(info + 16), 1, ctx);
        /* Strings are bounded only by their NUL; accept up to 4 KiB. */
        s = s ? map(load32(info + 16), 4096, ctx) : NULL;
        if (!s || !string_in((const uint8_t *)s, 4096))
            return -HV_EINVAL;
        out->cmdline = s;
    }
    if (flags & MB1_FLAG_LOADER_NAME) {
        const char *s = map(load32(info + 64), 256, ctx);
        if (s && string_in((const uint8_t *)s, 256))
            out->loader_name = s;
    }
    if (flags & MB1_FLAG_MODULES) {
        uint32_t count = load32(info + 20);
        if (count > 4096)
            return -HV_EINVAL;
        const uint8_t *mods = map(load32(info + 24), (size_t)count * 16, ctx);
        if (count && !mods)
            return -HV_EINVAL;
        for (uint32_t i = 0; i < count; i++) {
            const uint8_t *m = mods + i * 16;
            const char *s = map(load32(m + 8), 1024, ctx);
            if (s && !string_in((const uint8_t *)s, 1024))
                s = NULL;
            int err = add_module(out, load32(m), load32(m + 4), s);
            if (err)
                return err;
        }
    }
    if (flags & MB1_FLAG_MMAP) {
        uint32_t length = load32(info + 44);
        const uint8_t *mmap = map(load32(info + 48), length, ctx);
        if (length && !mmap)
            return -HV_EINVAL;
        /* Each entry's size field does not count itself. */
        for (uint32_t off = 0; off + 24 <= length;) {
            uint32_t size = load32(mmap + off);
            if (size < 20 || size > length - off - 4)
                return -HV_EINVAL;
            add_memory(out, load64(mmap + off + 4), load64(mmap + off + 12),
                       load32(mmap + off + 20));
            off += size + 4;
        }
    }
    return 0;
}
