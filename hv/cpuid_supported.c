/* The supported CPUID: every leaf a guest may see, built once from the
 * host's CPUID and what the hypervisor virtualises. In feature registers
 * it holds the bits guests may be shown (the mask SET_CPUID checks
 * against); in the others the values a vcpu gets by default. A feature is
 * offered only when the host has it AND the hypervisor handles what it
 * brings (instructions, MSRs, control-register bits, XSAVE state):
 *   - never: MONITOR/MWAIT, VMX/SVM, x2APIC, TSC-deadline, APIC (no
 *     virtual local APIC yet), MTRR and MCA (their MSRs are not
 *     virtualised), performance counters, debug store, PT, SGX, WAITPKG,
 *     CET, AMX, XSAVEC/XSAVES (guests get the standard format only);
 *   - with the extended state: AVX and its family only if XCR0 may hold
 *     AVX, AVX-512 only with opmask and both ZMM components, PKU with PKRU;
 *   - with the backend: INVPCID, RDTSCP/RDPID (VIRT_GUEST_*);
 *   - IA32_TSC_ADJUST always: it is the vcpu's own, kept in software
 *     (hv/vcpu_msrs.c, hv/msr_emulate.c), as KVM offers it on every host;
 *     with a constant, invariant TSC it is what lets Linux trust the TSC
 *     without the clocksource watchdog, AMD guests included;
 *   - Spectre controls (IBRS/IBPB, STIBP, ARCH_CAPABILITIES, SSBD) iff the
 *     host has them: the MSRs are handled by the same rule.
 * Topology is virtual: one package of up to HV_MAX_VCPUS single-thread
 * cores, vcpu slot n being core n with APIC ID n (filled in per vcpu).
 * Host-testable: the host comes in as struct cpuid_host. */
#include "hv/cpuid.h"

#include "hv/cpuid_bits.h"
#include "hv/vlapic.h"
#include "hv/virt.h"

#define MAX_BASIC_LEAF     (CPUID_BASIC_LEAVES - 1)
#define MAX_EXT_LEAF       (CPUID_EXT_BASE + CPUID_EXT_LEAVES - 1)
#define MAX_CACHE_SUBLEAVES 8
/* Default topology: a core's APIC ID bits, enough for every vcpu slot. */
#define CORE_ID_BITS       6
_Static_assert(HV_MAX_VCPUS <= (1 << CORE_ID_BITS), "every slot is a core ID");

/* What the host and the hypervisor together allow, decided once. */
struct offer {
    const struct cpuid_host *host;
    bool amd;    /* AMD's (and Hygon's) meaning of the extended leaves */
    bool xsave, avx, avx512, pkru, invpcid, rdtscp, topoext;
};

static void host_leaf(const struct offer *o, uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    regs[0] = regs[1] = regs[2] = regs[3] = 0;
    o->host->query(leaf, subleaf, regs);
}

static int add(struct cpuid_table *t, uint32_t function, uint32_t index, bool indexed,
               const uint32_t regs[4])
{
    /* A leaf of zeros reads as zeros without an entry. */
    if (!indexed && !(regs[0] | regs[1] | regs[2] | regs[3]))
        return 0;
    struct cpuid_entry e = {
        .function = function,
        .index = indexed ? index : 0,
        .flags = indexed ? CPUID_ENTRY_INDEXED : 0,
        .regs = { regs[0], regs[1], regs[2], regs[3] },
    };
    return cpuid_table_append(t, &e);
}

/* Bits shown only with a condition: `bits` if `ok`, else none. */
static uint32_t if_ok(bool ok, uint32_t bits) { return ok ? bits : 0; }

