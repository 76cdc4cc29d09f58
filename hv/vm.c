#include "hv/vm.h"

#include "hv/cpuid.h"
#include "hv/debugregs.h"
#include "hv/exit_profile.h"
#include "hv/fault_inject.h"
#include "hv/fpu.h"
#include "hv/guest_access.h"
#include "hv/insn_fetch.h"
#include "hv/memory.h"
#include "hv/nested_tables.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/vcpu_run.h"
#include "hv/virt.h"
#include "mmu/dirty_log.h"

static struct object_cache vm_cache;
static struct object_cache vcpu_cache;
static uint32_t next_vm_id;
static uint32_t live_child_vms;
static uint32_t live_child_vcpus;

_Static_assert(offsetof(struct vcpu, lapic.page) % 64 == 0,
              "a placed cache's objects start on cache lines");

int vm_subsystem_init(void)
{
    int err = object_cache_init(&vm_cache, "vm", sizeof(struct vm), &hv_pages);
    /* The local APIC's page starts a page: VMX's virtual-APIC page. */
    return err ?: object_cache_init_placed(&vcpu_cache, "vcpu", sizeof(struct vcpu),
                                           offsetof(struct vcpu, lapic.page), &hv_pages);
}

/* The APIC-access page lies at the APIC's default base, where guests
 * find their local APIC (a relocated APIC is left to the nested faults,
 * as without it). A slot that covers it wins: RAM there hides the APIC,
 * as the hypervisor's emulation alone would have it. Mapping it again
 * after such a slot may fail for want of a table page: the vcpus' APIC
 * accesses then take nested faults, as without the page -- slower, not
 * wrong -- so the slot's change does not fail for it. */
static int apic_access_page_map(struct vm *vm)
{
    return vm_map_host(vm, APIC_BASE_DEFAULT, vm->apic_access_page, FRAME_SIZE, true);
}

static bool covers_apic_access_page(const struct vm *vm, uint64_t guest_phys, uint64_t size)
{
    return vm->apic_access_page && guest_phys <= APIC_BASE_DEFAULT &&
           APIC_BASE_DEFAULT - guest_phys < size;
}

static int apic_access_page_create(struct vm *vm)
{
    uint64_t phys = fault_inject_fails() ? FRAME_NONE : pages_alloc_zeroed(1, 0);
    if (phys == FRAME_NONE)
        return -HV_ENOMEM;
    vm->apic_access_page = phys;
    if (apic_access_page_map(vm)) {
        pages_free(phys, 1);
        vm->apic_access_page = 0;
        return -HV_ENOMEM;
    }
    vm->apic_virtualized = true;
    return 0;
}

