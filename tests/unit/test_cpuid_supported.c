// sources: hv/cpuid_supported.c hv/cpuid_table.c
/* Unit tests for hv/cpuid_supported.c: the supported CPUID built from two
 * made-up hosts, an EPYC-like AMD CPU under a hypervisor (as QEMU shows it)
 * and a Skylake-X-like Intel CPU (as Bochs shows it), each with features
 * the hypervisor must hide. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/cpuid.h"
#include "hv/cpuid_bits.h"
#include "hv/virt.h"

struct host_leaf {
    uint32_t leaf, subleaf;
    uint32_t regs[4];
};

#define END { 0xffffffff, 0, { 0, 0, 0, 0 } }

static const struct host_leaf amd[] = {
    { 0x0, 0, { 0xd, 0x68747541, 0x444d4163, 0x69746e65 } },
    { 0x1, 0, { 0x00800f12, 0x05400800, 0xfef83209 | CPUID_1_ECX_MONITOR | CPUID_1_ECX_X2APIC,
                0x178bfbff } },
    { 0x7, 0, { 0, 0x209c01a9, 0, 0 } },
    { 0xd, 0, { 0x7, 0x340, 0x340, 0 } },
    { 0xd, 1, { 0xf, 0, 0, 0 } },
    { 0xd, 2, { 256, 576, 0, 0 } },
    { 0x80000000, 0, { 0x8000001f, 0x68747541, 0x444d4163, 0x69746e65 } },
    { 0x80000001, 0, { 0x00800f12, 0, 0x75c237ff, 0x2fd3fbff } },
    { 0x80000002, 0, { 0x20444d41, 0x43595045, 0x6f725020, 0x73736563 } },
    { 0x80000005, 0, { 0xff40ff40, 0xff40ff40, 0x20080140, 0x40040140 } },
    { 0x80000006, 0, { 0, 0x42004200, 0x02006140, 0x00808140 } },
    { 0x80000007, 0, { 0, 0, 0, 0x100 | 0x1 } },
    { 0x80000008, 0, { 0x3030, CPUID_X8_EBX_CLZERO | CPUID_X8_EBX_IBPB | (1u << 9), 0x1007, 0 } },
    { 0x8000000a, 0, { 1, 16, 0, 1 } },
    { 0x8000001d, 0, { 0x121, 0x1c0003f, 0x3f, 0 } },
    { 0x8000001d, 1, { 0x122, 0x1c0003f, 0x3f, 0 } },
    { 0x8000001d, 2, { 0x143, 0x1c0003f, 0x3ff, 0x2 } },
    { 0x8000001d, 3, { 0x3c163, 0x3c0003f, 0x3fff, 0x1 } },
    { 0x8000001e, 0, { 5, 0x102, 0, 0 } },
    END,
};

static const struct host_leaf intel[] = {
    { 0x0, 0, { 0x16, 0x756e6547, 0x6c65746e, 0x49656e69 } },
    { 0x1, 0, { 0x00050654, 0x02100800, 0x7ffefbff, 0xbfebfbff } },
    { 0x4, 0, { 0x1c004121, 0x01c0003f, 0x3f, 0 } },
    { 0x4, 1, { 0x1c004122, 0x01c0003f, 0x3f, 0 } },
    { 0x4, 2, { 0x1c004143, 0x03c0003f, 0x3ff, 0 } },
    { 0x4, 3, { 0x1c03c163, 0x0280003f, 0x6fff, 4 } },
    { 0x7, 0, { 0, 0xd19f4fbb, CPUID_7_ECX_PKU | CPUID_7_ECX_OSPKE | CPUID_7_ECX_WAITPKG,
                0xbc000400 } },
    { 0xb, 0, { 1, 2, 0x100, 3 } },
    { 0xb, 1, { 5, 16, 0x201, 3 } },
    { 0xd, 0, { 0x2ff, 0xa88, 0xa88, 0 } },
    { 0xd, 1, { 0xf, 0xa08, 0, 0 } },
    { 0xd, 2, { 256, 576, 0, 0 } },
    { 0xd, 3, { 64, 960, 0, 0 } },
    { 0xd, 4, { 64, 1024, 0, 0 } },
    { 0xd, 5, { 64, 1088, 0, 0 } },
    { 0xd, 6, { 512, 1152, 0, 0 } },
    { 0xd, 7, { 1024, 1664, 0, 0 } },
    { 0xd, 9, { 8, 2688, 0, 0 } },
    { 0x16, 0, { 2600, 3700, 100, 0 } },
    { 0x80000000, 0, { 0x80000008, 0, 0, 0 } },
    { 0x80000001, 0, { 0, 0, 0x121, 0x2c100800 } },
    { 0x80000008, 0, { 0x302e, 0, 0, 0 } },
    END,
};

static const struct host_leaf *host_leaves;

static void fake_query(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    for (const struct host_leaf *h = host_leaves; h->leaf != 0xffffffff; h++) {
        if (h->leaf == leaf && h->subleaf == subleaf) {
            memcpy(regs, h->regs, sizeof(h->regs));
            return;
        }
    }
}

static struct cpuid_table table;

static uint64_t host_tsc_khz;      /* 0 unless a test measures one */

