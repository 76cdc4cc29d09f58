/* Parsers for the multiboot2 and multiboot1 information structures. Both
 * treat the structure as untrusted input: every tag and pointer is checked
 * against the bounds given, and a malformed structure is refused with a
 * negative error code rather than read past its end. Host-testable. */
#ifndef HV_MULTIBOOT_H
#define HV_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "hv/boot_info.h"

#define MULTIBOOT2_LOADER_MAGIC 0x36d76289u
#define MULTIBOOT1_LOADER_MAGIC 0x2badb002u

/* Parses a multiboot2 information structure. `available` is how many bytes
 * at `info` may be read (the structure's own total_size must fit in it). */
int multiboot2_parse(const void *info, size_t available, struct boot_info *out);

/* Multiboot1 stores physical addresses; `map` turns [phys, phys+len) into a
 * readable pointer or NULL when that range may not be read. */
typedef const void *(*phys_map_fn)(uint64_t phys, size_t len, void *ctx);
int multiboot1_parse(uint64_t info_phys, phys_map_fn map, void *ctx,
                     struct boot_info *out);

#endif