static void decide_offer(struct offer *o, uint32_t leaf1_ecx)
{
    uint64_t xcr0 = o->host->supported_xcr0;
    uint64_t zmm = HV_XCR0_OPMASK | HV_XCR0_ZMM_HI256 | HV_XCR0_HI16_ZMM;
    o->xsave = (leaf1_ecx & CPUID_1_ECX_XSAVE) &&
               (xcr0 & (HV_XCR0_X87 | HV_XCR0_SSE)) == (HV_XCR0_X87 | HV_XCR0_SSE);
    o->avx = o->xsave && (xcr0 & HV_XCR0_AVX) && (leaf1_ecx & CPUID_1_ECX_AVX);
    o->avx512 = o->avx && (xcr0 & zmm) == zmm;
    o->pkru = o->xsave && (xcr0 & HV_XCR0_PKRU);
    o->invpcid = o->host->guest_instructions & VIRT_GUEST_INVPCID;
    o->rdtscp = o->host->guest_instructions & VIRT_GUEST_RDTSCP;
}

static int add_leaf1(struct cpuid_table *t, const struct offer *o, const uint32_t host[4])
{
    uint32_t ecx = CPUID_1_ECX_SSE3 | CPUID_1_ECX_PCLMULQDQ | CPUID_1_ECX_SSSE3 |
                   CPUID_1_ECX_CMPXCHG16B | CPUID_1_ECX_PCID | CPUID_1_ECX_SSE4_1 |
                   CPUID_1_ECX_SSE4_2 | CPUID_1_ECX_MOVBE | CPUID_1_ECX_POPCNT |
                   CPUID_1_ECX_AES | CPUID_1_ECX_RDRAND |
                   if_ok(o->xsave, CPUID_1_ECX_XSAVE) |
                   if_ok(o->avx, CPUID_1_ECX_AVX | CPUID_1_ECX_FMA | CPUID_1_ECX_F16C);
    uint32_t edx = CPUID_1_EDX_FPU | CPUID_1_EDX_VME | CPUID_1_EDX_DE | CPUID_1_EDX_PSE |
                   CPUID_1_EDX_TSC | CPUID_1_EDX_MSR | CPUID_1_EDX_PAE | CPUID_1_EDX_MCE |
                   CPUID_1_EDX_CX8 | CPUID_1_EDX_SEP | CPUID_1_EDX_PGE | CPUID_1_EDX_CMOV |
                   CPUID_1_EDX_PAT | CPUID_1_EDX_PSE36 | CPUID_1_EDX_CLFSH |
                   CPUID_1_EDX_MMX | CPUID_1_EDX_FXSR | CPUID_1_EDX_SSE | CPUID_1_EDX_SSE2 |
                   CPUID_1_EDX_SS;
    uint32_t regs[4] = {
        host[CPUID_EAX],
        /* brand index and CLFLUSH size stay; addressable IDs: the package's
         * 2^CORE_ID_BITS; APIC ID: the vcpu's slot, filled in per vcpu */
        (host[CPUID_EBX] & 0xffffu) | (1u << CORE_ID_BITS) << CPUID_1_EBX_LOGICAL_SHIFT,
        /* The local APIC is the hypervisor's own (HV_VM_LAPIC VMs), whatever
         * the host has; a VM without one never shows it (hv/cpuid.c). */
        (host[CPUID_ECX] & ecx) | CPUID_1_ECX_HYPERVISOR | CPUID_1_ECX_X2APIC |
            CPUID_1_ECX_TSC_DEADLINE,
        (host[CPUID_EDX] & edx) | CPUID_1_EDX_HTT | /* HTT: the field above is valid */
            CPUID_1_EDX_APIC,
    };
    return add(t, CPUID_LEAF_FEATURES, 0, false, regs);
}

/* Leaf 4 and AMD's 0x8000001D: one subleaf per cache, up to the first of
 * type 0 (kept as the end marker, unless there is no cache at all: AMD's
 * leaf 4). L1 and L2 are per core, the others shared by the package, in
 * the virtual topology. */
