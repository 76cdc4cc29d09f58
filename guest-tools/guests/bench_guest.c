/*
 * bench_guest: the guest half of `bench`. Phase 1 is the cheapest exit a
 * guest can cause, an OUT to port 0x80 (the POST-code port, harmless on real
 * hardware), in a loop the VMM times from outside with RDTSC around RUN.
 * After BENCH_OUT_ROUNDS of them, phase 2 times CPUID from inside (it is
 * handled by the hypervisor without an exit to the VMM), stores each cycle
 * count at BENCH_RESULTS and says so with an OUT to port 0x81. Phase 3 is
 * phase 1 again (on port 0x82) after the guest has put values in its SSE
 * and, where offered, AVX registers, so that RUN switches live extended
 * state. Phase 4 writes to a guest-physical address with no memory
 * (BENCH_MMIO), each write an MMIO exit the VMM completes. Under plain
 * QEMU the phases simply run and the guest exits.
 */
#include <stdbool.h>

#include "guest-tools/guests/lib/guest.h"

#define BENCH_OUT_ROUNDS   1100
#define BENCH_CPUID_ROUNDS 1100
#define BENCH_MMIO_ROUNDS  2200    /* two timings of 1000 and their warm-ups */
#define BENCH_RESULTS      ((volatile uint32_t *)0x300000)
#define BENCH_PORT_LOOP    0x80
#define BENCH_PORT_DONE    0x81
#define BENCH_PORT_XSTATE  0x82
#define BENCH_MMIO         0xd0000000u /* no memory slot there */
#define CR4_OSFXSR     (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE    (1u << 18)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_AVX   (1u << 28)

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

static void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *c)
{
    uint32_t b, d;
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(b), "=c"(*c), "=d"(d) : "a"(leaf), "c"(sub));
}

/* Turns SSE (and AVX where CPUID offers it) on and fills XMM0-7 (YMM0-7)
 * with values that are not their initial state. */
static void touch_extended_state(void)
{
    static const uint32_t pattern[8] __attribute__((aligned(32))) = {
        0x11111111, 0x22222222, 0x33333333, 0x44444444,
        0x55555555, 0x66666666, 0x77777777, 0x88888888,
    };
    uint32_t a, c, cr4;
    cpuid_count(1, 0, &a, &c);
    bool avx = (c & CPUID_1_ECX_XSAVE) && (c & CPUID_1_ECX_AVX);
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT | ((c & CPUID_1_ECX_XSAVE) ? CR4_OSXSAVE : 0);
    __asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
    if (avx) {
        uint32_t supported;
        cpuid_count(0xd, 0, &supported, &c);
        avx = supported & 4;
        __asm__ volatile("xsetbv" ::"c"(0), "a"(avx ? 7u : 3u), "d"(0));
    }
    if (avx)
        __asm__ volatile("vmovdqu (%0), %%ymm0\n\tvmovdqu (%0), %%ymm1\n\t"
                         "vmovdqu (%0), %%ymm2\n\tvmovdqu (%0), %%ymm7" ::"r"(pattern) : "memory");
    else
        __asm__ volatile("movdqu (%0), %%xmm0\n\tmovdqu (%0), %%xmm1\n\t"
                         "movdqu (%0), %%xmm2\n\tmovdqu (%0), %%xmm7" ::"r"(pattern) : "memory");
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
    touch_extended_state();
    for (unsigned i = 0; i < BENCH_OUT_ROUNDS; i++)
        __asm__ volatile("outb %%al, %0" ::"i"(BENCH_PORT_XSTATE), "a"(0));
    /* MOV moffs32, EAX (a3 + address): 5 bytes, no ModRM to decode. */
    for (unsigned i = 0; i < BENCH_MMIO_ROUNDS; i++)
        __asm__ volatile("movl %%eax, %c0" ::"i"(BENCH_MMIO), "a"(i) : "memory");
    serial_puts("bench_guest: done\n");
    return 0;
}
