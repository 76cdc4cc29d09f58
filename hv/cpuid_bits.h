/* CPUID leaves and the bits the hypervisor looks at or offers to guests,
 * named as the manuals name them: Intel SDM vol. 2A, "CPUID" (tables 3-8
 * to 3-10) and vol. 1 ch. 13 (XSAVE); AMD APM vol. 3, appendix E. A bit
 * is listed here only if hv/cpuid_supported.c decides something about it. */
#ifndef HV_CPUID_BITS_H
#define HV_CPUID_BITS_H

#define BIT32(n) (1u << (n))

/* Leaf numbers. */
#define CPUID_LEAF_VENDOR          0x00000000u
#define CPUID_LEAF_FEATURES        0x00000001u
#define CPUID_LEAF_CACHE_DESC      0x00000002u
#define CPUID_LEAF_CACHE_PARAMS    0x00000004u  /* subleaf per cache */
#define CPUID_LEAF_EXT_FEATURES    0x00000007u  /* subleaf 0, 1 */
#define CPUID_LEAF_TOPOLOGY        0x0000000bu  /* subleaf per level */
#define CPUID_LEAF_XSAVE           0x0000000du  /* subleaf 0, 1, component */
#define CPUID_LEAF_TSC_CRYSTAL     0x00000015u
#define CPUID_LEAF_FREQUENCY       0x00000016u
#define CPUID_LEAF_TOPOLOGY_V2     0x0000001fu  /* subleaf per level */
#define CPUID_LEAF_EXT_MAX         0x80000000u
#define CPUID_LEAF_EXT_SIGNATURE   0x80000001u
#define CPUID_LEAF_BRAND_FIRST     0x80000002u
#define CPUID_LEAF_BRAND_LAST      0x80000004u
#define CPUID_LEAF_L1_CACHE        0x80000005u
#define CPUID_LEAF_L2_CACHE        0x80000006u
#define CPUID_LEAF_POWER           0x80000007u
#define CPUID_LEAF_ADDRESS_SIZES   0x80000008u
#define CPUID_LEAF_AMD_CACHE_TOPO  0x8000001du  /* subleaf per cache */
#define CPUID_LEAF_AMD_TOPOLOGY    0x8000001eu
#define CPUID_LEAF_AMD_EXT_FEAT2   0x80000021u

/* Leaf 0 EBX: the first four bytes of the vendor string. */
#define CPUID_VENDOR_AMD_EBX       0x68747541u /* "Auth"enticAMD */
#define CPUID_VENDOR_HYGON_EBX     0x6f677948u /* "Hygo"nGenuine */

/* Leaf 1 ECX. */
#define CPUID_1_ECX_SSE3           BIT32(0)
#define CPUID_1_ECX_PCLMULQDQ      BIT32(1)
#define CPUID_1_ECX_MONITOR        BIT32(3)
#define CPUID_1_ECX_VMX            BIT32(5)
#define CPUID_1_ECX_SSSE3          BIT32(9)
#define CPUID_1_ECX_FMA            BIT32(12)
#define CPUID_1_ECX_CMPXCHG16B     BIT32(13)
#define CPUID_1_ECX_PCID           BIT32(17)
#define CPUID_1_ECX_SSE4_1         BIT32(19)
#define CPUID_1_ECX_SSE4_2         BIT32(20)
#define CPUID_1_ECX_X2APIC         BIT32(21)
#define CPUID_1_ECX_MOVBE          BIT32(22)
#define CPUID_1_ECX_POPCNT         BIT32(23)
#define CPUID_1_ECX_TSC_DEADLINE   BIT32(24)
#define CPUID_1_ECX_AES            BIT32(25)
#define CPUID_1_ECX_XSAVE          BIT32(26)
#define CPUID_1_ECX_OSXSAVE        BIT32(27)
#define CPUID_1_ECX_AVX            BIT32(28)
#define CPUID_1_ECX_F16C           BIT32(29)
#define CPUID_1_ECX_RDRAND         BIT32(30)
#define CPUID_1_ECX_HYPERVISOR     BIT32(31)

/* Leaf 1 EBX fields. */
#define CPUID_1_EBX_APIC_ID_SHIFT  24          /* initial APIC ID, 31:24 */
#define CPUID_1_EBX_LOGICAL_SHIFT  16          /* addressable IDs, 23:16 */

