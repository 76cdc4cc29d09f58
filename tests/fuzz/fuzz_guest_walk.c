// sources: mmu/guest_walk.c
/* The guest page walker (TRANSLATE, the MMIO exits' linear addresses):
 * CR0, CR3, CR4, EFER and the linear address from the input, the rest of
 * it the guest's physical memory from 0, where every table lives. */
#include "tests/fuzz/fuzz_input.h"

#include "abi/hv_errno.h"
#include "mmu/guest_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct memory {
    const uint8_t *bytes;
    size_t size;
};

static bool read_guest(uint64_t guest_phys, unsigned size, uint64_t *value, void *ctx)
{
    const struct memory *m = ctx;

    fuzz_check(size == 4 || size == 8);
    if (guest_phys > m->size || size > m->size - guest_phys)
        return false;
    *value = 0;
    memcpy(value, m->bytes + guest_phys, size);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct guest_paging paging;
    struct guest_translation out;

    paging.cr0 = fuzz_take(&in, 8);
    paging.cr3 = fuzz_take(&in, 8);
    paging.cr4 = fuzz_take(&in, 8);
    paging.efer = fuzz_take(&in, 8);
    uint64_t linear = fuzz_take(&in, 8);
    struct memory m = { data + in.at, size - in.at };
    int rc = guest_walk(&paging, linear, read_guest, &m, &out);
    fuzz_check(rc == 0 || rc == -HV_ENOENT || rc == -HV_EFAULT || rc == -HV_EINVAL);
    return 0;
}
