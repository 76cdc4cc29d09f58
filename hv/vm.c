#include "hv/vm.h"

#include "hv/apic.h"
#include "hv/console.h"
#include "hv/memory.h"
#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "hv/virt.h"
#include "hv/trap.h"
#include "hv/x86.h"

static struct object_cache vm_cache;
static struct object_cache vcpu_cache;
static uint32_t next_vm_id;
static uint32_t live_child_vms;
static uint32_t live_child_vcpus;

int vm_subsystem_init(void)
{
    int err = object_cache_init(&vm_cache, "vm", sizeof(struct vm), &hv_pages);
    return err ?: object_cache_init(&vcpu_cache, "vcpu", sizeof(struct vcpu),
                                    &hv_pages);
}

static uint64_t npt_alloc_table(void *ctx)
{
    (void)ctx;
    uint64_t phys = pages_alloc_zeroed(1, 0);
    return phys == FRAME_NONE ? 0 : phys;
}

static void npt_free_table(uint64_t phys, void *ctx)
{
    (void)ctx;
    pages_free(phys, 1);
}

static void *npt_pointer(uint64_t phys, void *ctx)
{
    (void)ctx;
    return phys_to_virt(phys);
}

struct vm *vm_create(bool is_control, long *error)
{
    if (!is_control &&
        __atomic_add_fetch(&live_child_vms, 1, __ATOMIC_RELAXED) > MAX_CHILD_VMS) {
        __atomic_sub_fetch(&live_child_vms, 1, __ATOMIC_RELAXED);
        *error = -HV_ENOSPC;
        return NULL;
    }
    struct vm *vm = object_alloc(&vm_cache);
    if (vm) {
        vm->npt = (struct page_table){
            .table_flags = virt->nested_table_flags,
            .alloc_table = npt_alloc_table,
            .to_pointer = npt_pointer,
        };
        if (page_table_init(&vm->npt)) {
            object_free(&vm_cache, vm);
            vm = NULL;
        }
    }
    if (!vm) {
        if (!is_control)
            __atomic_sub_fetch(&live_child_vms, 1, __ATOMIC_RELAXED);
        *error = -HV_ENOMEM;
        return NULL;
    }
    vm->lock = (struct spinlock)SPINLOCK_INIT;
    vm->refs = 1;
    vm->is_control = is_control;
    vm->id = __atomic_fetch_add(&next_vm_id, 1, __ATOMIC_RELAXED);
    return vm;
}

void vm_get(struct vm *vm)
{
    __atomic_add_fetch(&vm->refs, 1, __ATOMIC_RELAXED);
}

static void vm_destroy(struct vm *vm)
{
    /* No handle names the VM any more, so no call can reach it or its
     * vcpus: nothing runs them. */
    for (unsigned i = 0; i < HV_MAX_VCPUS; i++) {
        struct vcpu *vcpu = vm->vcpus[i];
        if (!vcpu)
            continue;
        virt->vcpu_free(vcpu);
        object_free(&vcpu_cache, vcpu);
        if (!vm->is_control)
            __atomic_sub_fetch(&live_child_vcpus, 1, __ATOMIC_RELAXED);
    }
    page_table_destroy(&vm->npt, npt_free_table);
    if (!vm->is_control)
        __atomic_sub_fetch(&live_child_vms, 1, __ATOMIC_RELAXED);
    object_free(&vm_cache, vm);
}

void vm_put(struct vm *vm)
{
    if (__atomic_sub_fetch(&vm->refs, 1, __ATOMIC_ACQ_REL) == 0)
        vm_destroy(vm);
}

int vm_map_host(struct vm *vm, uint64_t guest_phys, uint64_t host_phys,
                uint64_t size, bool writable)
{
    return page_table_map(&vm->npt, guest_phys, host_phys, size,
                          virt->nested_leaf_read | (writable ? virt->nested_leaf_write : 0),
                          PAGE_1G);
}

/* Makes every vcpu of the VM drop its cached translations before it next
 * enters the guest, and pushes the ones running now out of the guest. */
static void vm_flush_translations(struct vm *vm)
{
    __atomic_add_fetch(&vm->tlb_generation, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < HV_MAX_VCPUS; i++) {
        struct vcpu *vcpu = vm->vcpus[i];
        if (!vcpu)
            continue;
        uint32_t owner = __atomic_load_n(&vcpu->owner, __ATOMIC_ACQUIRE);
        if (owner && owner - 1 != this_cpu_index() && percpu_of[owner - 1])
            apic_send_ipi(percpu_of[owner - 1]->apic_id, VECTOR_KICK);
    }
}

