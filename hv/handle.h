/* Capability handles: a per-domain table of typed, rights-carrying references
 * to hypervisor objects. A handle value is (generation << 16) | index; the
 * generation tells a stale or closed handle from a live one.
 *
 * Each slot has its own cache line and lock, and a `users` count: the open
 * handle counts one, and every call in flight on it counts one more. A call
 * pins the slot with handle_get() and unpins it with handle_put(); the object
 * reference the handle holds is released only when the count reaches zero, so
 * a close racing with a call never frees what the call still uses. A call on
 * one handle touches that handle's line only.
 *
 * Locking: slot lock guards the slot's fields; the table lock guards the free
 * list and is taken only to open or finally release a slot. Never held
 * together with a vcpu lock. Host-testable. */
#ifndef HV_HANDLE_H
#define HV_HANDLE_H

#include <stdint.h>

#include "abi/hv_abi.h"
#include "hv/spinlock.h"

#define HANDLE_TABLE_SIZE 1024
#define HANDLE_INDEX_BITS 16

struct handle_slot {
    struct spinlock lock;
    uint32_t generation;     /* of the live handle, or of the last one closed */
    uint32_t users;          /* 0 = slot free */
    uint8_t type;            /* enum hv_handle_type; NONE while free or closing */
    uint8_t open;            /* 1 until CLOSE */
    uint16_t rights;
    void *object;
    uint32_t next_free;      /* free list link */
} __attribute__((aligned(64)));

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

/* Pins the slot `handle` names after checking type (HV_HANDLE_NONE accepts
 * any) and `rights`. On success returns the slot; on failure NULL with
 * *error set: -HV_EBADF, -HV_ECLOSED, -HV_ESTALE, -HV_EBADTYPE, -HV_EPERM. */
struct handle_slot *handle_get(struct handle_table *table, hv_handle_t handle,
                               enum hv_handle_type type, uint16_t rights,
                               long *error);

/* Unpins a slot returned by handle_get(). */
void handle_put(struct handle_table *table, struct handle_slot *slot);

/* Closes the handle `slot` was pinned through (call with the slot pinned,
 * then handle_put it as usual). Returns 0 or -HV_ECLOSED if another CLOSE got
 * there first. */
long handle_close(struct handle_table *table, struct handle_slot *slot);

#endif
