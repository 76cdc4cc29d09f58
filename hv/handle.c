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
        s->lock = (struct spinlock)SPINLOCK_INIT;
        s->generation = 0;
        s->users = 0;
        s->type = HV_HANDLE_NONE;
        s->open = 0;
        s->rights = 0;
        s->object = NULL;
        s->next_free = i + 1;
    }
    table->free_head = 0;
}

hv_handle_t handle_open(struct handle_table *table, enum hv_handle_type type,
                        uint16_t rights, void *object)
{
    spin_lock(&table->lock);
    uint32_t index = table->free_head;
    if (index >= HANDLE_TABLE_SIZE) {
        spin_unlock(&table->lock);
        return -HV_ENOSPC;
    }
    struct handle_slot *slot = &table->slots[index];
    table->free_head = slot->next_free;
    table->open_count++;
    spin_unlock(&table->lock);

    spin_lock(&slot->lock);
    /* Generations wrap within 31 bits, skipping 0 so a handle is never 0. */
    slot->generation = (slot->generation + 1) & 0x7fffffff;
    if (slot->generation == 0)
        slot->generation = 1;
    slot->type = (uint8_t)type;
    slot->rights = rights;
    slot->object = object;
    slot->open = 1;
    slot->users = 1;
    hv_handle_t handle = (hv_handle_t)slot->generation << HANDLE_INDEX_BITS | index;
    spin_unlock(&slot->lock);
    return handle;
}

struct handle_slot *handle_get(struct handle_table *table, hv_handle_t handle,
                               enum hv_handle_type type, uint16_t rights,
                               long *error)
{
    uint64_t index = (uint64_t)handle & ((1u << HANDLE_INDEX_BITS) - 1);
    uint64_t generation = (uint64_t)handle >> HANDLE_INDEX_BITS;
    if (handle <= 0 || index >= HANDLE_TABLE_SIZE || generation == 0 ||
        generation > 0x7fffffff) {
        *error = -HV_EBADF;
        return NULL;
    }
    struct handle_slot *slot = &table->slots[index];
    spin_lock(&slot->lock);
    long err = 0;
    if (generation > slot->generation)
        err = -HV_EBADF;                    /* never issued */
    else if (!slot->open)
        err = -HV_ECLOSED;
    else if (generation < slot->generation)
        err = -HV_ESTALE;
    else if (type != HV_HANDLE_NONE && slot->type != type)
        err = -HV_EBADTYPE;
    else if ((slot->rights & rights) != rights)
        err = -HV_EPERM;
    if (err) {
        spin_unlock(&slot->lock);
        *error = err;
        return NULL;
    }
    slot->users++;
    spin_unlock(&slot->lock);
    return slot;
}

void handle_put(struct handle_table *table, struct handle_slot *slot)
{
    spin_lock(&slot->lock);
    uint32_t users = --slot->users;
    void *object = slot->object;
    enum hv_handle_type type = slot->type;
    if (users == 0) {
        slot->object = NULL;
        slot->type = HV_HANDLE_NONE;
        slot->rights = 0;
    }
    spin_unlock(&slot->lock);
    if (users)
        return;

    table->release(object, type);
    spin_lock(&table->lock);
    slot->next_free = table->free_head;
    table->free_head = slot_index(table, slot);
    table->open_count--;
    spin_unlock(&table->lock);
}

long handle_close(struct handle_table *table, struct handle_slot *slot)
{
    (void)table;
    spin_lock(&slot->lock);
    if (!slot->open) {
        spin_unlock(&slot->lock);
        return -HV_ECLOSED;
    }
    slot->open = 0;
    slot->users--; /* the open handle's own count; the caller's pin remains */
    spin_unlock(&slot->lock);
    return 0;
}
