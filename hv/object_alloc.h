/* Allocator for fixed-size objects (vcpus, VMs, handle tables, ...). Every
 * object starts on a 64-byte cache line and its size is rounded up to whole
 * lines, so two objects never share a line: a CPU writing one object never
 * bounces another CPU's object. Objects come from slabs of whole pages, which
 * go back to the page supplier as soon as they hold no object, so that
 * creating and destroying objects loses no memory. Host-testable: pages come
 * from the supplier given at init.
 *
 * Locking: each cache has its own lock, taken only for alloc and free. */
#ifndef HV_OBJECT_ALLOC_H
#define HV_OBJECT_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "hv/spinlock.h"

#define CACHE_LINE 64

struct page_supplier {
    /* Returns `pages` contiguous zeroed pages aligned to their total size
     * (a power of two), or NULL. */
    void *(*alloc)(size_t pages);
    void (*free)(void *base, size_t pages);
};

struct slab;

struct object_cache {
    struct spinlock lock;
    const char *name;
    size_t object_size;     /* rounded up to CACHE_LINE */
    size_t slab_pages;      /* power of two */
    size_t objects_per_slab;
    size_t first_offset;    /* of the slab's first object */
    const struct page_supplier *pages;
    struct slab *partial;   /* slabs with at least one free object */
    size_t objects_in_use;
    size_t slab_count;
};

/* Returns 0, or -HV_EINVAL for a zero size or one above 64 KiB. */
int object_cache_init(struct object_cache *cache, const char *name,
                      size_t object_size, const struct page_supplier *pages);

/* The same for objects of which the byte at `page_offset` starts a page:
 * a vcpu whose local APIC page the CPU uses as its virtual-APIC page
 * (4 KiB-aligned, SDM 3C 24.6.8). Objects then take whole pages each. */
int object_cache_init_placed(struct object_cache *cache, const char *name,
                             size_t object_size, size_t page_offset,
                             const struct page_supplier *pages);

/* Returns a zeroed, cache-line-aligned object or NULL. */
void *object_alloc(struct object_cache *cache);
void object_free(struct object_cache *cache, void *object);

#endif