static int add_caches(struct cpuid_table *t, const struct offer *o, uint32_t leaf,
                      bool core_count_field)
{
    for (uint32_t i = 0; i < MAX_CACHE_SUBLEAVES; i++) {
        uint32_t regs[4];
        host_leaf(o, leaf, i, regs);
        uint32_t eax = regs[CPUID_EAX];
        unsigned level = (eax >> CPUID_4_EAX_LEVEL_SHIFT) & 7;
        uint32_t sharing = level >= 3 ? (1u << CORE_ID_BITS) - 1 : 0;
        eax = (eax & ~CPUID_4_EAX_SHARING_MASK) | sharing << CPUID_4_EAX_SHARING_SHIFT;
        if (core_count_field)
            eax = (eax & ~CPUID_4_EAX_CORES_MASK) |
                  ((1u << CORE_ID_BITS) - 1) << CPUID_4_EAX_CORES_SHIFT;
        if ((eax & CPUID_4_EAX_TYPE_MASK) == 0) {
            if (i == 0)
                return 0;
            eax = regs[CPUID_EBX] = regs[CPUID_ECX] = regs[CPUID_EDX] = 0;
        }
        regs[CPUID_EAX] = eax;
        int err = add(t, leaf, i, true, regs);
        if (err || eax == 0)
            return err;
    }
    return 0;
}

static int add_leaf7(struct cpuid_table *t, const struct offer *o)
{
    uint32_t h[4], regs[4];
    host_leaf(o, CPUID_LEAF_EXT_FEATURES, 0, h);
    uint32_t ebx = CPUID_7_EBX_FSGSBASE | CPUID_7_EBX_BMI1 |
                   CPUID_7_EBX_HLE |
                   CPUID_7_EBX_FDP_EXCPTN_ONLY | CPUID_7_EBX_SMEP | CPUID_7_EBX_BMI2 |
                   CPUID_7_EBX_ERMS | CPUID_7_EBX_RTM | CPUID_7_EBX_ZERO_FCS_FDS |
                   CPUID_7_EBX_RDSEED | CPUID_7_EBX_ADX | CPUID_7_EBX_SMAP |
                   CPUID_7_EBX_CLFLUSHOPT | CPUID_7_EBX_CLWB | CPUID_7_EBX_SHA |
                   if_ok(o->invpcid, CPUID_7_EBX_INVPCID) |
                   if_ok(o->avx, CPUID_7_EBX_AVX2) |
                   if_ok(o->avx512, CPUID_7_EBX_AVX512F | CPUID_7_EBX_AVX512DQ |
                                        CPUID_7_EBX_AVX512_IFMA | CPUID_7_EBX_AVX512PF |
                                        CPUID_7_EBX_AVX512ER | CPUID_7_EBX_AVX512CD |
                                        CPUID_7_EBX_AVX512BW | CPUID_7_EBX_AVX512VL);
    uint32_t ecx = CPUID_7_ECX_PREFETCHWT1 | CPUID_7_ECX_UMIP | CPUID_7_ECX_GFNI |
                   CPUID_7_ECX_LA57 | CPUID_7_ECX_CLDEMOTE | CPUID_7_ECX_MOVDIRI |
                   CPUID_7_ECX_MOVDIR64B | if_ok(o->pkru, CPUID_7_ECX_PKU) |
                   if_ok(o->rdtscp, CPUID_7_ECX_RDPID) |
                   if_ok(o->avx, CPUID_7_ECX_VAES | CPUID_7_ECX_VPCLMULQDQ) |
                   if_ok(o->avx512, CPUID_7_ECX_AVX512_VBMI | CPUID_7_ECX_AVX512_VBMI2 |
                                        CPUID_7_ECX_AVX512_VNNI | CPUID_7_ECX_AVX512_BITALG |
                                        CPUID_7_ECX_AVX512_VPOPCNTDQ);
    uint32_t edx = CPUID_7_EDX_FSRM | CPUID_7_EDX_MD_CLEAR | CPUID_7_EDX_SERIALIZE |
                   CPUID_7_EDX_TSXLDTRK | CPUID_7_EDX_IBRS_IBPB | CPUID_7_EDX_STIBP |
                   CPUID_7_EDX_ARCH_CAPABILITIES | CPUID_7_EDX_SSBD |
                   if_ok(o->avx512, CPUID_7_EDX_AVX512_4VNNIW | CPUID_7_EDX_AVX512_4FMAPS |
                                        CPUID_7_EDX_AVX512_VP2INTERSECT |
                                        CPUID_7_EDX_AVX512_FP16);
    bool has_subleaf1 = h[CPUID_EAX] >= 1;
    regs[CPUID_EAX] = has_subleaf1 ? 1 : 0;
    regs[CPUID_EBX] = (h[CPUID_EBX] & ebx) | CPUID_7_EBX_TSC_ADJUST;
    regs[CPUID_ECX] = h[CPUID_ECX] & ecx;
    regs[CPUID_EDX] = h[CPUID_EDX] & edx;
    int err = add(t, CPUID_LEAF_EXT_FEATURES, 0, true, regs);
    if (err || !has_subleaf1)
        return err;
    host_leaf(o, CPUID_LEAF_EXT_FEATURES, 1, h);
    uint32_t eax1 = CPUID_7_1_EAX_CMPCCXADD | CPUID_7_1_EAX_FZRM | CPUID_7_1_EAX_FSRS |
                    CPUID_7_1_EAX_FSRC |
                    if_ok(o->avx, CPUID_7_1_EAX_AVX_VNNI | CPUID_7_1_EAX_AVX_IFMA) |
                    if_ok(o->avx512, CPUID_7_1_EAX_AVX512_BF16);
    uint32_t sub1[4] = { h[CPUID_EAX] & eax1, 0, 0, 0 };
    return add(t, CPUID_LEAF_EXT_FEATURES, 1, true, sub1);
}

