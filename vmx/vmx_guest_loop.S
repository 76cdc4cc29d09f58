/*
 * int vmx_guest_loop(struct vcpu *vcpu)
 *
 * The VMX twin of svm/svm_guest_loop.S: enters the guest of the current
 * VMCS (VMLAUNCH while it is clear, VMRESUME after), and after each VM exit
 * calls vcpu->guest_exit(vcpu), re-entering while it returns 0, and returns
 * what it returned otherwise, with the vcpu in RSI. R12-R15 of the guest
 * stay live across the exit function (stored around vmx_exit_all_gprs
 * when it returns GUEST_EXIT_ALL_GPRS); the other general registers, RAX
 * included (VMX keeps no guest RAX in the VMCS), go through vcpu->gprs on
 * each exit. Only the loop's first entry, and one after a failed entry,
 * looks at `launched`: after an exit the VMCS is launched.
 *
 * A VM exit lands at vmx_exit_entry with RSP = HOST_RSP, written here to the
 * frame below, and interrupts off (host RFLAGS is 2 after an exit). A VM
 * entry that fails (VMfailValid/VMfailInvalid) falls through VMLAUNCH or
 * VMRESUME with the host's RSP untouched; it saves the registers as an
 * exit does and calls vmx_entry_failed instead of the exit function, so
 * that the exit functions need not test for it.
 *
 * The host's callee-saved registers are not saved here: the one caller
 * (call_guest_loop in vmx_vcpu.c) declares them clobbered, so that its
 * frame, which for a child's RUN is the whole RUN, saves them once.
 *
 * Frame, from RSP: 0 vcpu.
 */
#include "hv/vcpu.h"

#define VMCS_HOST_RSP 0x6c14

/* A bench build's exit profile (hv/exit_profile.h): the hook before an
 * entry, with the vcpu in RSI, which it keeps. */
.macro profile_enter
#ifdef HV_EXIT_PROFILE
    push %rsi
    mov %rsi, %rdi
    call exit_profile_on_enter
    pop %rsi
#endif
.endm

    .section .text
    .code64
    .global vmx_guest_loop
vmx_guest_loop:
    push %rdi
    mov $VMCS_HOST_RSP, %rax
    vmwrite %rsp, %rax
    load_guest_r12_r15 %rdi

enter_guest:
    mov (%rsp), %rsi
    cmpb $0, VCPU_LAUNCHED(%rsi)
    jne resume_vcpu_in_rsi

    /* The VMCS counts as launched from here on: every exit then finds it
     * so without a store of its own, and a VMLAUNCH that fails clears it
     * again (vmx_entry_failed). */
    movb $1, VCPU_LAUNCHED(%rsi)
    profile_enter
    mov GUEST_REG(RAX)(%rsi), %rax
    load_guest_registers
    vmlaunch
entry_failed:
    push %rsi
    mov 8(%rsp), %rsi
    mov %rax, GUEST_REG(RAX)(%rsi)
    save_guest_registers
    mov (%rsp), %rdi
    call vmx_entry_failed
    test %eax, %eax
    jz enter_guest
    jmp stop

    .global vmx_exit_entry
vmx_exit_entry:
    push %rsi
    mov 8(%rsp), %rsi
    mov %rax, GUEST_REG(RAX)(%rsi)
    save_guest_registers
#ifdef HV_EXIT_PROFILE
    mov (%rsp), %rdi
    call vmx_exit_profile
#endif

    mov (%rsp), %rdi
    call *VCPU_GUEST_EXIT(%rdi)
    test %eax, %eax
    jnz not_resumed

    mov (%rsp), %rsi
resume_vcpu_in_rsi:
    profile_enter
    mov GUEST_REG(RAX)(%rsi), %rax
    load_guest_registers
    vmresume
    jmp entry_failed

not_resumed:
    js exit_with_all_gprs
stop:
    pop %rsi
    save_guest_r12_r15 %rsi
    ret

    /* GUEST_EXIT_ALL_GPRS (hv/vcpu.h): the exit needs R12-R15 too. */
exit_with_all_gprs:
    mov (%rsp), %rdi
    save_guest_r12_r15 %rdi
    call vmx_exit_all_gprs
    mov (%rsp), %rsi
    load_guest_r12_r15 %rsi
    test %eax, %eax
    jz resume_vcpu_in_rsi
    jmp stop

    .section .note.GNU-stack, "", @progbits
