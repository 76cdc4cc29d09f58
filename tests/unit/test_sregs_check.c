// sources: hv/sregs_check.c
/* Unit tests for hv/sregs_check.c: the states SET_SREGS refuses on both
 * backends before any hardware sees them. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/sregs_check.h"

#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)

/* A CPU with PAE, PSE, PGE, OSFXSR... but no UMIP, PCIDE or LA57. */
static const struct cpu_limits limits = { .cr4_allowed = 0x6fffull | (1ull << 18),
                                          .physical_bits = 40 };

static struct hv_sregs long_mode(void)
{
    struct hv_sregs s;
    memset(&s, 0, sizeof(s));
    s.cr0 = 0x80010033;
    s.cr4 = 1ull << 5;
    s.cr3 = 0x1000;
    s.efer = EFER_LME | EFER_LMA | EFER_NXE;
    s.cs.l = 1;
    return s;
}

static void test_valid_states_pass(void **state)
{
    (void)state;
    struct hv_sregs s = long_mode();
    assert_int_equal(sregs_check(&s, &limits), 0);
    memset(&s, 0, sizeof(s));
    s.cr0 = 0x60000010; /* reset state: real mode, caches off */
    assert_int_equal(sregs_check(&s, &limits), 0);
    s.cr0 = 0x11;       /* protected mode, no paging */
    s.cs.db = 1;
    assert_int_equal(sregs_check(&s, &limits), 0);
}

static void test_efer_reserved_bits_refused(void **state)
{
    (void)state;
    struct hv_sregs s = long_mode();
    s.efer |= EFER_SVME; /* ours to set, not the guest's */
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
    s = long_mode();
    s.efer |= 1ull << 20;
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
}

static void test_cr0_rules(void **state)
{
    (void)state;
    struct hv_sregs s = long_mode();
    s.cr0 &= ~1ull; /* PG without PE */
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
    s = long_mode();
    s.cr0 |= 1ull << 29; /* NW without CD */
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
    s = long_mode();
    s.cr0 |= 1ull << 7; /* reserved */
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
    s = long_mode();
    s.cr0 |= 1ull << 40;
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
}

static void test_cr4_bits_the_cpu_lacks_refused(void **state)
{
    (void)state;
    struct hv_sregs s = long_mode();
    s.cr4 |= 1ull << 17; /* PCIDE: not in this CPU */
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
    s = long_mode();
    s.cr4 |= 1ull << 18; /* OSXSAVE: present */
    assert_int_equal(sregs_check(&s, &limits), 0);
}

static void test_long_mode_needs_pae_and_no_cs_d(void **state)
{
    (void)state;
    struct hv_sregs s = long_mode();
    s.cr4 = 0;
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
    s = long_mode();
    s.cs.db = 1;
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
}

static void test_cr3_beyond_physical_width_refused(void **state)
{
    (void)state;
    struct hv_sregs s = long_mode();
    s.cr3 = 1ull << 40;
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
    s.cr3 = (1ull << 40) - 4096;
    assert_int_equal(sregs_check(&s, &limits), 0);
    memset(&s, 0, sizeof(s));
    s.cr0 = 0x80000011; /* 32-bit paging: CR3 below 4 GiB */
    s.cr3 = 1ull << 32;
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
}

static void test_cr8_range(void **state)
{
    (void)state;
    struct hv_sregs s = long_mode();
    s.cr8 = 15;
    assert_int_equal(sregs_check(&s, &limits), 0);
    s.cr8 = 16;
    assert_int_equal(sregs_check(&s, &limits), -HV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_states_pass),
        cmocka_unit_test(test_efer_reserved_bits_refused),
        cmocka_unit_test(test_cr0_rules),
        cmocka_unit_test(test_cr4_bits_the_cpu_lacks_refused),
        cmocka_unit_test(test_long_mode_needs_pae_and_no_cs_d),
        cmocka_unit_test(test_cr3_beyond_physical_width_refused),
        cmocka_unit_test(test_cr8_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
