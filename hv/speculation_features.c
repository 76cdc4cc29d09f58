#include "hv/speculation_features.h"

#include "hv/msr.h"

/* ARCH_CAPABILITIES bits passed to guests: facts about the hardware the
 * guest runs on (not susceptible to..., behaves as...), never a bit that
 * announces a further MSR (TSX_CTRL, DOITM, MCU_OPT_CTRL, ...), which the
 * hypervisor does not virtualise. SDM vol. 4, table 2-2. */
#define ARCH_CAPABILITIES_FACTS \
    ((1ull << 0) |   /* RDCL_NO */ \
     (1ull << 1) |   /* IBRS_ALL */ \
     (1ull << 2) |   /* RSBA */ \
     (1ull << 3) |   /* SKIP_L1DFL_VMENTRY */ \
     (1ull << 4) |   /* SSB_NO */ \
     (1ull << 5) |   /* MDS_NO */ \
     (1ull << 6) |   /* IF_PSCHANGE_MC_NO */ \
     (1ull << 8) |   /* TAA_NO */ \
     (1ull << 13) |  /* SBDR_SSDP_NO */ \
     (1ull << 14) |  /* FBSDP_NO */ \
     (1ull << 15) |  /* PSDP_NO */ \
     (1ull << 17) |  /* FB_CLEAR */ \
     (1ull << 19) |  /* RRSBA */ \
     (1ull << 20) |  /* BHI_NO */ \
     (1ull << 24) |  /* PBRSB_NO */ \
     (1ull << 27) |  /* GDS_NO */ \
     (1ull << 28))   /* RFDS_NO */

/* Intel's IBRS_IBPB bit announces both IBRS and IBPB; AMD has a bit for
 * each. SPEC_CTRL exists as soon as one of its bits does. */
void speculation_features_decode(uint32_t leaf7_edx, uint32_t ext8_ebx,
                                 uint64_t host_arch_capabilities,
                                 struct speculation_features *out)
{
    out->ibpb = (leaf7_edx & CPUID_7_EDX_IBRS_IBPB) || (ext8_ebx & CPUID_80000008_EBX_IBPB);
    out->spec_ctrl_bits = 0;
    if ((leaf7_edx & CPUID_7_EDX_IBRS_IBPB) || (ext8_ebx & CPUID_80000008_EBX_IBRS))
        out->spec_ctrl_bits |= SPEC_CTRL_IBRS;
    if ((leaf7_edx & CPUID_7_EDX_STIBP) || (ext8_ebx & CPUID_80000008_EBX_STIBP))
        out->spec_ctrl_bits |= SPEC_CTRL_STIBP;
    if ((leaf7_edx & CPUID_7_EDX_SSBD) || (ext8_ebx & CPUID_80000008_EBX_SSBD))
        out->spec_ctrl_bits |= SPEC_CTRL_SSBD;
    out->arch_capabilities = leaf7_edx & CPUID_7_EDX_ARCH_CAPABILITIES;
    out->arch_capabilities_value =
        out->arch_capabilities ? host_arch_capabilities & ARCH_CAPABILITIES_FACTS : 0;
}
