/*
 * void svm_enter(uint64_t vmcb_phys, struct guest_gprs *gprs,
 *                uint64_t host_state_phys)
 *
 * One world switch: load the guest's VMLOAD state and general registers,
 * VMRUN, and on #VMEXIT save them back and restore the host's. GIF is clear
 * from before VMLOAD of the guest until the host's state is back, so that
 * no interrupt or NMI runs on a half-switched CPU (APM 15.17); IF is open
 * only inside that window, where GIF holds interrupts pending.
 *
 * RAX holds the VMCB address for VMLOAD/VMRUN/VMSAVE; VMRUN restores the
 * host RAX (still that address) on #VMEXIT. The guest's own RAX, RSP, RIP
 * and RFLAGS live in the VMCB. The stack holds, from the top after entry:
 * the gprs pointer, the host state area, then the callee-saved registers.
 */
#include "hv/vcpu.h"

    .section .text
    .code64
    .global svm_enter
svm_enter:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rdx                           /* host state area */
    push %rsi                           /* struct guest_gprs * */
    mov %rdi, %rax

    clgi
    /* With V_INTR_MASKING the host's IF at VMRUN decides whether physical
     * interrupts end the guest's run (APM 15.21.1): open it under GIF=0. */
    sti
    vmload %rax
    mov GPRS_RBX(%rsi), %rbx
    mov GPRS_RCX(%rsi), %rcx
    mov GPRS_RDX(%rsi), %rdx
    mov GPRS_RDI(%rsi), %rdi
    mov GPRS_RBP(%rsi), %rbp
    mov GPRS_R8+0(%rsi), %r8
    mov GPRS_R8+8(%rsi), %r9
    mov GPRS_R8+16(%rsi), %r10
    mov GPRS_R8+24(%rsi), %r11
    mov GPRS_R8+32(%rsi), %r12
    mov GPRS_R8+40(%rsi), %r13
    mov GPRS_R8+48(%rsi), %r14
    mov GPRS_R8+56(%rsi), %r15
    mov GPRS_RSI(%rsi), %rsi
    vmrun %rax
    vmsave %rax
    cli

    push %rsi                           /* the guest's RSI, to free a register */
    mov 8(%rsp), %rsi
    mov %rbx, GPRS_RBX(%rsi)
    mov %rcx, GPRS_RCX(%rsi)
    mov %rdx, GPRS_RDX(%rsi)
    mov %rdi, GPRS_RDI(%rsi)
    mov %rbp, GPRS_RBP(%rsi)
    mov %r8, GPRS_R8+0(%rsi)
    mov %r9, GPRS_R8+8(%rsi)
    mov %r10, GPRS_R8+16(%rsi)
    mov %r11, GPRS_R8+24(%rsi)
    mov %r12, GPRS_R8+32(%rsi)
    mov %r13, GPRS_R8+40(%rsi)
    mov %r14, GPRS_R8+48(%rsi)
    mov %r15, GPRS_R8+56(%rsi)
    popq GPRS_RSI(%rsi)
    add $8, %rsp                        /* gprs pointer */
    pop %rax                            /* host state area */
    vmload %rax
    stgi

    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

    .section .note.GNU-stack, "", @progbits
