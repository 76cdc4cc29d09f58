/*
 * fw_cfg: QEMU's firmware configuration interface (QEMU docs/specs/
 * fw_cfg.rst), the traditional I/O-port form of the pc and q35 machines.
 * Firmware and Linux's qemu_fw_cfg driver read from it what the VMM tells
 * the guest: RAM size, CPU count, and named files such as "etc/e820".
 *
 * Guest view:
 * - 0x510 selector, 16-bit write: picks an item and rewinds its offset.
 *   Bit 14 (write channel) is accepted and ignored; bit 15 selects the
 *   architecture-local items, a separate key space.
 * - 0x511 data, byte reads: the selected item's next byte; past its end, or
 *   for an item that does not exist, 0. Writes are ignored (read-only
 *   items, as QEMU since 2.4). There is no DMA interface: FW_CFG_ID reads 1.
 *
 * Interface:
 * - fw_cfg_init(): the fixed items: signature "QEMU", ID, RAM size
 *   (64-bit LE), CPU count and max CPUs (16-bit LE), the empty file
 *   directory.
 * - fw_cfg_add_item(): another numbered item (e.g. 0x8003 for an
 *   architecture-local one); fw_cfg_add_file(): a named file, listed in the
 *   directory (0x0019) under the next key from 0x0020. Both keep a pointer
 *   to the caller's bytes, which must stay valid and unchanged; and the
 *   struct must not move after init (fixed items point into it).
 * - fw_cfg_read()/fw_cfg_write(): the two ports, access size in bytes.
 *
 * Locking: none inside; the VMM serialises calls on one fw_cfg.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_FW_CFG_H
#define GUEST_TOOLS_VMM_DEVICES_FW_CFG_H

#include "guest-tools/vmm/devices/device.h"

#define FW_CFG_PORT_SELECTOR 0x510
#define FW_CFG_PORT_DATA     0x511

/* Item keys (fw_cfg.rst, "Selector Register" and the item table). */
#define FW_CFG_SIGNATURE     0x0000
#define FW_CFG_ID            0x0001
#define FW_CFG_RAM_SIZE      0x0003
#define FW_CFG_NB_CPUS       0x0005
#define FW_CFG_MAX_CPUS      0x000f
#define FW_CFG_FILE_DIR      0x0019
#define FW_CFG_FILE_FIRST    0x0020
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL    0x8000

#define FW_CFG_ID_TRADITIONAL (1u << 0)
#define FW_CFG_ID_DMA         (1u << 1)

/* Directory entry: be32 size, be16 select, be16 reserved, name[56]. */
#define FW_CFG_FILE_NAME_SIZE  56
#define FW_CFG_FILE_ENTRY_SIZE 64

#define FW_CFG_MAX_FILES 16
#define FW_CFG_MAX_ITEMS 32 /* fixed ones, files and numbered ones together */

struct fw_cfg_item {
    uint16_t key;          /* selector without the write-channel bit */
    uint32_t size;
    const uint8_t *data;
};

struct fw_cfg {
    uint16_t selected_key;
    uint32_t offset;       /* next byte of the selected item */
    unsigned item_count;
    struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
    unsigned file_count;
    /* Bytes of the fixed items, in the guest's byte order. */
    uint8_t signature[4];
    uint8_t id[4];
    uint8_t ram_size[8];
    uint8_t cpu_count[2];
    uint8_t max_cpus[2];
    uint8_t file_dir[4 + FW_CFG_MAX_FILES * FW_CFG_FILE_ENTRY_SIZE];
};

void fw_cfg_init(struct fw_cfg *fw_cfg, uint64_t ram_size, uint16_t cpu_count,
                 uint16_t max_cpus);

/* Returns 0; -HV_EINVAL for a key with the write-channel bit or in the
 * file range (0x0020-0x3fff), -HV_EEXIST for a key in use, -HV_ENOSPC. */
int fw_cfg_add_item(struct fw_cfg *fw_cfg, uint16_t key, const void *data, uint32_t size);

/* Returns the file's key (0x0020 + n), or -HV_EINVAL for an empty name or
 * one of 56 characters or more, -HV_EEXIST for a name in use, -HV_ENOSPC. */
int fw_cfg_add_file(struct fw_cfg *fw_cfg, const char *name, const void *data,
                    uint32_t size);

uint32_t fw_cfg_read(struct fw_cfg *fw_cfg, uint16_t port, unsigned size, uint64_t now_ns);
void fw_cfg_write(struct fw_cfg *fw_cfg, uint16_t port, unsigned size, uint32_t value,
                  uint64_t now_ns);

#endif
