// sources: hv/speculation_features.c
/* Unit tests for hv/speculation_features.c: which of SPEC_CTRL (and which
 * of its bits), PRED_CMD and ARCH_CAPABILITIES guests get from Intel's
 * and AMD's CPUID bits, and what ARCH_CAPABILITIES they read. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hv/msr.h"
#include "hv/speculation_features.h"

static struct speculation_features decode(uint32_t leaf7_edx, uint32_t ext8_ebx,
                                          uint64_t arch_capabilities)
{
    struct speculation_features f = { .host_spec_ctrl = 0x5a5a };
    speculation_features_decode(leaf7_edx, ext8_ebx, arch_capabilities, &f);
    return f;
}

static void test_no_bits_no_controls(void **state)
{
    (void)state;
    struct speculation_features f = decode(0, 0, ~0ull);
    assert_false(f.ibpb);
    assert_int_equal(f.spec_ctrl_bits, 0);
    assert_false(f.arch_capabilities);
    assert_int_equal(f.arch_capabilities_value, 0);   /* not read without the bit */
    assert_int_equal(f.host_spec_ctrl, 0x5a5a);       /* left to the caller */
}

/* Bochs corei7_icelake_u: IBRS/IBPB, STIBP, ARCH_CAPABILITIES, SSBD. */
static void test_intel_full_set(void **state)
{
    (void)state;
    struct speculation_features f =
        decode(CPUID_7_EDX_IBRS_IBPB | CPUID_7_EDX_STIBP | CPUID_7_EDX_ARCH_CAPABILITIES |
                   CPUID_7_EDX_SSBD, 0, 0x1f);
    assert_true(f.ibpb);
    assert_int_equal(f.spec_ctrl_bits, SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD);
    assert_true(f.arch_capabilities);
    assert_int_equal(f.arch_capabilities_value, 0x1f);
}

/* Intel's bit 26 is both IBRS and IBPB. */
static void test_intel_ibrs_ibpb_alone(void **state)
{
    (void)state;
    struct speculation_features f = decode(CPUID_7_EDX_IBRS_IBPB, 0, 0);
    assert_true(f.ibpb);
    assert_int_equal(f.spec_ctrl_bits, SPEC_CTRL_IBRS);
    assert_false(f.arch_capabilities);
}

/* An AMD CPU with the IBPB microcode only (QEMU's EPYC-IBPB model): a
 * barrier, but no SPEC_CTRL. */
static void test_amd_ibpb_without_spec_ctrl(void **state)
{
    (void)state;
    struct speculation_features f = decode(0, CPUID_80000008_EBX_IBPB, 0);
    assert_true(f.ibpb);
    assert_int_equal(f.spec_ctrl_bits, 0);
}

static void test_amd_each_bit(void **state)
{
    (void)state;
    assert_int_equal(decode(0, CPUID_80000008_EBX_IBRS, 0).spec_ctrl_bits, SPEC_CTRL_IBRS);
    assert_int_equal(decode(0, CPUID_80000008_EBX_STIBP, 0).spec_ctrl_bits, SPEC_CTRL_STIBP);
    assert_int_equal(decode(0, CPUID_80000008_EBX_SSBD, 0).spec_ctrl_bits, SPEC_CTRL_SSBD);
    assert_false(decode(0, CPUID_80000008_EBX_IBRS, 0).ibpb);
    /* AMD has no ARCH_CAPABILITIES bit: leaf 0x80000008 never shows it. */
    assert_false(decode(0, ~0u, ~0ull).arch_capabilities);
}

/* Bits announcing MSRs the hypervisor does not virtualise are hidden:
 * TSX_CTRL (7), MISC_PACKAGE_CTRLS (10), DOITM (12), FB_CLEAR_CTRL (18),
 * GDS_CTRL (26); facts such as MDS_NO (5) and GDS_NO (27) pass. */
static void test_arch_capabilities_only_facts(void **state)
{
    (void)state;
    uint64_t announcing = 1ull << 7 | 1ull << 10 | 1ull << 12 | 1ull << 18 | 1ull << 26;
    uint64_t facts = 1ull << 0 | 1ull << 5 | 1ull << 27;
    struct speculation_features f =
        decode(CPUID_7_EDX_ARCH_CAPABILITIES, 0, announcing | facts | 1ull << 63);
    assert_true(f.arch_capabilities);
    assert_int_equal(f.arch_capabilities_value, facts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_bits_no_controls),
        cmocka_unit_test(test_intel_full_set),
        cmocka_unit_test(test_intel_ibrs_ibpb_alone),
        cmocka_unit_test(test_amd_ibpb_without_spec_ctrl),
        cmocka_unit_test(test_amd_each_bit),
        cmocka_unit_test(test_arch_capabilities_only_facts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
