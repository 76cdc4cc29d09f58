// sources: vmx/vmx_controls.c
/* Unit tests for vmx/vmx_controls.c: control values from capability MSR
 * values (low half: bits that must be 1; high half: bits that may be 1),
 * including a CPU that lacks a control the hypervisor needs. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmx/vmcs_fields.h"
#include "vmx/vmx_controls.h"

static uint64_t capability(uint32_t must_be_one, uint32_t may_be_one)
{
    return (uint64_t)may_be_one << 32 | must_be_one;
}

static void test_required_and_wanted_bits_set_when_allowed(void **state)
{
    (void)state;
    uint32_t missing = 0xdead;
    uint32_t v = vmx_control_value(capability(0, 0xffffffff),
                                   PIN_EXTERNAL_INTERRUPT_EXITING, PIN_NMI_EXITING, &missing);
    assert_int_equal(missing, 0);
    assert_int_equal(v, PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING);
}

static void test_forced_bits_are_kept(void **state)
{
    (void)state;
    uint32_t missing;
    /* Bochs-like default1 bits 1, 2, 4 must be one. */
    uint32_t v = vmx_control_value(capability(0x16, 0xff), 0x1, 0, &missing);
    assert_int_equal(missing, 0);
    assert_int_equal(v, 0x17);
}

static void test_wanted_bit_the_cpu_lacks_is_dropped_quietly(void **state)
{
    (void)state;
    uint32_t missing;
    uint32_t v = vmx_control_value(capability(0, PROC2_ENABLE_EPT), PROC2_ENABLE_EPT,
                                   PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST, &missing);
    assert_int_equal(missing, 0);
    assert_int_equal(v, PROC2_ENABLE_EPT);
}

static void test_required_bit_the_cpu_lacks_is_reported(void **state)
{
    (void)state;
    uint32_t missing;
    /* A CPU without EPT: the secondary control cannot be one. */
    uint32_t v = vmx_control_value(capability(0, PROC2_ENABLE_VPID),
                                   PROC2_ENABLE_EPT, PROC2_ENABLE_VPID, &missing);
    assert_int_equal(missing, PROC2_ENABLE_EPT);
    assert_int_equal(v & PROC2_ENABLE_EPT, 0);
    assert_int_equal(v, PROC2_ENABLE_VPID);
}

static void test_true_controls_allow_clearing_default_ones(void **state)
{
    (void)state;
    uint32_t missing;
    /* Legacy MSR forces CR3-load/store exiting on; the true MSR does not. */
    uint64_t legacy = capability(PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING, 0xffffffff);
    uint64_t true_caps = capability(0, 0xffffffff);
    uint32_t wanted = PROC_HLT_EXITING;
    assert_true(vmx_control_value(legacy, wanted, 0, &missing) & PROC_CR3_LOAD_EXITING);
    assert_false(vmx_control_value(true_caps, wanted, 0, &missing) & PROC_CR3_LOAD_EXITING);
}

static void test_capability_from_bochs_skylake(void **state)
{
    (void)state;
    uint32_t missing;
    /* IA32_VMX_TRUE_PINBASED_CTLS as Bochs 2.7 reports it for
     * corei7_skylake_x: default1 bits 1, 2, 4; allowed 0x7f. */
    uint32_t v = vmx_control_value(0x0000007f00000016ull,
                                   PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING, 0,
                                   &missing);
    assert_int_equal(missing, 0);
    assert_int_equal(v, 0x16 | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_required_and_wanted_bits_set_when_allowed),
        cmocka_unit_test(test_forced_bits_are_kept),
        cmocka_unit_test(test_wanted_bit_the_cpu_lacks_is_dropped_quietly),
        cmocka_unit_test(test_required_bit_the_cpu_lacks_is_reported),
        cmocka_unit_test(test_true_controls_allow_clearing_default_ones),
        cmocka_unit_test(test_capability_from_bochs_skylake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