static void build(const struct host_leaf *leaves, uint64_t xcr0, uint32_t instructions)
{
    host_leaves = leaves;
    struct cpuid_host host = {
        .query = fake_query,
        .supported_xcr0 = xcr0,
        .xsave_size = 4242,
        .guest_instructions = instructions,
        .tsc_khz = host_tsc_khz,
    };
    assert_int_equal(cpuid_build_supported(&table, &host), 0);
}

/* A register of the built table; 0 when the entry is absent (as a guest reads it). */
static uint32_t reg(uint32_t function, uint32_t index, unsigned r)
{
    const struct cpuid_entry *e = cpuid_table_find(&table, function, index);
    return e ? e->regs[r] : 0;
}

static bool present(uint32_t function, uint32_t index)
{
    return cpuid_table_find(&table, function, index) != NULL;
}

#define XCR0_AVX_ONLY (HV_XCR0_X87 | HV_XCR0_SSE | HV_XCR0_AVX)
#define XCR0_ALL (XCR0_AVX_ONLY | HV_XCR0_OPMASK | HV_XCR0_ZMM_HI256 | HV_XCR0_HI16_ZMM | \
                  HV_XCR0_PKRU)

/* The local APIC (APIC, x2APIC, TSC-deadline) is the hypervisor's own and
 * in the mask whatever the host has; hv/cpuid.c hides it from VMs without
 * HV_VM_LAPIC. */
static void test_amd_hides_virtualization_monitor_offers_own_apic(void **state)
{
    (void)state;
    build(amd, XCR0_AVX_ONLY, VIRT_GUEST_INVPCID);
    uint32_t ecx = reg(1, 0, CPUID_ECX), edx = reg(1, 0, CPUID_EDX);
    assert_false(ecx & (CPUID_1_ECX_MONITOR | CPUID_1_ECX_VMX | CPUID_1_ECX_OSXSAVE));
    assert_true(ecx & (CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE));
    assert_true(edx & CPUID_1_EDX_APIC);
    assert_true(ecx & CPUID_1_ECX_HYPERVISOR);
    assert_true(ecx & (CPUID_1_ECX_SSE3 | CPUID_1_ECX_AVX | CPUID_1_ECX_XSAVE));
    assert_false(edx & (CPUID_1_EDX_MTRR | CPUID_1_EDX_MCA));
    assert_true(edx & CPUID_1_EDX_HTT);
    uint32_t x1ecx = reg(0x80000001, 0, CPUID_ECX), x1edx = reg(0x80000001, 0, CPUID_EDX);
    assert_false(x1ecx & (CPUID_X1_ECX_SVM | CPUID_X1_ECX_MONITORX));
    assert_false(x1ecx & ((1u << 1) | (1u << 3) | (1u << 4) | (1u << 9))); /* CmpLegacy .. OSVW */
    assert_false(x1edx & (CPUID_1_EDX_APIC | CPUID_1_EDX_MTRR | CPUID_1_EDX_MCA |
                          CPUID_X1_EDX_RDTSCP | (1u << 25))); /* FFXSR */
    assert_true(x1edx & (CPUID_X1_EDX_LM | CPUID_X1_EDX_NX | CPUID_X1_EDX_SYSCALL));
    assert_false(present(0x8000000a, 0)); /* the SVM leaf */
    assert_false(present(5, 0));          /* MONITOR/MWAIT */
    assert_int_equal(reg(0x80000007, 0, CPUID_EDX), CPUID_X7_EDX_INVARIANT_TSC);
    /* address sizes kept; only the Spectre and harmless bits of EBX */
    assert_int_equal(reg(0x80000008, 0, CPUID_EAX), 0x3030);
    assert_int_equal(reg(0x80000008, 0, CPUID_EBX), CPUID_X8_EBX_CLZERO | CPUID_X8_EBX_IBPB);
    assert_int_equal(reg(0, 0, CPUID_EBX), 0x68747541);
    assert_int_equal(reg(0x80000000, 0, CPUID_EAX), 0x8000001f);
}

