/*
 * Choosing how to load a guest image: ELF images go to the multiboot
 * loader, anything else is a flat binary placed at 1 MiB, where a
 * multiboot kernel would also start, and entered at its first byte.
 */
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/vmm_internal.h"

#define FLAT_LOAD_ADDRESS 0x100000u

static int load_flat(struct vm_instance *vm, const uint8_t *image,
                     uint64_t size)
{
    if (size == 0 || size > vm->ram_size - FLAT_LOAD_ADDRESS) {
        ctl_printf("guest %s: flat image of %lu bytes does not fit at 0x%x "
                   "in %lu MiB of RAM\n", vm->name, size, FLAT_LOAD_ADDRESS,
                   vm->ram_size >> 20);
        return -HV_ERANGE;
    }
    memcpy(vm->ram + FLAT_LOAD_ADDRESS, image, size);
    ctl_printf("guest %s: flat binary, %lu bytes at 0x%x\n", vm->name, size,
               FLAT_LOAD_ADDRESS);
    return vmm_set_protected_mode(vm, FLAT_LOAD_ADDRESS, 0, 0);
}

int vmm_load_image(struct vm_instance *vm, const void *image, uint64_t size,
                   const char *cmdline)
{
    if (vmm_is_elf(image, size))
        return vmm_load_multiboot(vm, image, size, cmdline);
    return load_flat(vm, image, size);
}

int vmm_load_module(struct vm_instance *vm, const struct hv_boot_module *mod)
{
    /* The boot info's cmdline array need not be terminated. */
    char cmdline[sizeof(mod->cmdline) + 1];
    size_t len = strnlen(mod->cmdline, sizeof(mod->cmdline));

    memcpy(cmdline, mod->cmdline, len);
    cmdline[len] = '\0';
    /* Identity mapping: the module's physical address is a pointer. */
    return vmm_load_image(vm, (const void *)(uintptr_t)mod->guest_phys,
                          mod->size, cmdline);
}
