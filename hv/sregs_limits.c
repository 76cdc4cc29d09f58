/* The CPU facts sregs_check needs, read once from CPUID (SDM 2A, CPUID;
 * SDM 3A 2.5 for which feature makes which CR4 bit exist), after
 * fpu_probe: OSXSAVE and PKE exist for guests only where the hypervisor
 * switches the state they enable (what CPUID offers, hv/cpuid_supported.c). */
#include "hv/fpu.h"
#include "hv/sregs_check.h"
#include "hv/x86.h"
#include "hv/xstate_check.h"

#include <stdbool.h>

static struct cpu_limits limits;

static void add_if(bool present, unsigned cr4_bit)
{
    if (present)
        limits.cr4_allowed |= 1ull << cr4_bit;
}

const struct cpu_limits *cpu_limits(void)
{
    if (limits.physical_bits)
        return &limits;
    uint32_t a, b, c, d, b7 = 0, c7 = 0;
    cpuid_count(1, 0, &a, &b, &c, &d);
    if (cpuid_eax(0) >= 7) {
        uint32_t a7, d7;
        cpuid_count(7, 0, &a7, &b7, &c7, &d7);
    }
    limits.cr4_allowed = 1ull << 8; /* PCE: always */
    add_if(d & (1u << 1), 0);       /* VME */
    add_if(d & (1u << 1), 1);       /* PVI */
    add_if(d & (1u << 4), 2);       /* TSD */
    add_if(d & (1u << 2), 3);       /* DE */
    add_if(d & (1u << 3), 4);       /* PSE */
    add_if(d & (1u << 6), 5);       /* PAE */
    add_if(d & (1u << 7), 6);       /* MCE */
    add_if(d & (1u << 13), 7);      /* PGE */
    add_if(d & (1u << 24), 9);      /* OSFXSR */
    add_if(d & (1u << 25), 10);     /* OSXMMEXCPT */
    add_if(c7 & (1u << 2), 11);     /* UMIP */
    add_if(c7 & (1u << 16), 12);    /* LA57 */
    add_if(b7 & (1u << 0), 16);     /* FSGSBASE */
    add_if(c & (1u << 17), 17);     /* PCIDE */
    add_if((c & (1u << 26)) && fpu_config.xsave, 18);                   /* OSXSAVE */
    add_if((c7 & (1u << 3)) && (fpu_supported_xcr0() & XCR0_PKRU), 22); /* PKE */
    add_if(b7 & (1u << 7), 20);     /* SMEP */
    add_if(b7 & (1u << 20), 21);    /* SMAP */
    /* Address widths: leaf 0x80000008 EAX[7:0] physical, [15:8] linear
     * (SDM 2A); 36 and 48 where the leaf is missing, as the SDM says. */
    unsigned bits = 36, linear = 48;
    if (cpuid_eax(0x80000000) >= 0x80000008) {
        uint32_t widths = cpuid_eax(0x80000008);
        bits = widths & 0xff;
        if (((widths >> 8) & 0xff) == 57)
            linear = 57;
    }
    limits.linear_bits = linear;
    limits.physical_bits = bits;
    return &limits;
}