static void test_amd_topology_is_virtual(void **state)
{
    (void)state;
    build(amd, XCR0_AVX_ONLY, 0);
    /* APIC ID 0 here (the slot is filled per vcpu), 64 addressable IDs */
    assert_int_equal(reg(1, 0, CPUID_EBX), 0x00400800);
    assert_int_equal(reg(0xb, 0, CPUID_ECX), 0x100);
    assert_int_equal(reg(0xb, 1, CPUID_EAX), 6);
    assert_int_equal(reg(0xb, 1, CPUID_ECX), 0x201);
    assert_int_equal(reg(0xb, 2, CPUID_ECX), 2);
    assert_int_equal(reg(0xb, 0, CPUID_EDX), 0);
    assert_int_equal(reg(0x80000008, 0, CPUID_ECX), 63 | 6 << 12);
    assert_false(present(4, 0)); /* AMD has no leaf 4 caches: no end marker either */
    assert_true(reg(0x80000001, 0, CPUID_ECX) & CPUID_X1_ECX_TOPOEXT);
    assert_true(present(0x8000001e, 0));
    assert_int_equal(reg(0x8000001e, 0, CPUID_EAX), 0);
    assert_int_equal(reg(0x8000001e, 0, CPUID_EBX), 0);
    /* caches: L1 and L2 per core, L3 shared by the package; the end marker */
    assert_int_equal(reg(0x8000001d, 0, CPUID_EAX) & CPUID_4_EAX_SHARING_MASK, 0);
    assert_int_equal(reg(0x8000001d, 3, CPUID_EAX) & CPUID_4_EAX_SHARING_MASK, 63u << 14);
    assert_true(present(0x8000001d, 4));
    assert_int_equal(reg(0x8000001d, 4, CPUID_EAX), 0);
    assert_false(present(0x8000001d, 5));
}

static void test_intel_hides_vmx_and_unhandled_features(void **state)
{
    (void)state;
    build(intel, XCR0_ALL, 0);
    uint32_t ecx = reg(1, 0, CPUID_ECX), edx = reg(1, 0, CPUID_EDX);
    assert_false(ecx & (CPUID_1_ECX_VMX | CPUID_1_ECX_MONITOR | CPUID_1_ECX_OSXSAVE));
    assert_false(ecx & ((1u << 2) | (1u << 4) | (1u << 6) | (1u << 7) | (1u << 8) |
                        (1u << 14) | (1u << 15) | (1u << 18))); /* DTES64 .. PDCM, DCA */
    assert_true(ecx & (CPUID_1_ECX_PCID | CPUID_1_ECX_XSAVE | CPUID_1_ECX_AVX));
    assert_false(edx & (CPUID_1_EDX_MTRR | CPUID_1_EDX_MCA | (1u << 21) |
                        (1u << 22) | (1u << 29) | (1u << 31))); /* DS ACPI TM PBE */
    uint32_t b7 = reg(7, 0, CPUID_EBX), c7 = reg(7, 0, CPUID_ECX);
    assert_false(b7 & CPUID_7_EBX_INVPCID);       /* the backend did not enable it */
    assert_false(b7 & ((1u << 14) | (1u << 25))); /* MPX, PT */
    assert_false(c7 & (CPUID_7_ECX_WAITPKG | CPUID_7_ECX_OSPKE));
    assert_int_equal(reg(7, 0, CPUID_EAX), 0);    /* the host has no subleaf 1 */
    /* leaf 4: cores in package and sharing rewritten for the virtual topology */
    assert_int_equal(reg(4, 0, CPUID_EAX) >> 26, 63);
    assert_int_equal(reg(4, 0, CPUID_EAX) & CPUID_4_EAX_SHARING_MASK, 0);
    assert_int_equal(reg(4, 3, CPUID_EAX) & CPUID_4_EAX_SHARING_MASK, 63u << 14);
    /* host topology replaced */
    assert_int_equal(reg(0xb, 1, CPUID_EAX), 6);
    assert_int_equal(reg(0xb, 0, CPUID_EDX), 0);
    assert_false(present(0x8000001e, 0));
    assert_int_equal(reg(0x80000008, 0, CPUID_ECX), 0);
    assert_int_equal(reg(0x16, 0, CPUID_EAX), 2600);
}

/* The TSC rate Linux takes from leaf 0x15 (native_calibrate_tsc): its
 * products are 32-bit unsigned, so a numerator too large wraps. */
