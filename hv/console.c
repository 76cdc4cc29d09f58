#include "hv/console.h"

#include <stdarg.h>

#include "hv/format.h"
#include "hv/percpu.h"
#include "hv/serial.h"
#include "hv/spinlock.h"
#include "hv/vga_text.h"

static struct spinlock console_lock = SPINLOCK_INIT;
static enum log_level max_level = LOG_INFO;
static unsigned consoles = CONSOLE_COM1;

static const char *const level_tags[] = { "error: ", "warning: ", "", "" };

void console_early_init(void)
{
    serial_init(COM1_PORT);
}

void console_configure(const struct hv_options *options,
                       const struct boot_info *boot)
{
    max_level = options->log_level;
    consoles = options->consoles;
    if ((consoles & CONSOLE_VGA) &&
        boot->framebuffer.kind == FRAMEBUFFER_EGA_TEXT &&
        boot->framebuffer.width && boot->framebuffer.height)
        vga_text_init(boot->framebuffer.address, boot->framebuffer.width,
                      boot->framebuffer.height);
}

static void emit(const char *s, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        if (consoles & CONSOLE_COM1) {
            if (s[i] == '\n')
                serial_putc(COM1_PORT, '\r');
            serial_putc(COM1_PORT, s[i]);
        }
        if (consoles & CONSOLE_VGA)
            vga_text_putc(s[i]);
    }
}

static void emit_line(const char *tag, const char *fmt, va_list args)
{
    char line[256];
    int n = format(line, sizeof(line), "[cpu%u] %s", this_cpu_index(), tag);
    int m = format_string(line + n, sizeof(line) - (unsigned)n, fmt, args);
    uint64_t len = (uint64_t)n + (uint64_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    emit(line, len);
}

void log_message(enum log_level level, const char *fmt, ...)
{
    if (level > max_level)
        return;
    va_list args;
    va_start(args, fmt);
    spin_lock(&console_lock);
    emit_line(level_tags[level], fmt, args);
    spin_unlock(&console_lock);
    va_end(args);
}

void console_emergency(const char *fmt, ...)
{
    /* Wait a while for the lock, then print regardless: a report that
     * interleaves is better than none. */
    int locked = 0;
    for (unsigned i = 0; i < 1000000 && !(locked = spin_trylock(&console_lock)); i++)
        __builtin_ia32_pause();
    va_list args;
    va_start(args, fmt);
    emit_line("", fmt, args);
    va_end(args);
    if (locked)
        spin_unlock(&console_lock);
}

void console_write(const char *text, uint64_t length)
{
    spin_lock(&console_lock);
    emit(text, length);
    spin_unlock(&console_lock);
}
