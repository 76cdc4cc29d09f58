/*
 * Entry of every test guest: the multiboot1 header, a stack, and a call to
 * guest_main(magic, info). A loader (QEMU -kernel, GRUB, the control
 * domain's VMM) enters _start in 32-bit protected mode, paging off, with
 *   EAX  0x2BADB002 from a multiboot loader (0 for a flat binary)
 *   EBX  address of the multiboot information
 *   ESP  undefined: set here before anything is pushed.
 * If guest_main returns, its result is the exit status.
 *
 * The VMM also starts the other vcpus of an SMP guest here (smp_entry.h):
 * EAX = VMM_SMP_MARKER, EBX = the vcpu's index, ECX = the vcpu count and
 * ESP = a stack of its own, which such a vcpu keeps (the one stack below
 * belongs to the boot vcpu). guest_main then gets (marker, index). The
 * count lands in guest_vcpu_count: from EDI on the boot vcpu if ESI holds
 * the marker, else 1 (a plain multiboot loader starts one CPU).
 */
#include "guest-tools/vmm/multiboot.h"
#include "guest-tools/vmm/smp_entry.h"

#define HEADER_FLAGS MULTIBOOT_HEADER_MEMORY   /* ask for mem_lower/upper */

    /* Linked first (guest.ld) so it sits in the first 8 KiB of the file. */
    .section .multiboot, "a"
    .balign 4
multiboot_header:
    .long MULTIBOOT_HEADER_MAGIC
    .long HEADER_FLAGS
    .long -(MULTIBOOT_HEADER_MAGIC + HEADER_FLAGS)

    .text
    .code32
    .globl _start
_start:
    cli
    cld
    cmpl $VMM_SMP_MARKER, %eax
    je 2f
    movl $stack_top, %esp           /* boot vcpu */
    movl $1, %ecx
    cmpl $VMM_SMP_MARKER, %esi
    jne 1f
    movl %edi, %ecx                 /* started by the VMM: EDI is the count */
1:  movl %ecx, guest_vcpu_count
    jmp 3f
2:  movl %ecx, guest_vcpu_count     /* non-boot vcpu: ESP is its own already */
3:  xorl %ebp, %ebp                 /* end of the frame-pointer chain */
    pushl %ebx                      /* guest_main(magic, info) */
    pushl %eax
    call guest_main
    pushl %eax
    call guest_exit                 /* does not return */

    .data
    .balign 4
    .globl guest_vcpu_count
guest_vcpu_count:
    .long 1

    .section .bss
    .balign 16
stack:
    .skip 16384
stack_top:

    .section .note.GNU-stack, "", @progbits
