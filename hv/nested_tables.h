/* A VM's nested page tables (NPT on SVM, EPT on VMX) as hypervisor memory:
 * where their pages come from, how many the child VMs hold (GET_STATS'
 * nested_table_pages), and when the pages that deleting a memory slot
 * emptied may be freed.
 *
 * Freeing rule: a table page unlinked from the tree (page_table_unmap puts
 * it on vm->retired_tables) may still be read by
 *   - a CPU running a vcpu of the VM in its guest, whose page walker or
 *     paging-structure cache picked the parent entry up before it was
 *     cleared: vm_flush_translations (hv/vm_flush.c) waits until every such vcpu
 *     has left its guest or entered it again with a fresh TLB tag, and
 *     that wait always completes;
 *   - the hypervisor itself, looking a guest-physical address up on
 *     another CPU for a vcpu it holds (TRANSLATE, the instruction fetch of
 *     an MMIO exit, hv/guest_memory.c): each such lookup is bracketed by
 *     nested_walk_begin/end, which nested_tables_free_retired waits out.
 * Only after both are the pages freed; if the second wait gives up (a CPU
 * that stopped in the middle of a lookup), they stay retired (never
 * reused) until a later region change or the VM's end.
 *
 * Locking: vm->lock guards retired_tables, as it guards the tables. The
 * page count is one atomic counter for all VMs, never a VM-wide lock. A
 * walk bracket touches only the vcpu's own `nested_walk` line. */
#ifndef HV_NESTED_TABLES_H
#define HV_NESTED_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vcpu.h"

struct vm;

/* Fills in vm->npt's format and page callbacks (vm->is_control already
 * set, so that the pages are counted for children only). The caller then
 * allocates the root with page_table_init. */
void nested_tables_setup(struct vm *vm, uint64_t table_flags);

/* After a region change's translation flush: waits for the hypervisor's
 * own lookups in progress on other CPUs, then frees vm->retired_tables.
 * Called with vm->lock held. */
void nested_tables_free_retired(struct vm *vm);

/* Frees every table page of a VM that no CPU can reach any more. */
void nested_tables_destroy(struct vm *vm);

/* Table pages of all live child VMs, the roots and the retired pages
 * included. */
uint64_t nested_table_pages(void);

/* Brackets a software lookup in the VM's nested tables on behalf of
 * `vcpu`, which the caller holds (vcpu_claim). The count is odd while a
 * lookup is in progress. The opening increment is a locked instruction,
 * a full barrier: either the freeing CPU sees the count odd and waits, or
 * this CPU's lookup comes after the freeing CPU cleared the parent entries
 * and cannot reach a retired page. */
static inline void nested_walk_begin(struct vcpu *vcpu)
{
    __atomic_add_fetch(&vcpu->nested_walk, 1, __ATOMIC_SEQ_CST);
}

static inline void nested_walk_end(struct vcpu *vcpu)
{
    __atomic_add_fetch(&vcpu->nested_walk, 1, __ATOMIC_RELEASE);
}

#endif
