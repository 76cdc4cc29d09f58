/* The hypervisor's command line, from GRUB's `multiboot2` line:
 *   loglevel=error|warn|info|debug (or 0..3)   console messages shown
 *   console=com1|vga|com1,vga|none             where messages go
 *   ctl_mem=<n>[K|M|G]                         RAM for the control domain
 *   acpi_dump                                  hex dump the MADT at boot
 *   fault_test                                 raise #UD after boot, to show
 *                                              the exception report
 *   fault_inject                               a test option: enables the
 *                                              FAULT_INJECT call (allocations
 *                                              made to fail on demand)
 *   lost_slice_interrupts                      a test option: a child's RUN
 *                                              ignores the interrupts that
 *                                              end its slice, so that only
 *                                              the run watchdog's NMI ends
 *                                              it (hv/run_watchdog.h)
 *   xsave=on|off                               off: switch guests' extended
 *                                              state with FXSAVE, as on a
 *                                              CPU without XSAVE
 *   qemu_x87_guard=auto|on|off                 on: before each XRSTOR of a
 *                                              vcpu's image, mark an x87
 *                                              part in its initial state as
 *                                              such in XSTATE_BV, so that
 *                                              QEMU's TCG initialises x87
 *                                              instead of loading it (its
 *                                              load races with CPU 0's SVM
 *                                              state; hv/fpu.c); auto (the
 *                                              default): on under QEMU's TCG
 *   apicv=on|off                               off: no APIC virtualization of
 *                                              the CPU's (VMX's APIC-register
 *                                              virtualization); on: where the
 *                                              CPU has it (the default)
 * Unknown words are reported, not fatal. Host-testable. */
#ifndef HV_CMDLINE_H
#define HV_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

#define CONSOLE_COM1 (1u << 0)
#define CONSOLE_VGA  (1u << 1)

#define CTL_MEM_DEFAULT (128ull << 20)
#define CTL_MEM_MIN     (4ull << 20)    /* a smaller ctl_mem= is refused */
#define CMDLINE_MAX_UNKNOWN 8

enum guard_setting { GUARD_AUTO, GUARD_ON, GUARD_OFF };

struct hv_options {
    enum log_level log_level;
    unsigned consoles;
    uint64_t ctl_mem;
    bool acpi_dump;
    bool fault_test;
    bool fault_inject;
    bool lost_slice_interrupts;
    bool no_xsave;
    bool no_apicv;
    enum guard_setting qemu_x87_guard;
    unsigned unknown_count;           /* words not understood */
    const char *unknown[CMDLINE_MAX_UNKNOWN]; /* pointers into the line */
};

/* Parses `line` into `out`, starting from the defaults. Returns 0, or
 * -HV_EINVAL if some value was malformed (the rest is still applied and the
 * malformed word is listed among the unknown ones). */
int cmdline_parse(const char *line, struct hv_options *out);

/* Parses "<n>[K|M|G]" up to `end`. Returns false on malformed input or
 * overflow. */
bool parse_size(const char *s, const char *end, uint64_t *out);

#endif