static bool ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    return a < b + b_size && b < a + a_size;
}

static long check_region(struct vm *vm, struct vm *owner,
                         const struct hv_memory_region *r)
{
    if (r->slot >= HV_MAX_MEMORY_SLOTS)
        return -HV_ERANGE;
    if (r->flags & ~(uint32_t)HV_MEM_READONLY)
        return -HV_EINVAL;
    if (r->size == 0)
        return vm->slots[r->slot].size ? 0 : -HV_ENOENT;
    if ((r->guest_phys | r->size | r->control_addr) & (FRAME_SIZE - 1))
        return -HV_EINVAL;
    if (r->guest_phys + r->size < r->guest_phys ||
        r->guest_phys + r->size > HV_MAX_GUEST_PHYS)
        return -HV_ERANGE;
    if (r->control_addr + r->size < r->control_addr ||
        r->control_addr + r->size > owner->memory_size)
        return -HV_EFAULT;
    if (vm->slots[r->slot].size)
        return -HV_EBUSY;
    for (unsigned i = 0; i < HV_MAX_MEMORY_SLOTS; i++) {
        const struct memory_slot *s = &vm->slots[i];
        if (s->size && ranges_overlap(s->guest_phys, s->size, r->guest_phys, r->size))
            return -HV_EEXIST;
    }
    return 0;
}

long vm_set_memory_region(struct vm *vm, struct vm *owner,
                          const struct hv_memory_region *region)
{
    spin_lock(&vm->lock);
    long err = check_region(vm, owner, region);
    if (err)
        goto out;
    struct memory_slot *slot = &vm->slots[region->slot];
    if (region->size == 0) {
        err = page_table_unmap(&vm->npt, slot->guest_phys, slot->size);
        *slot = (struct memory_slot){ 0 };
    } else {
        uint64_t host = owner->memory_base + region->control_addr;
        err = vm_map_host(vm, region->guest_phys, host, region->size,
                          !(region->flags & HV_MEM_READONLY));
        if (err) {
            /* Leave no half-made slot behind. */
            page_table_unmap(&vm->npt, region->guest_phys, region->size);
        } else {
            *slot = (struct memory_slot){ region->guest_phys, region->size, host,
                                          region->flags };
        }
    }
    vm_flush_translations(vm);
out:
    spin_unlock(&vm->lock);
    return err;
}

struct vcpu *vcpu_create(struct vm *vm, unsigned slot, struct hv_run *run,
                         long *error)
{
    if (slot >= HV_MAX_VCPUS) {
        *error = -HV_ERANGE;
        return NULL;
    }
    struct vcpu *vcpu = object_alloc(&vcpu_cache);
    if (!vcpu) {
        *error = -HV_ENOMEM;
        return NULL;
    }
    vcpu->vm = vm;
    vcpu->slot = slot;
    vcpu->run = run;
    vcpu->asid_cpu = -1;
    int err = virt->vcpu_init(vcpu);
    if (err) {
        object_free(&vcpu_cache, vcpu);
        *error = err;
        return NULL;
    }
    spin_lock(&vm->lock);
    bool taken = vm->vcpus[slot] != NULL;
    if (!taken)
        vm->vcpus[slot] = vcpu;
    spin_unlock(&vm->lock);
    if (taken) {
        virt->vcpu_free(vcpu);
        object_free(&vcpu_cache, vcpu);
        *error = -HV_EEXIST;
        return NULL;
    }
    if (!vm->is_control)
        __atomic_add_fetch(&live_child_vcpus, 1, __ATOMIC_RELAXED);
    return vcpu;
}

void vcpu_discard(struct vcpu *vcpu)
{
    struct vm *vm = vcpu->vm;
    spin_lock(&vm->lock);
    vm->vcpus[vcpu->slot] = NULL;
    spin_unlock(&vm->lock);
    virt->vcpu_free(vcpu);
    object_free(&vcpu_cache, vcpu);
    if (!vm->is_control)
        __atomic_sub_fetch(&live_child_vcpus, 1, __ATOMIC_RELAXED);
}

void vm_stats(uint64_t *vms, uint64_t *vcpus, uint64_t *objects)
{
    *vms = __atomic_load_n(&live_child_vms, __ATOMIC_RELAXED);
    *vcpus = __atomic_load_n(&live_child_vcpus, __ATOMIC_RELAXED);
    *objects = vm_cache.objects_in_use + vcpu_cache.objects_in_use;
}
