/*
 * Choosing how to load a guest image: ELF images go to the multiboot
 * loader, anything else is a flat binary placed at 1 MiB, where a
 * multiboot kernel would also start, and entered at its first byte.
 */
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/vmm_internal.h"

#define FLAT_LOAD_ADDRESS 0x100000u

#define MAX_MODULES       HV_BOOT_MAX_MODULES
#define MODULE_CMDLINE_MAX (sizeof(((struct hv_boot_module *)0)->cmdline) + 1)

static int load_flat(struct vm_instance *vm, const uint8_t *image,
                     uint64_t size)
{
    if (size == 0 || size > vm->ram_below_4g - FLAT_LOAD_ADDRESS) {
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
        return vmm_load_multiboot(vm, image, size, cmdline, NULL, 0);
    return load_flat(vm, image, size);
}

/* The boot info's cmdline array need not be terminated. */
static void module_cmdline(const struct hv_boot_module *mod, char *out)
{
    size_t len = strnlen(mod->cmdline, sizeof(mod->cmdline));

    memcpy(out, mod->cmdline, len);
    out[len] = '\0';
}

/* Identity mapping: a module's physical address is a pointer. */
static const void *module_bytes(const struct hv_boot_module *mod)
{
    return (const void *)(uintptr_t)mod->guest_phys;
}

int vmm_load_module(struct vm_instance *vm, const struct hv_boot_module *mod)
{
    return vmm_load_module_with(vm, mod, NULL, 0);
}

int vmm_load_module_with(struct vm_instance *vm, const struct hv_boot_module *mod,
                         const struct hv_boot_module *const *extra, unsigned count)
{
    static char cmdlines[MAX_MODULES + 1][MODULE_CMDLINE_MAX];
    struct multiboot_module_image images[MAX_MODULES];
    const void *image = module_bytes(mod);

    /* Creating and loading belong to one control-domain CPU (vmm.h), so
     * one set of command-line buffers serves every load. */
    if (count > MAX_MODULES)
        return -HV_E2BIG;
    module_cmdline(mod, cmdlines[0]);
    if (!vmm_is_elf(image, mod->size)) {
        if (count != 0)
            ctl_printf("guest %s: a flat binary takes no modules; %u ignored\n",
                       vm->name, count);
        return load_flat(vm, image, mod->size);
    }
    for (unsigned i = 0; i < count; i++) {
        module_cmdline(extra[i], cmdlines[i + 1]);
        images[i] = (struct multiboot_module_image){
            .data = module_bytes(extra[i]),
            .size = extra[i]->size,
            .cmdline = cmdlines[i + 1],
        };
    }
    return vmm_load_multiboot(vm, image, mod->size, cmdlines[0], images, count);
}
