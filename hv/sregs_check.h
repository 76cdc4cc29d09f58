/* The checks SET_SREGS makes before any backend sees a state, so that both
 * backends refuse the same states with the same error (-HV_EINVAL): the
 * consistency rules VMRUN and VM entry enforce (APM 15.5.1, SDM 3C 26.3)
 * and control-register bits this CPU does not have. Host-testable: the CPU
 * facts come in `struct cpu_limits`. */
#ifndef HV_SREGS_CHECK_H
#define HV_SREGS_CHECK_H

#include <stdint.h>

#include "abi/hv_abi.h"

struct cpu_limits {
    uint64_t cr4_allowed;       /* CR4 bits the CPU implements */
    unsigned physical_bits;     /* MAXPHYADDR */
};

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
/* CR0 bits that exist: PE MP EM TS ET NE (0-5), WP (16), AM (18), NW CD PG */
#define CR0_DEFINED 0xe005003full

/* Returns 0 or -HV_EINVAL. */
int sregs_check(const struct hv_sregs *sregs, const struct cpu_limits *limits);

/* What this CPU allows, from CPUID (hv/sregs_limits.c, not host-testable). */
const struct cpu_limits *cpu_limits(void);

#endif
