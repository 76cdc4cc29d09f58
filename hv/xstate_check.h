/* The rules of the extended-state formats, kept apart from the hardware so
 * that tests/ can check them natively: which XCR0 values XSETBV accepts,
 * which XSAVE images XRSTOR accepts, and the FXSAVE legacy region in the
 * ABI's struct hv_fpu. The hypervisor loads a VMM's image with XRSTOR in
 * its own context, where a #GP would be fatal: everything XRSTOR would
 * refuse is refused here first. */
#ifndef HV_XSTATE_CHECK_H
#define HV_XSTATE_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"

/* Offsets in the FXSAVE legacy region (SDM vol. 1, 10.5.1, 64-bit form). */
#define FXSAVE_FCW        0
#define FXSAVE_FSW        2
#define FXSAVE_FTW        4
#define FXSAVE_FOP        6
#define FXSAVE_FIP        8
#define FXSAVE_FDP        16
#define FXSAVE_MXCSR      24
#define FXSAVE_MXCSR_MASK 28
#define FXSAVE_ST0        32
#define FXSAVE_XMM0       160
#define FXSAVE_SIZE       512
#define XSAVE_HEADER_SIZE 64
#define XSAVE_XSTATE_BV   512
#define XSAVE_XCOMP_BV    520

/* Reset values: FINIT's control word, the power-on MXCSR. */
#define FCW_RESET   0x037f
#define MXCSR_RESET 0x1f80
/* MXCSR_MASK when FXSAVE stores 0 there (SDM vol. 1, 11.6.6). */
#define MXCSR_MASK_DEFAULT 0xffbf

#define XCR0_X87       (1ull << 0)
#define XCR0_SSE       (1ull << 1)
#define XCR0_AVX       (1ull << 2)
#define XCR0_AVX512    (7ull << 5)   /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_PKRU      (1ull << 9)
/* What the hypervisor can switch for guests: user components that need no
 * further virtualization (MPX is retired; AMX needs XFD handling). */
#define XCR0_SWITCHABLE (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512 | XCR0_PKRU)

/* XSETBV's checks for XCR0 (SDM vol. 2, XSETBV): x87 always, AVX only with
 * SSE, the AVX-512 components together and only with AVX, nothing the
 * hypervisor does not offer. */
bool xcr0_valid(uint64_t value, uint64_t supported);

/* Whether XRSTOR of the standard-format image `area` with every supported
 * component requested would succeed: XSTATE_BV within `supported`,
 * XCOMP_BV and the header's reserved bytes zero, MXCSR within the mask. */
bool xsave_image_valid(const uint8_t *area, uint64_t supported, uint32_t mxcsr_mask);

/* struct hv_fpu from a standard-format image: components whose XSTATE_BV
 * bit is clear are in their initial state, whatever the area holds. */
void xsave_to_fpu(const uint8_t *area, struct hv_fpu *fpu);
/* Writes fpu into the image's legacy region and marks x87 and SSE as
 * holding state; false (image untouched) if MXCSR has bits outside mask. */
bool fpu_to_xsave(const struct hv_fpu *fpu, uint8_t *area, uint32_t mxcsr_mask);

/* The reset image: FCW, MXCSR and an empty XSTATE_BV. */
void xsave_image_reset(uint8_t *area, uint32_t size);

/* Clears XSTATE_BV's x87 bit when the image's x87 part is that
 * component's initial configuration (SDM vol. 1, 13.6: FCW 0x37f, every
 * other field and ST0-ST7 zero; here the reserved bytes too, so some
 * images in that state keep the bit). XRSTOR then initialises x87 to the
 * same values instead of loading them, as it does after an XSAVE by a CPU
 * that tracks which components are in use. */
void xsave_mark_init_x87(uint8_t *area);

#endif
