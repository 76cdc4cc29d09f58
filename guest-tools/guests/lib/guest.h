/*
 * What every test guest can use: COM1 output, the exit through QEMU's
 * isa-debug-exit port, and CPUID. The same binary runs under plain QEMU
 * (real devices) and under the control domain's VMM (emulated ones).
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_GUEST_H
#define GUEST_TOOLS_GUESTS_LIB_GUEST_H

#include <stdint.h>

/* Exit statuses. QEMU exits with (status << 1) | 1; keep them < 0x80 so
 * that fits a shell's exit code. */
#define GUEST_STATUS_HELLO          0x10
#define GUEST_STATUS_VMMCALL        0x11
#define GUEST_STATUS_OUTSIDE_MEMORY 0x12
#define GUEST_STATUS_SMP_HELLO      0x13
#define GUEST_STATUS_UNEXPECTED     0x7e  /* reached code that should not run */

/* Each guest's C entry; its return value becomes the exit status. A vcpu
 * other than the boot one gets (VMM_SMP_MARKER, its index) instead and
 * must not return (guest/lib/entry.S). */
int guest_main(uint32_t magic, uint32_t multiboot_info);

/* How many vcpus the VMM started (1 under a plain multiboot loader). */
extern volatile uint32_t guest_vcpu_count;

void serial_putc(char c);
void serial_puts(const char *s);          /* '\n' is sent as "\r\n" */
void serial_put_hex(uint32_t value);      /* "0x" and 8 digits */
void serial_put_dec(uint32_t value);

/* Writes status to port 0xf4; halts forever if nothing exits there. */
__attribute__((noreturn)) void guest_exit(uint32_t status);

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c,
                         uint32_t *d)
{
    __asm__ volatile("cpuid"
                     : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
                     : "a"(leaf), "c"(0));
}

#endif
