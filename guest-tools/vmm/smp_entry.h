/*
 * How the VMM starts the vcpus of an SMP guest, shared by the VMM (C) and
 * the test guests' entry (assembly), so it holds only #defines.
 *
 * Every vcpu enters the kernel's multiboot entry point in the same state.
 *   boot vcpu (0):  EAX = multiboot magic, EBX = multiboot info, as a plain
 *                   multiboot loader does; ESI = VMM_SMP_MARKER and
 *                   EDI = the vcpu count (a multiboot loader leaves ESI/EDI
 *                   undefined, so without the marker the count is 1).
 *   vcpu k >= 1:    EAX = VMM_SMP_MARKER, EBX = k, ECX = the vcpu count,
 *                   ESP = the top of a stack of VMM_AP_STACK_SIZE bytes the
 *                   VMM reserved at the top of guest RAM for that vcpu.
 */
#ifndef GUEST_TOOLS_VMM_SMP_ENTRY_H
#define GUEST_TOOLS_VMM_SMP_ENTRY_H

#define VMM_SMP_MARKER     0x534d5021  /* "!PMS" in a register */
#define VMM_AP_STACK_SIZE  0x4000      /* 16 KiB per non-boot vcpu */

#endif
