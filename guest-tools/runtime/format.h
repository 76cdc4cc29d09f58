/*
 * printf-style formatting for the control domain, written for it: output
 * goes to a callback one character at a time, so the same code serves the
 * console and fixed buffers.
 *
 * Supported: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a width and for
 * %s a precision (both may be '*'), length modifiers hh h l ll z.
 */
#ifndef GUEST_TOOLS_RUNTIME_FORMAT_H
#define GUEST_TOOLS_RUNTIME_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*format_sink_fn)(void *ctx, char c);

/* Formats fmt into sink; returns the number of characters produced. */
int format_to(format_sink_fn sink, void *ctx, const char *fmt, va_list ap);

/* As C's snprintf: always terminates (size > 0) and returns the length the
 * full output would have had. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
