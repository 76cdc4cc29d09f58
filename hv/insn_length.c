#include "hv/insn_length.h"

const struct insn_opcode INSN_CPUID = { 2, { 0x0f, 0xa2 } };
const struct insn_opcode INSN_VMMCALL = { 3, { 0x0f, 0x01, 0xd9 } };
const struct insn_opcode INSN_VMCALL = { 3, { 0x0f, 0x01, 0xc1 } };
const struct insn_opcode INSN_RDMSR = { 2, { 0x0f, 0x32 } };
const struct insn_opcode INSN_WRMSR = { 2, { 0x0f, 0x30 } };
const struct insn_opcode INSN_HLT = { 1, { 0xf4 } };
const struct insn_opcode INSN_INVD = { 2, { 0x0f, 0x08 } };
const struct insn_opcode INSN_XSETBV = { 3, { 0x0f, 0x01, 0xd1 } };

#define MOV_TO_CR_OPCODE 0x22   /* after 0x0f */
#define MOV_FROM_CR_OPCODE 0x20
#define REX_R (1u << 2)
#define REX_B (1u << 0)

/* Operand size, address size, LOCK, REP/REPNE and the six segment
 * overrides (SDM 2A 2.1.1). */
static bool is_legacy_prefix(uint8_t byte)
{
    switch (byte) {
    case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
        return true;
    default:
        return false;
    }
}

static bool is_rex(uint8_t byte, bool mode64)
{
    return mode64 && (byte & 0xf0) == 0x40;
}

unsigned insn_prefix_length(const uint8_t *bytes, unsigned available, bool mode64)
{
    unsigned n = 0;
    while (n < available && n < INSN_MAX_LENGTH &&
           (is_legacy_prefix(bytes[n]) || is_rex(bytes[n], mode64)))
        n++;
    return n;
}

unsigned insn_length(const uint8_t *bytes, unsigned available, bool mode64,
                     const struct insn_opcode *opcode)
{
    unsigned start = insn_prefix_length(bytes, available, mode64);
    unsigned length = start + opcode->length;
    if (length > available || length > INSN_MAX_LENGTH)
        return 0;
    for (unsigned i = 0; i < opcode->length; i++)
        if (bytes[start + i] != opcode->bytes[i])
            return 0;
    return length;
}

static unsigned decode_mov_cr(const uint8_t *bytes, unsigned available, bool mode64,
                              uint8_t opcode, unsigned *cr, unsigned *gpr)
{
    unsigned start = insn_prefix_length(bytes, available, mode64);
    unsigned length = start + 3;
    if (length > available || length > INSN_MAX_LENGTH ||
        bytes[start] != 0x0f || bytes[start + 1] != opcode)
        return 0;
    /* Only a REX right before the opcode counts. */
    uint8_t rex = start && is_rex(bytes[start - 1], mode64) ? bytes[start - 1] : 0;
    uint8_t modrm = bytes[start + 2];
    /* The mod field is ignored: the operand is always a register. */
    *cr = ((modrm >> 3) & 7) | (rex & REX_R ? 8 : 0);
    *gpr = (modrm & 7) | (rex & REX_B ? 8 : 0);
    return length;
}

unsigned insn_decode_mov_to_cr(const uint8_t *bytes, unsigned available, bool mode64,
                               unsigned *cr, unsigned *gpr)
{
    return decode_mov_cr(bytes, available, mode64, MOV_TO_CR_OPCODE, cr, gpr);
}

unsigned insn_decode_mov_from_cr(const uint8_t *bytes, unsigned available, bool mode64,
                                 unsigned *cr, unsigned *gpr)
{
    return decode_mov_cr(bytes, available, mode64, MOV_FROM_CR_OPCODE, cr, gpr);
}

/* The ModRM byte at bytes[0] with what follows it (SIB, displacement), for
 * a memory operand (mod != 3) with 16- or 32-bit addressing (SDM 2A
 * tables 2-1 and 2-2); 0 if more bytes than `available` are needed. */
static unsigned modrm_length(const uint8_t *bytes, unsigned available, bool address32)
{
    if (!available)
        return 0;
    unsigned mod = bytes[0] >> 6, rm = bytes[0] & 7, length = 1;
    if (!address32) {
        length += mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 6) ? 2 : 0;
    } else {
        if (rm == 4) {
            if (available < 2)
                return 0;
            length++;
            if (mod == 0 && (bytes[1] & 7) == 5)
                length += 4;
        }
        length += mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 5) ? 4 : 0;
    }
    return length <= available ? length : 0;
}

unsigned insn_task_switch_length(const uint8_t *bytes, unsigned available, bool default32)
{
    unsigned start = insn_prefix_length(bytes, available, false), length;
    bool operand32 = default32, address32 = default32;
    for (unsigned i = 0; i < start; i++) {
        if (bytes[i] == 0x66)
            operand32 = !default32;
        else if (bytes[i] == 0x67)
            address32 = !default32;
    }
    if (start >= available)
        return 0;
    switch (bytes[start]) {
    case 0x9a: /* CALL ptr16:16/32 */
    case 0xea: /* JMP ptr16:16/32 */
        length = start + 1 + (operand32 ? 6 : 4);
        break;
    case 0xff: { /* CALL m16:16/32 (/3), JMP m16:16/32 (/5) */
        if (start + 1 >= available)
            return 0;
        uint8_t modrm = bytes[start + 1];
        unsigned reg = (modrm >> 3) & 7;
        if ((reg != 3 && reg != 5) || (modrm >> 6) == 3)
            return 0;
        unsigned operand = modrm_length(bytes + start + 1, available - start - 1, address32);
        if (!operand)
            return 0;
        length = start + 1 + operand;
        break;
    }
    case 0xcd: /* INT n */
        length = start + 2;
        break;
    case 0xcf: /* IRET */
    case 0xcc: /* INT3 */
    case 0xce: /* INTO */
    case 0xf1: /* INT1 */
        length = start + 1;
        break;
    default:
        return 0;
    }
    return length <= available && length <= INSN_MAX_LENGTH ? length : 0;
}
