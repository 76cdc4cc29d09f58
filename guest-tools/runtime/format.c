/*
 * The formatter behind ctl_printf and snprintf. One conversion at a time:
 * parse its flags, width, precision and length, fetch the argument at the
 * width C's promotion rules gave it, render it into a small scratch buffer,
 * then pad. Numbers are formatted from a uint64_t so one routine serves
 * every length.
 */
#include <stdint.h>

#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"

/* A conversion specification after parsing. */
struct conversion {
    int left_align;   /* '-' */
    int zero_pad;     /* '0' */
    int width;        /* minimum field width, 0 if none */
    int precision;    /* maximum %s length, -1 if none */
    int length;       /* 'H' hh, 'h', 0 int, 'l', 'L' ll, 'z' */
};

struct output {
    format_sink_fn sink;
    void *ctx;
    int count;
};

static void emit(struct output *out, char c)
{
    out->sink(out->ctx, c);
    out->count++;
}

static void emit_padded(struct output *out, const struct conversion *conv,
                        const char *text, int len, int allow_zero)
{
    char pad = conv->zero_pad && allow_zero && !conv->left_align ? '0' : ' ';
    int fill = conv->width > len ? conv->width - len : 0;

    /* Zero padding goes after a sign, as "-0042". */
    if (pad == '0' && len > 0 && text[0] == '-') {
        emit(out, '-');
        text++;
        len--;
    }
    if (!conv->left_align) {
        for (int i = 0; i < fill; i++)
            emit(out, pad);
    }
    for (int i = 0; i < len; i++)
        emit(out, text[i]);
    if (conv->left_align) {
        for (int i = 0; i < fill; i++)
            emit(out, ' ');
    }
}

/* Renders value in base 10 or 16 at the end of buf; returns its start. */
static char *render_number(char *end, uint64_t value, unsigned base,
                           int upper, int negative)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;

    do {
        *--p = digits[value % base];
        value /= base;
    } while (value != 0);
    if (negative)
        *--p = '-';
    return p;
}

static uint64_t fetch_unsigned(va_list *ap, int length)
{
    switch (length) {
    case 'H': return (unsigned char)va_arg(*ap, unsigned int);
    case 'h': return (unsigned short)va_arg(*ap, unsigned int);
    case 'l': return va_arg(*ap, unsigned long);
    case 'L': return va_arg(*ap, unsigned long long);
    case 'z': return va_arg(*ap, size_t);
    default:  return va_arg(*ap, unsigned int);
    }
}

static int64_t fetch_signed(va_list *ap, int length)
{
    switch (length) {
    case 'H': return (signed char)va_arg(*ap, int);
    case 'h': return (short)va_arg(*ap, int);
    case 'l': return va_arg(*ap, long);
    case 'L': return va_arg(*ap, long long);
    case 'z': return (int64_t)va_arg(*ap, size_t);
    default:  return va_arg(*ap, int);
    }
}

/* Parses "[-0]*[width][.precision][length]" after a '%'; returns the
 * character after it (the conversion letter). */
static const char *parse_conversion(const char *f, va_list *ap,
                                    struct conversion *conv)
{
    memset(conv, 0, sizeof(*conv));
    conv->precision = -1;
    for (;; f++) {
        if (*f == '-')
            conv->left_align = 1;
        else if (*f == '0')
            conv->zero_pad = 1;
        else
            break;
    }
    if (*f == '*') {
        conv->width = va_arg(*ap, int);
        if (conv->width < 0) {
            conv->left_align = 1;
            conv->width = -conv->width;
        }
        f++;
    }
    while (*f >= '0' && *f <= '9')
        conv->width = conv->width * 10 + (*f++ - '0');
    if (*f == '.') {
        f++;
        conv->precision = 0;
        if (*f == '*') {
            conv->precision = va_arg(*ap, int);
            f++;
        }
        while (*f >= '0' && *f <= '9')
            conv->precision = conv->precision * 10 + (*f++ - '0');
    }
    if (*f == 'h') {
        f++;
        conv->length = 'h';
        if (*f == 'h') {
            f++;
            conv->length = 'H';
        }
    } else if (*f == 'l') {
        f++;
        conv->length = 'l';
        if (*f == 'l') {
            f++;
            conv->length = 'L';
        }
    } else if (*f == 'z') {
        f++;
        conv->length = 'z';
    }
    return f;
}

int format_to(format_sink_fn sink, void *ctx, const char *fmt, va_list ap)
{
    struct output out = { sink, ctx, 0 };
    struct conversion conv;
    char scratch[24];                  /* "-" and 20 digits of a uint64_t */
    char *end = scratch + sizeof(scratch);
    va_list args;

    /* Work on a copy so that helpers can take a pointer to it portably. */
    va_copy(args, ap);
    for (const char *f = fmt; *f != '\0'; f++) {
        if (*f != '%') {
            emit(&out, *f);
            continue;
        }
        f = parse_conversion(f + 1, &args, &conv);
        switch (*f) {
        case 'd':
        case 'i': {
            int64_t v = fetch_signed(&args, conv.length);
            uint64_t magnitude = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            char *p = render_number(end, magnitude, 10, 0, v < 0);
            emit_padded(&out, &conv, p, (int)(end - p), 1);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = fetch_unsigned(&args, conv.length);
            char *p = render_number(end, v, *f == 'u' ? 10 : 16, *f == 'X', 0);
            emit_padded(&out, &conv, p, (int)(end - p), 1);
            break;
        }
        case 'p': {
            uint64_t v = (uint64_t)(uintptr_t)va_arg(args, void *);
            char *p = render_number(end, v, 16, 0, 0);
            *--p = 'x';
            *--p = '0';
            emit_padded(&out, &conv, p, (int)(end - p), 0);
            break;
        }
        case 's': {
            const char *s = va_arg(args, const char *);
            if (s == NULL)
                s = "(null)";
            size_t len = conv.precision >= 0 ? strnlen(s, (size_t)conv.precision)
                                             : strlen(s);
            emit_padded(&out, &conv, s, (int)len, 0);
            break;
        }
        case 'c': {
            char c = (char)va_arg(args, int);
            emit_padded(&out, &conv, &c, 1, 0);
            break;
        }
        case '%':
            emit(&out, '%');
            break;
        case '\0':
            /* A lone '%' at the end: print it rather than run past the end. */
            emit(&out, '%');
            f--;
            break;
        default:
            /* Unknown conversion: show it as written so the bug is visible. */
            emit(&out, '%');
            emit(&out, *f);
            break;
        }
    }
    va_end(args);
    return out.count;
}

/* Sink for vsnprintf: stores while there is room, counts regardless. */
struct buffer_sink {
    char *buf;
    size_t size;
    size_t used;
};

static void buffer_put(void *ctx, char c)
{
    struct buffer_sink *b = ctx;

    if (b->used + 1 < b->size)
        b->buf[b->used] = c;
    b->used++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buffer_sink b = { buf, size, 0 };
    int n = format_to(buffer_put, &b, fmt, ap);

    if (size > 0)
        buf[b.used < size ? b.used : size - 1] = '\0';
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
