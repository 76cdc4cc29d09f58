/*
 * int svm_guest_loop(struct vcpu *vcpu)
 *
 * Enters the guest whose VMCB is vcpu->arch_phys, and after each #VMEXIT
 * calls vcpu->guest_exit(vcpu); re-enters while it returns 0, and returns
 * what it returned otherwise, with the vcpu in RSI (the caller takes it
 * back from there instead of keeping it across the call).
 *
 * The hot paths of the product (a hypercall, a CPUID, an I/O exit) are this
 * loop plus a little C, so the loop moves as few registers as it can: the
 * guest's R12-R15 stay live in the CPU across the exit function -- the C
 * calling convention preserves them -- and reach vcpu->gprs only when the
 * loop ends, or around svm_exit_all_gprs when the exit function asks
 * for them (GUEST_EXIT_ALL_GPRS). Every other guest register goes through
 * vcpu->gprs on each exit, where the exit handlers read and write them.
 * RBP is zero in the host, so that a backtrace never follows a guest's
 * frame pointer.
 *
 * GIF is clear from before VMLOAD of the guest's state until the host's is
 * back, so no interrupt or NMI runs on a half-switched CPU (APM 15.17); IF
 * is opened inside that window because, with V_INTR_MASKING, the host's IF
 * at VMRUN decides whether physical interrupts end the guest's run (APM
 * 15.21.1). RAX holds the VMCB address for VMLOAD/VMRUN/VMSAVE, and is the
 * host's again after #VMEXIT; the guest's RAX, RSP, RIP and RFLAGS live in
 * the VMCB. The host's VMSAVE area is this CPU's (percpu), read through
 * GS at the start: after #VMEXIT GS is the guest's until that VMLOAD.
 *
 * The host's callee-saved registers are not saved here: the one caller
 * (call_guest_loop in svm_vcpu.c) declares them clobbered, so that its
 * frame, which for a child's RUN is the whole RUN, saves them once.
 *
 * Frame, from RSP: 8 host state area, 16 vcpu (RSP 16-byte aligned at
 * the exit function's call).
 */
#include "hv/percpu.h"
#include "hv/vcpu.h"

    .section .text
    .code64
    .global svm_guest_loop
svm_guest_loop:
    push %rdi
    pushq %gs:PERCPU_HOST_STATE_PHYS
    sub $8, %rsp
    load_guest_r12_r15 %rdi

enter_guest:
#ifdef HV_EXIT_PROFILE
    mov 16(%rsp), %rdi
    call exit_profile_on_enter  /* hv/exit_profile.h, a bench build's */
#endif
    mov 16(%rsp), %rsi
    mov VCPU_ARCH_PHYS(%rsi), %rax
    clgi
    sti
    vmload %rax
    load_guest_registers
    vmrun %rax
    vmsave %rax
    cli

    /* RAX is the host's again (the VMCB address, done with after the
     * VMSAVE), so it can hold the vcpu: one instruction fewer than
     * freeing a register by pushing the guest's RSI. */
    mov 16(%rsp), %rax
    mov %rbx, GUEST_REG(RBX)(%rax)
    mov %rcx, GUEST_REG(RCX)(%rax)
    mov %rdx, GUEST_REG(RDX)(%rax)
    mov %rsi, GUEST_REG(RSI)(%rax)
    mov %rdi, GUEST_REG(RDI)(%rax)
    mov %rbp, GUEST_REG(RBP)(%rax)
    mov %r8, GUEST_REG(R8)+0(%rax)
    mov %r9, GUEST_REG(R8)+8(%rax)
    mov %r10, GUEST_REG(R8)+16(%rax)
    mov %r11, GUEST_REG(R8)+24(%rax)
    xor %ebp, %ebp
    mov %rax, %rdi
    mov 8(%rsp), %rax
    vmload %rax
    stgi
#ifdef HV_EXIT_PROFILE
    call svm_exit_profile
    mov 16(%rsp), %rdi
#endif

    call *VCPU_GUEST_EXIT(%rdi)
    test %eax, %eax
    jz enter_guest
    js exit_with_all_gprs

stop:
    mov 16(%rsp), %rsi
    save_guest_r12_r15 %rsi
    add $24, %rsp
    ret

    /* GUEST_EXIT_ALL_GPRS (hv/vcpu.h): the exit needs R12-R15 too. */
exit_with_all_gprs:
    mov 16(%rsp), %rdi
    save_guest_r12_r15 %rdi
    call svm_exit_all_gprs
    mov 16(%rsp), %rsi
    load_guest_r12_r15 %rsi
    test %eax, %eax
    jz enter_guest
    jmp stop

    .section .note.GNU-stack, "", @progbits
