/* Which speculation controls a guest gets, decoded from the host's CPUID
 * and ARCH_CAPABILITIES: pure logic, unit-tested on the host
 * (tests/unit/test_speculation_features.c). hv/speculation.c reads the
 * registers and acts on the result. */
#ifndef HV_SPECULATION_FEATURES_H
#define HV_SPECULATION_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

/* CPUID leaf 7 EDX (Intel SDM vol. 2A, CPUID). */
#define CPUID_7_EDX_IBRS_IBPB         (1u << 26)
#define CPUID_7_EDX_STIBP             (1u << 27)
#define CPUID_7_EDX_ARCH_CAPABILITIES (1u << 29)
#define CPUID_7_EDX_SSBD              (1u << 31)
/* CPUID 0x80000008 EBX (AMD APM vol. 3, E.4.17). */
#define CPUID_80000008_EBX_IBPB       (1u << 12)
#define CPUID_80000008_EBX_IBRS       (1u << 14)
#define CPUID_80000008_EBX_STIBP      (1u << 15)
#define CPUID_80000008_EBX_SSBD       (1u << 24)

struct speculation_features {
    bool ibpb;                       /* PRED_CMD with its IBPB bit */
    uint64_t spec_ctrl_bits;         /* SPEC_CTRL bits; 0: no SPEC_CTRL */
    bool arch_capabilities;
    uint64_t arch_capabilities_value;/* what every vcpu reads */
    uint64_t host_spec_ctrl;         /* the hypervisor's own, on every CPU */
};

/* Fills everything but host_spec_ctrl from CPUID leaf 7 EDX, leaf
 * 0x80000008 EBX (0 where a leaf is missing) and the host's
 * ARCH_CAPABILITIES (ignored unless leaf 7 announces it). */
void speculation_features_decode(uint32_t leaf7_edx, uint32_t ext8_ebx,
                                 uint64_t host_arch_capabilities,
                                 struct speculation_features *out);

#endif
