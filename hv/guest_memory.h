/* Reading a child VM's memory from the hypervisor, through its nested page
 * tables (the memory is the control domain's, so a slot deleted meanwhile
 * only makes the read see nothing). Used for instruction fetch on MMIO exits,
 * for guest page-table walks and for TRANSLATE.
 *
 * A slot deletion on another CPU may free the table pages a lookup is
 * reading: every lookup runs inside nested_walk_begin/end of a vcpu of the
 * VM that the caller holds (hv/nested_tables.h), or under vm->lock. */
#ifndef HV_GUEST_MEMORY_H
#define HV_GUEST_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct guest_translation;

/* Copies `size` bytes at guest-physical `gpa`; false if any byte has no
 * memory behind it. */
bool vm_read_guest(struct vm *vm, uint64_t gpa, void *buffer, uint64_t size);

/* Translates a guest-linear address through the vcpu's current paging mode
 * (TRANSLATE). Returns guest_walk's result: 0, or -HV_ENOENT, -HV_EFAULT,
 * -HV_EINVAL when there is no translation. */
int vcpu_translate(struct vcpu *vcpu, uint64_t linear, struct guest_translation *out);

/* Copies `size` bytes at a guest-linear address through the vcpu's
 * current paging (a supervisor read, page rights not checked); false if
 * some byte has no translation or no memory. */
bool vcpu_read_linear(struct vcpu *vcpu, uint64_t linear, void *buffer, unsigned size);

/* Fetches up to 15 instruction bytes at the vcpu's CS:RIP through its own
 * paging. Returns how many could be read (0 if none). */
unsigned vcpu_fetch_instruction(struct vcpu *vcpu, uint8_t bytes[15],
                                uint64_t *linear);
/* The same where the caller has the backend's insn_site already. */
struct insn_site;
unsigned vcpu_fetch_instruction_at(struct vcpu *vcpu, const struct insn_site *site,
                                   uint8_t bytes[15]);

/* The four PAE page-directory pointers that CR3 names (its bits 31:5),
 * read as MOV to CR3 reads them, for a backend that must load or check
 * them (hv/sregs_check.h's pae_pdptes_valid). Memory the VM does not have
 * reads as zeros: not present. The caller holds the vcpu. */
void vcpu_read_pdptes(struct vcpu *vcpu, uint64_t cr3, uint64_t pdpte[4]);

struct guest_paging;
/* The same from a linear address and a paging mode the caller has: up to
 * 15 bytes, stopping at the first without memory behind it. */
unsigned vm_fetch_linear(struct vm *vm, const struct guest_paging *paging,
                         uint64_t linear, uint8_t bytes[15]);

/* The bytes at `linear` of a paging guest as vm_fetch_linear finds them,
 * from the walk `kept` (mmu/code_walk.h) while it still holds, else by a
 * walk it then keeps; NULL when the instruction may cross its page or a
 * table or the page is not RAM (then vm_fetch_linear). `generation` is the
 * VM's tlb_generation, read before. */
struct code_walk;
const uint8_t *vm_code_walk(struct vm *vm, struct code_walk *kept,
                            const struct guest_paging *paging, uint64_t linear,
                            uint64_t generation);

/* The hypervisor's view of the guest page holding `gpa`, or NULL when the
 * page has no memory. Valid while the VM's tlb_generation stays the same
 * (any slot change moves it on). */
const uint8_t *vm_guest_page(struct vm *vm, uint64_t gpa);

#endif
