#include "hv/cmdline.h"

#include <stddef.h>

#include "abi/hv_errno.h"

static bool word_is(const char *s, const char *end, const char *word)
{
    while (s < end && *word && *s == *word) {
        s++;
        word++;
    }
    return s == end && *word == '\0';
}

bool parse_size(const char *s, const char *end, uint64_t *out)
{
    uint64_t value = 0;
    if (s == end || *s < '0' || *s > '9')
        return false; /* at least one digit: a bare "K" is not a size */
    while (s < end && *s >= '0' && *s <= '9') {
        uint64_t next = value * 10 + (uint64_t)(*s - '0');
        if (next / 10 != value)
            return false;
        value = next;
        s++;
    }
    unsigned shift = 0;
    if (s < end) {
        switch (*s) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        default: return false;
        }
        s++;
    }
    if (s != end || (value << shift) >> shift != value)
        return false;
    *out = value << shift;
    return true;
}

static bool parse_log_level(const char *s, const char *end, enum log_level *out)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (unsigned i = 0; i < 4; i++) {
        if (word_is(s, end, names[i]) || (end - s == 1 && *s == (char)('0' + i))) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

static bool parse_consoles(const char *s, const char *end, unsigned *out)
{
    unsigned consoles = 0;
    while (s < end) {
        const char *comma = s;
        while (comma < end && *comma != ',')
            comma++;
        if (word_is(s, comma, "com1") || word_is(s, comma, "serial"))
            consoles |= CONSOLE_COM1;
        else if (word_is(s, comma, "vga"))
            consoles |= CONSOLE_VGA;
        else if (!word_is(s, comma, "none"))
            return false;
        s = comma < end ? comma + 1 : comma;
    }
    *out = consoles;
    return true;
}

/* on|off into a flag that says off; anything else leaves it. */
static bool parse_off(const char *value, const char *end, bool *off)
{
    if (word_is(value, end, "on"))
        *off = false;
    else if (word_is(value, end, "off"))
        *off = true;
    else
        return false;
    return true;
}

static bool apply_word(const char *word, const char *end, struct hv_options *out)
{
    const char *eq = word;
    while (eq < end && *eq != '=')
        eq++;
    const char *value = eq < end ? eq + 1 : end;

    if (word_is(word, eq, "loglevel"))
        return eq < end && parse_log_level(value, end, &out->log_level);
    if (word_is(word, eq, "console"))
        return eq < end && parse_consoles(value, end, &out->consoles);
    if (word_is(word, eq, "ctl_mem")) {
        /* Parse aside: a rejected size must not replace the default. */
        uint64_t size;
        if (eq == end || !parse_size(value, end, &size) || size < CTL_MEM_MIN)
            return false;
        out->ctl_mem = size;
        return true;
    }
    if (word_is(word, eq, "acpi_dump")) {
        if (eq != end)
            return false;
        out->acpi_dump = true;
        return true;
    }
    if (word_is(word, eq, "xsave"))
        return eq < end && parse_off(value, end, &out->no_xsave);
    if (word_is(word, eq, "apicv"))
        return eq < end && parse_off(value, end, &out->no_apicv);
    if (word_is(word, eq, "qemu_x87_guard")) {
        if (word_is(value, end, "auto"))
            out->qemu_x87_guard = GUARD_AUTO;
        else if (word_is(value, end, "on"))
            out->qemu_x87_guard = GUARD_ON;
        else if (word_is(value, end, "off"))
            out->qemu_x87_guard = GUARD_OFF;
        else
            return false;
        return eq < end;
    }
    if (word_is(word, eq, "fault_inject")) {
        if (eq != end)
            return false;
        out->fault_inject = true;
        return true;
    }
    if (word_is(word, eq, "lost_slice_interrupts")) {
        if (eq != end)
            return false;
        out->lost_slice_interrupts = true;
        return true;
    }
    if (word_is(word, eq, "fault_test")) {
        if (eq != end)
            return false;
        out->fault_test = true;
        return true;
    }
    return false;
}

int cmdline_parse(const char *line, struct hv_options *out)
{
    out->log_level = LOG_INFO;
    out->consoles = CONSOLE_COM1 | CONSOLE_VGA;
    out->ctl_mem = CTL_MEM_DEFAULT;
    out->acpi_dump = false;
    out->fault_test = false;
    out->fault_inject = false;
    out->lost_slice_interrupts = false;
    out->no_xsave = false;
    out->no_apicv = false;
    out->qemu_x87_guard = GUARD_AUTO;
    out->unknown_count = 0;

    int result = 0;
    const char *p = line ? line : "";
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *word = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (!apply_word(word, p, out)) {
            result = -HV_EINVAL;
            if (out->unknown_count < CMDLINE_MAX_UNKNOWN)
                out->unknown[out->unknown_count++] = word;
        }
    }
    return result;
}
