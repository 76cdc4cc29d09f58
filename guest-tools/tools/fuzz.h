/*
 * The hypercall fuzzer (`fuzz` tool): seeded random calls and call
 * sequences from the control domain, each result checked against a model
 * of abi/README.md. fuzz_model.c is the model (which calls exist, on which
 * handle type, with which rights and pointer shapes; the common error
 * order of section 3), fuzz.c the tool that drives it.
 */
#ifndef GUEST_TOOLS_TOOLS_FUZZ_H
#define GUEST_TOOLS_TOOLS_FUZZ_H

#include <stdint.h>

#include "abi/hv_abi.h"

/* What the model knows of one call number. */
struct fuzz_call {
    uint8_t exists;          /* documented call */
    uint8_t maybe_missing;   /* documented as coming later: -HV_ENOSYS allowed */
    uint8_t type;            /* HV_HANDLE_* it acts on (NONE: any) */
    uint8_t rights;          /* HV_RIGHT_* it needs */
    uint8_t pointer_align;   /* argument 1 is a structure pointer: its alignment */
    uint32_t pointer_size;   /* bytes read or written there (at least) */
    const char *name;
};

#define FUZZ_CALL_COUNT 80   /* the numbers the model describes: 0 .. 79 */

/* The model's entry for call nr (all zero past the table: unknown). */
const struct fuzz_call *fuzz_call_of(uint64_t nr);

/* How the fuzzer's record of a handle stands. */
enum fuzz_handle_state {
    FUZZ_LIVE,
    FUZZ_CLOSED,
    FUZZ_FORGED,     /* never issued: zero, negative, index or generation beyond */
};

/* A handle as the model knows it. */
struct fuzz_handle {
    int64_t value;
    uint8_t state;    /* enum fuzz_handle_state */
    uint8_t type;     /* HV_HANDLE_* */
    uint8_t rights;
    uint8_t slot;     /* vcpu slot (vcpu handles) */
    int16_t vm;       /* index of the VM record (VM and vcpu handles), else -1 */
};

/* The table index of a handle value (hv_abi.h: (generation << 16) | index). */
static inline uint32_t fuzz_handle_index(int64_t value) { return (uint32_t)value & 0xffffu; }

/* The error section 3 of abi/README.md gives call nr on handle h, 0 when
 * the handle passes. `slot_live` tells whether some live handle holds h's
 * table index now (a closed h is then stale, else closed). */
long fuzz_expected_common(uint64_t nr, const struct fuzz_handle *h, int slot_live);

/* The pointer error of section 3 for a structure of `size` bytes aligned
 * to `align` at gpa in a caller memory of `memory_size` bytes: -HV_EINVAL,
 * -HV_EFAULT or 0. */
long fuzz_expected_pointer(uint64_t gpa, uint64_t size, uint64_t align,
                           uint64_t memory_size);

#endif