/* Leaf 0xB or 0x1F: an SMT level of one thread, a core level wide enough
 * for every slot, and the end marker. EDX (x2APIC ID) is filled per vcpu. */
static int add_topology(struct cpuid_table *t, uint32_t leaf)
{
    const uint32_t levels[3][4] = {
        { 0, 1, CPUID_TOPO_TYPE_SMT << CPUID_TOPO_TYPE_SHIFT | 0, 0 },
        { CORE_ID_BITS, 1u << CORE_ID_BITS, CPUID_TOPO_TYPE_CORE << CPUID_TOPO_TYPE_SHIFT | 1, 0 },
        { 0, 0, 2, 0 },
    };
    int err = 0;
    for (uint32_t i = 0; i < 3 && !err; i++)
        err = add(t, leaf, i, true, levels[i]);
    return err;
}

/* Leaf 0xD: only the XCR0 components guests may use, standard format. */
static int add_xsave(struct cpuid_table *t, const struct offer *o)
{
    uint64_t xcr0 = o->host->supported_xcr0;
    uint32_t h[4];
    uint32_t sub0[4] = { (uint32_t)xcr0, XSAVE_LEGACY_AND_HEADER, o->host->xsave_size,
                         (uint32_t)(xcr0 >> 32) };
    int err = add(t, CPUID_LEAF_XSAVE, 0, true, sub0);
    host_leaf(o, CPUID_LEAF_XSAVE, 1, h);
    uint32_t sub1[4] = { h[CPUID_EAX] & (CPUID_D_1_EAX_XSAVEOPT | CPUID_D_1_EAX_XGETBV1),
                         0, 0, 0 };
    err = err ?: add(t, CPUID_LEAF_XSAVE, 1, true, sub1);
    for (uint32_t i = 2; i < 64 && !err; i++) {
        if (!(xcr0 & (1ull << i)))
            continue;
        host_leaf(o, CPUID_LEAF_XSAVE, i, h);
        uint32_t comp[4] = { h[CPUID_EAX], h[CPUID_EBX], h[CPUID_ECX] & CPUID_D_N_ECX_ALIGNED, 0 };
        err = add(t, CPUID_LEAF_XSAVE, i, true, comp);
    }
    return err;
}

