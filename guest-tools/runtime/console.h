/*
 * The control domain's console: text goes to the hypervisor console through
 * HV_CALL_CONSOLE_WRITE, one whole line per call, so lines from different
 * sources never interleave mid-line. Text is buffered until '\n' and each
 * line is prefixed "[ctl] ". Other prefixes (a guest's "[guest hello] ") use
 * console_write_line.
 *
 * Locking: one lock protects the line buffer; every function takes it, so
 * any vcpu may print. A line started with ctl_printf and finished by
 * another call may be interleaved with lines of other vcpus.
 */
#ifndef GUEST_TOOLS_RUNTIME_CONSOLE_H
#define GUEST_TOOLS_RUNTIME_CONSOLE_H

#include <stddef.h>

#include "abi/hv_abi.h"

/* Until this is called (libhv ready, system handle known) output is lost. */
void console_init(hv_handle_t system_handle);

void ctl_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Appends text to the current "[ctl] " line, flushing at each '\n'. */
void console_write(const char *text, size_t len);

/* Prints one complete line as prefix + text + '\n', bypassing the "[ctl] "
 * line (which stays pending). */
void console_write_line(const char *prefix, const char *text, size_t len);

/* Emits a pending partial "[ctl] " line, ending it with '\n'. */
void console_flush(void);

#endif
