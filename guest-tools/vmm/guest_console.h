/*
 * A guest's serial output as console lines: bytes are collected until a
 * newline and printed as one line under the guest's prefix ("[guest
 * hello] "), so that lines of different guests and of the control domain
 * never mix mid-line. Carriage returns are dropped and other control bytes
 * shown as '.', which keeps the console readable whatever a guest sends.
 *
 * Locking: none inside; one writer at a time per line (the demo's UART
 * gives each vcpu its own line, the PC platform's COM1 is under the device
 * lock).
 */
#ifndef GUEST_TOOLS_VMM_GUEST_CONSOLE_H
#define GUEST_TOOLS_VMM_GUEST_CONSOLE_H

#include <stdint.h>

#define GUEST_CONSOLE_LINE_MAX 160   /* longer lines are cut and continued */

struct guest_console_line {
    const char *prefix;              /* "[guest <label>] ", kept by the owner */
    uint32_t len;
    char text[GUEST_CONSOLE_LINE_MAX];
};

/* One byte the guest sent. */
void guest_console_put(struct guest_console_line *line, uint8_t byte);

/* Prints an unfinished line, if any (before the VMM's verdict on it). */
void guest_console_flush(struct guest_console_line *line);

#endif
