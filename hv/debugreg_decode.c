#include "hv/debugreg_decode.h"

#define MAX_INSN_LENGTH 15

/* Operand-size, address-size, segment and REP prefixes change nothing for
 * MOV DR (the operand is 32 or 64 bits by mode alone); LOCK makes it #UD
 * (on AMD, LOCK MOV CR0 means CR8, but there is no such form for DRs). */
static bool ignored_prefix(uint8_t b)
{
    switch (b) {
    case 0x66: case 0x67: case 0xf2: case 0xf3:
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
        return true;
    default:
        return false;
    }
}

int debugreg_decode(const uint8_t *bytes, unsigned n, bool long_mode,
                    struct debugreg_insn *out)
{
    unsigned at = 0;
    uint8_t rex = 0;
    if (n > MAX_INSN_LENGTH)
        n = MAX_INSN_LENGTH;
    for (; at < n; at++) {
        uint8_t b = bytes[at];
        if (ignored_prefix(b)) {
            rex = 0; /* a REX prefix counts only right before the opcode */
        } else if (long_mode && (b & 0xf0) == 0x40) {
            rex = b;
        } else {
            break;
        }
    }
    /* Opcode 0F 21 or 0F 23, then ModRM: its mod field is ignored, the
     * operand is always a register (SDM: "mod field bits are ignored"). */
    if (at + 3 > n || bytes[at] != 0x0f || (bytes[at + 1] != 0x21 && bytes[at + 1] != 0x23))
        return -1;
    uint8_t modrm = bytes[at + 2];
    out->write = bytes[at + 1] == 0x23;
    out->number = (uint8_t)(((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0));
    out->gpr = (uint8_t)((modrm & 7) | ((rex & 1) ? 8 : 0));
    out->length = (uint8_t)(at + 3);
    return 0;
}
