/* Virtual machines: the control domain (VM 0) and its children. A VM owns
 * its vcpus and its nested page tables; it borrows its memory from the
 * control domain through memory slots.
 *
 * Lifetime: `refs` counts the handles naming the VM, VM and vcpu handles
 * alike; the VM and its vcpus are destroyed when it drops to zero.
 *
 * Locking: `lock` guards slots, vcpus[] and the nested page tables. It is
 * taken by VM-wide calls (CREATE_VCPU, SET_MEMORY_REGION) and never by a
 * per-vcpu call, which only reads `npt.root` and `tlb_generation`. */
#ifndef HV_VM_H
#define HV_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"
#include "hv/handle.h"
#include "hv/spinlock.h"
#include "mmu/page_table.h"

struct vcpu;

struct memory_slot {
    uint64_t guest_phys;
    uint64_t size;          /* 0 = slot unused */
    uint64_t host_phys;
    uint32_t flags;
};

struct vm {
    struct spinlock lock;
    uint32_t refs;
    uint32_t id;
    bool is_control;
    uint64_t tlb_generation;
    struct page_table npt;
    struct memory_slot slots[HV_MAX_MEMORY_SLOTS];
    struct vcpu *vcpus[HV_MAX_VCPUS];
    /* control domain only */
    uint64_t memory_base;   /* host-physical address of its RAM */
    uint64_t memory_size;
    struct handle_table handles;
};

#define MAX_CHILD_VMS 256

int vm_subsystem_init(void);

/* A new VM with one reference (for the handle the caller will open). */
struct vm *vm_create(bool is_control, long *error);
void vm_get(struct vm *vm);
void vm_put(struct vm *vm);

/* Adds, or with size 0 deletes, a memory slot whose backing memory is
 * control_addr in the control domain `owner`. */
long vm_set_memory_region(struct vm *vm, struct vm *owner,
                          const struct hv_memory_region *region);

/* Maps [guest_phys, +size) of `vm` to host-physical memory directly; used to
 * build the control domain. */
int vm_map_host(struct vm *vm, uint64_t guest_phys, uint64_t host_phys,
                uint64_t size, bool writable);

/* Creates vcpu `slot` of `vm`. `run` may be NULL (control domain vcpus). */
struct vcpu *vcpu_create(struct vm *vm, unsigned slot, struct hv_run *run,
                         long *error);

/* Takes back a vcpu that was created but never handed out. */
void vcpu_discard(struct vcpu *vcpu);

/* Live child VMs and vcpus, and all objects, for GET_STATS. */
void vm_stats(uint64_t *vms, uint64_t *vcpus, uint64_t *objects);

#endif
