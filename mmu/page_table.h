/* Builder for x86-64 4-level page tables, used for the hypervisor's own map
 * and (with the U bit and other flags) for AMD's nested page tables, whose
 * format is the same. Host-testable: table pages come from a callback.
 *
 * Mapping never replaces an existing translation: the first mapping of an
 * address wins. Callers map the specific parts first (the hypervisor image
 * with 4 KiB pages and exact permissions) and the broad ones after. */
#ifndef MMU_PAGE_TABLE_H
#define MMU_PAGE_TABLE_H

#include <stdbool.h>
#include <stdint.h>

/* Intel SDM 3A, 4.5, tables 4-15..4-20 (AMD APM vol. 2, 5.4 is the same). */
#define PTE_PRESENT   (1ull << 0)
#define PTE_WRITE     (1ull << 1)
#define PTE_USER      (1ull << 2)
#define PTE_PWT       (1ull << 3)
#define PTE_PCD       (1ull << 4)
#define PTE_ACCESSED  (1ull << 5)
#define PTE_DIRTY     (1ull << 6)
#define PTE_LARGE     (1ull << 7)
#define PTE_GLOBAL    (1ull << 8)
#define PTE_NX        (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

enum page_level { PAGE_4K = 0, PAGE_2M = 1, PAGE_1G = 2 };

struct page_table {
    uint64_t root;                 /* physical address of the PML4 */
    uint64_t table_flags;          /* flags of non-leaf entries */
    /* Returns a zeroed page's physical address, or 0. */
    uint64_t (*alloc_table)(void *ctx);
    void *(*to_pointer)(uint64_t phys, void *ctx);
    void *ctx;
};

/* Allocates the root. Returns 0 or -HV_ENOMEM. */
int page_table_init(struct page_table *pt);

/* Maps [va, va+size) to [pa, pa+size) with `leaf_flags`, using pages no
 * larger than `largest`. va, pa and size must be 4 KiB aligned. Returns 0,
 * -HV_EINVAL or -HV_ENOMEM (then part of the range may be mapped). */
int page_table_map(struct page_table *pt, uint64_t va, uint64_t pa,
                   uint64_t size, uint64_t leaf_flags, enum page_level largest);

/* Table pages an unmap took out of the tree, waiting for the caller to free
 * them (page_table_free_list) once no CPU can still be walking them: a
 * hardware walker that read the parent entry before it was cleared, or a
 * software lookup on another CPU. They are linked through their entry 0;
 * every other entry is 0, and the link is a page-aligned address (bits 0-2
 * clear), so such a late walker finds "not present" everywhere in the page,
 * in both second-level formats. */
struct table_list {
    uint64_t first;     /* physical address of the first page; 0: empty */
    uint64_t count;
};

/* Removes every leaf inside [va, va+size). A large page that is only partly
 * inside is left alone and reported: returns -HV_EINVAL in that case (callers
 * map and unmap whole regions, so it means a caller bug), else 0.
 * Every table below the root that is empty afterwards (this unmap emptied
 * it, or a failed map left it so) is unlinked from its parent and added to
 * `emptied`; tables still holding an entry stay, and the root always
 * stays. So the tables of a tree are bounded by what is mapped in it,
 * whatever the history of maps and unmaps. */
int page_table_unmap(struct page_table *pt, uint64_t va, uint64_t size,
                     struct table_list *emptied);

/* Frees every page of `list` through `free_table` and empties the list. */
void page_table_free_list(struct page_table *pt, struct table_list *list,
                          void (*free_table)(uint64_t phys, void *ctx));

/* Frees every table page, the root included, through `free_table`. */
void page_table_destroy(struct page_table *pt,
                        void (*free_table)(uint64_t phys, void *ctx));

/* Sets then clears flags of the 4 KiB leaf mapping `va` (one locked
 * read-modify-write, so that bits the hardware sets concurrently, such as
 * accessed and dirty, are kept). Returns 0, or -HV_ENOENT when `va` is not
 * mapped by a 4 KiB leaf. The caller flushes the TLBs. */
int page_table_update_leaf(struct page_table *pt, uint64_t va,
                           uint64_t set, uint64_t clear);

/* Looks up `va`. Returns the leaf entry (with its level in *level) or 0. */
uint64_t page_table_lookup(const struct page_table *pt, uint64_t va,
                           enum page_level *level);

#endif
