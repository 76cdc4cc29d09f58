/* ELF64 executable parsing for loading the control domain. The image is
 * untrusted input: header, program headers and segment ranges are checked
 * against the file size and the destination memory before anything is
 * copied. Host-testable. */
#ifndef HV_ELF_H
#define HV_ELF_H

#include <stddef.h>
#include <stdint.h>

struct elf_segment {
    uint64_t file_offset;
    uint64_t file_size;
    uint64_t load_address;  /* physical (p_paddr) */
    uint64_t memory_size;
};

#define ELF_MAX_SEGMENTS 16

struct elf_image {
    uint64_t entry;
    unsigned segment_count;
    struct elf_segment segments[ELF_MAX_SEGMENTS];
};

/* Parses an x86-64 ELF executable of `size` bytes whose loadable segments
 * must all lie inside [0, memory_limit) and contain the entry point.
 * Returns 0 or -HV_EINVAL (malformed) / -HV_E2BIG (does not fit). */
int elf_parse(const void *file, size_t size, uint64_t memory_limit,
              struct elf_image *out);

#endif
