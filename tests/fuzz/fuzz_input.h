/*
 * The libFuzzer harnesses' view of an input: a cursor that hands out
 * fixed-size values (zero once the bytes run out) and the rest. Each
 * harness (tests/fuzz/fuzz_*.c, first line `// sources: ...` like a unit
 * test) turns the bytes into calls of one parser or device model and
 * checks what the sanitizers cannot see with fuzz_check.
 */
#ifndef TESTS_FUZZ_FUZZ_INPUT_H
#define TESTS_FUZZ_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_input {
    const uint8_t *data;
    size_t size, at;
};

static inline struct fuzz_input fuzz_input(const uint8_t *data, size_t size)
{
    return (struct fuzz_input){ data, size, 0 };
}

static inline uint64_t fuzz_take(struct fuzz_input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->at < in->size; i++)
        v |= (uint64_t)in->data[in->at++] << (8 * i);
    return v;
}

static inline int fuzz_more(const struct fuzz_input *in) { return in->at < in->size; }

/* A property the parser promises: abort (a libFuzzer crash) when broken. */
#define fuzz_check(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* The device harnesses: one register access per few bytes. */
struct fuzz_access {
    int write;
    unsigned offset;   /* below the window given */
    unsigned size;     /* 1, 2 or 4 */
    uint32_t value;
    uint64_t now_ns;   /* never runs back */
};

static inline void fuzz_next_access(struct fuzz_input *in, unsigned window,
                                    struct fuzz_access *a)
{
    static const unsigned sizes[4] = { 1, 2, 4, 1 };
    uint8_t op = (uint8_t)fuzz_take(in, 1);
    a->write = op & 1;
    a->size = sizes[(op >> 1) & 3];
    a->offset = (unsigned)fuzz_take(in, 2) % window;
    a->value = a->write ? (uint32_t)fuzz_take(in, 4) : 0;
    /* Mostly small steps, sometimes a long wait: timers fire both ways. */
    a->now_ns += (op & 0x80) ? fuzz_take(in, 4) * 1000 : (op >> 3) & 0xf;
}

#endif