/* Leaf 1 EDX (bits 0-17 and 23-24 repeat in AMD's 0x80000001 EDX). */
#define CPUID_1_EDX_FPU            BIT32(0)
#define CPUID_1_EDX_VME            BIT32(1)
#define CPUID_1_EDX_DE             BIT32(2)
#define CPUID_1_EDX_PSE            BIT32(3)
#define CPUID_1_EDX_TSC            BIT32(4)
#define CPUID_1_EDX_MSR            BIT32(5)
#define CPUID_1_EDX_PAE            BIT32(6)
#define CPUID_1_EDX_MCE            BIT32(7)
#define CPUID_1_EDX_CX8            BIT32(8)
#define CPUID_1_EDX_APIC           BIT32(9)
#define CPUID_1_EDX_SEP            BIT32(11)
#define CPUID_1_EDX_MTRR           BIT32(12)
#define CPUID_1_EDX_PGE            BIT32(13)
#define CPUID_1_EDX_MCA            BIT32(14)
#define CPUID_1_EDX_CMOV           BIT32(15)
#define CPUID_1_EDX_PAT            BIT32(16)
#define CPUID_1_EDX_PSE36          BIT32(17)
#define CPUID_1_EDX_CLFSH          BIT32(19)
#define CPUID_1_EDX_MMX            BIT32(23)
#define CPUID_1_EDX_FXSR           BIT32(24)
#define CPUID_1_EDX_SSE            BIT32(25)
#define CPUID_1_EDX_SSE2           BIT32(26)
#define CPUID_1_EDX_SS             BIT32(27)
#define CPUID_1_EDX_HTT            BIT32(28)

/* Leaf 4 EAX (and AMD's 0x8000001D EAX) fields. */
#define CPUID_4_EAX_TYPE_MASK      0x1fu       /* 0: no more caches */
#define CPUID_4_EAX_LEVEL_SHIFT    5           /* 7:5 */
#define CPUID_4_EAX_SHARING_SHIFT  14          /* 25:14 logical IDs sharing - 1 */
#define CPUID_4_EAX_SHARING_MASK   (0xfffu << 14)
#define CPUID_4_EAX_CORES_SHIFT    26          /* 31:26 core IDs in package - 1 */
#define CPUID_4_EAX_CORES_MASK     (0x3fu << 26)

/* Leaf 7 subleaf 0 EBX. */
#define CPUID_7_EBX_FSGSBASE       BIT32(0)
#define CPUID_7_EBX_TSC_ADJUST     BIT32(1)
#define CPUID_7_EBX_BMI1           BIT32(3)
#define CPUID_7_EBX_HLE            BIT32(4)
#define CPUID_7_EBX_AVX2           BIT32(5)
#define CPUID_7_EBX_FDP_EXCPTN_ONLY BIT32(6)
#define CPUID_7_EBX_SMEP           BIT32(7)
#define CPUID_7_EBX_BMI2           BIT32(8)
#define CPUID_7_EBX_ERMS           BIT32(9)
#define CPUID_7_EBX_INVPCID        BIT32(10)
#define CPUID_7_EBX_RTM            BIT32(11)
#define CPUID_7_EBX_ZERO_FCS_FDS   BIT32(13)
#define CPUID_7_EBX_AVX512F        BIT32(16)
#define CPUID_7_EBX_AVX512DQ       BIT32(17)
#define CPUID_7_EBX_RDSEED         BIT32(18)
#define CPUID_7_EBX_ADX            BIT32(19)
#define CPUID_7_EBX_SMAP           BIT32(20)
#define CPUID_7_EBX_AVX512_IFMA    BIT32(21)
#define CPUID_7_EBX_CLFLUSHOPT     BIT32(23)
#define CPUID_7_EBX_CLWB           BIT32(24)
#define CPUID_7_EBX_AVX512PF       BIT32(26)
#define CPUID_7_EBX_AVX512ER       BIT32(27)
#define CPUID_7_EBX_AVX512CD       BIT32(28)
#define CPUID_7_EBX_SHA            BIT32(29)
#define CPUID_7_EBX_AVX512BW       BIT32(30)
#define CPUID_7_EBX_AVX512VL       BIT32(31)

/* Leaf 7 subleaf 0 ECX. */
#define CPUID_7_ECX_PREFETCHWT1    BIT32(0)
#define CPUID_7_ECX_AVX512_VBMI    BIT32(1)
#define CPUID_7_ECX_UMIP           BIT32(2)
#define CPUID_7_ECX_PKU            BIT32(3)
#define CPUID_7_ECX_OSPKE          BIT32(4)
#define CPUID_7_ECX_WAITPKG        BIT32(5)
#define CPUID_7_ECX_AVX512_VBMI2   BIT32(6)
#define CPUID_7_ECX_GFNI           BIT32(8)
#define CPUID_7_ECX_VAES           BIT32(9)
#define CPUID_7_ECX_VPCLMULQDQ     BIT32(10)
#define CPUID_7_ECX_AVX512_VNNI    BIT32(11)
#define CPUID_7_ECX_AVX512_BITALG  BIT32(12)
#define CPUID_7_ECX_AVX512_VPOPCNTDQ BIT32(14)
#define CPUID_7_ECX_LA57           BIT32(16)
#define CPUID_7_ECX_RDPID          BIT32(22)
#define CPUID_7_ECX_CLDEMOTE       BIT32(25)
#define CPUID_7_ECX_MOVDIRI        BIT32(27)
#define CPUID_7_ECX_MOVDIR64B      BIT32(28)

