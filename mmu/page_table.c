#include "mmu/page_table.h"

#include <stddef.h>

#include "abi/hv_errno.h"

#define ENTRIES 512

int page_table_init(struct page_table *pt)
{
    pt->root = pt->alloc_table(pt->ctx);
    return pt->root ? 0 : -HV_ENOMEM;
}

static uint64_t *table_at(const struct page_table *pt, uint64_t phys)
{
    return pt->to_pointer(phys, pt->ctx);
}

static int map_level(struct page_table *pt, uint64_t table_phys, int level,
                     uint64_t va, uint64_t pa, uint64_t size,
                     uint64_t leaf_flags, enum page_level largest)
{
    unsigned shift = 12 + 9 * (unsigned)level;
    uint64_t span = 1ull << shift;
    uint64_t *table = table_at(pt, table_phys);

    while (size) {
        uint64_t *entry = &table[(va >> shift) % ENTRIES];
        uint64_t entry_end = (va & ~(span - 1)) + span;
        uint64_t chunk = entry_end - va < size ? entry_end - va : size;
        bool whole = chunk == span && va % span == 0 && pa % span == 0;

        bool present = *entry & PTE_PRESENT;
        bool leaf = present && (level == 0 || *entry & PTE_LARGE);
        if (!present && whole && level <= (int)largest) {
            *entry = pa | leaf_flags | PTE_PRESENT | (level > 0 ? PTE_LARGE : 0);
        } else if (!leaf && level > 0) {
            /* Descend, creating the table if needed, to fill what is not
             * yet mapped below this entry. */
            if (!present) {
                uint64_t next = pt->alloc_table(pt->ctx);
                if (!next)
                    return -HV_ENOMEM;
                *entry = next | pt->table_flags | PTE_PRESENT;
            }
            int err = map_level(pt, *entry & PTE_ADDR_MASK, level - 1, va, pa,
                                chunk, leaf_flags, largest);
            if (err)
                return err;
        }
        va += chunk;
        pa += chunk;
        size -= chunk;
    }
    return 0;
}

int page_table_map(struct page_table *pt, uint64_t va, uint64_t pa,
                   uint64_t size, uint64_t leaf_flags, enum page_level largest)
{
    if ((va | pa | size) & 0xfff || va + size < va)
        return -HV_EINVAL;
    return map_level(pt, pt->root, 3, va, pa, size, leaf_flags, largest);
}

static bool table_is_empty(const uint64_t *table)
{
    for (unsigned i = 0; i < ENTRIES; i++)
        if (table[i])
            return false;
    return true;
}

/* Unlinks an empty table from its parent entry, then links it into `list`.
 * In that order: a walker that still reaches the page finds it empty. */
static void retire_table(struct page_table *pt, uint64_t *parent_entry,
                         struct table_list *list)
{
    uint64_t phys = *parent_entry & PTE_ADDR_MASK;
    __atomic_store_n(parent_entry, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&table_at(pt, phys)[0], list->first, __ATOMIC_RELEASE);
    list->first = phys;
    list->count++;
}

static int unmap_level(struct page_table *pt, uint64_t table_phys, int level,
                       uint64_t va, uint64_t size, struct table_list *emptied)
{
    unsigned shift = 12 + 9 * (unsigned)level;
    uint64_t span = 1ull << shift;
    uint64_t *table = table_at(pt, table_phys);
    int result = 0;

    while (size) {
        uint64_t *entry = &table[(va >> shift) % ENTRIES];
        uint64_t entry_end = (va & ~(span - 1)) + span;
        uint64_t chunk = entry_end - va < size ? entry_end - va : size;
        if (*entry & PTE_PRESENT) {
            bool leaf = level == 0 || *entry & PTE_LARGE;
            if (leaf && chunk == span) {
                __atomic_store_n(entry, 0, __ATOMIC_RELEASE);
            } else if (leaf) {
                result = -HV_EINVAL;
            } else {
                uint64_t child = *entry & PTE_ADDR_MASK;
                int err = unmap_level(pt, child, level - 1, va, chunk, emptied);
                if (err)
                    result = err;
                /* Checked whatever was unmapped: a map that failed for
                 * want of memory may have left an empty table here. */
                if (table_is_empty(table_at(pt, child)))
                    retire_table(pt, entry, emptied);
            }
        }
        va += chunk;
        size -= chunk;
    }
    return result;
}

int page_table_unmap(struct page_table *pt, uint64_t va, uint64_t size,
                     struct table_list *emptied)
{
    if ((va | size) & 0xfff || va + size < va)
        return -HV_EINVAL;
    return unmap_level(pt, pt->root, 3, va, size, emptied);
}

void page_table_free_list(struct page_table *pt, struct table_list *list,
                          void (*free_table)(uint64_t phys, void *ctx))
{
    while (list->first) {
        uint64_t phys = list->first;
        list->first = table_at(pt, phys)[0];
        free_table(phys, pt->ctx);
    }
    list->count = 0;
}

static void destroy_level(struct page_table *pt, uint64_t table_phys, int level,
                          void (*free_table)(uint64_t phys, void *ctx))
{
    uint64_t *table = table_at(pt, table_phys);
    for (unsigned i = 0; level > 0 && i < ENTRIES; i++)
        if ((table[i] & PTE_PRESENT) && !(table[i] & PTE_LARGE))
            destroy_level(pt, table[i] & PTE_ADDR_MASK, level - 1, free_table);
    free_table(table_phys, pt->ctx);
}

void page_table_destroy(struct page_table *pt,
                        void (*free_table)(uint64_t phys, void *ctx))
{
    if (pt->root)
        destroy_level(pt, pt->root, 3, free_table);
    pt->root = 0;
}

uint64_t page_table_lookup(const struct page_table *pt, uint64_t va,
                           enum page_level *level)
{
    uint64_t table_phys = pt->root;
    for (int l = 3; l >= 0; l--) {
        uint64_t entry = table_at(pt, table_phys)[(va >> (12 + 9 * l)) % ENTRIES];
        if (!(entry & PTE_PRESENT))
            return 0;
        if (l == 0 || entry & PTE_LARGE) {
            if (level)
                *level = (enum page_level)l;
            return entry;
        }
        table_phys = entry & PTE_ADDR_MASK;
    }
    return 0;
}

/* The 4 KiB leaf entry mapping `va`, or NULL (not mapped, or by a large
 * page: dirty logging maps its slots with 4 KiB pages only). */
static uint64_t *leaf_4k(const struct page_table *pt, uint64_t va)
{
    uint64_t table_phys = pt->root;
    for (int l = 3; l > 0; l--) {
        uint64_t entry = table_at(pt, table_phys)[(va >> (12 + 9 * l)) % ENTRIES];
        if (!(entry & PTE_PRESENT) || entry & PTE_LARGE)
            return NULL;
        table_phys = entry & PTE_ADDR_MASK;
    }
    uint64_t *leaf = &table_at(pt, table_phys)[(va >> 12) % ENTRIES];
    return *leaf & PTE_PRESENT ? leaf : NULL;
}

int page_table_update_leaf(struct page_table *pt, uint64_t va,
                           uint64_t set, uint64_t clear)
{
    uint64_t *leaf = leaf_4k(pt, va);
    if (!leaf)
        return -HV_ENOENT;
    /* Locked operations: another CPU's page walker may be setting the
     * accessed or dirty bit of this entry at the same time. */
    if (set)
        __atomic_or_fetch(leaf, set, __ATOMIC_SEQ_CST);
    if (clear)
        __atomic_and_fetch(leaf, ~clear, __ATOMIC_SEQ_CST);
    return 0;
}
