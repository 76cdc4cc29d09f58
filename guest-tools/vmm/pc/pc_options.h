/*
 * A PC guest's settings, from its boot module's command line: the first
 * word names the guest, options follow among the words the guest itself
 * reads (the whole line is its kernel command line, as GRUB passes it):
 *   mem=<MiB>       RAM (a number of MiB, or with an M or G suffix); 16 MiB
 *   cpus=<n>        vcpus, 1..HV_MAX_VCPUS; 1
 *   module=<name>   another boot module (named by its first word) passed to
 *                   this guest as a multiboot module instead of being booted
 *                   itself; may repeat
 *   initrd=<name>   the guest is Linux: its image must be a bzImage, and
 *                   this boot module (named by its first word) is its
 *                   initrd. A bzImage boots as Linux without it too.
 *   timeout=<s>     stop the guest after this many seconds; none
 *   input=<text>    bytes typed on the guest's COM1, %XX-escaped (input=
 *                   ls%0a types "ls" and a newline), as soon as the guest
 *                   asserts RTS
 *   prompt=<text>   type the input only once the guest has printed a line
 *                   containing <text> (%XX-escaped), as a person at a
 *                   terminal waits for the prompt
 *   together        run this guest at the same time as the other guests
 *                   marked so, their vcpus sharing the control domain's
 *                   CPUs (tools/pc.c), instead of in turn
 *   profile         count the run's instructions and its exits by reason
 *                   (pc_profile.h), reported at its end
 * Other words are left to the guest: a Linux guest (a bzImage) gets them
 * as its kernel command line, in `guest_cmdline`, without the name and
 * the options above (Linux reads mem= itself).
 *
 * Pure; no locking.
 */
#ifndef GUEST_TOOLS_VMM_PC_PC_OPTIONS_H
#define GUEST_TOOLS_VMM_PC_PC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/hv_abi.h"

#define PC_OPTIONS_NAME_MAX    32
#define PC_OPTIONS_MAX_MODULES HV_BOOT_MAX_MODULES
#define PC_OPTIONS_INPUT_MAX   sizeof(((struct hv_boot_module *)0)->cmdline)
#define PC_OPTIONS_PROMPT_MAX  64
#define PC_DEFAULT_RAM_MIB     16
#define PC_DEFAULT_CPUS        1

struct pc_options {
    char name[PC_OPTIONS_NAME_MAX];
    uint64_t ram_mib;
    unsigned cpus;
    unsigned module_count;
    char modules[PC_OPTIONS_MAX_MODULES][PC_OPTIONS_NAME_MAX];
    char initrd[PC_OPTIONS_NAME_MAX];  /* "": none */
    uint64_t timeout_seconds;          /* 0: none */
    uint8_t input[PC_OPTIONS_INPUT_MAX];
    size_t input_len;
    char prompt[PC_OPTIONS_PROMPT_MAX];  /* "" : none */
    bool together;                     /* runs beside the others marked so */
    bool profile;                      /* pc_profile.h */
    char guest_cmdline[PC_OPTIONS_INPUT_MAX]; /* the guest's own words */
    char error[96];                    /* why parsing failed */
};

/* Parses cmdline (at most max bytes, need not be terminated). Returns 0,
 * or -HV_EINVAL with `error` saying which word is wrong. */
int pc_options_parse(const char *cmdline, size_t max, struct pc_options *options);

#endif
