// sources: hv/cr_write.c
/* Unit tests for hv/cr_write.c: which MOV to CR0 / CR4 the CPU takes and
 * which give #GP, in flat 32-bit protected mode and in 64-bit mode. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/cr_write.h"

#define CR0_MP (1ull << 1)
#define CR0_NE (1ull << 5)
#define CR4_VMXE (1ull << 13)
#define CR4_OSFXSR (1ull << 9)

/* A CPU with VME..PGE, OSFXSR, FSGSBASE, PCIDE, SMEP: no LA57, no CET. */
static const uint64_t allowed = 0xffull | CR4_OSFXSR | (1ull << 16) | CR4_PCIDE | CR4_SMEP;

static struct cr_write_context flat32(void)
{
    return (struct cr_write_context){ .cr0 = CR0_PE | CR0_ET, .cr4_allowed = allowed };
}

static struct cr_write_context long64(void)
{
    return (struct cr_write_context){
        .cr0 = CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE, .cr3 = 0x1000,
        .cr4 = CR4_PAE, .efer = CR_EFER_LME | CR_EFER_LMA, .cs_l = true,
        .cr4_allowed = allowed,
    };
}

static void test_cr0_valid_writes(void **state)
{
    (void)state;
    struct cr_write_context c = flat32();
    uint64_t result = 0;
    assert_true(cr0_write_allowed(&c, CR0_PE | CR0_NE, &result));
    assert_int_equal(result, CR0_PE | CR0_NE | CR0_ET); /* ET always reads 1 */
    assert_true(cr0_write_allowed(&c, CR0_PE | CR0_CD | CR0_NW, &result));
    assert_true(cr0_write_allowed(&c, CR0_PE | CR0_PG, &result));
    assert_true(cr0_write_allowed(&c, 0, &result)); /* back to real mode */
    /* Reserved bits below 32 are dropped, not refused. */
    assert_true(cr0_write_allowed(&c, CR0_PE | (1ull << 7), &result));
    assert_int_equal(result, CR0_PE | CR0_ET);
}

static void test_cr0_invalid_combinations(void **state)
{
    (void)state;
    struct cr_write_context c = flat32();
    uint64_t result = 0;
    assert_false(cr0_write_allowed(&c, CR0_PG | CR0_NE, &result));          /* PG without PE */
    assert_false(cr0_write_allowed(&c, CR0_PE | CR0_NW, &result));          /* NW without CD */
    assert_false(cr0_write_allowed(&c, CR0_PE | (1ull << 32), &result));    /* bits 63:32 */
}

static void test_cr0_long_mode_rules(void **state)
{
    (void)state;
    struct cr_write_context c = long64();
    uint64_t result = 0;
    /* Paging cannot go off in 64-bit mode... */
    assert_false(cr0_write_allowed(&c, c.cr0 & ~CR0_PG, &result));
    /* ...but can from compatibility mode. */
    c.cs_l = false;
    assert_true(cr0_write_allowed(&c, c.cr0 & ~CR0_PG, &result));
    /* Nor with PCIDs on. */
    c.cr4 |= CR4_PCIDE;
    assert_false(cr0_write_allowed(&c, c.cr0 & ~CR0_PG, &result));
    /* Turning paging on with LME needs PAE. */
    c = flat32();
    c.efer = CR_EFER_LME;
    assert_false(cr0_write_allowed(&c, CR0_PE | CR0_PG, &result));
    c.cr4 = CR4_PAE;
    assert_true(cr0_write_allowed(&c, CR0_PE | CR0_PG, &result));
    c.cs_l = true;
    assert_false(cr0_write_allowed(&c, CR0_PE | CR0_PG, &result));
}

static void test_cr0_wp_with_cet(void **state)
{
    (void)state;
    struct cr_write_context c = long64();
    uint64_t result = 0;
    c.cr4 |= CR4_CET;
    assert_false(cr0_write_allowed(&c, c.cr0 & ~CR0_WP, &result));
    assert_true(cr0_write_allowed(&c, c.cr0, &result));
}

static void test_cr4_bits_the_cpu_lacks(void **state)
{
    (void)state;
    struct cr_write_context c = flat32();
    assert_true(cr4_write_allowed(&c, CR4_PAE | CR4_PSE | CR4_OSFXSR));
    assert_false(cr4_write_allowed(&c, CR4_VMXE));          /* no nested VMX */
    assert_false(cr4_write_allowed(&c, 1ull << 15));        /* reserved */
    assert_false(cr4_write_allowed(&c, CR4_LA57));          /* not on this CPU */
    assert_false(cr4_write_allowed(&c, 1ull << 32));
}

static void test_cr4_long_mode_rules(void **state)
{
    (void)state;
    struct cr_write_context c = long64();
    assert_false(cr4_write_allowed(&c, 0));                  /* PAE off in IA-32e */
    assert_true(cr4_write_allowed(&c, CR4_PAE | CR4_PGE));
    c.cr4_allowed |= CR4_LA57;
    assert_false(cr4_write_allowed(&c, CR4_PAE | CR4_LA57)); /* depth fixed in IA-32e */
    /* PCIDE: only in IA-32e mode, and with CR3[11:0] zero. */
    assert_true(cr4_write_allowed(&c, CR4_PAE | CR4_PCIDE));
    c.cr3 = 0x1001;
    assert_false(cr4_write_allowed(&c, CR4_PAE | CR4_PCIDE));
    c = flat32();
    assert_false(cr4_write_allowed(&c, CR4_PCIDE));
}

static void test_cr4_cet_needs_wp(void **state)
{
    (void)state;
    struct cr_write_context c = long64();
    c.cr4_allowed |= CR4_CET;
    assert_true(cr4_write_allowed(&c, CR4_PAE | CR4_CET));
    c.cr0 &= ~CR0_WP;
    assert_false(cr4_write_allowed(&c, CR4_PAE | CR4_CET));
}

static void test_flush_and_pdpte_load(void **state)
{
    (void)state;
    uint64_t pe = CR0_PE | CR0_ET, pg = pe | CR0_PG;
    assert_true(cr_write_flushes_tlb(pe, pg, 0, 0));
    assert_true(cr_write_flushes_tlb(pg, pg, 0, CR4_PGE));
    assert_false(cr_write_flushes_tlb(pg, pg | CR0_NE, CR4_PAE, CR4_PAE));
    /* PAE paging entered: PDPTEs load; under LME (IA-32e) they do not. */
    assert_true(cr_write_loads_pdptes(pe, pg, CR4_PAE, CR4_PAE, 0));
    assert_false(cr_write_loads_pdptes(pe, pg, CR4_PAE, CR4_PAE, CR_EFER_LME));
    assert_true(cr_write_loads_pdptes(pg, pg, CR4_PAE, CR4_PAE | CR4_PGE, 0));
    assert_false(cr_write_loads_pdptes(pg, pg | CR0_NE, CR4_PAE, CR4_PAE, 0));
    assert_false(cr_write_loads_pdptes(pe, pg, 0, 0, 0));   /* 32-bit paging */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cr0_valid_writes),
        cmocka_unit_test(test_cr0_invalid_combinations),
        cmocka_unit_test(test_cr0_long_mode_rules),
        cmocka_unit_test(test_cr0_wp_with_cet),
        cmocka_unit_test(test_cr4_bits_the_cpu_lacks),
        cmocka_unit_test(test_cr4_long_mode_rules),
        cmocka_unit_test(test_cr4_cet_needs_wp),
        cmocka_unit_test(test_flush_and_pdpte_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