/* Leaf 7 subleaf 0 EDX. */
#define CPUID_7_EDX_AVX512_4VNNIW  BIT32(2)
#define CPUID_7_EDX_AVX512_4FMAPS  BIT32(3)
#define CPUID_7_EDX_FSRM           BIT32(4)
#define CPUID_7_EDX_AVX512_VP2INTERSECT BIT32(8)
#define CPUID_7_EDX_MD_CLEAR       BIT32(10)
#define CPUID_7_EDX_SERIALIZE      BIT32(14)
#define CPUID_7_EDX_TSXLDTRK       BIT32(16)
#define CPUID_7_EDX_AVX512_FP16    BIT32(23)
#define CPUID_7_EDX_IBRS_IBPB      BIT32(26)   /* SPEC_CTRL.IBRS, PRED_CMD */
#define CPUID_7_EDX_STIBP          BIT32(27)
#define CPUID_7_EDX_ARCH_CAPABILITIES BIT32(29)
#define CPUID_7_EDX_SSBD           BIT32(31)   /* SPEC_CTRL.SSBD */

/* Leaf 7 subleaf 1 EAX. */
#define CPUID_7_1_EAX_AVX_VNNI     BIT32(4)
#define CPUID_7_1_EAX_AVX512_BF16  BIT32(5)
#define CPUID_7_1_EAX_CMPCCXADD    BIT32(7)
#define CPUID_7_1_EAX_FZRM         BIT32(10)
#define CPUID_7_1_EAX_FSRS         BIT32(11)
#define CPUID_7_1_EAX_FSRC         BIT32(12)
#define CPUID_7_1_EAX_AVX_IFMA     BIT32(23)

/* Leaf 0xB / 0x1F: ECX level type (15:8) and number (7:0). */
#define CPUID_TOPO_TYPE_SHIFT      8
#define CPUID_TOPO_TYPE_SMT        1u
#define CPUID_TOPO_TYPE_CORE       2u

/* Leaf 0xD subleaf 1 EAX. XSAVEC (1) and XSAVES (3) are not offered:
 * guests get the standard format only. */
#define CPUID_D_1_EAX_XSAVEOPT     BIT32(0)
#define CPUID_D_1_EAX_XGETBV1      BIT32(2)
/* Leaf 0xD component subleaf ECX: bit 1, aligned to 64 in the compacted
 * format (bit 0, supervisor state, is never offered). */
#define CPUID_D_N_ECX_ALIGNED      BIT32(1)
#define XSAVE_LEGACY_AND_HEADER    576u        /* bytes before component 2 */

/* 0x80000001 ECX. */
#define CPUID_X1_ECX_LAHF_LM       BIT32(0)
#define CPUID_X1_ECX_SVM           BIT32(2)
#define CPUID_X1_ECX_ABM           BIT32(5)    /* LZCNT */
#define CPUID_X1_ECX_SSE4A         BIT32(6)
#define CPUID_X1_ECX_MISALIGNSSE   BIT32(7)
#define CPUID_X1_ECX_PREFETCHW     BIT32(8)    /* 3DNowPrefetch */
#define CPUID_X1_ECX_XOP           BIT32(11)
#define CPUID_X1_ECX_FMA4          BIT32(16)
#define CPUID_X1_ECX_TBM           BIT32(21)
#define CPUID_X1_ECX_TOPOEXT       BIT32(22)   /* leaves 0x8000001D/1E */
#define CPUID_X1_ECX_MONITORX      BIT32(29)

/* 0x80000001 EDX: AMD repeats leaf 1 EDX bits here; Intel has only
 * SYSCALL, NX, Page1GB, RDTSCP and LM. */
#define CPUID_X1_EDX_SYSCALL       BIT32(11)
#define CPUID_X1_EDX_NX            BIT32(20)
#define CPUID_X1_EDX_MMXEXT        BIT32(22)
#define CPUID_X1_EDX_PAGE1GB       BIT32(26)
#define CPUID_X1_EDX_RDTSCP        BIT32(27)
#define CPUID_X1_EDX_LM            BIT32(29)
#define CPUID_X1_EDX_3DNOWEXT      BIT32(30)
#define CPUID_X1_EDX_3DNOW         BIT32(31)

/* 0x80000007 EDX. */
#define CPUID_X7_EDX_INVARIANT_TSC BIT32(8)

/* 0x80000008 EBX. */
#define CPUID_X8_EBX_CLZERO        BIT32(0)
#define CPUID_X8_EBX_XSAVE_ERR_PTR BIT32(2)    /* FXSAVE saves error pointers */
#define CPUID_X8_EBX_IBPB          BIT32(12)
#define CPUID_X8_EBX_IBRS          BIT32(14)
#define CPUID_X8_EBX_STIBP         BIT32(15)
#define CPUID_X8_EBX_SSBD          BIT32(24)
/* 0x80000008 ECX fields (AMD): NC 7:0, ApicIdSize 15:12. */
#define CPUID_X8_ECX_APIC_ID_SIZE_SHIFT 12

/* 0x80000021 EAX. */
#define CPUID_X21_EAX_NO_NESTED_DATA_BP BIT32(0)
#define CPUID_X21_EAX_LFENCE_SERIALIZING BIT32(2)
#define CPUID_X21_EAX_NULL_SEL_CLR_BASE BIT32(6)

/* CR4 bits the guest's CPUID reflects (SDM 3A 2.5). */
#define CR4_OSXSAVE_BIT            (1ull << 18)
#define CR4_PKE_BIT                (1ull << 22)

#endif
