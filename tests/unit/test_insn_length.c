// sources: hv/insn_length.c
/* Unit tests for hv/insn_length.c: the lengths of the instructions the
 * hypervisor completes, with and without prefixes, in and out of 64-bit
 * mode, and refusals of bytes that are something else. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/insn_length.h"

#define LEN(bytes, mode64, op) insn_length(bytes, sizeof(bytes), mode64, &op)

static void test_plain_opcodes(void **state)
{
    (void)state;
    static const uint8_t cpuid[] = { 0x0f, 0xa2, 0x90 };
    static const uint8_t vmmcall[] = { 0x0f, 0x01, 0xd9 };
    static const uint8_t vmcall[] = { 0x0f, 0x01, 0xc1 };
    static const uint8_t rdmsr[] = { 0x0f, 0x32 }, wrmsr[] = { 0x0f, 0x30 };
    static const uint8_t hlt[] = { 0xf4 }, invd[] = { 0x0f, 0x08 };
    assert_int_equal(LEN(cpuid, false, INSN_CPUID), 2);
    assert_int_equal(LEN(cpuid, true, INSN_CPUID), 2);
    assert_int_equal(LEN(vmmcall, true, INSN_VMMCALL), 3);
    assert_int_equal(LEN(vmcall, false, INSN_VMCALL), 3);
    assert_int_equal(LEN(rdmsr, false, INSN_RDMSR), 2);
    assert_int_equal(LEN(wrmsr, true, INSN_WRMSR), 2);
    assert_int_equal(LEN(hlt, false, INSN_HLT), 1);
    assert_int_equal(LEN(invd, false, INSN_INVD), 2);
}

static void test_prefixes_count(void **state)
{
    (void)state;
    static const uint8_t osize[] = { 0x66, 0x0f, 0xa2 };
    static const uint8_t segs[] = { 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x36, 0x0f, 0xa2 };
    static const uint8_t rex_w[] = { 0x48, 0x0f, 0xa2 };
    static const uint8_t many[] = { 0x66, 0x67, 0xf3, 0xf2, 0x2e, 0x41, 0x0f, 0x01, 0xd9 };
    static const uint8_t rex_then_legacy[] = { 0x48, 0x66, 0x0f, 0x32 };
    assert_int_equal(LEN(osize, false, INSN_CPUID), 3);
    assert_int_equal(LEN(segs, false, INSN_CPUID), 8);
    assert_int_equal(LEN(rex_w, true, INSN_CPUID), 3);
    assert_int_equal(LEN(many, true, INSN_VMMCALL), 9);
    /* A REX that legacy prefixes follow is ignored but still a byte. */
    assert_int_equal(LEN(rex_then_legacy, true, INSN_RDMSR), 4);
}

static void test_rex_only_in_64_bit_mode(void **state)
{
    (void)state;
    /* 0x48 is DEC EAX outside 64-bit mode: not a CPUID at all. */
    static const uint8_t rex_w[] = { 0x48, 0x0f, 0xa2 };
    assert_int_equal(LEN(rex_w, false, INSN_CPUID), 0);
    assert_int_equal(insn_prefix_length(rex_w, sizeof(rex_w), false), 0);
    assert_int_equal(insn_prefix_length(rex_w, sizeof(rex_w), true), 1);
}

static void test_other_bytes_refused(void **state)
{
    (void)state;
    static const uint8_t cpuid[] = { 0x0f, 0xa2 };
    static const uint8_t nop[] = { 0x90, 0x0f, 0xa2 };
    static const uint8_t cut[] = { 0x66, 0x0f };
    assert_int_equal(LEN(cpuid, false, INSN_VMMCALL), 0);
    assert_int_equal(LEN(nop, false, INSN_CPUID), 0);
    assert_int_equal(LEN(cut, false, INSN_CPUID), 0);
    assert_int_equal(insn_length(cpuid, 1, false, &INSN_CPUID), 0);
    assert_int_equal(insn_length(cpuid, 0, false, &INSN_CPUID), 0);
}

