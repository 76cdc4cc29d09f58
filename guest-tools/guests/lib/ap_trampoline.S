/*
 * Where an AP begins, as on any PC: the startup IPI starts it in real mode
 * at CS = vector << 8, IP = 0 (SDM vol. 3A, 9.4.4). smp.c copies the
 * 16-bit part below to SMP_TRAMPOLINE (a page below 1 MiB) and patches the
 * GDT pointer in it; the AP loads that GDT, sets CR0.PE and jumps to the
 * 32-bit part, which stays in the image at 1 MiB.
 *
 * Registers in the 32-bit part: EBX is the AP's index (1, 2, ... in the
 * order the APs arrive; the boot CPU is 0), ESP its own stack.
 */
#define GDT_CODE32 0x08             /* interrupts.h */
#define GDT_DATA32 0x10
#define AP_STACK_SIZE 8192
#define AP_MAX 15                   /* smp.h: SMP_MAX_APS */

    .section .rodata
    .code16
    .globl ap_trampoline, ap_trampoline_end, ap_trampoline_gdtr
ap_trampoline:
    cli
    cld
    movw %cs, %ax                   /* DS = CS: the data below by offset */
    movw %ax, %ds
    lgdtl ap_trampoline_gdtr - ap_trampoline
    movl %cr0, %eax
    orl $1, %eax                    /* PE; paging stays off */
    movl %eax, %cr0
    ljmpl $GDT_CODE32, $ap_protected_entry
    .balign 8
ap_trampoline_gdtr:                 /* limit and 32-bit base, patched */
    .word 0
    .long 0
ap_trampoline_end:

    .text
    .code32
ap_protected_entry:
    movw $GDT_DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $1, %ebx
    lock xaddl %ebx, ap_next_index  /* EBX = this AP's index */
    cmpl $AP_MAX, %ebx
    ja 2f                           /* more APs than stacks: stay out */
    movl %ebx, %eax
    imull $AP_STACK_SIZE, %eax
    addl $ap_stacks, %eax           /* top of stack slot index - 1 */
    movl %eax, %esp
    xorl %ebp, %ebp
    pushl %ebx
    call *ap_main_entry             /* ap_main(index); does not return */
2:  cli
    hlt
    jmp 2b

    .data
    .balign 4
    .globl ap_main_entry
ap_main_entry:
    .long 0
ap_next_index:
    .long 1

    .section .bss
    .balign 16
ap_stacks:
    .skip AP_STACK_SIZE * AP_MAX

    .section .note.GNU-stack, "", @progbits
