// sources: hv/cpuid_table.c hv/cpuid_check.c
/* Unit tests for hv/cpuid_table.c (sorting, the leaf index, lookup) and
 * hv/cpuid_check.c (what SET_CPUID accepts), on a small hand-made
 * supported table. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/cpuid.h"
#include "hv/cpuid_bits.h"

static struct cpuid_table supported;
/* The default table, which cpuid_answer_static falls back on; these tests
 * give their vcpu its own. */
struct cpuid_table cpuid_supported;

static void put(struct cpuid_table *t, uint32_t function, uint32_t index, bool indexed,
                uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    struct cpuid_entry e = {
        .function = function,
        .index = index,
        .flags = indexed ? CPUID_ENTRY_INDEXED : 0,
        .regs = { a, b, c, d },
    };
    assert_int_equal(cpuid_table_append(t, &e), 0);
}

/* Leaf 1 offers SSE3 and XSAVE (ECX), FPU and TSC (EDX); leaf 7.0 offers
 * FSGSBASE (EBX) and PKU (ECX); 0xD.0 offers x87|SSE|AVX. Deliberately
 * given out of order. */
static int setup(void **state)
{
    (void)state;
    cpuid_table_reset(&supported, true);
    put(&supported, CPUID_LEAF_XSAVE, 0, true, 0x7, 576, 832, 0);
    put(&supported, CPUID_LEAF_FEATURES, 0, false, 0x800f12, 0x400800,
        CPUID_1_ECX_SSE3 | CPUID_1_ECX_XSAVE | CPUID_1_ECX_HYPERVISOR,
        CPUID_1_EDX_FPU | CPUID_1_EDX_TSC);
    put(&supported, CPUID_LEAF_VENDOR, 0, false, 0xd, 0x68747541, 0x444d4163, 0x69746e65);
    put(&supported, CPUID_LEAF_EXT_FEATURES, 0, true, 0, CPUID_7_EBX_FSGSBASE,
        CPUID_7_ECX_PKU, 0);
    put(&supported, CPUID_LEAF_TOPOLOGY, 1, true, 6, 64, 0x201, 0);
    put(&supported, CPUID_LEAF_TOPOLOGY, 0, true, 0, 1, 0x100, 0);
    put(&supported, CPUID_LEAF_AMD_TOPOLOGY, 0, false, 0, 0, 0, 0);
    put(&supported, CPUID_LEAF_EXT_MAX, 0, false, 0x8000001e, 0, 0, 0);
    assert_int_equal(cpuid_table_seal(&supported), 0);
    return 0;
}

static void test_seal_sorts_and_indexes(void **state)
{
    (void)state;
    for (unsigned i = 1; i < supported.count; i++) {
        const struct cpuid_entry *a = &supported.entries[i - 1], *b = &supported.entries[i];
        assert_true(a->function < b->function ||
                    (a->function == b->function && a->index < b->index));
    }
    const struct cpuid_entry *e = cpuid_table_find(&supported, CPUID_LEAF_VENDOR, 0);
    assert_non_null(e);
    assert_int_equal(e->regs[CPUID_EAX], 0xd);
    e = cpuid_table_find(&supported, CPUID_LEAF_TOPOLOGY, 1);
    assert_non_null(e);
    assert_int_equal(e->regs[CPUID_EAX], 6);
    e = cpuid_table_find(&supported, CPUID_LEAF_TOPOLOGY, 0);
    assert_non_null(e);
    assert_int_equal(e->regs[CPUID_EBX], 1);
    assert_non_null(cpuid_table_find(&supported, CPUID_LEAF_EXT_MAX, 0));
}

static void test_find_misses_read_as_zeros(void **state)
{
    (void)state;
    assert_null(cpuid_table_find(&supported, CPUID_LEAF_TOPOLOGY, 2)); /* no such subleaf */
    assert_null(cpuid_table_find(&supported, 5, 0));                   /* no such leaf */
    assert_null(cpuid_table_find(&supported, 0x20, 0));                /* past the window */
    assert_null(cpuid_table_find(&supported, 0x7fffffff, 0));
    assert_null(cpuid_table_find(&supported, 0x80000022, 0));
    assert_null(cpuid_table_find(&supported, 0xffffffff, 0));
    assert_null(cpuid_table_find(&supported, 0x40000000, 0));
}

static void test_leaf_without_subleaves_answers_every_index(void **state)
{
    (void)state;
    const struct cpuid_entry *e = cpuid_table_find(&supported, CPUID_LEAF_FEATURES, 12345);
    assert_non_null(e);
    assert_int_equal(e->function, CPUID_LEAF_FEATURES);
}

