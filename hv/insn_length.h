/* The length of an instruction the hypervisor completes for a guest --
 * CPUID, VMMCALL/VMCALL, RDMSR/WRMSR, HLT, INVD, MOV to a control
 * register -- decoded from its bytes, for when the CPU does not say (SVM
 * without next-RIP save: QEMU's TCG, CPUs before family 10h; VMX always
 * says, in the exit instruction length).
 *
 * None of these opcodes takes an immediate or a displacement, and MOV to
 * CR always uses the register form of its ModRM byte (SDM 2B, MOV), so the
 * length is what precedes the opcode plus the opcode (plus ModRM). Legacy
 * prefixes (SDM 2A 2.1.1) may come in any number and order; in 64-bit mode
 * so may REX prefixes (only the last, if right before the opcode, has an
 * effect: 2.2.1), and all of them are bytes of the instruction. An
 * instruction longer than 15 bytes raises #GP instead of exiting.
 * Host-testable. */
#ifndef HV_INSN_LENGTH_H
#define HV_INSN_LENGTH_H

#include <stdbool.h>
#include <stdint.h>

#define INSN_MAX_LENGTH 15

struct insn_opcode {
    uint8_t length;
    uint8_t bytes[3];
};

extern const struct insn_opcode INSN_CPUID;    /* 0f a2 */
extern const struct insn_opcode INSN_VMMCALL;  /* 0f 01 d9 (SVM) */
extern const struct insn_opcode INSN_VMCALL;   /* 0f 01 c1 (VMX) */
extern const struct insn_opcode INSN_RDMSR;    /* 0f 32 */
extern const struct insn_opcode INSN_WRMSR;    /* 0f 30 */
extern const struct insn_opcode INSN_HLT;      /* f4 */
extern const struct insn_opcode INSN_INVD;     /* 0f 08 */
extern const struct insn_opcode INSN_XSETBV;   /* 0f 01 d1 */

/* How many bytes at `bytes` (of `available`) are prefixes; mode64: 64-bit
 * mode, where 0x40-0x4f are REX prefixes rather than INC/DEC. */
unsigned insn_prefix_length(const uint8_t *bytes, unsigned available, bool mode64);

/* The length of the instruction at `bytes` if it is `opcode`, else 0 (the
 * bytes are another instruction, or too few could be read). */
unsigned insn_length(const uint8_t *bytes, unsigned available, bool mode64,
                     const struct insn_opcode *opcode);

/* MOV to CRn (0f 22 /r): its length, with *cr the control register and
 * *gpr the source register, numbered as instructions encode them (0 RAX,
 * 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15: SDM 2A
 * table 2-2); 0 if the bytes are not a MOV to a control register. */
unsigned insn_decode_mov_to_cr(const uint8_t *bytes, unsigned available, bool mode64,
                               unsigned *cr, unsigned *gpr);
/* MOV from CRn (0f 20 /r) alike, *gpr the destination. */
unsigned insn_decode_mov_from_cr(const uint8_t *bytes, unsigned available, bool mode64,
                                 unsigned *cr, unsigned *gpr);

/* An instruction that can switch tasks outside 64-bit mode -- far CALL
 * or JMP (direct, or through memory with any addressing form), IRET,
 * INT n, INT3, INTO, INT1 -- for SVM's task-switch intercept, which says
 * neither which nor how long. `default32`: CS.D (32-bit operands and
 * addresses unless a 66 or 67 prefix says otherwise). 0 if the bytes are
 * none of these or too few. */
unsigned insn_task_switch_length(const uint8_t *bytes, unsigned available, bool default32);

#endif