/* Leaf 0x15's ratio EBX / EAX for a TSC of `tsc_khz` over the crystal.
 * Linux computes the rate as crystal_khz * EBX / EAX in 32-bit unsigned
 * arithmetic (native_calibrate_tsc), so with the 1 GHz crystal EBX must
 * stay under 2^32 / 10^6: the ratio tsc_khz / 10^6 exactly would wrap for
 * any TSC above 4.29 MHz (a 50 MHz TSC came out as 1.755 MHz). Of the
 * numerators that fit, each with its nearest denominator, the one whose
 * rate, truncated as Linux truncates it, lies closest wins (the smallest
 * on a tie). That is exact for most rates and within 1/8000 of any rate
 * from 1 MHz up (the coarsest spacing, near whole ratios, is 1/4294):
 * finer than the 10 ms PIT window measures the TSC. */
static void tsc_crystal_ratio(uint64_t tsc_khz, uint32_t *numerator, uint32_t *denominator)
{
    const uint64_t crystal_khz = VLAPIC_BUS_KHZ;
    uint64_t best_error = UINT64_MAX;

    *numerator = 1;
    *denominator = 1;
    for (uint64_t n = 1; n <= UINT32_MAX / crystal_khz; n++) {
        uint64_t d = (n * crystal_khz + tsc_khz / 2) / tsc_khz;
        if (d == 0 || d > UINT32_MAX)
            continue;
        uint64_t rate = n * crystal_khz / d;
        uint64_t error = rate > tsc_khz ? rate - tsc_khz : tsc_khz - rate;
        if (error < best_error) {
            best_error = error;
            *numerator = (uint32_t)n;
            *denominator = (uint32_t)d;
        }
        if (error == 0)
            break;
    }
}

/* Leaves 0x15 and 0x16 tell a kernel the TSC's rate and the clock of its
 * local APIC timer: Linux takes the TSC rate from them without
 * calibrating, and its APIC timer period from 0x15's crystal (SDM vol. 2,
 * CPUID leaf 15H: TSC = ECX * EBX / EAX). The host's values describe
 * neither the guest's APIC timer, the vlapic's 1 GHz bus clock, nor (on
 * an emulator) the TSC the guest reads: the crystal is the vlapic's bus
 * and the ratio gives the TSC rate the hypervisor measured. */
static void virtual_clock_leaf(uint32_t leaf, uint64_t tsc_khz, uint32_t regs[4])
{
    uint32_t tsc_mhz = (uint32_t)(tsc_khz / 1000);

    if (leaf == CPUID_LEAF_TSC_CRYSTAL) {
        tsc_crystal_ratio(tsc_khz, &regs[CPUID_EBX], &regs[CPUID_EAX]);
        regs[CPUID_ECX] = VLAPIC_BUS_KHZ * 1000u;       /* crystal, Hz */
        regs[CPUID_EDX] = 0;
    } else {
        regs[CPUID_EAX] = tsc_mhz;                      /* base MHz */
        regs[CPUID_EBX] = tsc_mhz;                      /* maximum MHz */
        regs[CPUID_ECX] = VLAPIC_BUS_KHZ / 1000u;       /* bus MHz */
        regs[CPUID_EDX] = 0;
    }
}