/* The fast path answers from static_answer: leaves with one plain answer
 * only, from wherever sorting put their entry. */
static void test_static_answers_only_for_plain_leaves(void **state)
{
    (void)state;
    static struct vcpu vcpu;
    vcpu.cpuid = &supported;
    uint64_t rax = CPUID_LEAF_VENDOR;
    assert_true(cpuid_answer_static(&vcpu, &rax));
    assert_int_equal(rax, 0xd);
    assert_int_equal(vcpu.gprs.rbx, 0x68747541);
    assert_int_equal(vcpu.gprs.rcx, 0x444d4163);
    assert_int_equal(vcpu.gprs.rdx, 0x69746e65);
    rax = CPUID_LEAF_EXT_MAX;
    assert_true(cpuid_answer_static(&vcpu, &rax));
    assert_int_equal(rax, 0x8000001e);
    /* computed at the exit, indexed, absent, beyond the table's slots */
    const uint32_t refused[] = { CPUID_LEAF_FEATURES, CPUID_LEAF_XSAVE, CPUID_LEAF_TOPOLOGY,
                                 2, 0x40000000, 0x80000002 };
    for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        rax = refused[i];
        vcpu.gprs.rbx = 0x5a5a;
        assert_false(cpuid_answer_static(&vcpu, &rax));
        assert_int_equal(rax, refused[i]);
        assert_int_equal(vcpu.gprs.rbx, 0x5a5a);
    }
    for (unsigned slot = 0; slot < CPUID_LEAF_SLOTS; slot++) {
        unsigned offset = supported.static_answer[slot];
        if (!offset)
            continue;
        assert_true(offset >= offsetof(struct cpuid_table, entries));
        assert_int_equal((offset - offsetof(struct cpuid_table, entries)) %
                         sizeof(struct cpuid_entry), 0);
        const struct cpuid_entry *e = (const void *)((const uint8_t *)&supported + offset);
        assert_int_equal(cpuid_leaf_slot(e->function), slot);
        assert_false(e->flags & (CPUID_ENTRY_INDEXED | CPUID_ENTRY_DYNAMIC));
    }
}

static void test_dynamic_entries_marked(void **state)
{
    (void)state;
    assert_true(cpuid_table_find(&supported, CPUID_LEAF_FEATURES, 0)->flags & CPUID_ENTRY_DYNAMIC);
    assert_true(cpuid_table_find(&supported, CPUID_LEAF_XSAVE, 0)->flags & CPUID_ENTRY_DYNAMIC);
    assert_true(cpuid_table_find(&supported, CPUID_LEAF_EXT_FEATURES, 0)->flags &
                CPUID_ENTRY_DYNAMIC);
    /* APIC IDs come from the slot only in the default table */
    assert_true(cpuid_table_find(&supported, CPUID_LEAF_TOPOLOGY, 0)->flags & CPUID_ENTRY_DYNAMIC);
    assert_false(cpuid_table_find(&supported, CPUID_LEAF_VENDOR, 0)->flags & CPUID_ENTRY_DYNAMIC);
    struct cpuid_table own;
    cpuid_table_reset(&own, false);
    put(&own, CPUID_LEAF_TOPOLOGY, 0, true, 0, 1, 0x100, 7);
    put(&own, CPUID_LEAF_FEATURES, 0, false, 0, 0, 0, 0);
    assert_int_equal(cpuid_table_seal(&own), 0);
    assert_false(cpuid_table_find(&own, CPUID_LEAF_TOPOLOGY, 0)->flags & CPUID_ENTRY_DYNAMIC);
    assert_true(cpuid_table_find(&own, CPUID_LEAF_FEATURES, 0)->flags & CPUID_ENTRY_DYNAMIC);
}

static void test_duplicates_refused(void **state)
{
    (void)state;
    struct cpuid_table t;
    cpuid_table_reset(&t, false);
    put(&t, CPUID_LEAF_FEATURES, 0, false, 1, 0, 0, 0);
    put(&t, CPUID_LEAF_VENDOR, 0, false, 1, 0, 0, 0);
    put(&t, CPUID_LEAF_FEATURES, 0, false, 2, 0, 0, 0);
    assert_int_equal(cpuid_table_seal(&t), -HV_EINVAL);
    cpuid_table_reset(&t, false);
    put(&t, CPUID_LEAF_TOPOLOGY, 0, true, 0, 0, 0, 0);
    put(&t, CPUID_LEAF_TOPOLOGY, 1, true, 0, 0, 0, 0);
    assert_int_equal(cpuid_table_seal(&t), 0);
}

