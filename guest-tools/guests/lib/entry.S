/*
 * Entry of every test guest: the multiboot1 header, a stack, and a call to
 * guest_main(magic, info). A loader (QEMU -kernel, GRUB, the control
 * domain's VMM) enters _start in 32-bit protected mode, paging off, with
 *   EAX  0x2BADB002 from a multiboot loader (0 for a flat binary)
 *   EBX  address of the multiboot information
 *   ESP  undefined: set here before anything is pushed.
 * If guest_main returns, its result is the exit status.
 */
#include "guest-tools/vmm/multiboot.h"

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
    movl $stack_top, %esp
    xorl %ebp, %ebp                 /* end of the frame-pointer chain */
    pushl %ebx                      /* guest_main(magic, info) */
    pushl %eax
    call guest_main
    pushl %eax
    call guest_exit                 /* does not return */

    .section .bss
    .balign 16
stack:
    .skip 16384
stack_top:

    .section .note.GNU-stack, "", @progbits
