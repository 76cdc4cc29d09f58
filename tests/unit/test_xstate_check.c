// sources: hv/xstate_check.c
/* Unit tests for hv/xstate_check.c: the XCR0 values XSETBV and SET_XCRS
 * accept, the XSAVE images SET_XSAVE lets reach XRSTOR, the FXSAVE
 * legacy region as the ABI's struct hv_fpu, and the qemu_x87_guard's
 * marking of an initial x87 part. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/xstate_check.h"

#define ALL (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512 | XCR0_PKRU)

static void test_xcr0_rules(void **state)
{
    (void)state;
    assert_true(xcr0_valid(XCR0_X87, ALL));
    assert_true(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX, ALL));
    assert_true(xcr0_valid(ALL, ALL));
    assert_false(xcr0_valid(0, ALL));                            /* x87 is required */
    assert_false(xcr0_valid(XCR0_SSE, ALL));
    assert_false(xcr0_valid(XCR0_X87 | XCR0_AVX, ALL));          /* AVX needs SSE */
    assert_false(xcr0_valid(XCR0_X87 | XCR0_SSE | (1ull << 5), ALL)); /* AVX-512 half */
    assert_false(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX512, ALL)); /* without AVX */
    assert_false(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX, XCR0_X87 | XCR0_SSE));
    assert_false(xcr0_valid(XCR0_X87 | (1ull << 3), ALL));       /* MPX: never offered */
    assert_false(xcr0_valid(XCR0_X87 | (1ull << 63), ~0ull));
}

static void test_image_header_checks(void **state)
{
    (void)state;
    uint8_t image[1024];
    xsave_image_reset(image, sizeof(image));
    assert_true(xsave_image_valid(image, ALL, MXCSR_MASK_DEFAULT));
    image[XSAVE_XSTATE_BV] = XCR0_X87 | XCR0_SSE | XCR0_AVX;
    assert_true(xsave_image_valid(image, ALL, MXCSR_MASK_DEFAULT));
    assert_false(xsave_image_valid(image, XCR0_X87 | XCR0_SSE, MXCSR_MASK_DEFAULT));
    xsave_image_reset(image, sizeof(image));
    image[XSAVE_XCOMP_BV + 7] = 0x80;                             /* compacted */
    assert_false(xsave_image_valid(image, ALL, MXCSR_MASK_DEFAULT));
    xsave_image_reset(image, sizeof(image));
    image[XSAVE_XSTATE_BV + 63] = 1;                              /* last reserved byte */
    assert_false(xsave_image_valid(image, ALL, MXCSR_MASK_DEFAULT));
    xsave_image_reset(image, sizeof(image));
    image[FXSAVE_MXCSR + 3] = 0x80;                               /* reserved MXCSR bit */
    assert_false(xsave_image_valid(image, ALL, MXCSR_MASK_DEFAULT));
    xsave_image_reset(image, sizeof(image));
    image[FXSAVE_MXCSR] = 0x40;                                   /* DAZ: only if the mask has it */
    assert_true(xsave_image_valid(image, ALL, 0xffff));
    assert_false(xsave_image_valid(image, ALL, 0xffbf));
}

static void test_reset_image_reads_as_initial_fpu(void **state)
{
    (void)state;
    uint8_t image[576];
    struct hv_fpu fpu;
    memset(image, 0xaa, sizeof(image));
    xsave_image_reset(image, sizeof(image));
    xsave_to_fpu(image, &fpu);
    assert_int_equal(fpu.fcw, FCW_RESET);
    assert_int_equal(fpu.mxcsr, MXCSR_RESET);
    assert_int_equal(fpu.fsw, 0);
    assert_int_equal(fpu.ftwx, 0);
}

