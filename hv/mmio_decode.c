#include "hv/mmio_decode.h"

struct cursor {
    const uint8_t *bytes;
    unsigned n, at;
};

static bool take(struct cursor *c, uint8_t *byte)
{
    if (c->at >= c->n)
        return false;
    *byte = c->bytes[c->at++];
    return true;
}

static bool take_le(struct cursor *c, unsigned size, uint64_t *value)
{
    *value = 0;
    for (unsigned i = 0; i < size; i++) {
        uint8_t b;
        if (!take(c, &b))
            return false;
        *value |= (uint64_t)b << (8 * i);
    }
    return true;
}

/* Skips ModRM's SIB and displacement (SDM vol. 2, 2.1.5); the address
 * itself is not needed: the fault gave it. false for a register operand. */
static bool skip_memory_operand(struct cursor *c, uint8_t modrm, unsigned address_size)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    uint64_t ignored;
    if (mod == 3)
        return false;
    if (address_size == 2) {
        unsigned disp = mod == 1 ? 1 : mod == 2 ? 2 : (rm == 6 ? 2 : 0);
        return take_le(c, disp, &ignored);
    }
    unsigned disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
    if (rm == 4) {
        uint8_t sib;
        if (!take(c, &sib))
            return false;
        if (mod == 0 && (sib & 7) == 5)
            disp = 4;
    } else if (mod == 0 && rm == 5) {
        disp = 4; /* disp32, or RIP-relative in 64-bit mode */
    }
    return take_le(c, disp, &ignored);
}

/* The forms a compiler emits for a 32-bit device register (the local
 * APIC's EOI, ICR, timer): MOV r/m32 with 89, 8B or C7 /0, or MOV EAX to
 * or from an absolute address (A1, A3: 32-bit code's store to a fixed
 * address), no prefix, in 32- or 64-bit code, where both address with
 * ModRM alike (mmio_modrm_length). The result is exactly mmio_decode's;
 * false: let mmio_decode look. */
static bool decode_plain_mov32(const uint8_t *b, unsigned n, enum mmio_mode mode,
                               struct mmio_access *out)
{
    if (mode == MMIO_MODE_16 || n < 2)
        return false;
    if (b[0] == 0xa1 || b[0] == 0xa3) {
        unsigned length = mode == MMIO_MODE_64 ? 9 : 5; /* the offset is address-sized */
        if (length > n)
            return false;
        *out = (struct mmio_access){ .size = 4, .write = b[0] == 0xa3, .reg_size = 4,
                                     .length = (uint8_t)length };
        return true;
    }
    if (b[0] != 0x89 && b[0] != 0x8b && b[0] != 0xc7)
        return false;
    uint8_t modrm = b[1];
    unsigned mod = modrm >> 6, rm = modrm & 7, reg = (modrm >> 3) & 7;
    if (mod == 3 || (b[0] == 0xc7 && reg) || (rm == 4 && n < 3))
        return false;
    unsigned length = mmio_modrm_length(modrm, rm == 4 ? b[2] : 0);
    *out = (struct mmio_access){ .size = 4, .write = b[0] != 0x8b };
    if (b[0] == 0xc7) {
        if (length + 4 > n)
            return false;
        out->immediate = (uint32_t)b[length] | (uint32_t)b[length + 1] << 8 |
                         (uint32_t)b[length + 2] << 16 | (uint32_t)b[length + 3] << 24;
        out->from_immediate = true;
        out->length = (uint8_t)(length + 4);
        return true;
    }
    if (length > n)
        return false;
    out->reg = (uint8_t)reg;
    out->reg_size = 4;
    out->length = (uint8_t)length;
    return true;
}

