// sources: hv/mmio_decode.c
/* Unit tests for hv/mmio_decode.c: the MOV forms guests use on device
 * registers, in each mode, with prefixes, and the register results. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/mmio_decode.h"

static struct mmio_access decode_ok(const uint8_t *bytes, unsigned n, enum mmio_mode mode)
{
    struct mmio_access a;
    assert_true(mmio_decode(bytes, n, mode, &a));
    return a;
}

static void test_mov_store_and_load_32(void **state)
{
    (void)state;
    /* mov [rax], ecx ; mov edx, [rbx+0x30] ; mov r9d, [r8+r10*4+0x12345678] */
    static const uint8_t store[] = { 0x89, 0x08 };
    static const uint8_t load[] = { 0x8b, 0x53, 0x30 };
    static const uint8_t load_sib[] = { 0x47, 0x8b, 0x8c, 0x90, 0x78, 0x56, 0x34, 0x12 };
    struct mmio_access a = decode_ok(store, sizeof(store), MMIO_MODE_64);
    assert_true(a.write);
    assert_int_equal(a.size, 4);
    assert_int_equal(a.reg, 1);
    assert_int_equal(a.length, 2);
    a = decode_ok(load, sizeof(load), MMIO_MODE_64);
    assert_false(a.write);
    assert_int_equal(a.reg, 2);
    assert_int_equal(a.length, 3);
    a = decode_ok(load_sib, sizeof(load_sib), MMIO_MODE_64);
    assert_int_equal(a.reg, 9);
    assert_int_equal(a.size, 4);
    assert_int_equal(a.length, 8);
}

static void test_absolute_and_rip_relative(void **state)
{
    (void)state;
    /* 32-bit: mov eax, [0xfee000b0] as A1 moffs32 and as 8B 05 disp32 */
    static const uint8_t moffs[] = { 0xa1, 0xb0, 0x00, 0xe0, 0xfe };
    static const uint8_t disp32[] = { 0x8b, 0x05, 0xb0, 0x00, 0xe0, 0xfe };
    /* 32-bit: mov [0xfee000b0], eax via A3; 64-bit: mov [rip+x], esi */
    static const uint8_t store_moffs[] = { 0xa3, 0xb0, 0x00, 0xe0, 0xfe };
    static const uint8_t riprel[] = { 0x89, 0x35, 0x10, 0x00, 0x00, 0x00 };
    struct mmio_access a = decode_ok(moffs, sizeof(moffs), MMIO_MODE_32);
    assert_int_equal(a.length, 5);
    assert_false(a.write);
    assert_int_equal(a.size, 4);
    a = decode_ok(disp32, sizeof(disp32), MMIO_MODE_32);
    assert_int_equal(a.length, 6);
    a = decode_ok(store_moffs, sizeof(store_moffs), MMIO_MODE_32);
    assert_true(a.write);
    a = decode_ok(riprel, sizeof(riprel), MMIO_MODE_64);
    assert_int_equal(a.reg, 6);
    assert_int_equal(a.length, 6);
    /* In 64-bit mode moffs is 8 bytes. */
    static const uint8_t moffs64[] = { 0xa1, 0xb0, 0, 0xe0, 0xfe, 0, 0, 0, 0 };
    a = decode_ok(moffs64, sizeof(moffs64), MMIO_MODE_64);
    assert_int_equal(a.length, 9);
}

