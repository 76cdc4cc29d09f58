/*
 * Loading a multiboot1 ELF32 kernel, as GRUB or QEMU -kernel would: check
 * the multiboot header, copy each PT_LOAD segment to its physical address
 * and zero its bss part, then put a multiboot information structure and
 * (multiboot_info.c: memory sizes and map, command line, modules) in the
 * pages after the kernel.
 *
 * The image is untrusted input: every offset and size is checked against
 * the image and the guest's RAM before a byte is copied. Structures are
 * copied out with memcpy since the image need not be aligned.
 */
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/elf32.h"
#include "guest-tools/vmm/multiboot.h"
#include "guest-tools/vmm/multiboot_info.h"
#include "guest-tools/vmm/vmm_internal.h"

int vmm_is_elf(const void *image, uint64_t size)
{
    return size >= ELF_MAGIC_LEN && memcmp(image, ELF_MAGIC, ELF_MAGIC_LEN) == 0;
}

/* Finds a valid multiboot header in the first 8 KiB; fills *header. */
static int find_multiboot_header(const uint8_t *image, uint64_t size,
                                 struct multiboot_header *header)
{
    uint64_t limit = size < MULTIBOOT_SEARCH_BYTES ? size : MULTIBOOT_SEARCH_BYTES;

    for (uint64_t off = 0; off + sizeof(*header) <= limit; off += 4) {
        memcpy(header, image + off, sizeof(*header));
        if (header->magic == MULTIBOOT_HEADER_MAGIC &&
            (uint32_t)(header->magic + header->flags + header->checksum) == 0)
            return 1;
    }
    return 0;
}

static int check_elf_header(const struct vm_instance *vm,
                            const struct elf32_header *eh, uint64_t size)
{
    uint64_t table_end = (uint64_t)eh->e_phoff + (uint64_t)eh->e_phnum * eh->e_phentsize;

    if (eh->e_ident[ELF_IDENT_CLASS] != ELF_CLASS_32 ||
        eh->e_ident[ELF_IDENT_DATA] != ELF_DATA_LSB ||
        eh->e_machine != ELF_MACHINE_386 || eh->e_type != ELF_TYPE_EXEC) {
        ctl_printf("guest %s: not a 32-bit x86 executable ELF (class %u, "
                   "machine %u, type %u)\n", vm->name,
                   eh->e_ident[ELF_IDENT_CLASS], eh->e_machine, eh->e_type);
        return -HV_EINVAL;
    }
    if (eh->e_phnum == 0 || eh->e_phentsize < sizeof(struct elf32_program_header) ||
        table_end > size) {
        ctl_printf("guest %s: bad ELF program header table (%u entries of %u "
                   "bytes at 0x%x)\n", vm->name, eh->e_phnum, eh->e_phentsize,
                   eh->e_phoff);
        return -HV_EINVAL;
    }
    return 0;
}

/* Checks one PT_LOAD segment and copies it into guest RAM. */
static int load_segment(struct vm_instance *vm, const uint8_t *image,
                        uint64_t size, const struct elf32_program_header *ph,
                        unsigned index)
{
    uint64_t paddr = ph->p_paddr, filesz = ph->p_filesz, memsz = ph->p_memsz;

    if (filesz > memsz || (uint64_t)ph->p_offset + filesz > size) {
        ctl_printf("guest %s: ELF segment %u lies outside the image "
                   "(offset 0x%x, file size 0x%x, memory size 0x%x)\n",
                   vm->name, index, ph->p_offset, ph->p_filesz, ph->p_memsz);
        return -HV_EINVAL;
    }
    if (paddr + memsz > vm->ram_below_4g) {
        ctl_printf("guest %s: ELF segment %u at 0x%lx..0x%lx is outside its "
                   "%lu MiB of RAM\n", vm->name, index, paddr, paddr + memsz,
                   vm->ram_size >> 20);
        return -HV_ERANGE;
    }
    memcpy(vm->ram + paddr, image + ph->p_offset, filesz);
    memset(vm->ram + paddr + filesz, 0, memsz - filesz);   /* the bss part */
    return 0;
}

int vmm_load_multiboot(struct vm_instance *vm, const uint8_t *image,
                       uint64_t size, const char *cmdline,
                       const struct multiboot_module_image *modules,
                       unsigned module_count)
{
    struct multiboot_info_result placed;
    struct multiboot_header mbh;
    struct elf32_header eh;
    struct elf32_program_header ph;
    uint64_t kernel_end = 0, info_addr;
    unsigned loaded = 0;
    int rc;

    if (size < sizeof(eh)) {
        ctl_printf("guest %s: ELF image truncated (%lu bytes)\n", vm->name, size);
        return -HV_EINVAL;
    }
    memcpy(&eh, image, sizeof(eh));
    if ((rc = check_elf_header(vm, &eh, size)) < 0)
        return rc;
    if (!find_multiboot_header(image, size, &mbh)) {
        ctl_printf("guest %s: no multiboot1 header in the first %u bytes\n",
                   vm->name, MULTIBOOT_SEARCH_BYTES);
        return -HV_EINVAL;
    }
    /* Page-aligned modules and memory sizes are given; a video mode is
     * not. */
    if (mbh.flags & MULTIBOOT_HEADER_REQUIRED &
        ~(uint32_t)(MULTIBOOT_HEADER_PAGE_ALIGN | MULTIBOOT_HEADER_MEMORY)) {
        ctl_printf("guest %s: multiboot header requires features this loader "
                   "lacks (flags 0x%x)\n", vm->name, mbh.flags);
        return -HV_ENOTSUP;
    }

    for (unsigned i = 0; i < eh.e_phnum; i++) {
        memcpy(&ph, image + eh.e_phoff + (uint64_t)i * eh.e_phentsize, sizeof(ph));
        if (ph.p_type != ELF_PT_LOAD || ph.p_memsz == 0)
            continue;
        if ((rc = load_segment(vm, image, size, &ph, i)) < 0)
            return rc;
        if ((uint64_t)ph.p_paddr + ph.p_memsz > kernel_end)
            kernel_end = (uint64_t)ph.p_paddr + ph.p_memsz;
        loaded++;
    }
    if (loaded == 0 || eh.e_entry >= vm->ram_below_4g) {
        ctl_printf("guest %s: nothing to run (%u loadable segments, entry "
                   "0x%x)\n", vm->name, loaded, eh.e_entry);
        return -HV_EINVAL;
    }

    info_addr = (kernel_end + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    rc = multiboot_info_write(vm->ram, vm->ram_below_4g, vm->ram_size - vm->ram_below_4g,
                              info_addr, cmdline, modules, module_count, &placed);
    if (rc < 0) {
        ctl_printf("guest %s: no room for the multiboot information and %u "
                   "modules above the kernel (ends at 0x%lx) in %lu MiB\n",
                   vm->name, module_count, kernel_end, vm->ram_below_4g >> 20);
        return rc;
    }
    ctl_printf("guest %s: multiboot ELF kernel, %u segments up to 0x%lx, "
               "entry 0x%x, command line \"%s\"\n", vm->name, loaded,
               kernel_end, eh.e_entry, cmdline);
    if (module_count != 0)
        ctl_printf("guest %s: %u multiboot modules at 0x%lx..0x%lx\n", vm->name,
                   module_count, placed.modules_start, placed.end);
    return vmm_set_protected_mode(vm, eh.e_entry, MULTIBOOT_BOOTLOADER_MAGIC,
                                  (uint32_t)placed.info_address);
}
