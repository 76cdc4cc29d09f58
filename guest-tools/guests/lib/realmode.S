/*
 * A trip to real mode and back, for checks that must run there (the PIC
 * delivering IRQ0 through the IVT). realmode.c copies the 16-bit part to
 * REALMODE_BASE below 1 MiB and fills its data; realmode_call() (32-bit)
 * then leaves protected mode as SDM vol. 3A, 9.9.2 says (a 16-bit code
 * segment with a 64 KiB limit, data segments likewise, clear CR0.PE, far
 * jump to a real-mode CS), and there, with the IVT at 0, enables
 * interrupts and spins until the TSC passes rm_deadline. rm_irq counts
 * each interrupt and sends the master PIC a non-specific EOI. Then back
 * through CR0.PE and a far jump to 32-bit code.
 *
 * Registers: EAX scratch, EDX:EAX the TSC in the wait loop; ESP a stack
 * inside the copied block.
 */
#define GDT_CODE32 0x08             /* interrupts.h */
#define GDT_DATA32 0x10
#define GDT_CODE16 0x18
#define GDT_DATA16 0x20
#define REALMODE_BASE 0x7000        /* realmode.h */
#define RM_OFFSET(label) (label - realmode_blob)

    .section .rodata
    .code16
    .globl realmode_blob, realmode_blob_end, rm_irq, rm_deadline, rm_irq_count
realmode_blob:
rm_entry16:                         /* 16-bit protected mode, CS = GDT_CODE16 */
    movw $GDT_DATA16, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl %cr0, %eax
    andl $~1, %eax
    movl %eax, %cr0
    ljmp $(REALMODE_BASE >> 4), $RM_OFFSET(rm_real)
rm_real:                            /* real mode, CS base REALMODE_BASE */
    movw %cs, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $RM_OFFSET(rm_stack_top), %esp
    lidt RM_OFFSET(rm_ivt_pointer)
    sti
1:  pause
    rdtsc
    cmpl RM_OFFSET(rm_deadline) + 4, %edx
    jb 1b
    ja 2f
    cmpl RM_OFFSET(rm_deadline), %eax
    jb 1b
2:  cli
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $GDT_CODE32, $realmode_return

rm_irq:                             /* IVT handler for the PIC's IRQ0 */
    pushw %ax
    incl %cs:RM_OFFSET(rm_irq_count)
    movb $0x20, %al                 /* OCW2: non-specific EOI */
    outb %al, $0x20
    popw %ax
    iret

    .balign 4
rm_deadline:                        /* TSC value, filled in */
    .long 0, 0
rm_irq_count:
    .long 0
rm_ivt_pointer:                     /* the real-mode IVT: 256 vectors at 0 */
    .word 0x3ff
    .long 0
    .balign 16
rm_stack:
    .skip 512
rm_stack_top:
realmode_blob_end:

    .text
    .code32
    .globl realmode_call
realmode_call:
    pushal
    movl %esp, saved_esp
    sidt saved_idtr
    ljmp $GDT_CODE16, $(REALMODE_BASE + RM_OFFSET(rm_entry16))
realmode_return:
    movw $GDT_DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl saved_esp, %esp
    lidt saved_idtr
    popal
    ret

    .data
    .balign 4
saved_esp:
    .long 0
saved_idtr:
    .word 0
    .long 0

    .section .note.GNU-stack, "", @progbits
