/*
 * Parsing a PC guest's module command line (see pc_options.h).
 */
#include "abi/hv_errno.h"
#include "guest-tools/runtime/cmdline.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/pc/pc_options.h"

#define MAX_WORDS 64
#define MAX_RAM_MIB (1ull << 20)           /* 1 TiB: the guest-physical space */

/* A decimal number up to `limit` followed by `suffixes` chars at most
 * (returned in *suffix, 0 for none). */
static int parse_number(const char *text, uint64_t limit, uint64_t *value, char *suffix)
{
    uint64_t v = 0;

    if (*text < '0' || *text > '9')
        return -1;
    for (; *text >= '0' && *text <= '9'; text++) {
        if (v > (limit - (uint64_t)(*text - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*text - '0');
    }
    *value = v;
    *suffix = *text;
    if (*text != '\0' && text[1] != '\0')
        return -1;                     /* at most one suffix character */
    return 0;
}

static int parse_plain(const char *text, uint64_t limit, uint64_t *value)
{
    char suffix;

    return parse_number(text, limit, value, &suffix) == 0 && suffix == '\0' ? 0 : -1;
}

/* MiB, or with an M or G suffix. */
static int parse_ram(const char *text, uint64_t *mib)
{
    char suffix;

    if (parse_number(text, MAX_RAM_MIB, mib, &suffix) < 0 || *mib == 0)
        return -1;
    if (suffix == 'G' || suffix == 'g') {
        if (*mib > MAX_RAM_MIB / 1024)
            return -1;
        *mib *= 1024;
        return 0;
    }
    return suffix == '\0' || suffix == 'M' || suffix == 'm' ? 0 : -1;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* %XX escapes, so that spaces and newlines survive the command line.
 * Returns the bytes decoded into out (at most size), or -1. */
static int percent_decode(const char *text, uint8_t *out, size_t size)
{
    size_t len = 0;

    while (*text != '\0') {
        int c = (unsigned char)*text++;

        if (c == '%') {
            int high = hex_digit(text[0]), low = high < 0 ? -1 : hex_digit(text[1]);
            if (low < 0)
                return -1;
            c = high << 4 | low;
            text += 2;
        }
        if (len == size)
            return -1;
        out[len++] = (uint8_t)c;
    }
    return (int)len;
}

static int parse_input(const char *text, struct pc_options *o)
{
    int len = percent_decode(text, o->input, sizeof(o->input));

    o->input_len = len < 0 ? 0 : (size_t)len;
    return len < 0 ? -1 : 0;
}

/* A prompt is text to find in a line: no NUL in it, room for one after. */
static int parse_prompt(const char *text, struct pc_options *o)
{
    int len = percent_decode(text, (uint8_t *)o->prompt, sizeof(o->prompt) - 1);

    if (len > 0)
        o->prompt[len] = '\0';
    if (len <= 0 || strlen(o->prompt) != (size_t)len) {
        o->prompt[0] = '\0';
        return -1;
    }
    return 0;
}

/* A name of 1 to PC_OPTIONS_NAME_MAX - 1 characters. */
static int copy_name(char *to, const char *from)
{
    size_t len = strlen(from);

    if (len == 0 || len >= PC_OPTIONS_NAME_MAX)
        return -1;
    memcpy(to, from, len + 1);
    return 0;
}

static int starts_with(const char *word, const char *prefix)
{
    return strncmp(word, prefix, strlen(prefix)) == 0;
}

static int parse_word(const char *word, struct pc_options *o)
{
    uint64_t n;

    if (starts_with(word, "mem="))
        return parse_ram(word + 4, &o->ram_mib);
    if (starts_with(word, "cpus=")) {
        if (parse_plain(word + 5, HV_MAX_VCPUS, &n) != 0 || n == 0)
            return -1;
        o->cpus = (unsigned)n;
        return 0;
    }
    if (starts_with(word, "timeout="))
        return parse_plain(word + 8, 1000000, &o->timeout_seconds);
    if (starts_with(word, "input="))
        return parse_input(word + 6, o);
    if (starts_with(word, "prompt="))
        return parse_prompt(word + 7, o);
    if (starts_with(word, "initrd="))
        return o->initrd[0] != '\0' ? -1 : copy_name(o->initrd, word + 7);
    if (strcmp(word, "together") == 0) {
        o->together = true;
        return 0;
    }
    if (strcmp(word, "profile") == 0) {
        o->profile = true;
        return 0;
    }
    if (starts_with(word, "module=")) {
        if (o->module_count == PC_OPTIONS_MAX_MODULES ||
            copy_name(o->modules[o->module_count], word + 7) < 0)
            return -1;
        o->module_count++;
        return 0;
    }
    return 1; /* the guest's own */
}

/* Appends a word of the guest's own; the line it came from had room for
 * it, so it has room here too. */
static void append_guest_word(struct pc_options *o, const char *word)
{
    size_t at = strlen(o->guest_cmdline), len = strlen(word);

    if (at + (at != 0) + len >= sizeof(o->guest_cmdline))
        return;
    if (at != 0)
        o->guest_cmdline[at++] = ' ';
    memcpy(o->guest_cmdline + at, word, len + 1);
}

int pc_options_parse(const char *cmdline, size_t max, struct pc_options *o)
{
    char buffer[sizeof(((struct hv_boot_module *)0)->cmdline) + 1];
    char *words[MAX_WORDS + 1];
    int count;

    memset(o, 0, sizeof(*o));
    o->ram_mib = PC_DEFAULT_RAM_MIB;
    o->cpus = PC_DEFAULT_CPUS;
    if (max > sizeof(buffer) - 1)
        max = sizeof(buffer) - 1;
    count = cmdline_split(cmdline, max, buffer, sizeof(buffer), words, MAX_WORDS + 1);
    if (count == 0) {
        snprintf(o->error, sizeof(o->error), "no name (empty command line)");
        return -HV_EINVAL;
    }
    if (copy_name(o->name, words[0]) < 0) {
        snprintf(o->error, sizeof(o->error), "name \"%.40s\" longer than %u characters",
                 words[0], PC_OPTIONS_NAME_MAX - 1);
        return -HV_EINVAL;
    }
    for (int i = 1; i < count; i++) {
        int rc = parse_word(words[i], o);

        if (rc < 0) {
            snprintf(o->error, sizeof(o->error), "bad option \"%.60s\"", words[i]);
            return -HV_EINVAL;
        }
        if (rc > 0)
            append_guest_word(o, words[i]);
    }
    return 0;
}
