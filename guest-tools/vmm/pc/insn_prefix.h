/*
 * The prefixes of an x86 instruction (Intel SDM vol. 2A, 2.1.1 and 2.2.1),
 * for the VMM's decoder of string I/O (string_io.h; MMIO comes decoded by
 * the hypervisor): operand and address size overrides, a segment
 * override, REP, and in 64-bit mode a REX prefix, which counts only when
 * it comes last, right before the opcode.
 *
 * Pure; no state.
 */
#ifndef GUEST_TOOLS_VMM_PC_INSN_PREFIX_H
#define GUEST_TOOLS_VMM_PC_INSN_PREFIX_H

#include <stdbool.h>
#include <stdint.h>

/* The code segment's default sizes: CS.D clear (16), set (32), or 64-bit
 * mode (CS.L with EFER.LMA). */
enum insn_mode {
    INSN_MODE_16,
    INSN_MODE_32,
    INSN_MODE_64,
};

/* Segment registers in the order of their encoding (SDM 3.4.2). */
enum insn_segment {
    INSN_SEG_ES = 0,
    INSN_SEG_CS = 1,
    INSN_SEG_SS = 2,
    INSN_SEG_DS = 3,
    INSN_SEG_FS = 4,
    INSN_SEG_GS = 5,
    INSN_SEG_NONE = 6,
};

#define INSN_MAX_LENGTH 15

struct insn_prefixes {
    unsigned length;         /* bytes of prefixes, REX included */
    bool operand_size;       /* 0x66 */
    bool address_size;       /* 0x67 */
    bool rep;                /* 0xf3 (REP/REPE) */
    bool repne;              /* 0xf2 */
    enum insn_segment segment;
    uint8_t rex;             /* 0, or 0x40-0x4f in 64-bit mode */
};

#define INSN_REX_W 0x08
#define INSN_REX_R 0x04
#define INSN_REX_X 0x02
#define INSN_REX_B 0x01

/* Reads the prefixes of bytes[0..n). Returns false if they run to the end
 * of the bytes or past INSN_MAX_LENGTH (no opcode follows). */
bool insn_read_prefixes(const uint8_t *bytes, unsigned n, enum insn_mode mode,
                        struct insn_prefixes *prefixes);

/* Operand size in bytes of an instruction whose default is 16/32 bits
 * (REX.W gives 8 in 64-bit mode). */
unsigned insn_operand_size(const struct insn_prefixes *prefixes, enum insn_mode mode);

/* Address size in bytes: 2, 4 or 8. */
unsigned insn_address_size(const struct insn_prefixes *prefixes, enum insn_mode mode);

#endif
