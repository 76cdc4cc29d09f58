/*
 * One entry stub per IDT vector, 16 bytes apart so that descriptors.c
 * finds stub n at interrupt_stubs + 16 * n. Each makes the frame uniform
 * (a zero where the CPU pushes no error code, then the vector) and jumps
 * to the common path, which saves the general registers and calls
 * interrupt_dispatch(frame).
 */
#define STUB_SIZE 16

    .text
    .code32
    .balign STUB_SIZE
    .globl interrupt_stubs
interrupt_stubs:
    .set vector, 0
    .rept 256
    .balign STUB_SIZE
    /* Vectors where the CPU pushes an error code (SDM vol. 3A, 6.13):
     * #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX. */
    .if (vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    .else
    pushl $0
    .endif
    pushl $vector
    jmp interrupt_common
    .set vector, vector + 1
    .endr

interrupt_common:
    pushal                      /* struct interrupt_frame's registers */
    cld                         /* the C code assumes DF = 0 */
    pushl %esp                  /* argument: the frame */
    call interrupt_dispatch
    addl $4, %esp
    popal
    addl $8, %esp               /* vector and error code */
    iret

    .section .note.GNU-stack, "", @progbits
