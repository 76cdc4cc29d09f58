// sources: hv/mmio_decode.c
/* Unit tests for hv/mmio_decode.c as the VMM's decoder of device MMIO
 * (decoded HV_EXIT_MMIO, abi/README.md section 8; the `pc` VMM had its own
 * until then, and these were its cases): the MOV forms drivers use on
 * device registers, as GCC emits them for 32- and 64-bit kernels (bytes
 * taken from objdump of readl/writel-style code), every addressing form's
 * length, the register merge rules, refusals, and the saved register each
 * access names when the hypervisor completes it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hv/mmio_decode.h"
#include "hv/vcpu.h"

static struct mmio_access decode_ok(enum mmio_mode mode, const uint8_t *bytes, unsigned n)
{
    struct mmio_access insn;
    assert_true(mmio_decode(bytes, n, mode, &insn));
    return insn;
}

static void test_register_moves(void **state)
{
    struct mmio_access i;
    (void)state;
    /* mov %eax,(%edx)  -- 32-bit writel */
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x89, 0x02 }, 2);
    assert_true(i.write);
    assert_int_equal(i.size, 4);
    assert_int_equal(i.reg, 0);
    assert_int_equal(i.length, 2);
    /* mov 0x10(%rdi),%eax  -- 64-bit readl */
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0x8b, 0x47, 0x10 }, 3);
    assert_false(i.write);
    assert_int_equal(i.size, 4);
    assert_int_equal(i.reg_size, 4);
    assert_int_equal(i.length, 3);
    /* mov %r9d,0x40(%r8)  -- REX.RB */
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0x45, 0x89, 0x48, 0x40 }, 4);
    assert_int_equal(i.reg, 9);
    assert_int_equal(i.length, 4);
    /* mov (%rax),%rdx  -- REX.W, 8 bytes */
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0x48, 0x8b, 0x10 }, 3);
    assert_int_equal(i.size, 8);
    assert_int_equal(i.reg, 2);
    /* mov %ax,(%ebx) with 0x66 in 32-bit code; in 16-bit code the same
     * prefix makes it 32-bit. */
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x66, 0x89, 0x03 }, 3);
    assert_int_equal(i.size, 2);
    assert_int_equal(i.length, 3);
    i = decode_ok(MMIO_MODE_16, (const uint8_t[]){ 0x66, 0x89, 0x07 }, 3);
    assert_int_equal(i.size, 4);
    /* mov (%ebx),%ah  -- a high byte without REX */
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x8a, 0x23 }, 2);
    assert_int_equal(i.size, 1);
    assert_int_equal(i.reg, 4);
    assert_true(i.high_byte);
    /* With any REX, register 4 is SPL. */
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0x40, 0x8a, 0x23 }, 3);
    assert_false(i.high_byte);
}

static void test_immediates_and_moffs(void **state)
{
    struct mmio_access i;
    (void)state;
    /* movl $0xfee00000,0xfec00010  -- disp32 with no base in 32-bit code */
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0xc7, 0x05, 0x10, 0x00, 0xc0, 0xfe,
                                                   0x00, 0x00, 0xe0, 0xfe }, 10);
    assert_true(i.write && i.from_immediate);
    assert_int_equal(i.length, 10);
    assert_int_equal(mmio_write_value(&i, 0), 0xfee00000u);
    /* movq $-1,(%rax): imm32 sign-extended to 64 bits */
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff }, 7);
    assert_int_equal(i.size, 8);
    assert_int_equal(mmio_write_value(&i, 0), ~0ull);
    /* movb $0x12,(%esi) ; movw $0x3456,(%esi) */
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0xc6, 0x06, 0x12 }, 3);
    assert_int_equal(i.length, 3);
    assert_int_equal(mmio_write_value(&i, 0), 0x12);
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x66, 0xc7, 0x06, 0x56, 0x34 }, 5);
    assert_int_equal(i.length, 5);
    assert_int_equal(mmio_write_value(&i, 0), 0x3456);
    /* mov 0xfec00000,%eax (a1 moffs32) and mov %eax,0xfec00010 (a3) */
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0xa1, 0x00, 0x00, 0xc0, 0xfe }, 5);
    assert_false(i.write);
    assert_int_equal(i.length, 5);
    assert_int_equal(i.reg, 0);
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0xa3, 0x10, 0, 0xc0, 0xfe, 0, 0, 0, 0 }, 9);
    assert_true(i.write);
    assert_int_equal(i.length, 9); /* moffs is 8 bytes in 64-bit mode */
}

