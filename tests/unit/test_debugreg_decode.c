// sources: hv/debugreg_decode.c
/* Unit tests for hv/debugreg_decode.c: MOV to and from debug registers
 * decoded from their bytes (encodings from the Intel SDM vol. 2B), as the
 * hypervisor needs them when an SVM exit does not name the register. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/debugreg_decode.h"

static struct debugreg_insn decode_ok(const uint8_t *bytes, unsigned n, bool long_mode)
{
    struct debugreg_insn insn;
    memset(&insn, 0xaa, sizeof(insn));
    assert_int_equal(debugreg_decode(bytes, n, long_mode, &insn), 0);
    return insn;
}

static void test_plain_forms(void **state)
{
    (void)state;
    static const uint8_t from_dr7_to_eax[] = { 0x0f, 0x21, 0xf8 };
    static const uint8_t from_edx_to_dr1[] = { 0x0f, 0x23, 0xca };
    static const uint8_t from_dr0_to_ebx[] = { 0x0f, 0x21, 0xc3 };
    struct debugreg_insn i = decode_ok(from_dr7_to_eax, 3, false);
    assert_int_equal(i.number, 7);
    assert_int_equal(i.gpr, 0);
    assert_false(i.write);
    assert_int_equal(i.length, 3);
    i = decode_ok(from_edx_to_dr1, 3, false);
    assert_int_equal(i.number, 1);
    assert_int_equal(i.gpr, 2);
    assert_true(i.write);
    i = decode_ok(from_dr0_to_ebx, 3, true);
    assert_int_equal(i.number, 0);
    assert_int_equal(i.gpr, 3);
}

/* The mod field is ignored: 00 and 11 name the same registers. */
static void test_mod_field_ignored(void **state)
{
    (void)state;
    static const uint8_t mod00[] = { 0x0f, 0x23, 0x1e }; /* reg 3, rm 6 */
    struct debugreg_insn i = decode_ok(mod00, 3, false);
    assert_int_equal(i.number, 3);
    assert_int_equal(i.gpr, 6);
}

static void test_rex_in_long_mode_only(void **state)
{
    (void)state;
    static const uint8_t rex_b[] = { 0x41, 0x0f, 0x21, 0xfc };  /* mov r12, dr7 */
    static const uint8_t rex_r[] = { 0x44, 0x0f, 0x23, 0xc0 };  /* mov dr8, rax */
    struct debugreg_insn i = decode_ok(rex_b, 4, true);
    assert_int_equal(i.number, 7);
    assert_int_equal(i.gpr, 12);
    assert_int_equal(i.length, 4);
    i = decode_ok(rex_r, 4, true);
    assert_int_equal(i.number, 8);
    /* Outside 64-bit mode 0x41 is INC ECX: no MOV DR at all. */
    struct debugreg_insn none;
    assert_int_equal(debugreg_decode(rex_b, 4, false, &none), -1);
}

/* Prefixes add to the length; a REX prefix counts only right before the
 * opcode. */
static void test_prefixes(void **state)
{
    (void)state;
    static const uint8_t prefixed[] = { 0x66, 0x2e, 0x0f, 0x21, 0xd9 }; /* dr3 -> ecx */
    static const uint8_t rex_then_66[] = { 0x41, 0x66, 0x0f, 0x21, 0xc0 };
    struct debugreg_insn i = decode_ok(prefixed, 5, false);
    assert_int_equal(i.number, 3);
    assert_int_equal(i.gpr, 1);
    assert_int_equal(i.length, 5);
    i = decode_ok(rex_then_66, 5, true);
    assert_int_equal(i.gpr, 0);
    assert_int_equal(i.length, 5);
}

static void test_refused(void **state)
{
    (void)state;
    struct debugreg_insn i;
    static const uint8_t lock[] = { 0xf0, 0x0f, 0x21, 0xc0 };
    static const uint8_t mov_cr[] = { 0x0f, 0x20, 0xc0 };
    static const uint8_t short_insn[] = { 0x0f, 0x21 };
    static const uint8_t sixteen_prefixes[] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                                0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x0f,
                                                0x21, 0xc0 };
    assert_int_equal(debugreg_decode(lock, 4, false, &i), -1);
    assert_int_equal(debugreg_decode(mov_cr, 3, false, &i), -1);
    assert_int_equal(debugreg_decode(short_insn, 2, false, &i), -1);
    assert_int_equal(debugreg_decode(short_insn, 0, false, &i), -1);
    /* 13 prefixes + 3 bytes = 16: longer than an instruction may be. */
    assert_int_equal(debugreg_decode(sixteen_prefixes, 16, false, &i), -1);
    assert_int_equal(debugreg_decode(sixteen_prefixes + 1, 15, false, &i), 0);
    assert_int_equal(i.length, 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_forms),
        cmocka_unit_test(test_mod_field_ignored),
        cmocka_unit_test(test_rex_in_long_mode_only),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
