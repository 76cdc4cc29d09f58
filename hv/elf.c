#include "hv/elf.h"

#include <stdbool.h>

#include "abi/hv_errno.h"

/* ELF-64 Object File Format, version 1.5: header and program header. */
struct elf64_header {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define ET_EXEC    2
#define EM_X86_64  62
#define PT_LOAD    1

int elf_parse(const void *file, size_t size, uint64_t memory_limit,
              struct elf_image *out)
{
    const uint8_t *bytes = file;
    out->segment_count = 0;
    if (!file || size < sizeof(struct elf64_header))
        return -HV_EINVAL;
    struct elf64_header h;
    __builtin_memcpy(&h, bytes, sizeof(h));
    if (h.ident[0] != 0x7f || h.ident[1] != 'E' || h.ident[2] != 'L' ||
        h.ident[3] != 'F' || h.ident[4] != 2 /* 64-bit */ ||
        h.ident[5] != 1 /* little endian */ || h.type != ET_EXEC ||
        h.machine != EM_X86_64 || h.phentsize != sizeof(struct elf64_phdr))
        return -HV_EINVAL;
    if (h.phoff > size || (uint64_t)h.phnum * sizeof(struct elf64_phdr) > size - h.phoff)
        return -HV_EINVAL;

    bool entry_inside = false;
    for (unsigned i = 0; i < h.phnum; i++) {
        struct elf64_phdr ph;
        __builtin_memcpy(&ph, bytes + h.phoff + i * sizeof(ph), sizeof(ph));
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        if (ph.filesz > ph.memsz || ph.offset > size || ph.filesz > size - ph.offset)
            return -HV_EINVAL;
        if (ph.paddr + ph.memsz < ph.paddr || ph.paddr + ph.memsz > memory_limit)
            return -HV_E2BIG;
        if (out->segment_count == ELF_MAX_SEGMENTS)
            return -HV_E2BIG;
        for (unsigned j = 0; j < out->segment_count; j++) {
            const struct elf_segment *o = &out->segments[j];
            if (ph.paddr < o->load_address + o->memory_size &&
                o->load_address < ph.paddr + ph.memsz)
                return -HV_EINVAL; /* overlapping segments */
        }
        out->segments[out->segment_count++] = (struct elf_segment){
            .file_offset = ph.offset,
            .file_size = ph.filesz,
            .load_address = ph.paddr,
            .memory_size = ph.memsz,
        };
        if (h.entry >= ph.paddr && h.entry < ph.paddr + ph.memsz)
            entry_inside = true;
    }
    if (!out->segment_count || !entry_inside)
        return -HV_EINVAL;
    out->entry = h.entry;
    return 0;
}
