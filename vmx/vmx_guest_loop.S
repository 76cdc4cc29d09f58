/*
 * int vmx_guest_loop(struct vcpu *vcpu, int (*on_exit)(struct vcpu *))
 *
 * The VMX twin of svm/svm_guest_loop.S: enters the guest of the current
 * VMCS (VMLAUNCH the first time, VMRESUME after), and after each VM exit
 * calls on_exit(vcpu), re-entering while it returns 0. R12-R15 of the guest
 * stay live across on_exit; the other general registers, RAX included (VMX
 * keeps no guest RAX in the VMCS), go through vcpu->gprs on each exit.
 *
 * A VM exit lands at vmx_exit_entry with RSP = HOST_RSP, written here to the
 * frame below, and interrupts off (host RFLAGS is 2 after an exit). A VM
 * entry that fails (VMfailValid/VMfailInvalid) falls through VMLAUNCH or
 * VMRESUME with the host's RSP untouched; it marks the vcpu and joins the
 * exit path, so on_exit sees it as an exit.
 *
 * Frame, from RSP: 8 vcpu, 16 on_exit, then the host's callee-saved
 * registers (RSP 16-byte aligned at the call).
 */
#include "hv/vcpu.h"

#define G(reg) VCPU_GPRS + GPRS_##reg
#define VMCS_HOST_RSP 0x6c14

    .section .text
    .code64
    .global vmx_guest_loop
vmx_guest_loop:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rsi
    push %rdi
    sub $8, %rsp
    mov $VMCS_HOST_RSP, %rax
    vmwrite %rsp, %rax
    mov G(R12)(%rdi), %r12
    mov G(R13)(%rdi), %r13
    mov G(R14)(%rdi), %r14
    mov G(R15)(%rdi), %r15

enter_guest:
    mov 8(%rsp), %rsi
    cmpb $0, VCPU_LAUNCHED(%rsi)        /* flags survive the MOVs below */
    mov G(RAX)(%rsi), %rax
    mov G(RBX)(%rsi), %rbx
    mov G(RCX)(%rsi), %rcx
    mov G(RDX)(%rsi), %rdx
    mov G(RDI)(%rsi), %rdi
    mov G(RBP)(%rsi), %rbp
    mov G(R8)+0(%rsi), %r8
    mov G(R8)+8(%rsi), %r9
    mov G(R8)+16(%rsi), %r10
    mov G(R8)+24(%rsi), %r11
    mov G(RSI)(%rsi), %rsi
    jne 1f
    vmlaunch
    jmp entry_failed
1:  vmresume
entry_failed:
    push %rsi
    mov 16(%rsp), %rsi
    movb $1, VCPU_ENTRY_FAILED(%rsi)
    pop %rsi

    .global vmx_exit_entry
vmx_exit_entry:
    push %rsi
    mov 16(%rsp), %rsi
    mov %rax, G(RAX)(%rsi)
    mov %rbx, G(RBX)(%rsi)
    mov %rcx, G(RCX)(%rsi)
    mov %rdx, G(RDX)(%rsi)
    mov %rdi, G(RDI)(%rsi)
    mov %rbp, G(RBP)(%rsi)
    mov %r8, G(R8)+0(%rsi)
    mov %r9, G(R8)+8(%rsi)
    mov %r10, G(R8)+16(%rsi)
    mov %r11, G(R8)+24(%rsi)
    popq G(RSI)(%rsi)
    movb $1, VCPU_LAUNCHED(%rsi)
    xor %ebp, %ebp

    mov 8(%rsp), %rdi
    call *16(%rsp)
    test %eax, %eax
    jz enter_guest

    mov 8(%rsp), %rsi
    mov %r12, G(R12)(%rsi)
    mov %r13, G(R13)(%rsi)
    mov %r14, G(R14)(%rsi)
    mov %r15, G(R15)(%rsi)
    add $24, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

    .section .note.GNU-stack, "", @progbits
