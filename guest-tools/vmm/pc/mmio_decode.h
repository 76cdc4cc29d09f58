/*
 * Decoding the instruction behind an MMIO exit, for the devices the VMM
 * emulates at guest-physical addresses without RAM (the IOAPIC). The
 * hypervisor's run page gives the instruction's bytes, not the access
 * (HV_EXIT_MMIO, mmio.decoded is not filled yet), so the VMM decodes the
 * forms drivers use for device registers, the MOVs (SDM vol. 2B, MOV,
 * MOVZX, MOVSX):
 *   88/89      mov r/m, reg            (write)
 *   8a/8b      mov reg, r/m            (read)
 *   c6/c7 /0   mov r/m, imm8/16/32     (write; imm32 sign-extended for 64)
 *   a0-a3      mov al/eax/rax <-> moffs
 *   0f b6/b7   movzx reg, r/m8/16      (read)
 *   0f be/bf   movsx reg, r/m8/16      (read)
 * in 16-, 32- and 64-bit code with their prefixes and every ModRM/SIB
 * addressing form (whose length matters: RIP moves past it). Anything else
 * is refused; the VMM then stops the VM and shows the bytes.
 *
 * Registers are numbered as the encoding numbers them: 0 RAX, 1 RCX, 2 RDX,
 * 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15; an 8-bit register
 * without REX numbered 4-7 is AH, CH, DH, BH (`high_byte`).
 *
 * Pure; no state.
 */
#ifndef GUEST_TOOLS_VMM_PC_MMIO_DECODE_H
#define GUEST_TOOLS_VMM_PC_MMIO_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "guest-tools/vmm/pc/insn_prefix.h"

struct mmio_insn {
    uint8_t length;          /* of the whole instruction */
    uint8_t size;            /* bytes accessed: 1, 2, 4 or 8 */
    bool is_write;
    bool from_immediate;     /* write: the value is `immediate`, not a register */
    uint8_t reg;             /* the register operand, 0-15 */
    bool high_byte;          /* reg 4-7 name AH, CH, DH, BH */
    uint8_t dest_size;       /* read: bytes of the register written */
    bool sign_extend;        /* read: MOVSX */
    uint64_t immediate;
};

/* Returns false for anything but the forms above (or bytes that end
 * before the instruction does). */
bool mmio_decode(const uint8_t *bytes, unsigned n, enum insn_mode mode, struct mmio_insn *insn);

/* A write: the `size` bytes the instruction stores, given the register's
 * 64-bit value (ignored for an immediate). */
uint64_t mmio_store_value(const struct mmio_insn *insn, uint64_t reg_value);

/* A read: the register's new 64-bit value after loading `loaded` (its low
 * `size` bytes count) into it, as the CPU merges or extends it. */
uint64_t mmio_load_result(const struct mmio_insn *insn, uint64_t reg_value, uint64_t loaded);

#endif