static int add_basic(struct cpuid_table *t, struct offer *o, uint32_t max)
{
    uint32_t regs[4];
    host_leaf(o, CPUID_LEAF_VENDOR, 0, regs);
    o->amd = regs[CPUID_EBX] == CPUID_VENDOR_AMD_EBX || regs[CPUID_EBX] == CPUID_VENDOR_HYGON_EBX;
    regs[CPUID_EAX] = max;
    int err = add(t, CPUID_LEAF_VENDOR, 0, false, regs);
    host_leaf(o, CPUID_LEAF_FEATURES, 0, regs);
    decide_offer(o, regs[CPUID_ECX]);
    err = err ?: add_leaf1(t, o, regs);
    if (max >= CPUID_LEAF_CACHE_DESC) {
        host_leaf(o, CPUID_LEAF_CACHE_DESC, 0, regs);
        err = err ?: add(t, CPUID_LEAF_CACHE_DESC, 0, false, regs);
    }
    if (max >= CPUID_LEAF_CACHE_PARAMS)
        err = err ?: add_caches(t, o, CPUID_LEAF_CACHE_PARAMS, true);
    if (max >= CPUID_LEAF_EXT_FEATURES)
        err = err ?: add_leaf7(t, o);
    if (max >= CPUID_LEAF_TOPOLOGY)
        err = err ?: add_topology(t, CPUID_LEAF_TOPOLOGY);
    if (max >= CPUID_LEAF_XSAVE && o->xsave)
        err = err ?: add_xsave(t, o);
    for (uint32_t leaf = CPUID_LEAF_TSC_CRYSTAL; leaf <= CPUID_LEAF_FREQUENCY; leaf++) {
        if (max < leaf)
            break;
        host_leaf(o, leaf, 0, regs);
        if (o->host->tsc_khz != 0)
            virtual_clock_leaf(leaf, o->host->tsc_khz, regs);
        err = err ?: add(t, leaf, 0, false, regs);
    }
    if (max >= CPUID_LEAF_TOPOLOGY_V2)
        err = err ?: add_topology(t, CPUID_LEAF_TOPOLOGY_V2);
    return err;
}

static int add_ext_signature(struct cpuid_table *t, struct offer *o)
{
    uint32_t regs[4];
    host_leaf(o, CPUID_LEAF_EXT_SIGNATURE, 0, regs);
    uint32_t ecx = CPUID_X1_ECX_LAHF_LM | CPUID_X1_ECX_ABM | CPUID_X1_ECX_SSE4A |
                   CPUID_X1_ECX_MISALIGNSSE | CPUID_X1_ECX_PREFETCHW | CPUID_X1_ECX_TBM |
                   CPUID_X1_ECX_TOPOEXT |
                   if_ok(o->avx, CPUID_X1_ECX_XOP | CPUID_X1_ECX_FMA4);
    /* AMD repeats leaf 1's EDX bits here: the same ones are offered. */
    uint32_t edx = CPUID_1_EDX_FPU | CPUID_1_EDX_VME | CPUID_1_EDX_DE | CPUID_1_EDX_PSE |
                   CPUID_1_EDX_TSC | CPUID_1_EDX_MSR | CPUID_1_EDX_PAE | CPUID_1_EDX_MCE |
                   CPUID_1_EDX_CX8 | CPUID_1_EDX_PGE | CPUID_1_EDX_CMOV | CPUID_1_EDX_PAT |
                   CPUID_1_EDX_PSE36 | CPUID_1_EDX_MMX | CPUID_1_EDX_FXSR |
                   CPUID_X1_EDX_SYSCALL | CPUID_X1_EDX_NX | CPUID_X1_EDX_MMXEXT |
                   CPUID_X1_EDX_PAGE1GB | CPUID_X1_EDX_LM | CPUID_X1_EDX_3DNOWEXT |
                   CPUID_X1_EDX_3DNOW | if_ok(o->rdtscp, CPUID_X1_EDX_RDTSCP);
    regs[CPUID_ECX] &= ecx;
    regs[CPUID_EDX] &= edx;
    o->topoext = regs[CPUID_ECX] & CPUID_X1_ECX_TOPOEXT;
    return add(t, CPUID_LEAF_EXT_SIGNATURE, 0, false, regs);
}

static int add_amd_topology(struct cpuid_table *t)
{
    /* EAX extended APIC ID and EBX[7:0] core ID: the slot, filled per
     * vcpu; EBX[15:8] threads per core - 1 = 0; ECX node 0 of one. Kept
     * although all zero here. */
    struct cpuid_entry e = { .function = CPUID_LEAF_AMD_TOPOLOGY };
    return cpuid_table_append(t, &e);
}

