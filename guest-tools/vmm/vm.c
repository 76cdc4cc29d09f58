/*
 * Creating and destroying a VM instance: memory first (so a failure leaves
 * no handles behind), then the VM, its RAM slot and its vcpus. Destruction
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
    int ok;

    vm->vcpus = page_alloc(vm->vcpu_count * sizeof(struct vmm_vcpu));
    vm->ports_reported = page_alloc(PORT_BITMAP_BYTES);
    vm->ram = page_alloc_aligned(vm->ram_size, RAM_ALIGN);
    ok = vm->vcpus != NULL && vm->ports_reported != NULL && vm->ram != NULL;
    for (unsigned k = 0; ok && k < vm->vcpu_count; k++) {
        struct vmm_vcpu *vcpu = &vm->vcpus[k];

        memset(vcpu, 0, sizeof(*vcpu));
        vcpu->vm = vm;
        vcpu->index = k;
        vcpu->run = page_alloc(HV_RUN_PAGE_SIZE);
        ok = vcpu->run != NULL;
        if (vm->vcpu_count == 1)
            strlcpy(vcpu->label, vm->name, sizeof(vcpu->label));
        else
            snprintf(vcpu->label, sizeof(vcpu->label), "%s/%u", vm->name, k);
        snprintf(vcpu->prefix, sizeof(vcpu->prefix), "[guest %s] ",
                 vcpu->label);
        vcpu->uart.line.prefix = vcpu->prefix;
    }
    if (!ok) {
        ctl_printf("guest %s: out of control-domain memory for %lu MiB of "
                   "RAM\n", vm->name, vm->ram_size >> 20);
        vm->vcpu_count = 0;     /* no vcpu entry is known to be initialised */
        return -HV_ENOMEM;
    }
    vm->run = vm->vcpus[0].run;
    return 0;
}

/* One memory slot: guest [guest_phys, + size) backed by ram + offset. */
static int map_ram(struct vm_instance *vm, uint32_t slot, uint64_t guest_phys,
                   uint64_t offset, uint64_t size)
{
    struct hv_memory_region region;
    long rc;

    memset(&region, 0, sizeof(region));
    region.slot = slot;
    region.guest_phys = guest_phys;
    region.size = size;
    region.control_addr = (uint64_t)(uintptr_t)(vm->ram + offset);
    rc = hv_set_memory_region(vm->vm, &region);
    if (rc < 0)
        ctl_printf("guest %s: SET_MEMORY_REGION of %lu MiB at 0x%lx failed: "
                   "%s\n", vm->name, size >> 20, guest_phys, hv_strerror(rc));
    return (int)rc;
}

static int create_handles(struct vm_instance *vm)
{
    long rc;

    rc = hv_create_vm_flags(vm->sys, vm->flags);
    if (rc < 0) {
        ctl_printf("guest %s: CREATE_VM failed: %s\n", vm->name, hv_strerror(rc));
        return (int)rc;
    }
    vm->vm = rc;

    rc = map_ram(vm, 0, 0, 0, vm->ram_below_4g);
    if (rc == 0 && vm->ram_size > vm->ram_below_4g)
        rc = map_ram(vm, 1, VMM_RAM_ABOVE_4G_BASE, vm->ram_below_4g,
                     vm->ram_size - vm->ram_below_4g);
    if (rc < 0)
        return (int)rc;

    for (unsigned k = 0; k < vm->vcpu_count; k++) {
        rc = hv_create_vcpu(vm->vm, k, vm->vcpus[k].run);
        if (rc < 0) {
            ctl_printf("guest %s: CREATE_VCPU %u failed: %s\n", vm->name, k,
                       hv_strerror(rc));
            return (int)rc;
        }
        vm->vcpus[k].handle = rc;
    }
    vm->vcpu = vm->vcpus[0].handle;
    return 0;
}

int vmm_create(struct vm_instance *vm, hv_handle_t sys, const char *name,
               uint64_t ram_mib)
{
    return vmm_create_smp(vm, sys, name, ram_mib, 1);
}

int vmm_create_smp(struct vm_instance *vm, hv_handle_t sys, const char *name,
                   uint64_t ram_mib, unsigned vcpus)
{
    return vmm_create_with(vm, sys, name, ram_mib, vcpus, 0);
}

int vmm_create_with(struct vm_instance *vm, hv_handle_t sys, const char *name,
                    uint64_t ram_mib, unsigned vcpus, uint32_t vm_flags)
{
    int rc;

    memset(vm, 0, sizeof(*vm));
    vm->flags = vm_flags;
    strlcpy(vm->name, name, sizeof(vm->name));
    vm->sys = sys;
    vm->mark = page_alloc_mark();
    if (ram_mib < VMM_MIN_RAM_MIB || ram_mib > VMM_MAX_RAM_MIB) {
        ctl_printf("guest %s: %lu MiB of RAM is outside %u..%u MiB\n",
                   vm->name, ram_mib, VMM_MIN_RAM_MIB, VMM_MAX_RAM_MIB);
        return -HV_EINVAL;
    }
    if (vcpus == 0 || vcpus > VMM_MAX_VCPUS) {
        ctl_printf("guest %s: %u vcpus is outside 1..%u\n", vm->name, vcpus,
                   VMM_MAX_VCPUS);
        return -HV_EINVAL;
    }
    vm->vcpu_count = vcpus;
    vm->ram_size = ram_mib << 20;
    vm->ram_below_4g = vm->ram_size < VMM_RAM_BELOW_4G_MAX ? vm->ram_size
                                                           : VMM_RAM_BELOW_4G_MAX;

    rc = allocate_memory(vm);
    if (rc == 0)
        rc = create_handles(vm);
    if (rc < 0)
        vmm_destroy(vm);
    return rc;
}

void *vmm_guest_ram(const struct vm_instance *vm, uint64_t gpa, uint64_t len)
{
    uint64_t above = vm->ram_size - vm->ram_below_4g;

    if (gpa <= vm->ram_below_4g && len <= vm->ram_below_4g - gpa)
        return vm->ram + gpa;
    if (gpa >= VMM_RAM_ABOVE_4G_BASE && gpa - VMM_RAM_ABOVE_4G_BASE <= above &&
        len <= above - (gpa - VMM_RAM_ABOVE_4G_BASE))
        return vm->ram + vm->ram_below_4g + (gpa - VMM_RAM_ABOVE_4G_BASE);
    return NULL;
}

void vmm_destroy(struct vm_instance *vm)
{
    long rc;

    /* The vcpus first: each vcpu handle holds a reference on the VM, so
     * the VM's memory is surely unmapped once all are closed. */
    for (unsigned k = 0; k < vm->vcpu_count; k++) {
        struct vmm_vcpu *vcpu = &vm->vcpus[k];

        if (vcpu->handle != 0 && (rc = hv_close(vcpu->handle)) < 0)
            ctl_printf("guest %s: CLOSE of vcpu %u failed: %s\n", vm->name,
                       k, hv_strerror(rc));
        vcpu->handle = 0;
    }
    if (vm->vm != 0 && (rc = hv_close(vm->vm)) < 0)
        ctl_printf("guest %s: CLOSE of the VM failed: %s\n", vm->name,
                   hv_strerror(rc));
    vm->vcpu = 0;
    vm->vm = 0;
    if (vm->vcpus != NULL || vm->ram != NULL || vm->ports_reported != NULL)
        page_alloc_release(vm->mark);
    vm->vcpu_count = 0;
    vm->vcpus = NULL;
    vm->run = NULL;
    vm->ram = NULL;
    vm->ports_reported = NULL;
}