static void test_immediates(void **state)
{
    (void)state;
    static const uint8_t imm32[] = { 0xc7, 0x40, 0x10, 0x78, 0x56, 0x34, 0x12 };
    static const uint8_t imm8[] = { 0xc6, 0x00, 0xab };
    static const uint8_t imm_rex_w[] = { 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t imm16[] = { 0x66, 0xc7, 0x00, 0x34, 0x12 };
    struct mmio_access a = decode_ok(imm32, sizeof(imm32), MMIO_MODE_64);
    assert_true(a.write && a.from_immediate);
    assert_int_equal(mmio_write_value(&a, 0), 0x12345678);
    assert_int_equal(a.length, 7);
    a = decode_ok(imm8, sizeof(imm8), MMIO_MODE_32);
    assert_int_equal(a.size, 1);
    assert_int_equal(mmio_write_value(&a, 0), 0xab);
    a = decode_ok(imm_rex_w, sizeof(imm_rex_w), MMIO_MODE_64);
    assert_int_equal(a.size, 8);
    assert_int_equal(mmio_write_value(&a, 0), ~0ull);
    a = decode_ok(imm16, sizeof(imm16), MMIO_MODE_32);
    assert_int_equal(a.size, 2);
    assert_int_equal(a.length, 5);
    assert_int_equal(mmio_write_value(&a, 0), 0x1234);
}

static void test_sizes_and_register_results(void **state)
{
    (void)state;
    static const uint8_t load16[] = { 0x66, 0x8b, 0x08 };     /* mov cx, [rax] */
    static const uint8_t load_ah[] = { 0x8a, 0x20 };          /* mov ah, [rax] */
    static const uint8_t load_spl[] = { 0x40, 0x8a, 0x20 };   /* mov spl, [rax] */
    static const uint8_t movzx[] = { 0x0f, 0xb7, 0x00 };      /* movzx eax, word [rax] */
    static const uint8_t movsx[] = { 0x48, 0x0f, 0xbe, 0x00 };/* movsx rax, byte [rax] */
    struct mmio_access a = decode_ok(load16, sizeof(load16), MMIO_MODE_64);
    assert_int_equal(a.size, 2);
    assert_int_equal(mmio_register_after_read(&a, 0x1111222233334444ull, 0xabcd),
                     0x111122223333abcdull);
    a = decode_ok(load_ah, sizeof(load_ah), MMIO_MODE_64);
    assert_true(a.high_byte);
    assert_int_equal(mmio_register_after_read(&a, 0xffffffffffffffffull, 0x12),
                     0xffffffffffff12ffull);
    a = decode_ok(load_spl, sizeof(load_spl), MMIO_MODE_64);
    assert_false(a.high_byte);
    assert_int_equal(a.reg, 4);
    a = decode_ok(movzx, sizeof(movzx), MMIO_MODE_64);
    assert_int_equal(mmio_register_after_read(&a, ~0ull, 0xfffe), 0xfffe);
    a = decode_ok(movsx, sizeof(movsx), MMIO_MODE_64);
    assert_int_equal(mmio_register_after_read(&a, 0, 0x80), 0xffffffffffffff80ull);
    /* A 32-bit load zero-extends; a 64-bit one replaces. */
    static const uint8_t load32[] = { 0x8b, 0x00 };
    a = decode_ok(load32, sizeof(load32), MMIO_MODE_64);
    assert_int_equal(mmio_register_after_read(&a, ~0ull, 0x80000000u), 0x80000000ull);
    /* Store of AH writes bits 15:8 of RAX. */
    static const uint8_t store_ah[] = { 0x88, 0x20 };
    a = decode_ok(store_ah, sizeof(store_ah), MMIO_MODE_64);
    assert_int_equal(mmio_write_value(&a, 0x1234), 0x12);
}

static void test_sixteen_bit_addressing(void **state)
{
    (void)state;
    /* 16-bit mode: mov ax, [0x1234] as 8B 06 disp16; with 0x67, disp32. */
    static const uint8_t disp16[] = { 0x8b, 0x06, 0x34, 0x12 };
    static const uint8_t a32[] = { 0x67, 0x66, 0x8b, 0x05, 0xb0, 0x00, 0xe0, 0xfe };
    struct mmio_access a = decode_ok(disp16, sizeof(disp16), MMIO_MODE_16);
    assert_int_equal(a.size, 2);
    assert_int_equal(a.length, 4);
    a = decode_ok(a32, sizeof(a32), MMIO_MODE_16);
    assert_int_equal(a.size, 4);
    assert_int_equal(a.length, 8);
}

static void test_refusals(void **state)
{
    (void)state;
    struct mmio_access a;
    static const uint8_t reg_operand[] = { 0x89, 0xc8 };      /* mov eax, ecx */
    static const uint8_t rep_movs[] = { 0xf3, 0xa5 };
    static const uint8_t add[] = { 0x01, 0x08 };
    static const uint8_t c7_not_mov[] = { 0xc7, 0x08, 0, 0, 0, 0 };
    static const uint8_t truncated[] = { 0xc7, 0x40, 0x10, 0x78 };
    assert_false(mmio_decode(reg_operand, sizeof(reg_operand), MMIO_MODE_64, &a));
    assert_false(mmio_decode(rep_movs, sizeof(rep_movs), MMIO_MODE_64, &a));
    assert_false(mmio_decode(add, sizeof(add), MMIO_MODE_64, &a));
    assert_false(mmio_decode(c7_not_mov, sizeof(c7_not_mov), MMIO_MODE_64, &a));
    assert_false(mmio_decode(truncated, sizeof(truncated), MMIO_MODE_64, &a));
    assert_false(mmio_decode(NULL, 0, MMIO_MODE_64, &a));
    uint8_t prefixes[15];
    memset(prefixes, 0x66, sizeof(prefixes));                  /* never an opcode */
    assert_false(mmio_decode(prefixes, sizeof(prefixes), MMIO_MODE_64, &a));
}

static void test_random_bytes_never_overrun(void **state)
{
    (void)state;
    uint64_t seed = 99;
    for (unsigned i = 0; i < 300000; i++) {
        uint8_t bytes[15];
        for (unsigned b = 0; b < sizeof(bytes); b++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            bytes[b] = (uint8_t)(seed >> 56);
        }
        unsigned n = (unsigned)(seed >> 20) % 16;
        struct mmio_access a;
        if (mmio_decode(bytes, n, (enum mmio_mode)(2u << (i % 3)), &a)) {
            assert_true(a.length >= 1 && a.length <= n);
            assert_true(a.size == 1 || a.size == 2 || a.size == 4 || a.size == 8);
            assert_true(a.reg < 16);
        }
    }
}

/* The plain 32-bit MOV forms (89, 8B, C7 /0, A1, A3, no prefix) take a shortcut
 * in the decoder; a DS override in front, which changes nothing, sends
 * the same instruction the general way: both must agree on every field,
 * and on refusing. */
static void test_plain_mov_matches_general_decoder(void **state)
{
    (void)state;
    static const uint8_t opcodes[] = { 0x89, 0x8b, 0xc7, 0xa1, 0xa3 };
    uint64_t seed = 42;
    unsigned decoded = 0;
    for (unsigned i = 0; i < 300000; i++) {
        uint8_t plain[15], prefixed[16];
        for (unsigned b = 0; b < 15; b++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            plain[b] = (uint8_t)(seed >> 56);
        }
        plain[0] = opcodes[i % 5];
        unsigned n = 1 + (unsigned)(seed >> 20) % 15;
        enum mmio_mode mode = (enum mmio_mode)(2u << ((i / 5) % 3));
        prefixed[0] = 0x3e;
        memcpy(prefixed + 1, plain, 15);
        struct mmio_access a, b;
        bool ok_a = mmio_decode(plain, n, mode, &a);
        bool ok_b = mmio_decode(prefixed, n + 1, mode, &b);
        assert_int_equal(ok_a, ok_b);
        if (!ok_a)
            continue;
        decoded++;
        assert_int_equal(a.length + 1, b.length);
        assert_int_equal(a.size, b.size);
        assert_int_equal(a.write, b.write);
        assert_int_equal(a.from_immediate, b.from_immediate);
        assert_int_equal(a.immediate, b.immediate);
        assert_int_equal(a.reg, b.reg);
        assert_int_equal(a.high_byte, b.high_byte);
        assert_int_equal(a.reg_size, b.reg_size);
        assert_int_equal(a.sign_extend, b.sign_extend);
    }
    assert_true(decoded > 100000);
}

/* mmio_store32_length, _register and _immediate agree with mmio_decode's
 * general path on every ModRM and SIB byte of both opcodes, in 32-bit and
 * 64-bit code, and the length is 0 for what they do not take: register
 * operands, other opcodes, C7 with a ModRM reg field other than 0, any
 * prefix. */
static void test_store32_length_agrees_with_the_decoder(void **state)
{
    (void)state;
    static const uint8_t others[] = { 0x88, 0x8b, 0x8a, 0xc6, 0xa3, 0x0f, 0x66, 0x67, 0xf3,
                                      0x2e, 0x3e, 0x26, 0x48, 0x41, 0xf0 };
    uint8_t code[15], prefixed[15];
    struct mmio_access a;
    for (unsigned opcode = 0; opcode < 2; opcode++) {
        for (unsigned modrm = 0; modrm < 256; modrm++) {
            for (unsigned sib = 0; sib < 256; sib++) {
                for (unsigned b = 0; b < sizeof(code); b++)
                    code[b] = (uint8_t)(0x11 * (b + 1) + modrm);
                code[0] = opcode ? 0xc7 : 0x89;
                code[1] = (uint8_t)modrm;
                code[2] = (uint8_t)sib;
                unsigned length = mmio_store32_length(code);
                bool taken = (modrm >> 6) != 3 && (!opcode || (modrm & 0x38) == 0);
                if (!taken) {
                    assert_int_equal(length, 0);
                    continue;
                }
                /* A DS override in front sends it the general way. */
                prefixed[0] = 0x3e;
                memcpy(prefixed + 1, code, 14);
                assert_true(length >= 2 && length <= 11);
                assert_true(mmio_decode(prefixed, 15, MMIO_MODE_32, &a));
                assert_int_equal(a.length, length + 1);
                assert_true(a.write);
                assert_int_equal(a.size, 4);
                assert_int_equal(a.from_immediate, opcode == 1);
                if (opcode)
                    assert_int_equal(mmio_store32_immediate(code, length), a.immediate);
                else
                    assert_int_equal(mmio_store32_register(code), a.reg);
                assert_int_equal(mmio_store32_register(code) < 0, opcode == 1);
                assert_true(mmio_decode(prefixed, 15, MMIO_MODE_64, &a));
                assert_int_equal(a.length, length + 1);
            }
        }
    }
    for (unsigned i = 0; i < sizeof(others); i++) {
        code[0] = others[i];
        code[1] = 0x05;
        code[2] = 0x89;
        assert_int_equal(mmio_store32_length(code), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mov_store_and_load_32),
        cmocka_unit_test(test_store32_length_agrees_with_the_decoder),
        cmocka_unit_test(test_absolute_and_rip_relative),
        cmocka_unit_test(test_immediates),
        cmocka_unit_test(test_sizes_and_register_results),
        cmocka_unit_test(test_sixteen_bit_addressing),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_random_bytes_never_overrun),
        cmocka_unit_test(test_plain_mov_matches_general_decoder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
