/*
 * Command lines of the control domain and of its modules: the first word
 * names a tool or a guest, the rest are its arguments. Boot-info strings
 * are fixed-size arrays that need not be terminated, so every helper takes
 * the array size.
 */
#ifndef GUEST_TOOLS_RUNTIME_CMDLINE_H
#define GUEST_TOOLS_RUNTIME_CMDLINE_H

#include <stddef.h>

#include "abi/hv_abi.h"

/* Copies the first space-separated word of cmdline (at most max bytes
 * long) into word; returns its length (0 for an empty line). */
size_t cmdline_first_word(const char *cmdline, size_t max, char *word,
                          size_t word_size);

/* Splits a copy of cmdline (at most max bytes) held in buf into words:
 * fills argv (up to argv_size-1 entries, then a NULL) and returns argc. */
int cmdline_split(const char *cmdline, size_t max, char *buf, size_t buf_size,
                  char **argv, int argv_size);

/* The further module whose cmdline's first word is name, or NULL. */
const struct hv_boot_module *module_find(const struct hv_boot_info *info,
                                         const char *name);

/* Number of valid entries in info->modules (module_count, capped). */
unsigned module_count(const struct hv_boot_info *info);

#endif
