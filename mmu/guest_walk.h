/* A software walk of a guest's own page tables, in whichever paging mode the
 * guest is in (none, 32-bit, PAE, 4-level, 5-level): for TRANSLATE and for
 * fetching the instruction bytes of an MMIO exit. Guest memory is read
 * through a callback, so the walker is host-testable. */
#ifndef MMU_GUEST_WALK_H
#define MMU_GUEST_WALK_H

#include <stdbool.h>
#include <stdint.h>

struct guest_paging {
    uint64_t cr0, cr3, cr4, efer;
};

struct guest_translation {
    uint64_t guest_phys;
    bool writable;      /* every level allows writes */
    bool user;          /* every level allows user access */
    bool executable;    /* no level sets NX (when EFER.NXE) */
};

/* The bits of CR0, CR4 and EFER that a walk's guest_phys depends on: PG;
 * PSE, PAE, LA57; LMA. The others (WP, PGE, SMEP, NXE, ...) only decide
 * the permission flags. */
#define GUEST_WALK_CR0_MODE  (1ull << 31)
#define GUEST_WALK_CR4_MODE  ((1ull << 4) | (1ull << 5) | (1ull << 12))
#define GUEST_WALK_EFER_MODE (1ull << 10)

/* Reads `size` (4 or 8) bytes of guest-physical memory; false if the address
 * has no memory. */
typedef bool (*guest_read_fn)(uint64_t guest_phys, unsigned size,
                              uint64_t *value, void *ctx);

/* Returns 0, -HV_ENOENT when some level is not present, -HV_EFAULT when a
 * table lies outside guest memory, -HV_EINVAL for a non-canonical address. */
int guest_walk(const struct guest_paging *paging, uint64_t linear,
               guest_read_fn read, void *ctx, struct guest_translation *out);

#endif
