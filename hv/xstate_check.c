#include "hv/xstate_check.h"

/* One load: x86 is little-endian, as the image is, and the x87 guard's
 * check runs before every XRSTOR (xsave_mark_init_x87). */
static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

static void store64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void copy_bytes(void *dst, const void *src, unsigned n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
}

bool xcr0_valid(uint64_t value, uint64_t supported)
{
    if (!(value & XCR0_X87) || (value & ~(supported & XCR0_SWITCHABLE)))
        return false;
    if ((value & XCR0_AVX) && !(value & XCR0_SSE))
        return false;
    uint64_t avx512 = value & XCR0_AVX512;
    if (avx512 && (avx512 != XCR0_AVX512 || !(value & XCR0_AVX)))
        return false;
    return true;
}

bool xsave_image_valid(const uint8_t *area, uint64_t supported, uint32_t mxcsr_mask)
{
    if (load64(area + XSAVE_XSTATE_BV) & ~supported)
        return false;
    /* Bytes 8-63 of the header: XCOMP_BV (standard form: 0) and reserved. */
    for (unsigned i = 8; i < XSAVE_HEADER_SIZE; i++)
        if (area[XSAVE_XSTATE_BV + i])
            return false;
    uint32_t mxcsr = (uint32_t)load64(area + FXSAVE_MXCSR);
    return !(mxcsr & ~mxcsr_mask);
}

void xsave_to_fpu(const uint8_t *area, struct hv_fpu *fpu)
{
    uint64_t xstate_bv = load64(area + XSAVE_XSTATE_BV);
    uint8_t *out = (uint8_t *)fpu;
    for (unsigned i = 0; i < sizeof(*fpu); i++)
        out[i] = 0;
    if (xstate_bv & XCR0_X87) {
        copy_bytes(fpu->fpr, area + FXSAVE_ST0, sizeof(fpu->fpr));
        fpu->fcw = (uint16_t)(area[FXSAVE_FCW] | area[FXSAVE_FCW + 1] << 8);
        fpu->fsw = (uint16_t)(area[FXSAVE_FSW] | area[FXSAVE_FSW + 1] << 8);
        fpu->ftwx = area[FXSAVE_FTW];
        fpu->last_opcode = (uint16_t)(area[FXSAVE_FOP] | area[FXSAVE_FOP + 1] << 8);
        fpu->last_ip = load64(area + FXSAVE_FIP);
        fpu->last_dp = load64(area + FXSAVE_FDP);
    } else {
        fpu->fcw = FCW_RESET; /* the x87 initial state (SDM vol. 1, 13.6) */
    }
    if (xstate_bv & XCR0_SSE)
        copy_bytes(fpu->xmm, area + FXSAVE_XMM0, sizeof(fpu->xmm));
    /* MXCSR is saved whenever SSE or AVX is requested, whatever XSTATE_BV. */
    fpu->mxcsr = (uint32_t)load64(area + FXSAVE_MXCSR);
}

bool fpu_to_xsave(const struct hv_fpu *fpu, uint8_t *area, uint32_t mxcsr_mask)
{
    if (fpu->mxcsr & ~mxcsr_mask)
        return false;
    copy_bytes(area + FXSAVE_ST0, fpu->fpr, sizeof(fpu->fpr));
    area[FXSAVE_FCW] = (uint8_t)fpu->fcw;
    area[FXSAVE_FCW + 1] = (uint8_t)(fpu->fcw >> 8);
    area[FXSAVE_FSW] = (uint8_t)fpu->fsw;
    area[FXSAVE_FSW + 1] = (uint8_t)(fpu->fsw >> 8);
    area[FXSAVE_FTW] = fpu->ftwx;
    area[FXSAVE_FOP] = (uint8_t)fpu->last_opcode;
    area[FXSAVE_FOP + 1] = (uint8_t)(fpu->last_opcode >> 8);
    store64(area + FXSAVE_FIP, fpu->last_ip);
    store64(area + FXSAVE_FDP, fpu->last_dp);
    copy_bytes(area + FXSAVE_XMM0, fpu->xmm, sizeof(fpu->xmm));
    for (int i = 0; i < 4; i++)
        area[FXSAVE_MXCSR + i] = (uint8_t)(fpu->mxcsr >> (8 * i));
    uint64_t xstate_bv = load64(area + XSAVE_XSTATE_BV);
    store64(area + XSAVE_XSTATE_BV, xstate_bv | XCR0_X87 | XCR0_SSE);
    return true;
}

void xsave_image_reset(uint8_t *area, uint32_t size)
{
    for (uint32_t i = 0; i < size; i++)
        area[i] = 0;
    area[FXSAVE_FCW] = (uint8_t)FCW_RESET;
    area[FXSAVE_FCW + 1] = (uint8_t)(FCW_RESET >> 8);
    area[FXSAVE_MXCSR] = (uint8_t)MXCSR_RESET;
    area[FXSAVE_MXCSR + 1] = (uint8_t)(MXCSR_RESET >> 8);
}

void xsave_mark_init_x87(uint8_t *area)
{
    if (!(area[XSAVE_XSTATE_BV] & XCR0_X87))
        return;
    /* FCW, FSW, FTW, its reserved byte and FOP; FIP; FDP; the registers
     * with their reserved bytes: everything below MXCSR and from ST0 to
     * XMM0. */
    uint64_t differs = load64(area + FXSAVE_FCW) ^ FCW_RESET;
    differs |= load64(area + FXSAVE_FIP) | load64(area + FXSAVE_FDP);
    for (unsigned offset = FXSAVE_ST0; offset < FXSAVE_XMM0; offset += 8)
        differs |= load64(area + offset);
    if (!differs)
        area[XSAVE_XSTATE_BV] &= (uint8_t)~XCR0_X87;
}
