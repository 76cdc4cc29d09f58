/*
 * What the files of the bench tool share: bench.c (single-CPU hot paths),
 * bench_smp.c (per-vcpu versus shared-vcpu calls on several control-domain
 * CPUs), bench_lapic.c (the local APIC's paths) and bench_ipi.c (those
 * between two CPUs).
 */
#ifndef GUEST_TOOLS_TOOLS_BENCH_H
#define GUEST_TOOLS_TOOLS_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* Sorts values in place and returns the middle one. */
uint64_t bench_median(uint64_t *values, unsigned count);

/* RUN of vcpu 0 until an OUT to `port`, resuming after time slices;
 * false on any other exit, which it prints. */
struct vm_instance;
bool bench_run_to_port(const struct vm_instance *vm, uint16_t port);

/* Prints the SMP table (1, 2 and 4 CPUs, as many as exist); 0 when every
 * row could be measured. */
int bench_smp_table(hv_handle_t sys);

/* Prints the local APIC table with the bench_lapic guest module; 0 when
 * every row could be measured. */
struct hv_boot_info;
int bench_lapic_table(const struct hv_boot_info *info);

/* Prints the two-CPU local APIC table with the bench_ipi guest module
 * (`bench ipi`); 0 when every row could be measured, or with one CPU. */
int bench_ipi_table(const struct hv_boot_info *info);

#endif