struct vm *vm_create(bool is_control, uint32_t flags, long *error)
{
    if (!is_control &&
        __atomic_add_fetch(&live_child_vms, 1, __ATOMIC_RELAXED) > MAX_CHILD_VMS) {
        __atomic_sub_fetch(&live_child_vms, 1, __ATOMIC_RELAXED);
        *error = -HV_ENOSPC;
        return NULL;
    }
    struct vm *vm = fault_inject_fails() ? NULL : object_alloc(&vm_cache);
    if (vm) {
        vm->is_control = is_control; /* before the root: it is counted by it */
        vm->lapic = flags & HV_VM_LAPIC;
        vm->user_msr = flags & HV_VM_USER_MSR;
        vm->decoded_mmio = (flags & HV_VM_DECODED_MMIO) != 0;
        nested_tables_setup(vm, virt->nested_table_flags);
        if (page_table_init(&vm->npt)) {
            object_free(&vm_cache, vm);
            vm = NULL;
        } else if (vm->lapic && virt_apic_access_page && apic_access_page_create(vm)) {
            nested_tables_destroy(vm);
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
    vm->id = __atomic_fetch_add(&next_vm_id, 1, __ATOMIC_RELAXED);
    return vm;
}

void vm_get(struct vm *vm)
{
    __atomic_add_fetch(&vm->refs, 1, __ATOMIC_RELAXED);
}

static uint64_t dirty_bitmap_frames(uint64_t slot_size)
{
    return (dirty_log_bytes(slot_size) + FRAME_SIZE - 1) / FRAME_SIZE;
}

/* Frees a slot's dirty bitmap, if it has one. */
static void slot_free_bitmap(struct memory_slot *slot)
{
    if (slot->dirty_bitmap)
        pages_free(virt_to_phys(slot->dirty_bitmap), dirty_bitmap_frames(slot->size));
    slot->dirty_bitmap = NULL;
}

/* The backend's VMCB/VMCS and the extended-state image. */
static void vcpu_free_state(struct vcpu *vcpu)
{
    virt->vcpu_free(vcpu);
    fpu_vcpu_free(vcpu);
    vcpu_free_cpuid(vcpu);
}

static void vm_destroy(struct vm *vm)
{
    /* No handle names the VM any more, so no call can reach it or its
     * vcpus: nothing runs them. */
    for (unsigned i = 0; i < HV_MAX_VCPUS; i++) {
        struct vcpu *vcpu = vm->vcpus[i];
        if (!vcpu)
            continue;
        vcpu_free_state(vcpu);
        object_free(&vcpu_cache, vcpu);
        if (!vm->is_control)
            __atomic_sub_fetch(&live_child_vcpus, 1, __ATOMIC_RELAXED);
    }
    for (unsigned i = 0; i < HV_MAX_MEMORY_SLOTS; i++)
        slot_free_bitmap(&vm->slots[i]);
    nested_tables_destroy(vm);
    if (vm->apic_access_page)
        pages_free(vm->apic_access_page, 1);
    if (!vm->is_control)
        __atomic_sub_fetch(&live_child_vms, 1, __ATOMIC_RELAXED);
#ifdef HV_EXIT_PROFILE
    if (!vm->is_control)
        exit_profile_report(); /* a bench build's: its guest has ended */
#endif
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

static bool ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    return a < b + b_size && b < a + a_size;
}

static long check_region(struct vm *vm, struct vm *owner,
                         const struct hv_memory_region *r)
{
    if (r->slot >= HV_MAX_MEMORY_SLOTS)
        return -HV_ERANGE;
    if (r->flags & ~(uint32_t)(HV_MEM_READONLY | HV_MEM_LOG_DIRTY))
        return -HV_EINVAL;
    /* A read-only slot is never written: there would be nothing to log. */
    if ((r->flags & HV_MEM_READONLY) && (r->flags & HV_MEM_LOG_DIRTY))
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

/* A dirty-logged slot is mapped with 4 KiB pages and without write
 * permission, so that the first write to each page faults and can be
 * recorded (vm_resolve_dirty_fault); the others with the largest pages. */
static int slot_map(struct vm *vm, const struct hv_memory_region *r, uint64_t host)
{
    if (r->flags & HV_MEM_LOG_DIRTY)
        return page_table_map(&vm->npt, r->guest_phys, host, r->size,
                              virt->nested_leaf_read, PAGE_4K);
    return vm_map_host(vm, r->guest_phys, host, r->size, !(r->flags & HV_MEM_READONLY));
}

static long slot_create(struct vm *vm, struct memory_slot *slot,
                        const struct hv_memory_region *r, uint64_t host)
{
    uint64_t *bitmap = NULL;
    if (r->flags & HV_MEM_LOG_DIRTY) {
        uint64_t phys = pages_alloc_zeroed(dirty_bitmap_frames(r->size), 0);
        if (phys == FRAME_NONE)
            return -HV_ENOMEM;
        bitmap = phys_to_virt(phys);
    }
    bool over_apic = covers_apic_access_page(vm, r->guest_phys, r->size);
    if (over_apic)
        page_table_unmap(&vm->npt, APIC_BASE_DEFAULT, FRAME_SIZE, &vm->retired_tables);
    int err = slot_map(vm, r, host);
    if (err) {
        /* Leave no half-made slot behind, nor the tables made for it. */
        page_table_unmap(&vm->npt, r->guest_phys, r->size, &vm->retired_tables);
        if (over_apic)
            apic_access_page_map(vm);
        if (bitmap)
            pages_free(virt_to_phys(bitmap), dirty_bitmap_frames(r->size));
        return err;
    }
    *slot = (struct memory_slot){ r->guest_phys, r->size, host, r->flags, bitmap };
    if (bitmap)
        __atomic_or_fetch(&vm->dirty_logged, 1u << (slot - vm->slots), __ATOMIC_RELEASE);
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
        err = page_table_unmap(&vm->npt, slot->guest_phys, slot->size,
                               &vm->retired_tables);
        if (!err && covers_apic_access_page(vm, slot->guest_phys, slot->size))
            apic_access_page_map(vm);
        slot_free_bitmap(slot);
        *slot = (struct memory_slot){ 0 };
    } else {
        err = slot_create(vm, slot, region, owner->memory_base + region->control_addr);
    }
    /* The tables the deletion (or a failed creation) emptied are freed
     * only once no CPU can be walking them any more. */
    vm_flush_translations(vm);
    nested_tables_free_retired(vm);
out:
    spin_unlock(&vm->lock);
    return err;
}

long vm_get_dirty_log(struct vm *vm, struct vm *caller, uint64_t slot_index,
                      uint64_t bitmap_gpa)
{
    if (slot_index >= HV_MAX_MEMORY_SLOTS)
        return -HV_ERANGE;
    spin_lock(&vm->lock);
    struct memory_slot *slot = &vm->slots[slot_index];
    uint64_t bytes = dirty_log_bytes(slot->size);
    long err = slot->dirty_bitmap ? control_range_check(caller, bitmap_gpa, bytes, 8)
                                  : -HV_ENOENT;
    if (err)
        goto out;
    uint64_t *out = control_pointer(caller, bitmap_gpa);
    bool protected = false;
    for (uint64_t word = 0; word < bytes / 8; word++) {
        uint64_t dirty = dirty_log_take_word(slot->dirty_bitmap, word);
        __atomic_store_n(&out[word], dirty, __ATOMIC_RELAXED);
        for (unsigned bit = 0; dirty; bit++, dirty >>= 1) {
            if (!(dirty & 1))
                continue;
            uint64_t gpa = slot->guest_phys + (word * 64 + bit) * FRAME_SIZE;
            page_table_update_leaf(&vm->npt, gpa, 0, virt->nested_leaf_write);
            protected = true;
        }
    }
    /* Until every vcpu has dropped the writable translations, a write
     * could land unrecorded; RUN takes a fresh TLB tag after this. */
    if (protected)
        vm_flush_translations(vm);
out:
    spin_unlock(&vm->lock);
    return err;
}

/* Runs on the faulting vcpu's CPU. The VM lock keeps the slot and its
 * bitmap from being deleted meanwhile; it is taken once per page and log
 * round of a dirty-logged slot, never for any other write fault (MMIO,
 * read-only memory), which dirty_slot_may_cover sends back at once. No TLB flush: a nested fault, like a #PF,
 * drops the translation that faulted (SDM 3C, "Operations that Invalidate
 * Cached Mappings"; KVM relies on the same on AMD), so the retried write
 * walks the tables again and finds the write bit. */
/* Whether a dirty-logged slot may cover guest_phys, decided without the
 * lock and without writing anything of the VM's. A slot being made or
 * deleted meanwhile is seen before or after the change (its fields are
 * aligned words, each read whole, and one torn between them only sends
 * the fault to the locked check): either way the fault is ordered with
 * that region change, as a fault that came just before or just after it.
 * Slots that were dirty-logged once keep their bit; they cost a look. */
static bool dirty_slot_may_cover(const struct vm *vm, uint64_t guest_phys)
{
    for (uint32_t bits = __atomic_load_n(&vm->dirty_logged, __ATOMIC_ACQUIRE); bits;
         bits &= bits - 1) {
        const struct memory_slot *slot = &vm->slots[__builtin_ctz(bits)];
        if (__atomic_load_n(&slot->dirty_bitmap, __ATOMIC_RELAXED) &&
            guest_phys - __atomic_load_n(&slot->guest_phys, __ATOMIC_RELAXED) <
                __atomic_load_n(&slot->size, __ATOMIC_RELAXED))
            return true;
    }
    return false;
}

static __attribute__((noinline)) bool resolve_dirty_locked(struct vm *vm,
                                                           uint64_t guest_phys)
{
    bool resolved = false;
    spin_lock(&vm->lock);
    for (unsigned i = 0; i < HV_MAX_MEMORY_SLOTS; i++) {
        struct memory_slot *slot = &vm->slots[i];
        if (!slot->dirty_bitmap || guest_phys < slot->guest_phys ||
            guest_phys - slot->guest_phys >= slot->size)
            continue;
        uint64_t page = (guest_phys - slot->guest_phys) / FRAME_SIZE;
        resolved = page_table_update_leaf(&vm->npt, guest_phys & ~(FRAME_SIZE - 1),
                                          virt->nested_leaf_write, 0) == 0;
        if (resolved)
            dirty_log_mark(slot->dirty_bitmap, page);
        break;
    }
    spin_unlock(&vm->lock);
    return resolved;
}

bool vm_resolve_dirty_fault(struct vm *vm, uint64_t guest_phys, bool write)
{
    if (!write || vm->is_control || !dirty_slot_may_cover(vm, guest_phys))
        return false;
    return resolve_dirty_locked(vm, guest_phys);
}

struct vcpu *vcpu_create(struct vm *vm, unsigned slot, struct hv_run *run,
                         long *error)
{
    if (slot >= HV_MAX_VCPUS) {
        *error = -HV_ERANGE;
        return NULL;
    }
    struct vcpu *vcpu = fault_inject_fails() ? NULL : object_alloc(&vcpu_cache);
    if (!vcpu) {
        *error = -HV_ENOMEM;
        return NULL;
    }
    vcpu->vm = vm;
    vcpu->slot = slot;
    vcpu->run = run;
    vcpu->asid_cpu = -1;
    /* A child's RUN enters with the exit handler set here (hv/vcpu_run.h);
     * control-domain vcpus get theirs when their loop starts. */
    if (!vm->is_control)
        vcpu->exit_handler = vcpu_child_exit;
    vcpu->entered_at = ~0ull; /* not in its guest: exit_count is 0 */
    vcpu->code_page = CODE_PAGE_NONE;
    for (unsigned i = 0; i < CODE_WALK_SLOTS; i++)
        code_walk_forget(&vcpu->code_walks[i]);
    vcpu_lapic_reset(vcpu);
    debugregs_init(vcpu);
    int err = virt->vcpu_init(vcpu);
    if (!err) {
        err = fpu_vcpu_init(vcpu, vm->is_control);
        if (err)
            virt->vcpu_free(vcpu);
    }
    if (err) {
        object_free(&vcpu_cache, vcpu);
        *error = err;
        return NULL;
    }
    spin_lock(&vm->lock);
    bool taken = vm->vcpus[slot] != NULL;
    if (!taken) {
        __atomic_store_n(&vm->vcpus[slot], vcpu, __ATOMIC_RELEASE);
        if (slot >= vm->vcpu_slots_end)
            __atomic_store_n(&vm->vcpu_slots_end, slot + 1, __ATOMIC_RELEASE);
    }
    spin_unlock(&vm->lock);
    if (taken) {
        vcpu_free_state(vcpu);
        object_free(&vcpu_cache, vcpu);
        *error = -HV_EEXIST;
        return NULL;
    }
    if (!vm->is_control)
        __atomic_add_fetch(&live_child_vcpus, 1, __ATOMIC_RELAXED);
    return vcpu;
}

void vm_stats(uint64_t *vms, uint64_t *vcpus, uint64_t *objects)
{
    *vms = __atomic_load_n(&live_child_vms, __ATOMIC_RELAXED);
    *vcpus = __atomic_load_n(&live_child_vcpus, __ATOMIC_RELAXED);
    *objects = vm_cache.objects_in_use + vcpu_cache.objects_in_use;
}
