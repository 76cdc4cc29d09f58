// sources: guest-tools/vmm/devices/fw_cfg.c
/* The fw_cfg model's register interface as a guest drives it: reads and
 * writes of 1, 2 or 4 bytes at any of its offsets, time moving on between
 * them, selecting any item and reading past its end. Whatever the guest does, the model must not touch memory it
 * does not own (ASan) nor compute undefined values (UBSan). */
#include "tests/fuzz/fuzz_input.h"

#include "guest-tools/vmm/devices/fw_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct fuzz_access a = { 0 };
    static struct fw_cfg dev;
    static const char text[] = "opt/fuzz";
    fw_cfg_init(&dev, 64ull << 20, 4, 8);
    fw_cfg_add_file(&dev, "opt/fuzz", text, sizeof(text));
    while (fuzz_more(&in)) {
        fuzz_next_access(&in, 2, &a);
        uint16_t port = (uint16_t)(FW_CFG_PORT_SELECTOR + a.offset);
        if (a.write)
            fw_cfg_write(&dev, port, a.size, a.value, a.now_ns);
        else
            fw_cfg_read(&dev, port, a.size, a.now_ns);

    }
    return 0;
}
