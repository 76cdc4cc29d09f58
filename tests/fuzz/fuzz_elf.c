// sources: hv/elf.c
/* The ELF loader's parser (the control domain's image): headers, program
 * headers, segments. What it accepts must be loadable as it says: every
 * segment's file bytes inside the file, no more file bytes than memory
 * bytes, everything below the memory limit. */
#include "tests/fuzz/fuzz_input.h"

#include "hv/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint64_t limit = 64ull << 20;
    uint64_t *copy = malloc(size + 8);
    struct elf_image image;

    memcpy(copy, data, size);
    if (elf_parse(copy, size, limit, &image) == 0) {
        fuzz_check(image.segment_count <= ELF_MAX_SEGMENTS);
        for (unsigned i = 0; i < image.segment_count; i++) {
            const struct elf_segment *s = &image.segments[i];
            fuzz_check(s->file_offset <= size && s->file_size <= size - s->file_offset);
            fuzz_check(s->file_size <= s->memory_size);
            fuzz_check(s->load_address <= limit && s->memory_size <= limit - s->load_address);
        }
    }
    free(copy);
    return 0;
}
