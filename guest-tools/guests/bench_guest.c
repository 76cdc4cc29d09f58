/*
 * bench_guest: the guest half of `bench`. Phase 1 is the cheapest exit a
 * guest can cause, an OUT to port 0x80 (the POST-code port, harmless on real
 * hardware), in a loop the VMM times from outside with RDTSC around RUN.
 * After BENCH_OUT_ROUNDS of them, phase 2 times CPUID from inside (it is
 * handled by the hypervisor without an exit to the VMM), stores each cycle
 * count at BENCH_RESULTS and says so with an OUT to port 0x81. Under plain
 * QEMU both phases simply run and the guest exits.
 */
#include "guest-tools/guests/lib/guest.h"

#define BENCH_OUT_ROUNDS   1100
#define BENCH_CPUID_ROUNDS 1100
#define BENCH_RESULTS      ((volatile uint32_t *)0x300000)
#define BENCH_PORT_LOOP    0x80
#define BENCH_PORT_DONE    0x81

static uint32_t time_cpuid(void)
{
    uint32_t start, end;
    /* The start count is kept in ESI across CPUID, which writes EAX-EDX. */
    __asm__ volatile("rdtsc\n\t"
                     "movl %%eax, %%esi\n\t"
                     "xorl %%eax, %%eax\n\t"
                     "cpuid\n\t"
                     "rdtsc"
                     : "=a"(end), "=S"(start)
                     :
                     : "ebx", "ecx", "edx");
    return end - start;
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    (void)magic;
    (void)multiboot_info;
    /* No output before the loop: its first exit must be the timed OUT. */
    for (unsigned i = 0; i < BENCH_OUT_ROUNDS; i++)
        __asm__ volatile("outb %%al, %0" ::"i"(BENCH_PORT_LOOP), "a"(0));
    for (unsigned i = 0; i < BENCH_CPUID_ROUNDS; i++)
        BENCH_RESULTS[i] = time_cpuid();
    __asm__ volatile("outb %%al, %0" ::"i"(BENCH_PORT_DONE), "a"(0));
    serial_puts("bench_guest: done\n");
    return 0;
}
