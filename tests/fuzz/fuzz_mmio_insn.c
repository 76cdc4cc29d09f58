// sources: guest-tools/vmm/pc/mmio_decode.c guest-tools/vmm/pc/insn_prefix.c
/* The VMM's MMIO instruction decoder (device MMIO exits): any bytes in any
 * mode; a decoded instruction must fit its bytes and move 1, 2, 4 or 8. */
#include "tests/fuzz/fuzz_input.h"

#include "guest-tools/vmm/pc/mmio_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum insn_mode modes[3] = { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };
    struct fuzz_input in = fuzz_input(data, size);
    enum insn_mode mode = modes[fuzz_take(&in, 1) % 3];
    uint64_t reg = fuzz_take(&in, 8), loaded = fuzz_take(&in, 8);
    unsigned n = (unsigned)(size - in.at > 15 ? 15 : size - in.at);
    uint8_t bytes[15];
    struct mmio_insn insn;

    memcpy(bytes, data + in.at, n);
    if (!mmio_decode(bytes, n, mode, &insn))
        return 0;
    fuzz_check(insn.length >= 1 && insn.length <= n);
    fuzz_check(insn.size == 1 || insn.size == 2 || insn.size == 4 || insn.size == 8);
    if (insn.is_write)
        mmio_store_value(&insn, reg);
    else
        mmio_load_result(&insn, reg, loaded);
    return 0;
}
