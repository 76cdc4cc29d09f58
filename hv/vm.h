/* Virtual machines: the control domain (VM 0) and its children. A VM owns
 * its vcpus and its nested page tables; it borrows its memory from the
 * control domain through memory slots.
 *
 * Lifetime: `refs` counts the handles naming the VM, VM and vcpu handles
 * alike; the VM and its vcpus are destroyed when it drops to zero.
 *
 * Locking: `lock` guards slots, vcpus[], the nested page tables and their
 * retired pages. It is taken by VM-wide calls (CREATE_VCPU,
 * SET_MEMORY_REGION, GET_DIRTY_LOG) and never by a per-vcpu call, which
 * only reads `npt.root` and `tlb_generation`, and the tables themselves
 * inside a walk bracket (hv/nested_tables.h). One exception, off the hot
 * path: a guest's first write to a page of a dirty-logged slot since the
 * last GET_DIRTY_LOG takes it on the vcpu's CPU (vm_resolve_dirty_fault),
 * so that the slot cannot be deleted under it. Every other write fault
 * (MMIO, a read-only slot) is told apart without it, from `dirty_logged`
 * and the slots' ranges read as they are. */
#ifndef HV_VM_H
#define HV_VM_H

#include <stdbool.h>
#include <stddef.h>
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
    /* HV_MEM_LOG_DIRTY only: one bit a page (mmu/dirty_log.h), in
     * hypervisor pages allocated with the slot and freed with it. */
    uint64_t *dirty_bitmap;
};

/* Laid out by who writes what (issue 14): the first line is written when
 * the VM is made and then only read -- by every hypercall of the control
 * domain and every RUN of a child; tlb_generation, written by a region
 * change on any CPU and read before a child's entries, has a line of its
 * own; the lock and the reference count, written by VM-wide calls and by
 * every handle made or closed, another. A per-vcpu call so never shares
 * a line with a VM-wide one, except to read tlb_generation after a
 * change. */
struct vm {
    /* read-mostly */
    uint32_t id;
    bool is_control;
    bool lapic;             /* HV_VM_LAPIC: a local APIC per vcpu here */
    bool user_msr;          /* HV_VM_USER_MSR: unknown MSRs exit to the VMM */
    /* The CPU virtualizes the vcpus' xAPIC accesses (apic_access_page was
     * made): read on exits, so here rather than beside the page. */
    bool apic_virtualized;
    /* control domain only */
    uint64_t memory_base;   /* host-physical address of its RAM */
    uint64_t memory_size;
    struct page_table npt;  /* the root and how to build the tables */

    /* Written by region changes (under `lock`), read on exits. */
    uint64_t tlb_generation __attribute__((aligned(64)));
    /* What sends every nested page fault of the VM's vcpus the general
     * way (hv/run_page.h's vcpu_mmio_for_vmm), in one word that the fast
     * path tests with one load. */
    union {
        struct {
            uint32_t dirty_logged;  /* bit i: slot i was made with
                                       HV_MEM_LOG_DIRTY (set then, never
                                       cleared: a hint for
                                       vm_resolve_dirty_fault) */
            uint32_t decoded_mmio;  /* HV_VM_DECODED_MMIO, set at creation:
                                       the general path decodes for the VMM */
        };
        uint64_t faults_need_general_path;
    };
    /* One past the highest vcpu slot ever made: raised under `lock`
     * after vcpus[] holds the vcpu, never lowered. Bounds the walks of
     * vcpus[] an interrupt's delivery makes (hv/vcpu_lapic.c), so that an
     * IPI in a 2-vcpu VM looks at 2 slots, not HV_MAX_VCPUS. */
    uint32_t vcpu_slots_end;

    struct spinlock lock __attribute__((aligned(64)));
    uint32_t refs;
    /* Table pages emptied by slot deletions, waiting for the flush that
     * lets them be freed (hv/nested_tables.h). */
    struct table_list retired_tables;
    /* Under `lock` too: VMX's APIC-access page (virt_apic_access_page),
     * host-physical, or 0; mapped at the APIC's default base while no
     * slot covers it (hv/vm.c). */
    uint64_t apic_access_page;
    struct memory_slot slots[HV_MAX_MEMORY_SLOTS];
    struct vcpu *vcpus[HV_MAX_VCPUS];
    /* control domain only; its read line first (hv/handle.h) */
    struct handle_table handles;
} __attribute__((aligned(64)));
_Static_assert(offsetof(struct vm, npt) + sizeof(struct page_table) <= 64,
               "the read-mostly fields fill the first line");
_Static_assert(offsetof(struct vm, tlb_generation) == 64 &&
               offsetof(struct vm, lock) == 128,
               "tlb_generation, and the lock with the references, each on a line of its own");

#define MAX_CHILD_VMS 256

int vm_subsystem_init(void);

/* A new VM with one reference (for the handle the caller will open). */
struct vm *vm_create(bool is_control, uint32_t flags, long *error);
void vm_get(struct vm *vm);
void vm_put(struct vm *vm);

/* Adds, or with size 0 deletes, a memory slot whose backing memory is
 * control_addr in the control domain `owner`. */
long vm_set_memory_region(struct vm *vm, struct vm *owner,
                          const struct hv_memory_region *region);

/* GET_DIRTY_LOG: copies the dirty bitmap of slot `slot` to `bitmap_gpa` in
 * the control domain `caller`, clears it, write-protects the pages it named
 * again and flushes the VM's translations. 0 or a negated HV_E* code. */
long vm_get_dirty_log(struct vm *vm, struct vm *caller, uint64_t slot,
                      uint64_t bitmap_gpa);

/* Makes every vcpu of the VM drop the translations it may hold before it
 * next enters its guest, and waits until none in its guest still uses
 * them (hv/vm_flush.c). Called with vm->lock held, from a call of the
 * control domain, never while a vcpu of the VM runs on this CPU. */
void vm_flush_translations(struct vm *vm);

/* A nested fault at `guest_phys` on a vcpu of `vm`: if it is a write to a
 * dirty-logged slot, records the page as dirty, makes it writable and
 * returns true (the guest resumes and retries the write); else false. */
bool vm_resolve_dirty_fault(struct vm *vm, uint64_t guest_phys, bool write);

/* Maps [guest_phys, +size) of `vm` to host-physical memory directly; used to
 * build the control domain. */
int vm_map_host(struct vm *vm, uint64_t guest_phys, uint64_t host_phys,
                uint64_t size, bool writable);

/* Creates vcpu `slot` of `vm`. `run` may be NULL (control domain vcpus). */
struct vcpu *vcpu_create(struct vm *vm, unsigned slot, struct hv_run *run,
                         long *error);

/* Live child VMs and vcpus, and all objects, for GET_STATS. */
void vm_stats(uint64_t *vms, uint64_t *vcpus, uint64_t *objects);

#endif
