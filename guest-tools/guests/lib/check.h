/*
 * How a PC test guest reports: one line per check, "<what>: pass" or
 * "<what>: FAIL ...", and a last line "result: pass" (or "result: FAIL,
 * N checks failed") before it exits. The lines must be the same on every
 * platform the guest runs on (plain QEMU, Bochs, the hypervisor's VMM),
 * so a check prints its measured values only when it fails: a failure
 * differs anyway, and then the numbers say why.
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_CHECK_H
#define GUEST_TOOLS_GUESTS_LIB_CHECK_H

#include <stdint.h>

/* Exit statuses of the PC guests (QEMU exits with 65 and 67). */
#define PC_STATUS_PASS 0x20
#define PC_STATUS_FAIL 0x21

/* What every PC guest does first: COM1 set up (uart_init), its own GDT
 * and IDT (descriptors_init), the PICs remapped to 0x20/0x28 and masked
 * (i8259_init), the TSC calibrated (timing_init); then it prints the
 * banner line. */
void pc_start(const char *banner);

/* Prints "<what>: pass" or "<what>: FAIL" and counts failures. Returns ok. */
int check(const char *what, int ok);

/* As check(), for value in [low, high]; a failure prints the three. */
int check_range(const char *what, uint32_t value, uint32_t low, uint32_t high);

/* As check(), for a check over several measured values; a failure
 * prints them by name: "<what>: FAIL (ticks 0, current 5)". */
struct check_value {
    const char *name;
    uint32_t value;
};
int check_values(const char *what, int ok, const struct check_value *values, unsigned count);
#define CHECK_VALUES(what, ok, ...)                                             \
    check_values((what), (ok), (const struct check_value[]){__VA_ARGS__},      \
                 sizeof((const struct check_value[]){__VA_ARGS__}) /           \
                     sizeof(struct check_value))

/* "<what>: <value>\n" for the few values that are platform facts set by
 * the test (CPU count, RAM size). */
void report_value(const char *what, uint32_t value, const char *unit);

/* Prints the result line and exits with PC_STATUS_PASS or _FAIL. */
__attribute__((noreturn)) void pc_finish(void);

/* Exits through isa-debug-exit (QEMU, the VMM); on Bochs, which has no
 * such port, through its shutdown port instead. */
__attribute__((noreturn)) void pc_exit(uint32_t status);

#endif
