/* Capability handles: a per-domain table of typed, rights-carrying references
 * to hypervisor objects. A handle value is (generation << 16) | index; the
 * generation tells a stale or closed handle from a live one.
 *
 * Each slot has its own cache line and one atomic word, `state`, holding
 * everything a call checks -- the generation, an open bit, the type, the
 * rights -- and a `users` count: the open handle counts one, and every
 * call in flight on it counts one more. So one load and one compare with
 * the handle value decide whether a handle may make a call
 * (handle_state_allows), and one compare-and-swap of that same value pins
 * the slot (handle_get); handle_put unpins it with one atomic decrement.
 * The object reference the handle holds is released only when the count
 * reaches zero, so a close racing with a call never frees what the call
 * still uses. A call on one handle touches that handle's line only, and
 * takes no lock.
 *
 * Locking: `object`, and the type and rights in `state`, are written only
 * while the slot is free (users 0) and read only while it is pinned, or
 * (type and rights) as part of the state word. The table lock guards the
 * free list and is taken only to open or finally release a slot; it and
 * the fields written on every open and close sit on their own line, apart
 * from `slots`, which every call reads (struct handle_table).
 * Host-testable. */
#ifndef HV_HANDLE_H
#define HV_HANDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/hv_abi.h"
#include "hv/acpi.h"
#include "hv/spinlock.h"

#define HANDLE_TABLE_SIZE 1024
#define HANDLE_INDEX_BITS 16

/* state: rights << 56 | type << 48 | open << 47 | generation << 16 | users.
 * The generation sits where a handle value has it, so that the two are
 * compared as they are. Users fit 16 bits: at most one call per CPU is in
 * flight on a handle, plus the handle itself. */
#define HANDLE_STATE_USERS      0xffffull
_Static_assert(MAX_CPUS + 1 < HANDLE_STATE_USERS, "users never overflow their 16 bits");
#define HANDLE_STATE_GEN_SHIFT  HANDLE_INDEX_BITS
#define HANDLE_STATE_GEN_MASK   (0x7fffffffull << HANDLE_STATE_GEN_SHIFT)
#define HANDLE_GENERATION_LAST  0x7fffffffull  /* the slot retires after it */
#define HANDLE_STATE_OPEN       (1ull << 47)
#define HANDLE_STATE_TYPE_SHIFT 48
#define HANDLE_STATE_RIGHTS_SHIFT 56

/* Bits no valid handle value has: above the 31-bit generation, and index
 * bits at or above the table size. */
#define HANDLE_INVALID_BITS (~0ull << 47 | (0xffffull & ~(uint64_t)(HANDLE_TABLE_SIZE - 1)))

/* What a call needs of the state word of the slot its handle names, for
 * handle_state_allows: WANT the open bit, the type and the rights, MASK
 * the bits to compare -- the generation, the open bit, the type unless
 * any type will do (HV_HANDLE_NONE), and only the rights the call needs.
 * Constant expressions, for dispatch tables. */
#define HANDLE_STATE_WANT(type, rights)                                       \
    (HANDLE_STATE_OPEN | (uint64_t)(type) << HANDLE_STATE_TYPE_SHIFT |         \
     (uint64_t)(rights) << HANDLE_STATE_RIGHTS_SHIFT)
#define HANDLE_STATE_MASK(type, rights)                                       \
    (HANDLE_STATE_GEN_MASK | HANDLE_STATE_OPEN |                              \
     ((type) != HV_HANDLE_NONE ? 0xffull << HANDLE_STATE_TYPE_SHIFT : 0) |    \
     (uint64_t)(rights) << HANDLE_STATE_RIGHTS_SHIFT)

struct handle_slot {
    union {
        uint64_t state;
        uint16_t users;      /* state's low 16 bits (little-endian), for the unpin */
    };
    void *object;
    uint32_t next_free;      /* free list link */
} __attribute__((aligned(64)));

static inline uint32_t handle_slot_users(const struct handle_slot *slot)
{
    return (uint32_t)(__atomic_load_n(&slot->state, __ATOMIC_RELAXED) & HANDLE_STATE_USERS);
}

/* The type and rights of a pinned slot's handle. */
static inline enum hv_handle_type handle_slot_type(const struct handle_slot *slot)
{
    return (enum hv_handle_type)(uint8_t)(slot->state >> HANDLE_STATE_TYPE_SHIFT);
}

static inline uint16_t handle_slot_rights(const struct handle_slot *slot)
{
    return (uint8_t)(slot->state >> HANDLE_STATE_RIGHTS_SHIFT);
}

/* Called when a handle's last user is gone: drops the object reference the
 * handle held. */
typedef void (*handle_release_fn)(void *object, enum hv_handle_type type);

/* `slots` and `release` are read by every call and written once; the lock
 * and the counts written by every open and close have a line of their own,
 * so that calls on one CPU do not miss on another CPU's CREATE or CLOSE. */
