/* Console messages with a log level and a per-CPU prefix ("[cpu2] "). One
 * lock keeps lines from different CPUs whole. console_emergency() is for the
 * exception path: it takes the lock only if it can, so a CPU that faulted
 * while printing still reports. */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include <stdint.h>

#include "hv/boot_info.h"
#include "hv/cmdline.h"

void console_early_init(void);
void console_configure(const struct hv_options *options,
                       const struct boot_info *boot);

void log_message(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void console_emergency(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes raw bytes (no prefix), e.g. for the control domain's console. */
void console_write(const char *text, uint64_t length);

#define pr_error(...) log_message(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_message(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_message(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_message(LOG_DEBUG, __VA_ARGS__)

#endif