static void test_table_full(void **state)
{
    (void)state;
    static struct cpuid_table t;
    cpuid_table_reset(&t, false);
    struct cpuid_entry e = { .function = CPUID_LEAF_CACHE_PARAMS, .flags = CPUID_ENTRY_INDEXED };
    for (unsigned i = 0; i < HV_MAX_CPUID_ENTRIES; i++) {
        e.index = HV_MAX_CPUID_ENTRIES - i; /* reversed: the sort has work */
        assert_int_equal(cpuid_table_append(&t, &e), 0);
    }
    assert_int_equal(cpuid_table_append(&t, &e), -HV_E2BIG);
    assert_int_equal(cpuid_table_seal(&t), 0);
    /* one leaf with every entry: its span is the whole table */
    assert_int_equal(t.span[CPUID_LEAF_CACHE_PARAMS], HV_MAX_CPUID_ENTRIES);
    assert_int_equal(cpuid_table_find(&t, CPUID_LEAF_CACHE_PARAMS, 128)->index, 128);
    assert_int_equal(cpuid_table_find(&t, CPUID_LEAF_CACHE_PARAMS, 1)->index, 1);
}

static struct hv_cpuid_entry abi(uint32_t function, uint32_t index, uint32_t flags,
                                 uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    return (struct hv_cpuid_entry){ .function = function, .index = index, .flags = flags,
                                    .eax = a, .ebx = b, .ecx = c, .edx = d };
}

static int check(struct hv_cpuid_entry in, struct cpuid_entry *out)
{
    return cpuid_check_entry(&in, &supported, out);
}

static void test_feature_bits_within_mask(void **state)
{
    (void)state;
    struct cpuid_entry out;
    /* a subset of the mask, and the identification values changed freely */
    assert_int_equal(check(abi(1, 0, 0, 0x12345, 0x07000800, CPUID_1_ECX_SSE3, CPUID_1_EDX_FPU),
                           &out), 0);
    assert_int_equal(out.regs[CPUID_EAX], 0x12345);
    assert_int_equal(out.regs[CPUID_EBX], 0x07000800); /* APIC ID 7: the VMM's */
    assert_int_equal(out.regs[CPUID_ECX], CPUID_1_ECX_SSE3);
    /* one bit outside: MONITOR, VMX, x2APIC */
    assert_int_equal(check(abi(1, 0, 0, 0, 0, CPUID_1_ECX_MONITOR, 0), &out), -HV_EINVAL);
    assert_int_equal(check(abi(1, 0, 0, 0, 0, CPUID_1_ECX_VMX, 0), &out), -HV_EINVAL);
    assert_int_equal(check(abi(1, 0, 0, 0, 0, 0, CPUID_1_EDX_APIC), &out), -HV_EINVAL);
    /* subleaf features: 7.0 EAX (last subleaf) is a value, EBX a mask */
    assert_int_equal(check(abi(7, 0, 1, 5, CPUID_7_EBX_FSGSBASE, 0, 0), &out), 0);
    assert_int_equal(check(abi(7, 0, 1, 0, CPUID_7_EBX_AVX2, 0, 0), &out), -HV_EINVAL);
    /* a subleaf the supported table lacks offers nothing */
    assert_int_equal(check(abi(7, 1, 1, 0, 0, 0, 0), &out), 0);
    assert_int_equal(check(abi(7, 1, 1, 1, 0, 0, 0), &out), -HV_EINVAL);
    /* XCR0 components: only those supported */
    assert_int_equal(check(abi(0xd, 0, 1, 0x3, 0, 576, 0), &out), 0);
    assert_int_equal(check(abi(0xd, 0, 1, 0x1f, 0, 0, 0), &out), -HV_EINVAL);
    assert_int_equal(check(abi(0xd, 0, 1, 0x7, 0, 0, 1), &out), -HV_EINVAL);
}

static void test_guest_owned_bits_dropped(void **state)
{
    (void)state;
    struct cpuid_entry out;
    assert_int_equal(check(abi(1, 0, 0, 0, 0, CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_XSAVE, 0),
                           &out), 0);
    assert_int_equal(out.regs[CPUID_ECX], CPUID_1_ECX_XSAVE);
    assert_int_equal(check(abi(7, 0, 1, 0, 0, CPUID_7_ECX_OSPKE | CPUID_7_ECX_PKU, 0), &out), 0);
    assert_int_equal(out.regs[CPUID_ECX], CPUID_7_ECX_PKU);
}

