// sources: hv/insn_length.c
/* The lengths the hypervisor decodes from guest bytes to complete an
 * instruction (SVM without next-RIP save), MOV to CR and the instructions
 * that switch tasks: never past the bytes it was given, never longer than
 * an instruction can be. */
#include "tests/fuzz/fuzz_input.h"

#include "hv/insn_length.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct insn_opcode *const opcodes[] = {
        &INSN_CPUID, &INSN_VMMCALL, &INSN_VMCALL, &INSN_RDMSR, &INSN_WRMSR,
        &INSN_HLT, &INSN_INVD, &INSN_XSETBV,
    };
    struct fuzz_input in = fuzz_input(data, size);
    bool mode64 = fuzz_take(&in, 1) & 1;
    unsigned n = (unsigned)(size - in.at > 32 ? 32 : size - in.at);
    uint8_t *bytes = malloc(n ? n : 1);   /* exact size: ASan sees an overread */
    unsigned cr, gpr;

    memcpy(bytes, data + in.at, n);
    fuzz_check(insn_prefix_length(bytes, n, mode64) <= n);
    for (unsigned i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++) {
        unsigned len = insn_length(bytes, n, mode64, opcodes[i]);
        fuzz_check(len <= n && len <= INSN_MAX_LENGTH);
    }
    unsigned len = insn_task_switch_length(bytes, n, mode64);
    fuzz_check(len <= n && len <= INSN_MAX_LENGTH);
    len = insn_decode_mov_to_cr(bytes, n, mode64, &cr, &gpr);
    fuzz_check(len <= n && len <= INSN_MAX_LENGTH);
    if (len)
        fuzz_check(cr < 16 && gpr < 16);
    free(bytes);
    return 0;
}
