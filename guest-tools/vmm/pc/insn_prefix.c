/*
 * Reading x86 prefixes (see insn_prefix.h). Legacy prefixes may come in
 * any order and repeat; a REX byte before another legacy prefix is not a
 * REX prefix (SDM 2.2.1: it must immediately precede the opcode), so it is
 * forgotten when one follows.
 */
#include "guest-tools/vmm/pc/insn_prefix.h"

static bool segment_prefix(uint8_t byte, enum insn_segment *segment)
{
    switch (byte) {
    case 0x26: *segment = INSN_SEG_ES; return true;
    case 0x2e: *segment = INSN_SEG_CS; return true;
    case 0x36: *segment = INSN_SEG_SS; return true;
    case 0x3e: *segment = INSN_SEG_DS; return true;
    case 0x64: *segment = INSN_SEG_FS; return true;
    case 0x65: *segment = INSN_SEG_GS; return true;
    default: return false;
    }
}

bool insn_read_prefixes(const uint8_t *bytes, unsigned n, enum insn_mode mode,
                        struct insn_prefixes *p)
{
    *p = (struct insn_prefixes){ .segment = INSN_SEG_NONE };
    if (n > INSN_MAX_LENGTH)
        n = INSN_MAX_LENGTH;
    for (unsigned i = 0; i < n; i++) {
        uint8_t b = bytes[i];
        enum insn_segment segment;

        if (mode == INSN_MODE_64 && (b & 0xf0) == 0x40) {
            p->rex = b;
            continue;
        }
        if (b == 0x66)
            p->operand_size = true;
        else if (b == 0x67)
            p->address_size = true;
        else if (b == 0xf3)
            p->rep = true, p->repne = false;
        else if (b == 0xf2)
            p->repne = true, p->rep = false;
        else if (b == 0xf0)
            ; /* LOCK: nothing to the decoders */
        else if (segment_prefix(b, &segment))
            p->segment = segment;
        else {
            p->length = i;
            return true;
        }
        p->rex = 0; /* a legacy prefix after REX cancels it */
    }
    return false;
}

unsigned insn_operand_size(const struct insn_prefixes *p, enum insn_mode mode)
{
    if (mode == INSN_MODE_64 && (p->rex & INSN_REX_W))
        return 8;
    if (mode == INSN_MODE_16)
        return p->operand_size ? 4 : 2;
    return p->operand_size ? 2 : 4;
}

unsigned insn_address_size(const struct insn_prefixes *p, enum insn_mode mode)
{
    switch (mode) {
    case INSN_MODE_16: return p->address_size ? 4 : 2;
    case INSN_MODE_32: return p->address_size ? 2 : 4;
    default:           return p->address_size ? 4 : 8;
    }
}
