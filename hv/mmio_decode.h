/* Decoding of the instructions guests use on device registers (MOV in its
 * forms, MOVZX, MOVSX), from the bytes at the faulting RIP, so that the
 * hypervisor can complete an MMIO access itself (its local APIC) or hand the
 * VMM the access already decoded, as KVM does. Pure, host-testable.
 * Anything else (string moves, read-modify-write instructions) is left
 * undecoded: the VMM then gets the raw bytes. */
#ifndef HV_MMIO_DECODE_H
#define HV_MMIO_DECODE_H

#include <stdbool.h>
#include <stdint.h>

enum mmio_mode { MMIO_MODE_16 = 2, MMIO_MODE_32 = 4, MMIO_MODE_64 = 8 };

/* The code's mode from what the CPU holds: 64-bit code, else 32-bit when
 * protected mode (CR0.PE) runs a code segment with D set, else 16-bit
 * (real mode included). */
static inline enum mmio_mode mmio_mode_of(bool code64, bool protected_mode, bool cs_db)
{
    if (code64)
        return MMIO_MODE_64;
    return protected_mode && cs_db ? MMIO_MODE_32 : MMIO_MODE_16;
}

struct mmio_access {
    uint8_t length;       /* bytes of the instruction */
    uint8_t size;         /* bytes moved to or from memory: 1, 2, 4 or 8 */
    bool write;           /* memory is written */
    bool from_immediate;  /* write: the value is `immediate`, not a register */
    uint64_t immediate;
    uint8_t reg;          /* the register operand, 0-15 (RAX..R15) */
    bool high_byte;       /* reg 4-7 mean AH, CH, DH, BH (byte, no REX) */
    uint8_t reg_size;     /* read: bytes written to the register (1-8) */
    bool sign_extend;     /* read: MOVSX; else zero-extended (MOVZX) or merged */
};

/* Decodes `n` bytes (n <= 15) in the code-segment mode given. false: not an
 * instruction the decoder knows, or it does not touch memory. */
bool mmio_decode(const uint8_t *bytes, unsigned n, enum mmio_mode mode,
                 struct mmio_access *out);

/* The register's new value after a read of `data` (little endian, `size`
 * bytes), given its old value: 32-bit writes clear the upper half, 8 and
 * 16-bit ones keep the rest, AH-style writes go to bits 15:8. */
uint64_t mmio_register_after_read(const struct mmio_access *access, uint64_t old, uint64_t data);
/* The value a write stores, from the register's value (or the immediate). */
uint64_t mmio_write_value(const struct mmio_access *access, uint64_t reg_value);

/* The bytes of a one-byte opcode, its ModRM addressing memory (mod != 3)
 * and what follows it (SIB, displacement) in 32- or 64-bit code, where
 * both forms have the same lengths (64-bit mode's RIP-relative form is
 * 32-bit mode's disp32). `sib` is looked at only when ModRM has one. */
static inline unsigned mmio_modrm_length(uint8_t modrm, uint8_t sib)
{
    unsigned mod = modrm >> 6, rm = modrm & 7, length = 2;
    if (rm == 4) {
        length++;
        if (mod == 0 && (sib & 7) == 5)
            length += 4;  /* SIB without a base: disp32 */
    } else if (mod == 0 && rm == 5) {
        length += 4;
    }
    return length + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

/* The length of the store a guest's hot path uses on a register whose
 * value does not matter (the xAPIC's EOI), for a backend's exit function
 * before it has the guest's registers: MOV r/m32, r32 (89 /r) or
 * MOV r/m32, imm32 (C7 /0) to memory, no prefix, in a 32-bit or 64-bit
 * code segment. 0 for anything else, which mmio_decode then decodes.
 * 15 bytes may be read. */
static inline unsigned mmio_store32_length(const uint8_t *code)
{
    uint8_t opcode = code[0], modrm = code[1];
    if ((modrm >> 6) == 3 || (opcode != 0x89 && (opcode != 0xc7 || (modrm & 0x38))))
        return 0;
    unsigned length = mmio_modrm_length(modrm, code[2]);
    return opcode == 0xc7 ? length + 4 : length;
}

/* What that store writes: the 32-bit register its ModRM names (0-7, the
 * encoding's order: EAX ECX EDX EBX ESP EBP ESI EDI), or -1 for the
 * immediate, the last four bytes of its `length` (mmio_store32_length). */
static inline int mmio_store32_register(const uint8_t *code)
{
    return code[0] == 0x89 ? (code[1] >> 3) & 7 : -1;
}

static inline uint32_t mmio_store32_immediate(const uint8_t *code, unsigned length)
{
    const uint8_t *imm = code + length - 4;
    return (uint32_t)imm[0] | (uint32_t)imm[1] << 8 | (uint32_t)imm[2] << 16 |
           (uint32_t)imm[3] << 24;
}

#endif
