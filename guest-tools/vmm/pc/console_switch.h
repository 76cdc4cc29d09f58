/*
 * Which guest the control domain's console input goes to, and the escape
 * that changes it (as Xen's console switch): Ctrl-A then a digit.
 *   Ctrl-A 1..9   input goes to guest n (the n-th guest module)
 *   Ctrl-A 0      back to the default: whichever guest is running
 *   Ctrl-A Ctrl-A one Ctrl-A byte for the guest
 *   Ctrl-A other  both bytes dropped
 * A Ctrl-A at the end of one read waits for the next read's first byte.
 * Pure state, no hypercalls (unit-tested on the host). Not locked: one
 * CPU (the `pc` tool's runner 0) feeds it.
 */
#ifndef GUEST_TOOLS_VMM_PC_CONSOLE_SWITCH_H
#define GUEST_TOOLS_VMM_PC_CONSOLE_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_SWITCH_ESCAPE 0x01u   /* Ctrl-A */
#define CONSOLE_SWITCH_NONE   (-1)

struct console_switch {
    unsigned guests;      /* guests that can be chosen: 1..guests (at most 9) */
    unsigned focus;       /* 0: the running guest; else guest number */
    bool escaped;         /* the last byte was an unpaired Ctrl-A */
};

void console_switch_init(struct console_switch *sw, unsigned guests);

/* Takes bytes from in[0..n) up to and including the first switch: the
 * bytes for the guest go to out (room for n; out may equal in) with their
 * count in *out_count, and *switched is the new focus (0..9) or
 * CONSOLE_SWITCH_NONE. Returns how many input bytes it consumed, so that
 * the caller delivers out to the old focus before the rest goes to the
 * new one. A digit naming no guest changes nothing but is consumed. */
size_t console_switch_step(struct console_switch *sw, const uint8_t *in, size_t n,
                           uint8_t *out, size_t *out_count, int *switched);

/* Does guest `number` (1-based) get the input now, while it runs? */
bool console_switch_targets(const struct console_switch *sw, unsigned number);

#endif
