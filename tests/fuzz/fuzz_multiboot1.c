// sources: hv/multiboot.c
/* The multiboot1 information: physical addresses everywhere (the info
 * structure, memory map, modules, strings), read through a map function.
 * The input is a physical memory of its own size at 0 whose first four
 * bytes say where the structure is; anything outside it is refused. */
#include "tests/fuzz/fuzz_input.h"

#include "hv/multiboot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct memory {
    const uint8_t *bytes;
    size_t size;
};

static const void *map(uint64_t phys, size_t len, void *ctx)
{
    const struct memory *m = ctx;

    if (phys > m->size || len > m->size - phys)
        return NULL;
    return m->bytes + phys;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    uint64_t info = fuzz_take(&in, 4);
    uint8_t *copy = malloc(size + 1);
    struct memory m = { copy, size };
    struct boot_info out;

    memcpy(copy, data, size);
    if (multiboot1_parse(info, map, &m, &out) == 0) {
        fuzz_check(out.memory_count <= BOOT_MAX_MEMORY_RANGES);
        fuzz_check(out.module_count <= BOOT_MAX_MODULES);
        fuzz_check(strlen(out.cmdline) <= size && strlen(out.loader_name) <= size);
        for (unsigned i = 0; i < out.module_count; i++)
            fuzz_check(strlen(out.modules[i].cmdline) <= size);
    }
    free(copy);
    return 0;
}
