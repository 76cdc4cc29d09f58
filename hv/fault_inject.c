#include "hv/fault_inject.h"

bool fault_inject_enabled;

/* The allocation number that fails (0: none armed) and the allocations
 * counted since arming. Every CPU allocates through here, so both are
 * atomic; one arming fails exactly one allocation whichever CPU makes it. */
static uint64_t fail_at;
static uint64_t counted;

bool fault_inject_fails(void)
{
    uint64_t at = __atomic_load_n(&fail_at, __ATOMIC_RELAXED);
    if (at == 0)
        return false;
    return __atomic_add_fetch(&counted, 1, __ATOMIC_RELAXED) == at;
}

long fault_inject_arm(uint64_t k)
{
    /* Disarm first: the count restarts at zero before the new number can
     * be hit. */
    __atomic_store_n(&fail_at, 0, __ATOMIC_RELAXED);
    uint64_t seen = __atomic_exchange_n(&counted, 0, __ATOMIC_RELAXED);
    if (k == 0)
        return (long)seen;
    __atomic_store_n(&fail_at, k, __ATOMIC_RELEASE);
    return 0;
}