static uint32_t linux_tsc_khz_from_leaf15(void)
{
    uint32_t crystal_khz = reg(0x15, 0, CPUID_ECX) / 1000;
    return crystal_khz * reg(0x15, 0, CPUID_EBX) / reg(0x15, 0, CPUID_EAX);
}

static uint32_t leaf15_rate_for(uint64_t tsc_khz)
{
    host_tsc_khz = tsc_khz;
    build(intel, XCR0_ALL, 0);
    host_tsc_khz = 0;
    return linux_tsc_khz_from_leaf15();
}

/* With a measured TSC rate, leaves 0x15/0x16 describe the guest's clocks:
 * crystal = the vlapic's 1 GHz bus, ECX * EBX / EAX = the TSC rate
 * (Linux: tsc_khz = crystal_khz * EBX / EAX, APIC period = crystal / HZ). */
static void test_clock_leaves_give_the_measured_tsc(void **state)
{
    (void)state;
    host_tsc_khz = 4000;               /* Bochs' 4 MHz, not its model's 3.7 GHz */
    build(intel, XCR0_ALL, 0);
    host_tsc_khz = 0;
    assert_int_equal(reg(0x15, 0, CPUID_ECX), 1000000000u);
    assert_int_equal(linux_tsc_khz_from_leaf15(), 4000);
    assert_int_equal(reg(0x16, 0, CPUID_EAX), 4);
    assert_int_equal(reg(0x16, 0, CPUID_EBX), 4);
    assert_int_equal(reg(0x16, 0, CPUID_ECX), 1000);
}

/* Any TSC above 4.29 MHz wrapped Linux's crystal_khz * EBX when EBX was
 * the rate in kHz over EAX = 10^6 (Bochs at 50 MHz: 1.755 MHz). Rates
 * measured on emulators and hardware come out exact; every rate from
 * 1 MHz to 6 GHz within 1/8000, and none reads as 0. */
