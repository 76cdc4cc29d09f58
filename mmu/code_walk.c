#include "mmu/code_walk.h"

#define PAGE_MASK 0xfffull

/* guest_walk's reader: each entry read where the hypervisor sees its page,
 * and noted with that place in the order read. */
struct noted_walk {
    guest_page_fn page_of;
    void *ctx;
    unsigned count;                 /* may pass CODE_WALK_ENTRIES: then not kept */
    const void *entry[CODE_WALK_ENTRIES];
    uint64_t value[CODE_WALK_ENTRIES];
    uint8_t size[CODE_WALK_ENTRIES];
};

static bool read_noted(uint64_t guest_phys, unsigned size, uint64_t *value, void *ctx)
{
    struct noted_walk *walk = ctx;
    const uint8_t *page = walk->page_of(guest_phys & ~PAGE_MASK, walk->ctx);
    if (!page)
        return false;
    const void *entry = page + (guest_phys & PAGE_MASK);
    /* Entries are naturally aligned (guest_walk's addresses): one load
     * each, as the CPU's walk reads them. */
    *value = size == 8 ? __atomic_load_n((const uint64_t *)entry, __ATOMIC_ACQUIRE)
                       : __atomic_load_n((const uint32_t *)entry, __ATOMIC_ACQUIRE);
    if (walk->count < CODE_WALK_ENTRIES) {
        walk->entry[walk->count] = entry;
        walk->value[walk->count] = *value;
        walk->size[walk->count] = (uint8_t)size;
    }
    walk->count++;
    return true;
}

const uint8_t *code_walk_take(struct code_walk *kept, const struct guest_paging *paging,
                              uint64_t linear, uint64_t generation, guest_page_fn page_of,
                              void *ctx)
{
    code_walk_forget(kept);
    if ((linear & PAGE_MASK) > CODE_WALK_LAST_OFFSET)
        return NULL;
    struct noted_walk walk = { .page_of = page_of, .ctx = ctx };
    struct guest_translation found;
    if (guest_walk(paging, linear, read_noted, &walk, &found) ||
        walk.count > CODE_WALK_ENTRIES)
        return NULL;
    const uint8_t *page = page_of(found.guest_phys & ~PAGE_MASK, ctx);
    if (!page)
        return NULL;
    for (unsigned i = 0; i < walk.count; i++) {
        kept->entry[i] = walk.entry[i];
        kept->entry_value[i] = walk.value[i];
        kept->entry_size[i] = walk.size[i];
    }
    kept->entries = walk.count;
    kept->paging = *paging;
    kept->generation = generation;
    kept->page = page;
    kept->linear_page = linear & ~PAGE_MASK;
    return page + (linear & PAGE_MASK);
}
