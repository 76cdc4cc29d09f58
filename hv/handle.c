#include <stdbool.h>

#include "hv/handle.h"

static uint32_t slot_index(const struct handle_table *table,
                           const struct handle_slot *slot)
{
    return (uint32_t)(slot - table->slots);
}

void handle_table_init(struct handle_table *table, struct handle_slot *slots,
                       handle_release_fn release)
{
    table->lock = (struct spinlock)SPINLOCK_INIT;
    table->slots = slots;
    table->release = release;
    table->open_count = 0;
    for (uint32_t i = 0; i < HANDLE_TABLE_SIZE; i++) {
        struct handle_slot *s = &slots[i];
        s->state = 0;
        s->object = NULL;
        s->next_free = i + 1;
    }
    table->free_head = 0;
}

long handle_reserve(struct handle_table *table)
{
    spin_lock(&table->lock);
    uint32_t index = table->free_head;
    if (index >= HANDLE_TABLE_SIZE) {
        spin_unlock(&table->lock);
        return -HV_ENOSPC;
    }
    table->free_head = table->slots[index].next_free;
    table->open_count++;
    spin_unlock(&table->lock);
    return index;
}

/* A slot whose generation reached the last one is retired, never on the
 * free list again: a new generation would wrap to a value once issued,
 * and a handle the VMM kept from then would name the new object. One
 * slot of the 65536 in 2^31 opens of it. */
void handle_unreserve(struct handle_table *table, uint32_t index)
{
    struct handle_slot *slot = &table->slots[index];
    bool retired = ((slot->state & HANDLE_STATE_GEN_MASK) >> HANDLE_STATE_GEN_SHIFT) ==
                   HANDLE_GENERATION_LAST;
    spin_lock(&table->lock);
    if (!retired) {
        slot->next_free = table->free_head;
        table->free_head = index;
    }
    table->open_count--;
    spin_unlock(&table->lock);
}

hv_handle_t handle_open(struct handle_table *table, enum hv_handle_type type,
                        uint16_t rights, void *object)
{
    long index = handle_reserve(table);
    if (index < 0)
        return index;
    return handle_publish(table, (uint32_t)index, type, rights, object);
}

hv_handle_t handle_publish(struct handle_table *table, uint32_t index,
                           enum hv_handle_type type, uint16_t rights, void *object)
{
    struct handle_slot *slot = &table->slots[index];
    slot->object = object;
    /* Never past HANDLE_GENERATION_LAST (handle_unreserve retires such a
     * slot), and never 0, so a handle is never 0. */
    uint64_t generation = ((slot->state & HANDLE_STATE_GEN_MASK) >> HANDLE_STATE_GEN_SHIFT) + 1;
    /* Publishing the state makes the object visible to handle_get. */
    __atomic_store_n(&slot->state,
                     HANDLE_STATE_WANT(type, rights) |
                         generation << HANDLE_STATE_GEN_SHIFT | 1,
                     __ATOMIC_RELEASE);
    return (hv_handle_t)(generation << HANDLE_INDEX_BITS | index);
}

long handle_get_error(const struct handle_slot *slot, uint64_t handle,
                      uint64_t state, enum hv_handle_type type)
{
    uint64_t generation = (handle & HANDLE_STATE_GEN_MASK) >> HANDLE_STATE_GEN_SHIFT;
    uint64_t current = (state & HANDLE_STATE_GEN_MASK) >> HANDLE_STATE_GEN_SHIFT;
    if (!slot || generation == 0 || generation > current)
        return -HV_EBADF;               /* never issued */
    if (!(state & HANDLE_STATE_OPEN))
        return -HV_ECLOSED;
    if (generation < current)
        return -HV_ESTALE;
    if (type != HV_HANDLE_NONE && (uint8_t)(state >> HANDLE_STATE_TYPE_SHIFT) != type)
        return -HV_EBADTYPE;
    return -HV_EPERM;
}

void handle_release(struct handle_table *table, struct handle_slot *slot)
{
    /* Last user of a closed handle: nobody else can reach the slot now. */
    table->release(slot->object, handle_slot_type(slot));
    slot->object = NULL;
    handle_unreserve(table, slot_index(table, slot));
}

long handle_close(struct handle_table *table, struct handle_slot *slot)
{
    (void)table;
    uint64_t state = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
    do {
        if (!(state & HANDLE_STATE_OPEN))
            return -HV_ECLOSED;
        /* Clear the open bit and drop the open handle's own count; the
         * caller's pin keeps users above zero. */
    } while (!__atomic_compare_exchange_n(&slot->state, &state,
                                          (state & ~HANDLE_STATE_OPEN) - 1, false,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    return 0;
}
