/*
 * AP start-up code. hv/smp.c copies ap_trampoline_start..end to a page below
 * 1 MiB, fills the parameter block (boot/boot_layout.h) and sends
 * INIT-SIPI-SIPI with that page's number as the vector. The AP arrives in
 * real mode with CS = page << 8, IP = 0.
 *
 * EBX holds the trampoline's linear base throughout, because every absolute
 * address must be formed from it.
 */
#include "boot/boot_layout.h"

    .section .rodata
    .code16
    .global ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    xor %ebx, %ebx
    mov %ax, %bx
    shl $4, %ebx
    lgdtl TP_GDTR
    mov %cr0, %eax
    or $1, %eax                         /* PE */
    mov %eax, %cr0
    ljmpl *TP_PM32_JUMP

    .code32
    .global ap_trampoline_pm32
ap_trampoline_pm32:
    mov $GDT_KERNEL_DS, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov $0x20, %eax                     /* CR4.PAE */
    mov %eax, %cr4
    mov TP_CR3(%ebx), %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    mov TP_EFER(%ebx), %eax             /* LME, and NXE when the BSP uses it */
    mov TP_EFER+4(%ebx), %edx
    wrmsr
    mov $0x80010031, %eax               /* PG | WP | NE | ET | PE */
    mov %eax, %cr0
    ljmp *TP_LM64_JUMP(%ebx)
ap_trampoline_end:

    .section .text
    .code64
    .global ap_entry64
ap_entry64:
    mov $GDT_KERNEL_DS, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov %ebx, %ebx
    mov TP_STACK(%rbx), %rsp
    mov TP_PERCPU(%rbx), %rdi
    xor %ebp, %ebp
    call ap_main
1:  cli
    hlt
    jmp 1b

    .section .note.GNU-stack, "", @progbits