struct handle_table {
    struct handle_slot *slots; /* HANDLE_TABLE_SIZE of them */
    handle_release_fn release;
    struct spinlock lock __attribute__((aligned(64)));
    uint32_t free_head;      /* HANDLE_TABLE_SIZE when none */
    uint32_t open_count;
} __attribute__((aligned(64)));
_Static_assert(offsetof(struct handle_table, lock) == 64,
               "the lock and counts are off the line every call reads");

void handle_table_init(struct handle_table *table, struct handle_slot *slots,
                       handle_release_fn release);

/* Opens a handle to `object`; the caller has already taken the object
 * reference the handle will hold. Returns the handle or -HV_ENOSPC. */
hv_handle_t handle_open(struct handle_table *table, enum hv_handle_type type,
                        uint16_t rights, void *object);

/* handle_open in two steps, for an object that other CPUs may reach as
 * soon as it exists and that therefore must not be made and then freed
 * for want of a handle (a vcpu, which IPIs find in its VM): a slot is
 * taken first (its index, or -HV_ENOSPC), then opened with the object
 * (handle_publish, which cannot fail) or given back (handle_unreserve).
 * A reserved slot is closed to every call until it is published. */
long handle_reserve(struct handle_table *table);
hv_handle_t handle_publish(struct handle_table *table, uint32_t index,
                           enum hv_handle_type type, uint16_t rights, void *object);
void handle_unreserve(struct handle_table *table, uint32_t index);

/* Out of line halves of handle_get and handle_put. */
long handle_get_error(const struct handle_slot *slot, uint64_t handle,
                      uint64_t state, enum hv_handle_type type);
void handle_release(struct handle_table *table, struct handle_slot *slot);

/* The slot `handle` names, for a value without HANDLE_INVALID_BITS. */
static inline struct handle_slot *handle_slot_of(const struct handle_table *table,
                                                 uint64_t handle)
{
    return &table->slots[handle & (HANDLE_TABLE_SIZE - 1)];
}

/* Whether `state` (of the slot `handle` names, a value without
 * HANDLE_INVALID_BITS) lets the handle make a call that wants `want`
 * under `mask` (HANDLE_STATE_WANT/MASK): this generation open, the type,
 * at least the rights. The handle's index lands on the users count, which
 * the mask leaves out; a needed right the handle lacks stays set in the
 * exclusive or. */
static inline bool handle_state_allows(uint64_t state, uint64_t handle, uint64_t want,
                                       uint64_t mask)
{
    return ((state ^ handle ^ want) & mask) == 0;
}

/* Unpins a slot returned by handle_get() or pinned by a caller of
 * handle_state_allows; handle_unpin_was_last is its first half, for a
 * caller that finds the table only when it needs it. The open handle
 * counts one user, so users reaches 0 only once it is closed. A pinned
 * slot's users are at least 1, so a locked decrement of the word's low 16
 * bits alone is the word's own decrement (no borrow), and its zero flag
 * is the answer: a LOCK SUB and a jump, where a 64-bit decrement would
 * need its old value back and a compare. x86 keeps locked operations of
 * different sizes on one location atomic with one another (the pin's
 * 64-bit compare-and-swap), as Linux's queued spinlocks rely on too. */
static inline bool handle_unpin_was_last(struct handle_slot *slot)
{
    return __atomic_sub_fetch(&slot->users, 1, __ATOMIC_ACQ_REL) == 0;
}

static inline void handle_put(struct handle_table *table, struct handle_slot *slot)
{
    if (handle_unpin_was_last(slot))
        handle_release(table, slot);
}

/* Pins the slot `handle` names after checking type (HV_HANDLE_NONE accepts
 * any) and `rights`. On success returns the slot; on failure NULL with
 * *error set: -HV_EBADF, -HV_ECLOSED, -HV_ESTALE, -HV_EBADTYPE, -HV_EPERM.
 * The compare-and-swap compares the whole word, so a concurrent close or
 * reuse makes it fail and check again. */
static inline struct handle_slot *handle_get(struct handle_table *table,
                                             hv_handle_t handle,
                                             enum hv_handle_type type,
                                             uint16_t rights, long *error)
{
    if ((uint64_t)handle & HANDLE_INVALID_BITS) {
        *error = handle_get_error(NULL, (uint64_t)handle, 0, type);
        return NULL;
    }
    struct handle_slot *slot = handle_slot_of(table, (uint64_t)handle);
    uint64_t want = HANDLE_STATE_WANT(type, rights), mask = HANDLE_STATE_MASK(type, rights);
    uint64_t state = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
    while (handle_state_allows(state, (uint64_t)handle, want, mask))
        if (__atomic_compare_exchange_n(&slot->state, &state, state + 1, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
            return slot;
    *error = handle_get_error(slot, (uint64_t)handle, state, type);
    return NULL;
}

/* Closes the handle `slot` was pinned through (call with the slot pinned,
 * then handle_put it as usual). Returns 0 or -HV_ECLOSED if another CLOSE got
 * there first. */
long handle_close(struct handle_table *table, struct handle_slot *slot);

#endif