static void test_values_are_the_vmms(void **state)
{
    (void)state;
    struct cpuid_entry out;
    /* topology, vendor, brand string: anything */
    assert_int_equal(check(abi(0xb, 3, 1, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), &out), 0);
    assert_int_equal(out.index, 3);
    assert_int_equal(check(abi(0, 0, 0, 0x1f, 1, 2, 3), &out), 0);
    assert_int_equal(check(abi(0x80000002, 0, 0, 0x41414141, 1, 2, 3), &out), 0);
    assert_int_equal(check(abi(0x8000001e, 0, 0, 9, 9, 0, 0), &out), 0);
}

static void test_leaf_not_offered_only_zeros(void **state)
{
    (void)state;
    struct cpuid_entry out;
    assert_int_equal(check(abi(5, 0, 0, 0, 0, 0, 0), &out), 0);           /* MONITOR leaf */
    assert_int_equal(check(abi(5, 0, 0, 64, 64, 3, 0), &out), -HV_EINVAL);
    assert_int_equal(check(abi(0x8000000a, 0, 0, 1, 0, 0, 0), &out), -HV_EINVAL); /* SVM */
    assert_int_equal(check(abi(0x40000000, 0, 0, 1, 0, 0, 0), &out), -HV_EINVAL);
    assert_int_equal(check(abi(0xc0000000, 0, 0, 0, 0, 0, 0), &out), 0);
}

static void test_flags_and_indexes(void **state)
{
    (void)state;
    struct cpuid_entry out;
    assert_int_equal(check(abi(1, 0, 2, 0, 0, 0, 0), &out), -HV_EINVAL);   /* unknown flag */
    assert_int_equal(check(abi(7, 0, 0, 0, 0, 0, 0), &out), -HV_EINVAL);   /* needs an index */
    assert_int_equal(check(abi(0xd, 2, 0, 256, 576, 0, 0), &out), -HV_EINVAL);
    /* a leaf without subleaves ignores the index and the flag */
    assert_int_equal(check(abi(1, 9, 1, 0, 0, 0, 0), &out), 0);
    assert_int_equal(out.index, 0);
    assert_int_equal(out.flags, 0);
    assert_int_equal(check(abi(0xd, 2, 1, 256, 576, 0, 0), &out), 0);
    assert_int_equal(out.flags, CPUID_ENTRY_INDEXED);
}

static void test_abi_form_fills_default_apic_ids(void **state)
{
    (void)state;
    struct hv_cpuid_entry e;
    const struct cpuid_entry *leaf1 = cpuid_table_find(&supported, CPUID_LEAF_FEATURES, 0);
    cpuid_entry_to_abi(&supported, leaf1, 5, &e);
    assert_int_equal(e.ebx, 0x05400800);
    assert_int_equal(e.flags, 0);
    cpuid_entry_to_abi(&supported, leaf1, -1, &e);
    assert_int_equal(e.ebx, 0x00400800);
    const struct cpuid_entry *topo = cpuid_table_find(&supported, CPUID_LEAF_TOPOLOGY, 1);
    cpuid_entry_to_abi(&supported, topo, 3, &e);
    assert_int_equal(e.edx, 3);
    assert_int_equal(e.flags, HV_CPUID_FLAG_SIGNIFICANT_INDEX);
    assert_int_equal(e.index, 1);
    const struct cpuid_entry *amd = cpuid_table_find(&supported, CPUID_LEAF_AMD_TOPOLOGY, 0);
    cpuid_entry_to_abi(&supported, amd, 2, &e);
    assert_int_equal(e.eax, 2);
    assert_int_equal(e.ebx & 0xff, 2);
    assert_int_equal(e.padding[0] | e.padding[1] | e.padding[2], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_sorts_and_indexes),
        cmocka_unit_test(test_find_misses_read_as_zeros),
        cmocka_unit_test(test_leaf_without_subleaves_answers_every_index),
        cmocka_unit_test(test_dynamic_entries_marked),
        cmocka_unit_test(test_static_answers_only_for_plain_leaves),
        cmocka_unit_test(test_duplicates_refused),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_feature_bits_within_mask),
        cmocka_unit_test(test_guest_owned_bits_dropped),
        cmocka_unit_test(test_values_are_the_vmms),
        cmocka_unit_test(test_leaf_not_offered_only_zeros),
        cmocka_unit_test(test_flags_and_indexes),
        cmocka_unit_test(test_abi_form_fills_default_apic_ids),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