static void test_clock_leaf_15_survives_linux_32_bit_arithmetic(void **state)
{
    (void)state;
    const uint32_t exact[] = { 49999, 50000, 1000000, 2623417, 3500000, 3700000 };
    for (unsigned i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        assert_int_equal(leaf15_rate_for(exact[i]), exact[i]);
    for (uint64_t khz = 1000; khz <= 6000000; khz += khz / 97 + 13) {
        uint64_t got = leaf15_rate_for(khz);
        uint64_t error = got > khz ? got - khz : khz - got;
        if (error > khz / 8000 + 1)
            fail_msg("TSC %llu kHz reads as %llu kHz", (unsigned long long)khz,
                     (unsigned long long)got);
        assert_true(reg(0x15, 0, CPUID_EAX) != 0);
    }
}

/* IA32_TSC_ADJUST is a vcpu MSR kept in software (hv/vcpu_msrs.c), so
 * it is offered on every host: the AMD-like one has none of its own. */
static void test_tsc_adjust_on_every_host(void **state)
{
    (void)state;
    build(intel, XCR0_ALL, 0);
    assert_true(reg(7, 0, CPUID_EBX) & CPUID_7_EBX_TSC_ADJUST);
    build(amd, XCR0_AVX_ONLY, 0);
    assert_true(reg(7, 0, CPUID_EBX) & CPUID_7_EBX_TSC_ADJUST);
}

static void test_spectre_bits_iff_host(void **state)
{
    (void)state;
    build(intel, XCR0_ALL, 0);
    uint32_t d7 = reg(7, 0, CPUID_EDX);
    assert_true(d7 & CPUID_7_EDX_IBRS_IBPB);
    assert_true(d7 & CPUID_7_EDX_STIBP);
    assert_true(d7 & CPUID_7_EDX_ARCH_CAPABILITIES);
    assert_true(d7 & CPUID_7_EDX_MD_CLEAR);
    assert_true(d7 & CPUID_7_EDX_SSBD);     /* SPEC_CTRL.SSBD is switched per vcpu */
    assert_false(d7 & (1u << 28));           /* L1D_FLUSH: its MSR is not virtualised */
    build(amd, XCR0_AVX_ONLY, 0);
    assert_int_equal(reg(7, 0, CPUID_EDX), 0);
}

static void test_xsave_follows_supported_xcr0(void **state)
{
    (void)state;
    build(intel, XCR0_ALL, 0);
    assert_true(reg(7, 0, CPUID_EBX) & CPUID_7_EBX_AVX512F);
    assert_true(reg(7, 0, CPUID_ECX) & CPUID_7_ECX_PKU);
    assert_int_equal(reg(0xd, 0, CPUID_EAX), (uint32_t)XCR0_ALL);
    assert_int_equal(reg(0xd, 0, CPUID_ECX), 4242);
    assert_int_equal(reg(0xd, 1, CPUID_EAX), CPUID_D_1_EAX_XSAVEOPT | CPUID_D_1_EAX_XGETBV1);
    assert_int_equal(reg(0xd, 1, CPUID_EBX), 0);
    assert_true(present(0xd, 2) && present(0xd, 5) && present(0xd, 9));
    assert_false(present(0xd, 3) || present(0xd, 4) || present(0xd, 8)); /* MPX, none */
    assert_int_equal(reg(0xd, 9, CPUID_EBX), 2688);

    build(intel, XCR0_AVX_ONLY, 0);
    assert_true(reg(7, 0, CPUID_EBX) & CPUID_7_EBX_AVX2);
    assert_false(reg(7, 0, CPUID_EBX) & (CPUID_7_EBX_AVX512F | CPUID_7_EBX_AVX512VL));
    assert_false(reg(7, 0, CPUID_ECX) & CPUID_7_ECX_PKU);
    assert_false(present(0xd, 5) || present(0xd, 9));

    build(intel, HV_XCR0_X87 | HV_XCR0_SSE, 0);
    assert_true(reg(1, 0, CPUID_ECX) & CPUID_1_ECX_XSAVE);
    assert_false(reg(1, 0, CPUID_ECX) & (CPUID_1_ECX_AVX | CPUID_1_ECX_FMA | CPUID_1_ECX_F16C));
    assert_false(reg(7, 0, CPUID_EBX) & CPUID_7_EBX_AVX2);

    build(intel, HV_XCR0_X87, 0); /* no XSAVE at all */
    assert_false(reg(1, 0, CPUID_ECX) & (CPUID_1_ECX_XSAVE | CPUID_1_ECX_AVX));
    assert_false(present(0xd, 0));
}

static void test_backend_instructions(void **state)
{
    (void)state;
    build(intel, XCR0_ALL, VIRT_GUEST_INVPCID);
    assert_true(reg(7, 0, CPUID_EBX) & CPUID_7_EBX_INVPCID);
    assert_false(reg(0x80000001, 0, CPUID_EDX) & CPUID_X1_EDX_RDTSCP);
    build(intel, XCR0_ALL, VIRT_GUEST_RDTSCP);
    assert_false(reg(7, 0, CPUID_EBX) & CPUID_7_EBX_INVPCID);
    assert_true(reg(0x80000001, 0, CPUID_EDX) & CPUID_X1_EDX_RDTSCP);
}

static void test_maximum_leaves_capped(void **state)
{
    (void)state;
    static struct host_leaf big[sizeof(intel) / sizeof(intel[0]) + 2];
    memcpy(big, intel, sizeof(intel));
    big[0].regs[0] = 0x24;                       /* leaves the hypervisor does not know */
    unsigned n = sizeof(intel) / sizeof(intel[0]) - 1;
    big[n] = (struct host_leaf){ 0x80000000, 0, { 0x80000028, 0, 0, 0 } };
    big[n + 1] = (struct host_leaf)END;
    for (unsigned i = 0; i < n; i++)
        if (big[i].leaf == 0x80000000)
            big[i].leaf = 0xfffffffe;            /* hide the original */
    build(big, XCR0_ALL, 0);
    assert_int_equal(reg(0, 0, CPUID_EAX), 0x1f);
    assert_true(present(0x1f, 1));
    assert_int_equal(reg(0x1f, 1, CPUID_EAX), 6);
    assert_int_equal(reg(0x80000000, 0, CPUID_EAX), 0x80000021);
    assert_true(table.count <= HV_MAX_CPUID_ENTRIES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amd_hides_virtualization_monitor_offers_own_apic),
        cmocka_unit_test(test_amd_topology_is_virtual),
        cmocka_unit_test(test_intel_hides_vmx_and_unhandled_features),
        cmocka_unit_test(test_clock_leaves_give_the_measured_tsc),
        cmocka_unit_test(test_clock_leaf_15_survives_linux_32_bit_arithmetic),
        cmocka_unit_test(test_tsc_adjust_on_every_host),
        cmocka_unit_test(test_spectre_bits_iff_host),
        cmocka_unit_test(test_xsave_follows_supported_xcr0),
        cmocka_unit_test(test_backend_instructions),
        cmocka_unit_test(test_maximum_leaves_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