static void test_fpu_round_trip_and_init_components(void **state)
{
    (void)state;
    uint8_t image[576];
    struct hv_fpu in, out;
    xsave_image_reset(image, sizeof(image));
    memset(&in, 0, sizeof(in));
    for (unsigned i = 0; i < 8; i++)
        in.fpr[i][0] = (uint8_t)(i + 1);
    for (unsigned i = 0; i < 16; i++)
        in.xmm[i][15] = (uint8_t)(0x10 + i);
    in.fcw = 0x27f;
    in.fsw = 0x3800;
    in.ftwx = 0x81;
    in.last_opcode = 0x123;
    in.last_ip = 0x1122334455667788ull;
    in.last_dp = 0x8877665544332211ull;
    in.mxcsr = 0x3f80;
    assert_true(fpu_to_xsave(&in, image, MXCSR_MASK_DEFAULT));
    assert_int_equal(image[XSAVE_XSTATE_BV], XCR0_X87 | XCR0_SSE);
    xsave_to_fpu(image, &out);
    assert_memory_equal(&in, &out, sizeof(in));

    /* x87 in its initial state (XSTATE_BV bit 0 clear): whatever the
     * image holds, the registers read as after FINIT. */
    image[XSAVE_XSTATE_BV] = XCR0_SSE;
    xsave_to_fpu(image, &out);
    assert_int_equal(out.fcw, FCW_RESET);
    assert_int_equal(out.fpr[0][0], 0);
    assert_int_equal(out.last_ip, 0);
    assert_int_equal(out.xmm[3][15], 0x13);
    /* SSE initial: XMM read as zero, MXCSR still the image's. */
    image[XSAVE_XSTATE_BV] = XCR0_X87;
    xsave_to_fpu(image, &out);
    assert_int_equal(out.xmm[3][15], 0);
    assert_int_equal(out.mxcsr, 0x3f80);
}

static void test_fpu_with_bad_mxcsr_changes_nothing(void **state)
{
    (void)state;
    uint8_t image[576], before[576];
    struct hv_fpu in;
    xsave_image_reset(image, sizeof(image));
    memcpy(before, image, sizeof(image));
    memset(&in, 0x55, sizeof(in));
    in.mxcsr = 0x10000;
    assert_false(fpu_to_xsave(&in, image, MXCSR_MASK_DEFAULT));
    assert_memory_equal(image, before, sizeof(image));
}

/* The guard's marking: the x87 bit goes only where the x87 part is the
 * initial state, one byte anywhere else in it keeps the bit, and nothing
 * else in the image changes. */
static void test_mark_init_x87(void **state)
{
    (void)state;
    uint8_t image[576], before[576];
    xsave_image_reset(image, sizeof(image));
    image[XSAVE_XSTATE_BV] = XCR0_X87 | XCR0_SSE | XCR0_AVX;
    image[FXSAVE_MXCSR] = 0xa0;                          /* not x87's */
    image[FXSAVE_XMM0] = 7;
    memcpy(before, image, sizeof(image));
    xsave_mark_init_x87(image);
    assert_int_equal(image[XSAVE_XSTATE_BV], XCR0_SSE | XCR0_AVX);
    before[XSAVE_XSTATE_BV] = XCR0_SSE | XCR0_AVX;
    assert_memory_equal(image, before, sizeof(image));

    /* Each byte of the x87 part (FXSAVE_FCW .. FDP, ST0-ST7 and their
     * reserved bytes) that differs keeps the bit. */
    for (unsigned offset = 0; offset < FXSAVE_XMM0; offset++) {
        if (offset >= FXSAVE_MXCSR && offset < FXSAVE_ST0)
            continue;
        xsave_image_reset(image, sizeof(image));
        image[XSAVE_XSTATE_BV] = XCR0_X87 | XCR0_SSE;
        image[offset] ^= 0x40;
        xsave_mark_init_x87(image);
        assert_int_equal(image[XSAVE_XSTATE_BV], XCR0_X87 | XCR0_SSE);
    }
    /* MXCSR and its mask are SSE's: they do not keep it. */
    xsave_image_reset(image, sizeof(image));
    image[XSAVE_XSTATE_BV] = XCR0_X87;
    image[FXSAVE_MXCSR_MASK] = 0xff;
    xsave_mark_init_x87(image);
    assert_int_equal(image[XSAVE_XSTATE_BV], 0);
    /* An image already marked stays as it is. */
    xsave_mark_init_x87(image);
    assert_int_equal(image[XSAVE_XSTATE_BV], 0);

    /* What GET_FPU reads from a marked image is what it read before. */
    struct hv_fpu unmarked, marked;
    xsave_image_reset(image, sizeof(image));
    image[XSAVE_XSTATE_BV] = XCR0_X87 | XCR0_SSE;
    xsave_to_fpu(image, &unmarked);
    xsave_mark_init_x87(image);
    xsave_to_fpu(image, &marked);
    assert_memory_equal(&unmarked, &marked, sizeof(marked));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xcr0_rules),
        cmocka_unit_test(test_image_header_checks),
        cmocka_unit_test(test_reset_image_reads_as_initial_fpu),
        cmocka_unit_test(test_fpu_round_trip_and_init_components),
        cmocka_unit_test(test_fpu_with_bad_mxcsr_changes_nothing),
        cmocka_unit_test(test_mark_init_x87),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