static void test_addressing_lengths(void **state)
{
    (void)state;
    static const struct {
        enum mmio_mode mode;
        uint8_t bytes[12];
        unsigned n, length;
    } cases[] = {
        { MMIO_MODE_32, { 0x8b, 0x04, 0x24 }, 3, 3 },                      /* (%esp): SIB */
        { MMIO_MODE_32, { 0x8b, 0x44, 0x24, 0x08 }, 4, 4 },                /* 8(%esp) */
        { MMIO_MODE_32, { 0x8b, 0x84, 0x8b, 0, 1, 0, 0 }, 7, 7 },          /* 0x100(%ebx,%ecx,4) */
        { MMIO_MODE_32, { 0x8b, 0x04, 0x8d, 0, 0, 0xc0, 0xfe }, 7, 7 },    /* SIB, no base: disp32 */
        { MMIO_MODE_32, { 0x8b, 0x83, 0, 0, 0, 0 }, 6, 6 },                /* disp32(%ebx) */
        { MMIO_MODE_64, { 0x8b, 0x05, 1, 2, 3, 4 }, 6, 6 },                /* RIP-relative */
        { MMIO_MODE_16, { 0x8b, 0x07 }, 2, 2 },                            /* (bx) */
        { MMIO_MODE_16, { 0x8b, 0x06, 0x00, 0xfc }, 4, 4 },                /* [disp16] */
        { MMIO_MODE_16, { 0x8b, 0x47, 0x02 }, 3, 3 },                      /* 2(bx) */
        { MMIO_MODE_16, { 0x8b, 0x87, 0x00, 0x01 }, 4, 4 },                /* disp16(bx) */
        { MMIO_MODE_32, { 0x67, 0x8b, 0x06, 0x00, 0x10 }, 5, 5 },          /* 16-bit addressing */
        { MMIO_MODE_16, { 0x67, 0x8b, 0x04, 0x24 }, 4, 4 },                /* 32-bit in 16-bit code */
        { MMIO_MODE_32, { 0x3e, 0x26, 0x64, 0x8b, 0x00 }, 5, 5 },          /* segment prefixes */
        { MMIO_MODE_32, { 0x0f, 0xb6, 0x43, 0x05 }, 4, 4 },                /* movzbl 5(%ebx) */
        { MMIO_MODE_64, { 0x44, 0x0f, 0xb7, 0x04, 0x25, 0, 0, 0xc0, 0xfe }, 9, 9 }, /* movzwl abs32,%r8d */
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct mmio_access i;
        assert_true(mmio_decode(cases[c].bytes, cases[c].n, cases[c].mode, &i));
        assert_int_equal(i.length, cases[c].length);
        /* One byte short of the instruction: refused, never read past. */
        assert_false(mmio_decode(cases[c].bytes, cases[c].n - 1, cases[c].mode, &i));
    }
}

static void test_register_results(void **state)
{
    struct mmio_access i;
    (void)state;
    /* 32-bit load zero-extends; 16- and 8-bit loads merge. */
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0x8b, 0x00 }, 2);
    assert_int_equal(mmio_register_after_read(&i, 0xffffffffffffffffull, 0x12345678), 0x12345678);
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0x66, 0x8b, 0x00 }, 3);
    assert_int_equal(mmio_register_after_read(&i, 0xaaaaaaaaaaaaaaaaull, 0x1234), 0xaaaaaaaaaaaa1234ull);
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x8a, 0x23 }, 2);      /* mov (%ebx),%ah */
    assert_int_equal(mmio_register_after_read(&i, 0x11223344, 0x99), 0x11229944);
    /* movzbl / movsbl / movswl into 32-bit registers */
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x0f, 0xb6, 0x03 }, 3);
    assert_int_equal(mmio_register_after_read(&i, 0xffffffff, 0x80), 0x80);
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x0f, 0xbe, 0x03 }, 3);
    assert_int_equal(mmio_register_after_read(&i, 0, 0x80), 0xffffff80u);
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0x48, 0x0f, 0xbf, 0x03 }, 4); /* movswq */
    assert_int_equal(i.reg_size, 8);
    assert_int_equal(mmio_register_after_read(&i, 0, 0x8000), 0xffffffffffff8000ull);
    /* Stores take the register's low bytes, or its second byte for AH. */
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x88, 0x23 }, 2);      /* mov %ah,(%ebx) */
    assert_int_equal(mmio_write_value(&i, 0x1234), 0x12);
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x66, 0x89, 0x03 }, 3);
    assert_int_equal(mmio_write_value(&i, 0xdeadbeef), 0xbeef);
}

