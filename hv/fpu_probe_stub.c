/* TEMPORARY: replaced by hv/fpu.c at merge (the FPU/XSAVE branch). It
 * implements only the two facts of hv/fpu.h that the guest CPUID needs, from
 * the host's CPUID leaf 0xD (SDM vol. 1, 13.2-13.3), so that this branch
 * builds and runs on its own; nothing else of fpu.h is here. */
#include "hv/fpu.h"

#include "hv/cpuid_bits.h"
#include "hv/x86.h"

/* The components guests may use: x87, SSE, AVX, AVX-512 and PKRU. */
#define GUEST_XCR0_COMPONENTS (HV_XCR0_X87 | HV_XCR0_SSE | HV_XCR0_AVX | HV_XCR0_OPMASK | \
                               HV_XCR0_ZMM_HI256 | HV_XCR0_HI16_ZMM | HV_XCR0_PKRU)

static bool host_has_xsave(void)
{
    return cpuid_eax(0) >= CPUID_LEAF_XSAVE &&
           (cpuid_ecx(CPUID_LEAF_FEATURES) & CPUID_1_ECX_XSAVE);
}

uint64_t fpu_supported_xcr0(void)
{
    if (!host_has_xsave())
        return HV_XCR0_X87;
    uint32_t a, b, c, d;
    cpuid_count(CPUID_LEAF_XSAVE, 0, &a, &b, &c, &d);
    return (((uint64_t)d << 32) | a) & GUEST_XCR0_COMPONENTS;
}

uint32_t fpu_xsave_size(void)
{
    uint64_t xcr0 = fpu_supported_xcr0();
    uint32_t size = XSAVE_LEGACY_AND_HEADER;
    for (unsigned i = 2; i < 64; i++) {
        if (!(xcr0 & (1ull << i)))
            continue;
        uint32_t a, b, c, d; /* EAX size, EBX offset in the standard format */
        cpuid_count(CPUID_LEAF_XSAVE, i, &a, &b, &c, &d);
        if (a + b > size)
            size = a + b;
    }
    return size;
}
