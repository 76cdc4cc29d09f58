/*
 * Interrupt and exception entry stubs. Each vector pushes a dummy error code
 * when the CPU does not push one, so that hv/trap.c sees one frame layout
 * (struct trap_frame) for all 256 vectors.
 */
    .section .text
    .code64

    .altmacro

    /* Vectors for which the CPU pushes an error code: Intel SDM 3A, 6.13. */
    .macro isr_stub vector
    .align 16
isr_\vector:
    .if !((\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30))
    pushq $0
    .endif
    pushq $\vector
    jmp isr_common
    .endm

    .set vector, 0
    .rept 256
    isr_stub %vector
    .set vector, vector + 1
    .endr

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    mov %rsp, %rbx                      /* callee-saved: original frame */
    and $-16, %rsp                      /* the ABI wants a 16-byte aligned call */
    call trap_dispatch
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                       /* vector and error code */
    iretq

    .section .rodata
    .align 8
    .global isr_table
isr_table:
    .macro isr_entry vector
    .quad isr_\vector
    .endm
    .set vector, 0
    .rept 256
    isr_entry %vector
    .set vector, vector + 1
    .endr

    .section .note.GNU-stack, "", @progbits