static void test_fifteen_bytes_at_most(void **state)
{
    (void)state;
    uint8_t bytes[20];
    memset(bytes, 0x66, sizeof(bytes));
    /* 13 prefixes + 0f a2 = 15: the longest instruction there is. */
    bytes[13] = 0x0f, bytes[14] = 0xa2;
    assert_int_equal(insn_length(bytes, sizeof(bytes), false, &INSN_CPUID), 15);
    memset(bytes, 0x66, sizeof(bytes));
    bytes[14] = 0x0f, bytes[15] = 0xa2;
    assert_int_equal(insn_length(bytes, sizeof(bytes), false, &INSN_CPUID), 0);
}

static void test_mov_to_cr(void **state)
{
    (void)state;
    unsigned cr = 99, gpr = 99;
    static const uint8_t cr0_eax[] = { 0x0f, 0x22, 0xc0 };
    static const uint8_t cr4_esi[] = { 0x0f, 0x22, 0xe6 };
    static const uint8_t cr4_r9[] = { 0x41, 0x0f, 0x22, 0xe1 };
    static const uint8_t cr8_rax[] = { 0x44, 0x0f, 0x22, 0xc0 };
    static const uint8_t memory_form[] = { 0x66, 0x0f, 0x22, 0x23 }; /* mod ignored */
    static const uint8_t mov_from[] = { 0x0f, 0x20, 0xe0 };
    assert_int_equal(insn_decode_mov_to_cr(cr0_eax, 3, false, &cr, &gpr), 3);
    assert_int_equal(cr, 0);
    assert_int_equal(gpr, 0);
    assert_int_equal(insn_decode_mov_to_cr(cr4_esi, 3, true, &cr, &gpr), 3);
    assert_int_equal(cr, 4);
    assert_int_equal(gpr, 6);
    assert_int_equal(insn_decode_mov_to_cr(cr4_r9, 4, true, &cr, &gpr), 4);
    assert_int_equal(cr, 4);
    assert_int_equal(gpr, 9);
    assert_int_equal(insn_decode_mov_to_cr(cr8_rax, 4, true, &cr, &gpr), 4);
    assert_int_equal(cr, 8);
    assert_int_equal(gpr, 0);
    assert_int_equal(insn_decode_mov_to_cr(memory_form, 4, false, &cr, &gpr), 4);
    assert_int_equal(cr, 4);
    assert_int_equal(gpr, 3);
    assert_int_equal(insn_decode_mov_to_cr(mov_from, 3, false, &cr, &gpr), 0);
    assert_int_equal(insn_decode_mov_to_cr(cr0_eax, 2, false, &cr, &gpr), 0);
}

static void test_mov_from_cr(void **state)
{
    (void)state;
    unsigned cr = 99, gpr = 99;
    static const uint8_t rax_cr8[] = { 0x44, 0x0f, 0x20, 0xc0 };
    static const uint8_t r11_cr8[] = { 0x45, 0x0f, 0x20, 0xc3 };
    static const uint8_t locked_eax_cr0[] = { 0xf0, 0x0f, 0x20, 0xc0 };  /* CR8, outside 64-bit */
    static const uint8_t mov_to[] = { 0x44, 0x0f, 0x22, 0xc0 };
    assert_int_equal(insn_decode_mov_from_cr(rax_cr8, 4, true, &cr, &gpr), 4);
    assert_int_equal(cr, 8);
    assert_int_equal(gpr, 0);
    assert_int_equal(insn_decode_mov_from_cr(r11_cr8, 4, true, &cr, &gpr), 4);
    assert_int_equal(cr, 8);
    assert_int_equal(gpr, 11);
    assert_int_equal(insn_decode_mov_from_cr(locked_eax_cr0, 4, false, &cr, &gpr), 4);
    assert_int_equal(cr, 0);
    assert_int_equal(gpr, 0);
    /* REX is no prefix outside 64-bit mode: 44 is INC ESP there. */
    assert_int_equal(insn_decode_mov_from_cr(rax_cr8, 4, false, &cr, &gpr), 0);
    assert_int_equal(insn_decode_mov_from_cr(mov_to, 4, true, &cr, &gpr), 0);
}

/* The instructions that switch tasks, in the encodings SDM 2A gives
 * them, with the addressing forms of their memory operands (tables 2-1
 * and 2-2), for SVM's task-switch intercept. */
