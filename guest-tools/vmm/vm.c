/*
 * Creating and destroying a VM instance: memory first (so a failure leaves
 * no handles behind), then the VM, its RAM slot and its vcpu. Destruction
 * closes in the reverse order and hands the memory back to the allocator.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/vmm_internal.h"

#define RAM_ALIGN     (2ull << 20)        /* lets NPT/EPT use 2 MiB pages */
#define PORT_BITMAP_BYTES (65536 / 8)

static int allocate_memory(struct vm_instance *vm)
{
    vm->run = page_alloc(HV_RUN_PAGE_SIZE);
    vm->ports_reported = page_alloc(PORT_BITMAP_BYTES);
    vm->ram = page_alloc_aligned(vm->ram_size, RAM_ALIGN);
    if (vm->run == NULL || vm->ports_reported == NULL || vm->ram == NULL) {
        ctl_printf("guest %s: out of control-domain memory for %lu MiB of "
                   "RAM\n", vm->name, vm->ram_size >> 20);
        return -HV_ENOMEM;
    }
    return 0;
}

static int create_handles(struct vm_instance *vm)
{
    struct hv_memory_region region;
    long rc;

    rc = hv_create_vm(vm->sys);
    if (rc < 0) {
        ctl_printf("guest %s: CREATE_VM failed: %s\n", vm->name, hv_strerror(rc));
        return (int)rc;
    }
    vm->vm = rc;

    memset(&region, 0, sizeof(region));
    region.slot = 0;
    region.guest_phys = 0;
    region.size = vm->ram_size;
    region.control_addr = (uint64_t)(uintptr_t)vm->ram;
    rc = hv_set_memory_region(vm->vm, &region);
    if (rc < 0) {
        ctl_printf("guest %s: SET_MEMORY_REGION of %lu MiB at 0x%lx failed: "
                   "%s\n", vm->name, vm->ram_size >> 20, region.control_addr,
                   hv_strerror(rc));
        return (int)rc;
    }

    rc = hv_create_vcpu(vm->vm, 0, vm->run);
    if (rc < 0) {
        ctl_printf("guest %s: CREATE_VCPU failed: %s\n", vm->name,
                   hv_strerror(rc));
        return (int)rc;
    }
    vm->vcpu = rc;
    return 0;
}

int vmm_create(struct vm_instance *vm, hv_handle_t sys, const char *name,
               uint64_t ram_mib)
{
    int rc;

    memset(vm, 0, sizeof(*vm));
    strlcpy(vm->name, name, sizeof(vm->name));
    snprintf(vm->prefix, sizeof(vm->prefix), "[guest %s] ", vm->name);
    vm->sys = sys;
    vm->mark = page_alloc_mark();
    if (ram_mib < VMM_MIN_RAM_MIB || ram_mib > VMM_MAX_RAM_MIB) {
        ctl_printf("guest %s: %lu MiB of RAM is outside %u..%u MiB\n",
                   vm->name, ram_mib, VMM_MIN_RAM_MIB, VMM_MAX_RAM_MIB);
        return -HV_EINVAL;
    }
    vm->ram_size = ram_mib << 20;

    rc = allocate_memory(vm);
    if (rc == 0)
        rc = create_handles(vm);
    if (rc < 0)
        vmm_destroy(vm);
    return rc;
}

void vmm_destroy(struct vm_instance *vm)
{
    long rc;

    /* The vcpu first: each vcpu handle holds a reference on the VM, so the
     * VM's memory is surely unmapped once both are closed. */
    if (vm->vcpu != 0 && (rc = hv_close(vm->vcpu)) < 0)
        ctl_printf("guest %s: CLOSE of the vcpu failed: %s\n", vm->name,
                   hv_strerror(rc));
    if (vm->vm != 0 && (rc = hv_close(vm->vm)) < 0)
        ctl_printf("guest %s: CLOSE of the VM failed: %s\n", vm->name,
                   hv_strerror(rc));
    vm->vcpu = 0;
    vm->vm = 0;
    if (vm->run != NULL || vm->ram != NULL || vm->ports_reported != NULL)
        page_alloc_release(vm->mark);
    vm->run = NULL;
    vm->ram = NULL;
    vm->ports_reported = NULL;
}
