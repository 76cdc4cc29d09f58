/* A small vsnprintf for the hypervisor's console. Freestanding and
 * host-testable. Supports %c %s %d %i %u %x %X %p %%, the flags '0' and '-',
 * a width, and the length modifiers l, ll and z. */
#ifndef HV_FORMAT_H
#define HV_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* Returns the length the full output would have; writes at most size-1
 * characters and always terminates when size > 0, like C's vsnprintf. */
int format_string(char *buf, size_t size, const char *fmt, va_list args);
int format(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
