/*
 * Boot entry: GRUB (multiboot2, or multiboot1 for `qemu -kernel`) jumps here
 * in 32-bit protected mode with paging off. We build a throw-away identity
 * map of the first 4 GiB, switch to long mode and call boot_main() in C,
 * which replaces these page tables with W^X ones.
 *
 * Registers on entry: EAX = loader magic, EBX = physical address of the
 * loader's information structure. Nothing else is trusted: the firmware may
 * leave CD/NW, WP, NXE or OSXSAVE set (see PLATFORM.md), so every control bit
 * we rely on is written explicitly.
 */
#include "boot/boot_layout.h"

#define MB2_MAGIC        0xe85250d6
#define MB2_ARCH_I386    0
#define MB1_MAGIC        0x1badb002
#define MB1_FLAGS        0x00010003   /* page-align modules, memory map, a.out kludge */

    .section .multiboot, "a"
    .align 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* information request: memory map, modules, cmdline, ACPI, framebuffer */
    .align 8
mb2_info_request:
    .short 1, 1                         /* optional: firmware may lack some */
    .long mb2_info_request_end - mb2_info_request
    .long 1, 3, 4, 6, 8, 14, 15
mb2_info_request_end:
    /* modules must be page aligned so their pages can be handed out whole */
    .align 8
    .short 6, 0
    .long 8
    .align 8
    .short 0, 0
    .long 8
mb2_header_end:

    .align 4
mb1_header:
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)
    .long mb1_header            /* header_addr */
    .long __image_start         /* load_addr */
    .long __data_load_end       /* load_end_addr */
    .long __bss_end             /* bss_end_addr */
    .long _start32              /* entry_addr */

    .section .text.boot, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    mov %eax, %edi                      /* edi = loader magic, kept to boot_main */
    mov %ebx, %esi                      /* esi = loader info pointer */
    mov $(boot_stack + BOOT_STACK_SIZE), %esp

    /* Long mode is required; without it there is nothing useful to say
     * except on the serial port, which we do not own yet. Halt. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode

    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages */
    mov $boot_pml4, %ebx
    lea boot_pdpt + 0x3, %eax
    mov %eax, (%ebx)
    mov $boot_pdpt, %ebx
    mov $boot_pd, %eax
    or $0x3, %eax
    mov $4, %ecx
1:  mov %eax, (%ebx)
    add $4096, %eax
    add $8, %ebx
    loop 1b

    mov $boot_pd, %ebx
    mov $0x83, %eax                     /* present, writable, 2 MiB */
    xor %edx, %edx
    mov $2048, %ecx
2:  mov %eax, (%ebx)
    mov %edx, 4(%ebx)
    add $0x200000, %eax
    adc $0, %edx
    add $8, %ebx
    loop 2b

    mov $0x20, %eax                     /* CR4: PAE only; C turns on the rest */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx               /* EFER.LME */
    rdmsr
    or $0x100, %eax
    wrmsr
    mov $0x80010031, %eax               /* PG | WP | NE | ET | PE; CD/NW cleared */
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $start64

no_long_mode:
    hlt
    jmp no_long_mode

    .code64
start64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov %edi, %edi                      /* upper halves are undefined after the switch */
    mov %esi, %esi
    xor %ebp, %ebp                      /* terminates backtraces */
    call boot_main
3:  cli
    hlt
    jmp 3b

    .section .rodata
    .align 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff            /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff            /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    .section .bss
    .align 4096
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4 * 4096
    .global boot_stack
boot_stack: .skip BOOT_STACK_SIZE

    .section .note.GNU-stack, "", @progbits
