/*
 * QEMU fw_cfg, traditional I/O interface (see fw_cfg.h). Every item is a
 * key and a byte string; the fixed ones point at byte arrays inside the
 * struct, so a read is the same lookup for all of them. The file directory
 * is one of those arrays, rebuilt entry by entry as files are added.
 */
#include "guest-tools/vmm/devices/fw_cfg.h"

#include "abi/hv_errno.h"

static void store_le(uint8_t *bytes, uint64_t value, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        bytes[i] = (uint8_t)(value >> (8 * i));
}

/* The file directory is big endian, unlike every numeric item. */
static void store_be(uint8_t *bytes, uint64_t value, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        bytes[i] = (uint8_t)(value >> (8 * (size - 1 - i)));
}

static struct fw_cfg_item *find_item(struct fw_cfg *fw_cfg, uint16_t key)
{
    for (unsigned i = 0; i < fw_cfg->item_count; i++)
        if (fw_cfg->items[i].key == key)
            return &fw_cfg->items[i];
    return NULL;
}

/* Appends without checks: callers have checked the key and the room. */
static void append_item(struct fw_cfg *fw_cfg, uint16_t key, const void *data, uint32_t size)
{
    struct fw_cfg_item *item = &fw_cfg->items[fw_cfg->item_count++];
    item->key = key;
    item->data = data;
    item->size = size;
}

void fw_cfg_init(struct fw_cfg *fw_cfg, uint64_t ram_size, uint16_t cpu_count,
                 uint16_t max_cpus)
{
    fw_cfg->selected_key = FW_CFG_SIGNATURE;
    fw_cfg->offset = 0;
    fw_cfg->item_count = 0;
    fw_cfg->file_count = 0;
    for (size_t i = 0; i < sizeof(fw_cfg->file_dir); i++)
        fw_cfg->file_dir[i] = 0;

    fw_cfg->signature[0] = 'Q';
    fw_cfg->signature[1] = 'E';
    fw_cfg->signature[2] = 'M';
    fw_cfg->signature[3] = 'U';
    store_le(fw_cfg->id, FW_CFG_ID_TRADITIONAL, sizeof(fw_cfg->id));
    store_le(fw_cfg->ram_size, ram_size, sizeof(fw_cfg->ram_size));
    store_le(fw_cfg->cpu_count, cpu_count, sizeof(fw_cfg->cpu_count));
    store_le(fw_cfg->max_cpus, max_cpus, sizeof(fw_cfg->max_cpus));

    append_item(fw_cfg, FW_CFG_SIGNATURE, fw_cfg->signature, sizeof(fw_cfg->signature));
    append_item(fw_cfg, FW_CFG_ID, fw_cfg->id, sizeof(fw_cfg->id));
    append_item(fw_cfg, FW_CFG_RAM_SIZE, fw_cfg->ram_size, sizeof(fw_cfg->ram_size));
    append_item(fw_cfg, FW_CFG_NB_CPUS, fw_cfg->cpu_count, sizeof(fw_cfg->cpu_count));
    append_item(fw_cfg, FW_CFG_MAX_CPUS, fw_cfg->max_cpus, sizeof(fw_cfg->max_cpus));
    /* The directory's size grows with each file; an empty one is a zero count. */
    append_item(fw_cfg, FW_CFG_FILE_DIR, fw_cfg->file_dir, 4);
}

int fw_cfg_add_item(struct fw_cfg *fw_cfg, uint16_t key, const void *data, uint32_t size)
{
    uint16_t index = key & ~FW_CFG_ARCH_LOCAL;
    if ((key & FW_CFG_WRITE_CHANNEL) || (index >= FW_CFG_FILE_FIRST && !(key & FW_CFG_ARCH_LOCAL)))
        return -HV_EINVAL;
    if (!data && size)
        return -HV_EINVAL;
    if (find_item(fw_cfg, key))
        return -HV_EEXIST;
    if (fw_cfg->item_count == FW_CFG_MAX_ITEMS)
        return -HV_ENOSPC;
    append_item(fw_cfg, key, data, size);
    return 0;
}

static size_t bounded_length(const char *text, size_t max)
{
    size_t length = 0;
    while (length < max && text[length])
        length++;
    return length;
}

static bool name_in_directory(const struct fw_cfg *fw_cfg, const char *name, size_t length)
{
    for (unsigned i = 0; i < fw_cfg->file_count; i++) {
        const uint8_t *entry_name = fw_cfg->file_dir + 4 + i * FW_CFG_FILE_ENTRY_SIZE + 8;
        size_t j = 0;
        while (j < length && entry_name[j] == (uint8_t)name[j])
            j++;
        if (j == length && entry_name[length] == 0)
            return true;
    }
    return false;
}

int fw_cfg_add_file(struct fw_cfg *fw_cfg, const char *name, const void *data,
                    uint32_t size)
{
    if (!name || (!data && size))
        return -HV_EINVAL;
    /* The name and its terminating NUL must fit the 56-byte field. */
    size_t length = bounded_length(name, FW_CFG_FILE_NAME_SIZE);
    if (length == 0 || length == FW_CFG_FILE_NAME_SIZE)
        return -HV_EINVAL;
    if (name_in_directory(fw_cfg, name, length))
        return -HV_EEXIST;
    if (fw_cfg->file_count == FW_CFG_MAX_FILES || fw_cfg->item_count == FW_CFG_MAX_ITEMS)
        return -HV_ENOSPC;

    uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + fw_cfg->file_count);
    uint8_t *entry = fw_cfg->file_dir + 4 + fw_cfg->file_count * FW_CFG_FILE_ENTRY_SIZE;
    store_be(entry, size, 4);
    store_be(entry + 4, key, 2);
    store_be(entry + 6, 0, 2);
    for (size_t i = 0; i < FW_CFG_FILE_NAME_SIZE; i++)
        entry[8 + i] = i < length ? (uint8_t)name[i] : 0;
    append_item(fw_cfg, key, data, size);

    fw_cfg->file_count++;
    store_be(fw_cfg->file_dir, fw_cfg->file_count, 4);
    find_item(fw_cfg, FW_CFG_FILE_DIR)->size = 4 + fw_cfg->file_count * FW_CFG_FILE_ENTRY_SIZE;
    return key;
}

static uint8_t read_data_byte(struct fw_cfg *fw_cfg)
{
    const struct fw_cfg_item *item = find_item(fw_cfg, fw_cfg->selected_key);
    if (!item || fw_cfg->offset >= item->size)
        return 0;
    return item->data[fw_cfg->offset++];
}

uint32_t fw_cfg_read(struct fw_cfg *fw_cfg, uint16_t port, unsigned size, uint64_t now_ns)
{
    (void)now_ns;
    /* The data register is 8 bits wide; the selector is write-only. */
    if (port == FW_CFG_PORT_DATA && size == 1)
        return read_data_byte(fw_cfg);
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

void fw_cfg_write(struct fw_cfg *fw_cfg, uint16_t port, unsigned size, uint32_t value,
                  uint64_t now_ns)
{
    (void)now_ns;
    if (port != FW_CFG_PORT_SELECTOR || size != 2)
        return; /* data writes are ignored, as in QEMU since 2.4 */
    /* No item is writable, so the write channel reads like the item. */
    fw_cfg->selected_key = (uint16_t)(value & ~FW_CFG_WRITE_CHANNEL);
    fw_cfg->offset = 0;
}
