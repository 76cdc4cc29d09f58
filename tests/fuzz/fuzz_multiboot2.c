// sources: hv/multiboot.c
/* The multiboot2 information GRUB hands the hypervisor: tags of any
 * length and type, memory maps, command lines, modules. */
#include "tests/fuzz/fuzz_input.h"

#include "hv/multiboot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The parser reads the structure in place: give it aligned bytes, as
     * GRUB does (8-byte alignment). */
    uint64_t *copy = malloc(size + 8);
    struct boot_info out;

    memcpy(copy, data, size);
    if (multiboot2_parse(copy, size, &out) == 0) {
        fuzz_check(out.memory_count <= BOOT_MAX_MEMORY_RANGES);
        fuzz_check(out.module_count <= BOOT_MAX_MODULES);
        /* Strings are never NULL and end inside what was given (ASan). */
        fuzz_check(strlen(out.cmdline) < size + 1 && strlen(out.loader_name) < size + 1);
        for (unsigned i = 0; i < out.module_count; i++)
            fuzz_check(strlen(out.modules[i].cmdline) < size + 1);
    }
    free(copy);
    return 0;
}
