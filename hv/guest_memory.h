/* Reading a child VM's memory from the hypervisor, through its nested page
 * tables (the memory is the control domain's, so a slot deleted meanwhile
 * only makes the read see nothing). Used for instruction fetch on MMIO exits
 * and for guest page-table walks. */
#ifndef HV_GUEST_MEMORY_H
#define HV_GUEST_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* Copies `size` bytes at guest-physical `gpa`; false if any byte has no
 * memory behind it. */
bool vm_read_guest(struct vm *vm, uint64_t gpa, void *buffer, uint64_t size);

/* Fetches up to 15 instruction bytes at the vcpu's CS:RIP through its own
 * paging. Returns how many could be read (0 if none). */
unsigned vcpu_fetch_instruction(struct vcpu *vcpu, uint8_t bytes[15],
                                uint64_t *linear);

#endif
