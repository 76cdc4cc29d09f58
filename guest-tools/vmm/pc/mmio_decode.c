/*
 * The MOV-form decoder for MMIO (see mmio_decode.h). The length of a
 * memory operand follows SDM vol. 2A, 2.1.5 (tables 2-1 to 2-3): 16-bit
 * addressing has no SIB and a 16-bit displacement; 32- and 64-bit
 * addressing have a SIB byte when r/m is 100 and a 32-bit displacement for
 * mod 00 with r/m 101 (RIP-relative in 64-bit mode) or SIB base 101.
 */
#include "guest-tools/vmm/pc/mmio_decode.h"

/* Bytes of ModRM, SIB and displacement from the ModRM byte at `at`, or 0
 * if the operand is a register (no memory access) or the bytes end. */
static unsigned memory_operand_length(const uint8_t *bytes, unsigned n, unsigned at,
                                      unsigned address_size)
{
    uint8_t modrm, mod, rm;

    if (at >= n)
        return 0;
    modrm = bytes[at];
    mod = modrm >> 6;
    rm = modrm & 7;
    if (mod == 3)
        return 0;
    if (address_size == 2) {
        if (mod == 0)
            return rm == 6 ? 3 : 1;
        return mod == 1 ? 2 : 3;
    }
    unsigned length = 1;
    if (rm == 4) {
        if (at + 1 >= n)
            return 0;
        length = 2;
        if (mod == 0 && (bytes[at + 1] & 7) == 5)
            return length + 4;
    } else if (mod == 0 && rm == 5) {
        return length + 4;
    }
    if (mod == 1)
        return length + 1;
    if (mod == 2)
        return length + 4;
    return length;
}

static uint64_t read_le(const uint8_t *bytes, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)bytes[i] << (8 * i);
    return v;
}

static uint64_t sign_extend(uint64_t value, unsigned size)
{
    unsigned shift = 64 - 8 * size;
    return size >= 8 ? value : (uint64_t)((int64_t)(value << shift) >> shift);
}

/* The register of the ModRM's reg field, with REX.R and the AH-BH rule. */
static void modrm_register(struct mmio_insn *insn, uint8_t modrm, uint8_t rex, unsigned size)
{
    insn->reg = (uint8_t)(((modrm >> 3) & 7) | (rex & INSN_REX_R ? 8 : 0));
    insn->high_byte = size == 1 && rex == 0 && insn->reg >= 4 && insn->reg <= 7;
}

/* The moffs forms: no ModRM, an address of the address size. */
static bool decode_moffs(unsigned n, unsigned at, uint8_t opcode,
                         unsigned operand_size, unsigned address_size, struct mmio_insn *insn)
{
    if (at + 1 + address_size > n)
        return false;
    insn->length = (uint8_t)(at + 1 + address_size);
    insn->size = (uint8_t)(opcode & 1 ? operand_size : 1);
    insn->is_write = opcode >= 0xa2;
    insn->reg = 0;
    insn->dest_size = insn->size;
    return true;
}

bool mmio_decode(const uint8_t *bytes, unsigned n, enum insn_mode mode, struct mmio_insn *insn)
{
    struct insn_prefixes p;
    unsigned at, operand_size, address_size, modrm_length, immediate_size = 0;
    uint8_t opcode;
    bool two_byte = false;

    *insn = (struct mmio_insn){ 0 };
    if (n > INSN_MAX_LENGTH)
        n = INSN_MAX_LENGTH;
    if (!insn_read_prefixes(bytes, n, mode, &p))
        return false;
    at = p.length;
    operand_size = insn_operand_size(&p, mode);
    address_size = insn_address_size(&p, mode);
    opcode = bytes[at];
    if (opcode == 0x0f) {
        if (at + 1 >= n)
            return false;
        two_byte = true;
        opcode = bytes[++at];
    }
    if (!two_byte && opcode >= 0xa0 && opcode <= 0xa3)
        return decode_moffs(n, at, opcode, operand_size, address_size, insn);

    if (two_byte) {
        if (opcode != 0xb6 && opcode != 0xb7 && opcode != 0xbe && opcode != 0xbf)
            return false;
        insn->size = opcode & 1 ? 2 : 1;
        insn->dest_size = (uint8_t)operand_size;
        insn->sign_extend = opcode >= 0xbe;
    } else {
        switch (opcode) {
        case 0x88: case 0x8a: case 0xc6:
            insn->size = 1;
            break;
        case 0x89: case 0x8b: case 0xc7:
            insn->size = (uint8_t)operand_size;
            break;
        default:
            return false;
        }
        insn->is_write = opcode != 0x8a && opcode != 0x8b;
        insn->dest_size = insn->size;
        if (opcode == 0xc6 || opcode == 0xc7) {
            insn->from_immediate = true;
            immediate_size = insn->size > 4 ? 4 : insn->size;
        }
    }
    modrm_length = memory_operand_length(bytes, n, at + 1, address_size);
    if (modrm_length == 0)
        return false;
    if (insn->from_immediate && ((bytes[at + 1] >> 3) & 7) != 0)
        return false; /* c6/c7 with reg != 0 are other instructions */
    modrm_register(insn, bytes[at + 1], p.rex, insn->is_write ? insn->size : insn->dest_size);
    at += 1 + modrm_length;
    if (at + immediate_size > n)
        return false;
    if (immediate_size != 0)
        insn->immediate = sign_extend(read_le(bytes + at, immediate_size), immediate_size);
    insn->length = (uint8_t)(at + immediate_size);
    return true;
}

static uint64_t mask_of(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

uint64_t mmio_store_value(const struct mmio_insn *insn, uint64_t reg_value)
{
    uint64_t value = insn->from_immediate ? insn->immediate
                     : insn->high_byte    ? reg_value >> 8
                                          : reg_value;
    return value & mask_of(insn->size);
}

uint64_t mmio_load_result(const struct mmio_insn *insn, uint64_t reg_value, uint64_t loaded)
{
    uint64_t value = loaded & mask_of(insn->size);

    if (insn->sign_extend)
        value = sign_extend(value, insn->size);
    switch (insn->dest_size) {
    case 1:
        if (insn->high_byte)
            return (reg_value & ~0xff00ull) | (value & 0xff) << 8;
        return (reg_value & ~0xffull) | (value & 0xff);
    case 2:
        return (reg_value & ~0xffffull) | (value & 0xffff);
    case 4:
        return value & 0xffffffffull; /* a 32-bit destination zero-extends */
    default:
        return value;
    }
}
