/*
 * Instructions the PC test guests (pc_*.c) need beyond guest.h: wider port
 * I/O, MSRs, the TSC, interrupt flag control and MMIO. All inline, so a
 * guest that uses none of them pays nothing. Paging is off in every test
 * guest, so a physical address is used as a pointer as it is.
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_CPU_H
#define GUEST_TOOLS_GUESTS_LIB_CPU_H

#include <stdint.h>

#include "guest-tools/runtime/port_io.h"

static inline void outw(uint16_t port, uint16_t value)
{
    __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t value;

    __asm__ volatile("inw %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t value;

    __asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr"
                     : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
}

static inline uint32_t read_cr0(void)
{
    uint32_t value;

    __asm__ volatile("mov %%cr0, %0" : "=r"(value));
    return value;
}

static inline void write_cr0(uint32_t value)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(value) : "memory");
}

static inline uint32_t read_eflags(void)
{
    uint32_t value;

    __asm__ volatile("pushfl; popl %0" : "=r"(value));
    return value;
}

static inline void irq_enable(void)  { __asm__ volatile("sti" : : : "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" : : : "memory"); }
static inline void cpu_relax(void)   { __asm__ volatile("pause" : : : "memory"); }

/* STI's one-instruction shadow makes this atomic: an interrupt that is
 * already pending wakes the HLT rather than slipping in before it. */
static inline void irq_enable_and_halt(void)
{
    __asm__ volatile("sti; hlt" : : : "memory");
}

/* A pointer to low physical memory (the BIOS data area, the real-mode
 * IVT). GCC takes a constant address below 4 KiB for arithmetic on a null
 * pointer and warns or worse; an empty asm hides the constant from it. */
static inline void *low_memory(uint32_t address)
{
    uintptr_t pointer = address;

    __asm__("" : "+r"(pointer));
    return (void *)pointer;
}

static inline uint32_t mmio_read32(uint32_t address)
{
    return *(volatile uint32_t *)(uintptr_t)address;
}

static inline void mmio_write32(uint32_t address, uint32_t value)
{
    *(volatile uint32_t *)(uintptr_t)address = value;
}

/* LOCK XADD: adds one, returns the value before. */
static inline uint32_t atomic_fetch_inc(volatile uint32_t *counter)
{
    uint32_t value = 1;

    __asm__ volatile("lock xaddl %0, %1" : "+r"(value), "+m"(*counter) : : "memory");
    return value;
}

/* CPUID with a subleaf (guest.h's cpuid() passes subleaf 0). */
static inline void cpuid_subleaf(uint32_t leaf, uint32_t subleaf, uint32_t *a,
                                 uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid"
                     : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
                     : "a"(leaf), "c"(subleaf));
}

#endif