static int add_extended(struct cpuid_table *t, struct offer *o, uint32_t max)
{
    uint32_t regs[4];
    host_leaf(o, CPUID_LEAF_EXT_MAX, 0, regs);
    regs[CPUID_EAX] = max;
    int err = add(t, CPUID_LEAF_EXT_MAX, 0, false, regs);
    err = err ?: add_ext_signature(t, o);
    for (uint32_t leaf = CPUID_LEAF_BRAND_FIRST; leaf <= CPUID_LEAF_L2_CACHE && leaf <= max;
         leaf++) {
        host_leaf(o, leaf, 0, regs);
        err = err ?: add(t, leaf, 0, false, regs);
    }
    if (max >= CPUID_LEAF_POWER) {
        host_leaf(o, CPUID_LEAF_POWER, 0, regs);
        uint32_t power[4] = { 0, 0, 0, regs[CPUID_EDX] & CPUID_X7_EDX_INVARIANT_TSC };
        err = err ?: add(t, CPUID_LEAF_POWER, 0, false, power);
    }
    if (max >= CPUID_LEAF_ADDRESS_SIZES) {
        host_leaf(o, CPUID_LEAF_ADDRESS_SIZES, 0, regs);
        regs[CPUID_EBX] &= CPUID_X8_EBX_CLZERO | CPUID_X8_EBX_XSAVE_ERR_PTR |
                           CPUID_X8_EBX_IBPB | CPUID_X8_EBX_IBRS | CPUID_X8_EBX_STIBP |
                           CPUID_X8_EBX_SSBD;
        /* AMD's core count (NC) and APIC ID width, as the virtual
         * topology has them; reserved (zero) on Intel. */
        regs[CPUID_ECX] = o->amd ? ((1u << CORE_ID_BITS) - 1) |
                                       CORE_ID_BITS << CPUID_X8_ECX_APIC_ID_SIZE_SHIFT
                                 : 0;
        regs[CPUID_EDX] = 0;
        err = err ?: add(t, CPUID_LEAF_ADDRESS_SIZES, 0, false, regs);
    }
    if (o->topoext && max >= CPUID_LEAF_AMD_TOPOLOGY) {
        err = err ?: add_caches(t, o, CPUID_LEAF_AMD_CACHE_TOPO, false);
        err = err ?: add_amd_topology(t);
    }
    if (max >= CPUID_LEAF_AMD_EXT_FEAT2) {
        host_leaf(o, CPUID_LEAF_AMD_EXT_FEAT2, 0, regs);
        uint32_t feat2[4] = { regs[CPUID_EAX] & (CPUID_X21_EAX_NO_NESTED_DATA_BP |
                                                 CPUID_X21_EAX_LFENCE_SERIALIZING |
                                                 CPUID_X21_EAX_NULL_SEL_CLR_BASE), 0, 0, 0 };
        err = err ?: add(t, CPUID_LEAF_AMD_EXT_FEAT2, 0, false, feat2);
    }
    return err;
}

int cpuid_build_supported(struct cpuid_table *table, const struct cpuid_host *host)
{
    struct offer offer = { .host = host };
    uint32_t regs[4];
    cpuid_table_reset(table, true);
    host_leaf(&offer, CPUID_LEAF_VENDOR, 0, regs);
    uint32_t basic_max = regs[CPUID_EAX] < MAX_BASIC_LEAF ? regs[CPUID_EAX] : MAX_BASIC_LEAF;
    int err = add_basic(table, &offer, basic_max);
    host_leaf(&offer, CPUID_LEAF_EXT_MAX, 0, regs);
    uint32_t ext_max = regs[CPUID_EAX] < MAX_EXT_LEAF ? regs[CPUID_EAX] : MAX_EXT_LEAF;
    if (ext_max >= CPUID_LEAF_EXT_SIGNATURE)
        err = err ?: add_extended(table, &offer, ext_max);
    return err ?: cpuid_table_seal(table);
}
