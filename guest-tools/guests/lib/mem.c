/*
 * memset and memcpy: GCC may emit calls to them for struct copies and
 * zeroing even in freestanding code, so the guests that pull them in get
 * them from here. The loops must not be turned back into calls to
 * themselves.
 */
#include <stddef.h>

void *memset(void *destination, int value, size_t size);
void *memcpy(void *destination, const void *source, size_t size);

__attribute__((optimize("no-tree-loop-distribute-patterns")))
void *memset(void *destination, int value, size_t size)
{
    unsigned char *d = destination;

    while (size-- > 0)
        *d++ = (unsigned char)value;
    return destination;
}

__attribute__((optimize("no-tree-loop-distribute-patterns")))
void *memcpy(void *destination, const void *source, size_t size)
{
    unsigned char *d = destination;
    const unsigned char *s = source;

    while (size-- > 0)
        *d++ = *s++;
    return destination;
}
