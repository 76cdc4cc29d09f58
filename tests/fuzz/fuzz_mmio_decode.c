// sources: hv/mmio_decode.c
/* The hypervisor's MMIO instruction decoder (xAPIC page accesses, and
 * decoded HV_EXIT_MMIO for the VMM): any bytes in any mode. A decoded
 * access must fit the bytes it came from and move 1, 2, 4 or 8 bytes. */
#include "tests/fuzz/fuzz_input.h"

#include "hv/mmio_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum mmio_mode modes[3] = { MMIO_MODE_16, MMIO_MODE_32, MMIO_MODE_64 };
    struct fuzz_input in = fuzz_input(data, size);
    enum mmio_mode mode = modes[fuzz_take(&in, 1) % 3];
    uint64_t reg = fuzz_take(&in, 8), mem = fuzz_take(&in, 8);
    unsigned n = (unsigned)(size - in.at > 15 ? 15 : size - in.at);
    uint8_t bytes[15];
    struct mmio_access a;

    memcpy(bytes, data + in.at, n);
    if (!mmio_decode(bytes, n, mode, &a))
        return 0;
    fuzz_check(a.length >= 1 && a.length <= n);
    fuzz_check(a.size == 1 || a.size == 2 || a.size == 4 || a.size == 8);
    fuzz_check(a.reg < 16);
    if (a.write) {
        mmio_write_value(&a, reg);
    } else {
        fuzz_check(a.reg_size >= 1 && a.reg_size <= 8);
        mmio_register_after_read(&a, reg, mem);
    }
    return 0;
}
