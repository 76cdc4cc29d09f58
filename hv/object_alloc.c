#include "hv/object_alloc.h"

#include <stdbool.h>

#include "abi/hv_errno.h"

#define PAGE_SIZE 4096u

/* Slab header: occupies the first cache line of the slab. */
struct slab {
    struct slab *next;       /* in the cache's partial list */
    struct slab *prev;
    void *free_list;         /* free objects, linked through their first word */
    size_t in_use;
};
_Static_assert(sizeof(struct slab) <= CACHE_LINE, "slab header fits a line");

static void zero(void *p, size_t n)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = 0;
}

static int cache_init(struct object_cache *cache, const char *name, size_t object_size,
                      size_t first_offset, const struct page_supplier *pages)
{
    zero(cache, sizeof(*cache));
    cache->name = name;
    cache->pages = pages;
    cache->object_size = object_size;
    cache->first_offset = first_offset;
    /* Smallest power-of-two slab that holds at least 8 objects, so that the
     * header line wastes at most an eighth. */
    size_t slab_pages = 1;
    while ((slab_pages * PAGE_SIZE - first_offset) / object_size < 8 && slab_pages < 64)
        slab_pages *= 2;
    cache->slab_pages = slab_pages;
    cache->objects_per_slab = (slab_pages * PAGE_SIZE - first_offset) / object_size;
    return 0;
}

int object_cache_init(struct object_cache *cache, const char *name,
                      size_t object_size, const struct page_supplier *pages)
{
    if (object_size == 0 || object_size > 64 * 1024 || !pages)
        return -HV_EINVAL;
    return cache_init(cache, name, (object_size + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1),
                      CACHE_LINE, pages);
}

/* Objects a whole number of pages apart, the first where its byte at
 * page_offset starts the slab's second page, or its first when that
 * leaves the header's line free. */
int object_cache_init_placed(struct object_cache *cache, const char *name,
                             size_t object_size, size_t page_offset,
                             const struct page_supplier *pages)
{
    if (object_size == 0 || object_size > 64 * 1024 || page_offset >= object_size ||
        (page_offset & (CACHE_LINE - 1)) || !pages)
        return -HV_EINVAL;
    size_t first = (PAGE_SIZE - page_offset % PAGE_SIZE) % PAGE_SIZE;
    if (first < CACHE_LINE)
        first += PAGE_SIZE;
    return cache_init(cache, name, (object_size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1),
                      first, pages);
}

static void partial_push(struct object_cache *cache, struct slab *slab)
{
    slab->prev = NULL;
    slab->next = cache->partial;
    if (cache->partial)
        cache->partial->prev = slab;
    cache->partial = slab;
}

static void partial_remove(struct object_cache *cache, struct slab *slab)
{
    if (slab->prev)
        slab->prev->next = slab->next;
    else
        cache->partial = slab->next;
    if (slab->next)
        slab->next->prev = slab->prev;
    slab->next = slab->prev = NULL;
}

static struct slab *slab_create(struct object_cache *cache)
{
    struct slab *slab = cache->pages->alloc(cache->slab_pages);
    if (!slab)
        return NULL;
    zero(slab, sizeof(*slab));
    uint8_t *first = (uint8_t *)slab + cache->first_offset;
    for (size_t i = cache->objects_per_slab; i-- > 0;) {
        void **obj = (void **)(first + i * cache->object_size);
        *obj = slab->free_list;
        slab->free_list = obj;
    }
    cache->slab_count++;
    return slab;
}

void *object_alloc(struct object_cache *cache)
{
    spin_lock(&cache->lock);
    struct slab *slab = cache->partial;
    if (!slab) {
        slab = slab_create(cache);
        if (!slab) {
            spin_unlock(&cache->lock);
            return NULL;
        }
        partial_push(cache, slab);
    }
    void **obj = slab->free_list;
    slab->free_list = *obj;
    slab->in_use++;
    if (!slab->free_list)
        partial_remove(cache, slab);
    cache->objects_in_use++;
    spin_unlock(&cache->lock);
    zero(obj, cache->object_size);
    return obj;
}

void object_free(struct object_cache *cache, void *object)
{
    if (!object)
        return;
    size_t slab_bytes = cache->slab_pages * PAGE_SIZE;
    struct slab *slab = (struct slab *)((uintptr_t)object & ~(uintptr_t)(slab_bytes - 1));

    spin_lock(&cache->lock);
    bool was_full = slab->free_list == NULL;
    *(void **)object = slab->free_list;
    slab->free_list = object;
    slab->in_use--;
    cache->objects_in_use--;
    if (slab->in_use == 0) {
        if (!was_full)
            partial_remove(cache, slab);
        cache->slab_count--;
        cache->pages->free(slab, cache->slab_pages);
    } else if (was_full) {
        partial_push(cache, slab);
    }
    spin_unlock(&cache->lock);
}
