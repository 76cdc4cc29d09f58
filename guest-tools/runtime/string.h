/*
 * The few string and memory helpers the control domain needs. GCC may emit
 * calls to memcpy/memset/memmove/memcmp on its own (struct copies, large
 * initialisers), so these four keep their standard names and semantics.
 */
#ifndef GUEST_TOOLS_RUNTIME_STRING_H
#define GUEST_TOOLS_RUNTIME_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Copies at most size-1 bytes and always terminates (size > 0); returns
 * strlen(src) so a caller can detect truncation. */
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
