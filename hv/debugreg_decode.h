/* Decoding a MOV to or from a debug register (0F 21 /r, 0F 23 /r; Intel
 * SDM vol. 2B "MOV - Move to/from Debug Registers", AMD APM vol. 3) from
 * its bytes, for exits that do not say which register the instruction
 * named or how long it was (SVM without decode assists or next-RIP save).
 * Pure: host-testable (tests/unit/test_debugreg_decode.c). */
#ifndef HV_DEBUGREG_DECODE_H
#define HV_DEBUGREG_DECODE_H

#include <stdbool.h>
#include <stdint.h>

struct debugreg_insn {
    uint8_t number;      /* DR0-DR15 (REX.R extends ModRM.reg) */
    uint8_t gpr;         /* encoding order, 0-15 (REX.B extends ModRM.rm) */
    bool write;          /* MOV to DRn (0F 23) */
    uint8_t length;      /* bytes, prefixes included */
};

/* Decodes `bytes` (n of them, at most 15 are looked at). REX prefixes
 * count only in 64-bit mode (long_mode), where they are INC/DEC
 * otherwise. Returns 0, or -1 when the bytes are no MOV DR (LOCK, an
 * unknown opcode, running out of bytes). */
int debugreg_decode(const uint8_t *bytes, unsigned n, bool long_mode,
                    struct debugreg_insn *out);

#endif
