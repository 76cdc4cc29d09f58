/* Thin wrappers around x86 instructions that C cannot express. */
#ifndef HV_X86_H
#define HV_X86_H

#include <stdint.h>

static inline void cpuid_count(uint32_t leaf, uint32_t subleaf, uint32_t *a,
                               uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid"
                     : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
                     : "a"(leaf), "c"(subleaf));
}

static inline uint32_t cpuid_ecx(uint32_t leaf)
{
    uint32_t a, b, c, d;
    cpuid_count(leaf, 0, &a, &b, &c, &d);
    return c;
}

static inline uint32_t cpuid_edx(uint32_t leaf)
{
    uint32_t a, b, c, d;
    cpuid_count(leaf, 0, &a, &b, &c, &d);
    return d;
}

static inline uint32_t cpuid_eax(uint32_t leaf)
{
    uint32_t a, b, c, d;
    cpuid_count(leaf, 0, &a, &b, &c, &d);
    return a;
}

/* Initial APIC ID from CPUID leaf 1, valid before the APIC is set up. */
static inline uint32_t cpuid_ebx_initial_apic_id(void)
{
    uint32_t a, b, c, d;
    cpuid_count(1, 0, &a, &b, &c, &d);
    return b >> 24;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)value),
                     "d"((uint32_t)(value >> 32))
                     : "memory");
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

#define DEFINE_CR_ACCESSORS(n)                                                 \
    static inline uint64_t read_cr##n(void)                                    \
    {                                                                          \
        uint64_t v;                                                            \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                      \
        return v;                                                              \
    }                                                                          \
    static inline void write_cr##n(uint64_t v)                                 \
    {                                                                          \
        __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");               \
    }
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void halt(void) { __asm__ volatile("hlt" ::: "memory"); }

static inline __attribute__((noreturn)) void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

/* Writes back and invalidates every cache line: what a guest's INVD gets,
 * since INVD would drop dirty lines that are not the guest's. */
static inline void wbinvd(void) { __asm__ volatile("wbinvd" ::: "memory"); }

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

#endif