bool mmio_decode(const uint8_t *bytes, unsigned n, enum mmio_mode mode, struct mmio_access *out)
{
    if (n > 15)
        n = 15;
    if (decode_plain_mov32(bytes, n, mode, out))
        return true;
    struct cursor c = { bytes, n, 0 };
    bool operand_override = false, address_override = false;
    uint8_t rex = 0, op;
    *out = (struct mmio_access){ 0 };

    for (;;) {
        if (!take(&c, &op))
            return false;
        if (op == 0x66)
            operand_override = true;
        else if (op == 0x67)
            address_override = true;
        else if (op == 0xf2 || op == 0xf3)
            return false;        /* REP: a string instruction, not decoded */
        else if (op != 0x26 && op != 0x2e && op != 0x36 && op != 0x3e && op != 0x64 &&
                 op != 0x65 && op != 0xf0)
            break;               /* segment overrides and LOCK change no size */
    }
    /* REX counts only right before the opcode. */
    if (mode == MMIO_MODE_64 && (op & 0xf0) == 0x40) {
        rex = op;
        if (!take(&c, &op))
            return false;
    }
    unsigned operand_size = mode == MMIO_MODE_16 ? 2 : 4;
    if (operand_override)
        operand_size = operand_size == 2 ? 4 : 2;
    if (rex & 8)
        operand_size = 8;
    unsigned address_size = mode == MMIO_MODE_64 ? 8 : mode;
    if (address_override)
        address_size = address_size == 8 ? 4 : address_size == 4 ? 2 : 4;

    uint8_t modrm;
    bool two_byte = false;
    if (op == 0x0f) {
        two_byte = true;
        if (!take(&c, &op))
            return false;
    }
    if (!two_byte && op >= 0xa0 && op <= 0xa3) {
        /* MOV AL/eAX <-> moffs: an address-sized offset, no ModRM. */
        uint64_t ignored;
        if (!take_le(&c, address_size, &ignored))
            return false;
        out->size = (op & 1) ? (uint8_t)operand_size : 1;
        out->write = op >= 0xa2;
        out->reg = 0;
        out->reg_size = out->size;
        out->length = (uint8_t)c.at;
        return true;
    }
    if (!take(&c, &modrm))
        return false;
    unsigned reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
    if (!skip_memory_operand(&c, modrm, address_size))
        return false;

    if (two_byte) {
        if (op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf)
            return false;
        out->size = (op & 1) ? 2 : 1;
        out->reg_size = (uint8_t)operand_size;
        out->sign_extend = op >= 0xbe;
    } else {
        switch (op) {
        case 0x88: case 0x8a:
            out->size = 1;
            break;
        case 0x89: case 0x8b:
            out->size = (uint8_t)operand_size;
            break;
        case 0xc6: case 0xc7: {
            if ((modrm >> 3) & 7)
                return false;    /* only /0 is MOV */
            out->size = op == 0xc6 ? 1 : (uint8_t)operand_size;
            unsigned imm_size = out->size == 8 ? 4 : out->size;
            if (!take_le(&c, imm_size, &out->immediate))
                return false;
            if (out->size == 8 && (out->immediate & 0x80000000u))
                out->immediate |= 0xffffffff00000000ull; /* imm32 sign-extended */
            out->write = true;
            out->from_immediate = true;
            out->length = (uint8_t)c.at;
            return true;
        }
        default:
            return false;
        }
        out->write = op == 0x88 || op == 0x89;
        out->reg_size = out->size;
    }
    out->reg = (uint8_t)reg;
    out->high_byte = out->size == 1 && !two_byte && !rex && reg >= 4 && reg < 8;
    out->length = (uint8_t)c.at;
    return true;
}

static uint64_t sign_extend(uint64_t value, unsigned size)
{
    unsigned shift = 64 - 8 * size;
    return (uint64_t)((int64_t)(value << shift) >> shift);
}

uint64_t mmio_register_after_read(const struct mmio_access *a, uint64_t old, uint64_t data)
{
    uint64_t mask = a->size == 8 ? ~0ull : (1ull << (8 * a->size)) - 1;
    data &= mask;
    if (a->sign_extend)
        data = sign_extend(data, a->size);
    if (a->high_byte)
        return (old & ~0xff00ull) | (data & 0xff) << 8;
    switch (a->reg_size) {
    case 1: return (old & ~0xffull) | (data & 0xff);
    case 2: return (old & ~0xffffull) | (data & 0xffff);
    case 4: return data & 0xffffffffull; /* 32-bit writes zero the upper half */
    default: return data;
    }
}

uint64_t mmio_write_value(const struct mmio_access *a, uint64_t reg_value)
{
    uint64_t value = a->from_immediate ? a->immediate : reg_value;
    if (a->high_byte)
        value >>= 8;
    return a->size == 8 ? value : value & ((1ull << (8 * a->size)) - 1);
}
