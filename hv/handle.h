/* Capability handles: a per-domain table of typed, rights-carrying references
 * to hypervisor objects. A handle value is (generation << 16) | index; the
 * generation tells a stale or closed handle from a live one.
 *
 * Each slot has its own cache line and one atomic word, `state`, holding the
 * generation, an open bit and a `users` count: the open handle counts one,
 * and every call in flight on it counts one more. A call pins the slot with
 * handle_get() (one compare-and-swap) and unpins it with handle_put() (one
 * atomic decrement); the object reference the handle holds is released only
 * when the count reaches zero, so a close racing with a call never frees
 * what the call still uses. A call on one handle touches that handle's line
 * only, and takes no lock.
 *
 * Locking: type, rights and object are written only while the slot is free
 * (users 0) and read only while it is pinned. The table lock guards the free
 * list and is taken only to open or finally release a slot. Host-testable. */
#ifndef HV_HANDLE_H
#define HV_HANDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"
#include "hv/spinlock.h"

#define HANDLE_TABLE_SIZE 1024
#define HANDLE_INDEX_BITS 16

/* state: generation << 32 | open << 31 | users */
#define HANDLE_STATE_OPEN   (1ull << 31)
#define HANDLE_STATE_USERS  0x7fffffffull

struct handle_slot {
    uint64_t state;
    void *object;
    uint8_t type;            /* enum hv_handle_type */
    uint8_t padding;
    uint16_t rights;
    uint32_t next_free;      /* free list link */
} __attribute__((aligned(64)));

static inline uint32_t handle_slot_users(const struct handle_slot *slot)
{
    return (uint32_t)(__atomic_load_n(&slot->state, __ATOMIC_RELAXED) & HANDLE_STATE_USERS);
}

/* Called when a handle's last user is gone: drops the object reference the
 * handle held. */
typedef void (*handle_release_fn)(void *object, enum hv_handle_type type);

struct handle_table {
    struct spinlock lock;
    uint32_t free_head;      /* HANDLE_TABLE_SIZE when none */
    uint32_t open_count;
    handle_release_fn release;
    struct handle_slot *slots; /* HANDLE_TABLE_SIZE of them */
};

void handle_table_init(struct handle_table *table, struct handle_slot *slots,
                       handle_release_fn release);

/* Opens a handle to `object`; the caller has already taken the object
 * reference the handle will hold. Returns the handle or -HV_ENOSPC. */
hv_handle_t handle_open(struct handle_table *table, enum hv_handle_type type,
                        uint16_t rights, void *object);

/* Out of line halves of handle_get and handle_put. */
long handle_get_error(const struct handle_slot *slot, uint64_t generation,
                      uint64_t state, enum hv_handle_type type);
void handle_release(struct handle_table *table, struct handle_slot *slot);

/* Unpins a slot returned by handle_get(). */
static inline void handle_put(struct handle_table *table, struct handle_slot *slot)
{
    if ((__atomic_sub_fetch(&slot->state, 1, __ATOMIC_ACQ_REL) & HANDLE_STATE_USERS) == 0)
        handle_release(table, slot);
}

/* Pins the slot `handle` names after checking type (HV_HANDLE_NONE accepts
 * any) and `rights`. On success returns the slot; on failure NULL with
 * *error set: -HV_EBADF, -HV_ECLOSED, -HV_ESTALE, -HV_EBADTYPE, -HV_EPERM.
 * Inline: it is on every hypercall's path. */
static inline struct handle_slot *handle_get(struct handle_table *table,
                                             hv_handle_t handle,
                                             enum hv_handle_type type,
                                             uint16_t rights, long *error)
{
    uint64_t index = (uint64_t)handle & ((1u << HANDLE_INDEX_BITS) - 1);
    uint64_t generation = (uint64_t)handle >> HANDLE_INDEX_BITS;
    /* Negative values and generations beyond 31 bits in one test; a zero
     * generation never matches an open slot, so the loop below refuses it
     * and handle_get_error names it. */
    if ((uint64_t)handle >> (HANDLE_INDEX_BITS + 31) || index >= HANDLE_TABLE_SIZE) {
        *error = handle_get_error(NULL, 0, 0, type);
        return NULL;
    }
    struct handle_slot *slot = &table->slots[index];
    uint64_t state = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
    /* Pinned only if this exact generation is open: the CAS compares the
     * whole word, so a concurrent close or reuse makes it fail and retry. */
    while ((state >> 32) == generation && (state & HANDLE_STATE_OPEN)) {
        if (__atomic_compare_exchange_n(&slot->state, &state, state + 1, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
            if ((type == HV_HANDLE_NONE || slot->type == type) &&
                (slot->rights & rights) == rights)
                return slot;
            *error = handle_get_error(slot, generation, state, type);
            handle_put(table, slot);
            return NULL;
        }
    }
    *error = handle_get_error(slot, generation, state, type);
    return NULL;
}

/* Closes the handle `slot` was pinned through (call with the slot pinned,
 * then handle_put it as usual). Returns 0 or -HV_ECLOSED if another CLOSE got
 * there first. */
long handle_close(struct handle_table *table, struct handle_slot *slot);

#endif