static void test_refusals(void **state)
{
    struct mmio_access i;
    (void)state;
    static const uint8_t refused[][6] = {
        { 0x89, 0xc0 },                /* register to register: no memory */
        { 0x01, 0x03 },                /* add: not a move */
        { 0xc7, 0x08, 1, 2, 3, 4 },    /* c7 /1: not MOV */
        { 0x0f, 0x0b },                /* ud2 */
        { 0xf3, 0xa5 },                /* rep movs: not handled here */
    };
    for (unsigned k = 0; k < sizeof(refused) / sizeof(refused[0]); k++)
        assert_false(mmio_decode(refused[k], 6, MMIO_MODE_32, &i));
    /* Only prefixes: no opcode within 15 bytes. */
    uint8_t prefixes[15];
    for (unsigned k = 0; k < 15; k++)
        prefixes[k] = 0x66;
    assert_false(mmio_decode(prefixes, 15, MMIO_MODE_32, &i));
    assert_false(mmio_decode(prefixes, 0, MMIO_MODE_32, &i));
}

/* The register a decoded access names, where the hypervisor completes it
 * (vcpu_access_register): the encoding's numbers in struct guest_gprs'
 * order, AH-BH as bits 15:8 of RAX-RBX, R8-R15 with REX, none for RSP
 * (the VMCB's or VMCS's). */
static void test_access_registers(void **state)
{
    static struct vcpu vcpu;
    struct mmio_access i;
    (void)state;
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x88, 0x23 }, 2);      /* mov %ah,(%ebx) */
    assert_ptr_equal(vcpu_access_register(&vcpu, &i), &vcpu.gprs.rax);
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x8a, 0x3b }, 2);      /* mov (%ebx),%bh */
    assert_ptr_equal(vcpu_access_register(&vcpu, &i), &vcpu.gprs.rbx);
    vcpu.gprs.rbx = 0x1122334455667788ull;
    assert_int_equal(mmio_register_after_read(&i, vcpu.gprs.rbx, 0xab), 0x112233445566ab88ull);
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x88, 0x2b }, 2);      /* mov %ch,(%ebx) */
    assert_ptr_equal(vcpu_access_register(&vcpu, &i), &vcpu.gprs.rcx);
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x89, 0x13 }, 2);      /* mov %edx,(%ebx) */
    assert_ptr_equal(vcpu_access_register(&vcpu, &i), &vcpu.gprs.rdx);
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x89, 0x23 }, 2);      /* mov %esp,(%ebx) */
    assert_null(vcpu_access_register(&vcpu, &i));
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0x40, 0x8a, 0x23 }, 3); /* mov (%rbx),%spl */
    assert_null(vcpu_access_register(&vcpu, &i));
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0x44, 0x89, 0x0b }, 3); /* mov %r9d,(%rbx) */
    assert_ptr_equal(vcpu_access_register(&vcpu, &i), &vcpu.gprs.r9);
    i = decode_ok(MMIO_MODE_64, (const uint8_t[]){ 0x4c, 0x8b, 0x3b }, 3); /* mov (%rbx),%r15 */
    assert_ptr_equal(vcpu_access_register(&vcpu, &i), &vcpu.gprs.r15);
    i = decode_ok(MMIO_MODE_32, (const uint8_t[]){ 0x89, 0x33 }, 2);      /* mov %esi,(%ebx) */
    assert_ptr_equal(vcpu_access_register(&vcpu, &i), &vcpu.gprs.rsi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_moves),
        cmocka_unit_test(test_immediates_and_moffs),
        cmocka_unit_test(test_addressing_lengths),
        cmocka_unit_test(test_register_results),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_access_registers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
