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

#endif
