/*
 * Command-line splitting and module lookup by name.
 */
#include "guest-tools/runtime/cmdline.h"
#include "guest-tools/runtime/string.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t cmdline_first_word(const char *cmdline, size_t max, char *word,
                          size_t word_size)
{
    size_t i = 0, len = 0;

    while (i < max && is_space(cmdline[i]))
        i++;
    while (i < max && cmdline[i] != '\0' && !is_space(cmdline[i])) {
        if (len + 1 < word_size)
            word[len++] = cmdline[i];
        i++;
    }
    if (word_size > 0)
        word[len] = '\0';
    return len;
}

int cmdline_split(const char *cmdline, size_t max, char *buf, size_t buf_size,
                  char **argv, int argv_size)
{
    size_t len = strnlen(cmdline, max);
    int argc = 0;
    char *p;

    if (buf_size == 0 || argv_size <= 0)
        return 0;
    if (len > buf_size - 1)
        len = buf_size - 1;
    memcpy(buf, cmdline, len);
    buf[len] = '\0';

    /* Terminate each word in place and point argv at it. */
    p = buf;
    while (*p != '\0' && argc < argv_size - 1) {
        while (is_space(*p))
            *p++ = '\0';
        if (*p == '\0')
            break;
        argv[argc++] = p;
        while (*p != '\0' && !is_space(*p))
            p++;
        if (*p != '\0')
            *p++ = '\0';             /* end this word even if it is the last */
    }
    argv[argc] = NULL;
    return argc;
}

unsigned module_count(const struct hv_boot_info *info)
{
    return info->module_count < HV_BOOT_MAX_MODULES ? info->module_count
                                                    : HV_BOOT_MAX_MODULES;
}

const struct hv_boot_module *module_find(const struct hv_boot_info *info,
                                         const char *name)
{
    char word[sizeof(info->modules[0].cmdline) + 1];

    for (unsigned i = 0; i < module_count(info); i++) {
        const struct hv_boot_module *mod = &info->modules[i];

        cmdline_first_word(mod->cmdline, sizeof(mod->cmdline), word,
                           sizeof(word));
        if (strcmp(word, name) == 0)
            return mod;
    }
    return NULL;
}
