/*
 * Line-buffered console over HV_CALL_CONSOLE_WRITE. A line is assembled in
 * a buffer that already starts with the prefix, so a flush is exactly one
 * hypercall. Overlong lines are cut and continued on a new prefixed line
 * rather than dropped.
 */
#include <stdarg.h>

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/spinlock.h"
#include "guest-tools/runtime/string.h"

#define CTL_PREFIX      "[ctl] "
#define CTL_PREFIX_LEN  (sizeof(CTL_PREFIX) - 1)
#define LINE_MAX        512   /* prefix, text and '\n' of one console line */

static struct spinlock console_lock;
static hv_handle_t console_handle;    /* 0 until console_init */

/* The pending "[ctl] " line; line_len counts the prefix once text exists. */
static char line[LINE_MAX];
static size_t line_len;

/* Scratch line for console_write_line, also under console_lock. */
static char other_line[LINE_MAX];

/* The hypervisor reads the bytes at their guest-physical address, which in
 * the identity-mapped control domain is the pointer value itself. */
static void emit_bytes(const char *bytes, size_t len)
{
    if (console_handle != 0 && len > 0)
        hv_console_write(console_handle, (uint64_t)(uintptr_t)bytes, len);
}

static void flush_line_locked(void)
{
    if (line_len == 0)
        return;
    line[line_len++] = '\n';
    emit_bytes(line, line_len);
    line_len = 0;
}

static void put_char_locked(char c)
{
    if (c == '\n') {
        if (line_len == 0) {          /* an empty line still gets its prefix */
            memcpy(line, CTL_PREFIX, CTL_PREFIX_LEN);
            line_len = CTL_PREFIX_LEN;
        }
        flush_line_locked();
        return;
    }
    if (line_len == 0) {
        memcpy(line, CTL_PREFIX, CTL_PREFIX_LEN);
        line_len = CTL_PREFIX_LEN;
    }
    line[line_len++] = c;
    if (line_len == LINE_MAX - 1)     /* keep room for the '\n' */
        flush_line_locked();
}

void console_init(hv_handle_t system_handle)
{
    console_handle = system_handle;
}

void console_write(const char *text, size_t len)
{
    spin_lock(&console_lock);
    for (size_t i = 0; i < len; i++)
        put_char_locked(text[i]);
    spin_unlock(&console_lock);
}

void console_write_line(const char *prefix, const char *text, size_t len)
{
    size_t prefix_len = strnlen(prefix, LINE_MAX / 2);
    size_t room = LINE_MAX - 1 - prefix_len;

    if (len > room)
        len = room;
    spin_lock(&console_lock);
    memcpy(other_line, prefix, prefix_len);
    memcpy(other_line + prefix_len, text, len);
    other_line[prefix_len + len] = '\n';
    emit_bytes(other_line, prefix_len + len + 1);
    spin_unlock(&console_lock);
}

void console_flush(void)
{
    spin_lock(&console_lock);
    flush_line_locked();
    spin_unlock(&console_lock);
}

static void console_sink(void *ctx, char c)
{
    (void)ctx;
    put_char_locked(c);
}

void ctl_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    spin_lock(&console_lock);
    format_to(console_sink, NULL, fmt, ap);
    spin_unlock(&console_lock);
    va_end(ap);
}