static void test_task_switch_instructions(void **state)
{
    (void)state;
    static const uint8_t jmp_ptr32[] = { 0xea, 0, 0, 0, 0, 0x30, 0 };
    static const uint8_t call_ptr16[] = { 0x9a, 0, 0, 0x38, 0 };
    static const uint8_t call_ptr_66[] = { 0x66, 0x9a, 0, 0, 0x38, 0 };     /* 16-bit in 32 */
    static const uint8_t jmp_m_disp32[] = { 0xff, 0x2d, 1, 2, 3, 4 };       /* [disp32] */
    static const uint8_t call_m_sib[] = { 0xff, 0x1c, 0x24 };               /* [esp] */
    static const uint8_t call_m_sib_disp32[] = { 0xff, 0x1c, 0x25, 1, 2, 3, 4 }; /* no base */
    static const uint8_t jmp_m_ebx_disp8[] = { 0x3e, 0xff, 0x6b, 0x10 };
    static const uint8_t call_m16_disp16[] = { 0xff, 0x1e, 0x34, 0x12 };    /* [disp16] */
    static const uint8_t call_m16_bx_si[] = { 0x67, 0xff, 0x18 };           /* 16-bit address */
    static const uint8_t iret[] = { 0xcf }, iretd16[] = { 0x66, 0xcf };
    static const uint8_t int_n[] = { 0xcd, 0x41 }, int3[] = { 0xcc }, into[] = { 0xce };
    static const uint8_t int1[] = { 0xf1 };
    static const uint8_t call_near[] = { 0xff, 0xd0 };                      /* CALL EAX */
    static const uint8_t inc_m[] = { 0xff, 0x00 };
    static const uint8_t cut_ptr[] = { 0xea, 0, 0, 0, 0, 0x30 };
    static const uint8_t cut_sib[] = { 0xff, 0x1c };

    assert_int_equal(insn_task_switch_length(jmp_ptr32, sizeof(jmp_ptr32), true), 7);
    assert_int_equal(insn_task_switch_length(call_ptr16, sizeof(call_ptr16), false), 5);
    assert_int_equal(insn_task_switch_length(call_ptr_66, sizeof(call_ptr_66), true), 6);
    assert_int_equal(insn_task_switch_length(jmp_m_disp32, sizeof(jmp_m_disp32), true), 6);
    assert_int_equal(insn_task_switch_length(call_m_sib, sizeof(call_m_sib), true), 3);
    assert_int_equal(insn_task_switch_length(call_m_sib_disp32, sizeof(call_m_sib_disp32), true),
                     7);
    assert_int_equal(insn_task_switch_length(jmp_m_ebx_disp8, sizeof(jmp_m_ebx_disp8), true), 4);
    assert_int_equal(insn_task_switch_length(call_m16_disp16, sizeof(call_m16_disp16), false), 4);
    assert_int_equal(insn_task_switch_length(call_m16_bx_si, sizeof(call_m16_bx_si), true), 3);
    assert_int_equal(insn_task_switch_length(iret, 1, true), 1);
    assert_int_equal(insn_task_switch_length(iretd16, 2, true), 2);
    assert_int_equal(insn_task_switch_length(int_n, 2, true), 2);
    assert_int_equal(insn_task_switch_length(int3, 1, false), 1);
    assert_int_equal(insn_task_switch_length(into, 1, true), 1);
    assert_int_equal(insn_task_switch_length(int1, 1, true), 1);
    assert_int_equal(insn_task_switch_length(call_near, sizeof(call_near), true), 0);
    assert_int_equal(insn_task_switch_length(inc_m, sizeof(inc_m), true), 0);
    assert_int_equal(insn_task_switch_length(cut_ptr, sizeof(cut_ptr), true), 0);
    assert_int_equal(insn_task_switch_length(cut_sib, sizeof(cut_sib), true), 0);
    assert_int_equal(insn_task_switch_length(int_n, 1, true), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_opcodes),
        cmocka_unit_test(test_prefixes_count),
        cmocka_unit_test(test_rex_only_in_64_bit_mode),
        cmocka_unit_test(test_other_bytes_refused),
        cmocka_unit_test(test_fifteen_bytes_at_most),
        cmocka_unit_test(test_mov_to_cr),
        cmocka_unit_test(test_mov_from_cr),
        cmocka_unit_test(test_task_switch_instructions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
