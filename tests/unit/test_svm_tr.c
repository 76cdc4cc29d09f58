// sources:
/* Unit tests for svm/svm_tr.h: the busy bit of a TSS type is kept out of
 * the VMCB and restored for GET_SREGS, and nothing else changes: every
 * attribute value round-trips through the pair except the available TSS
 * types, which only the VMCB (or an emulator's LTR) holds and which read
 * back as busy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "svm/svm_tr.h"

#define ATTR_P (1u << 7)
#define ATTR_G (1u << 11)

static void busy_tss_types_become_available_in_the_vmcb(void **state)
{
    (void)state;
    assert_int_equal(svm_tr_attr_to_vmcb(11 | ATTR_P), 9 | ATTR_P);
    assert_int_equal(svm_tr_attr_to_vmcb(3 | ATTR_P), 1 | ATTR_P);
    assert_int_equal(svm_tr_attr_to_vmcb(11 | ATTR_P | ATTR_G | (3u << 5)),
                     9 | ATTR_P | ATTR_G | (3u << 5));
}

static void available_tss_types_read_back_busy(void **state)
{
    (void)state;
    assert_int_equal(svm_tr_attr_from_vmcb(9 | ATTR_P), 11 | ATTR_P);
    assert_int_equal(svm_tr_attr_from_vmcb(1 | ATTR_P), 3 | ATTR_P);
    assert_int_equal(svm_tr_attr_from_vmcb(11 | ATTR_P), 11 | ATTR_P);
}

static void other_attributes_pass_unchanged(void **state)
{
    (void)state;
    for (unsigned attr = 0; attr < 0x1000; attr++) {
        unsigned type = attr & 0xf;
        bool tss = !(attr & SEG_ATTR_S) && (type == 1 || type == 3 || type == 9 || type == 11);
        if (tss) {
            assert_int_equal(svm_tr_attr_from_vmcb(svm_tr_attr_to_vmcb((uint16_t)attr)),
                             attr | TR_ATTR_TYPE_BUSY);
            assert_int_equal(svm_tr_attr_to_vmcb((uint16_t)attr) & TR_ATTR_TYPE_BUSY, 0);
        } else {
            assert_int_equal(svm_tr_attr_to_vmcb((uint16_t)attr), attr);
            assert_int_equal(svm_tr_attr_from_vmcb((uint16_t)attr), attr);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(busy_tss_types_become_available_in_the_vmcb),
        cmocka_unit_test(available_tss_types_read_back_busy),
        cmocka_unit_test(other_attributes_pass_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
