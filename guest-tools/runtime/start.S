/*
 * Control-domain entry. The hypervisor starts every vcpu here in 64-bit
 * mode, interrupts off, paging identity-mapping the domain's RAM, with
 *   RDI  guest-physical address of struct hv_boot_info
 *   RSI  vcpu index (0 .. cpu_count-1)
 *   RSP  0: there is no stack yet; each vcpu takes its own slice of
 *        ctl_stacks below, chosen by its index.
 * vcpu 0 clears .bss; the others must not touch anything in .bss (their
 * stacks included) until it has, so they wait on bss_cleared, which lives
 * in .data precisely so that the clearing cannot reset it under them.
 */
#include "guest-tools/runtime/stacks.h"

    .section .text.entry, "ax"
    .code64
    .globl _start
_start:
    cld                              /* the C ABI expects DF clear */
    cmpq $CTL_MAX_CPUS, %rsi
    jae halt_forever                 /* no stack for this vcpu: park it */

    /* RSP = top of this vcpu's stack: ctl_stacks + (index + 1) * size. */
    movq %rsi, %rax
    incq %rax
    shlq $CTL_STACK_SHIFT, %rax
    leaq ctl_stacks(%rip), %rsp
    addq %rax, %rsp

    movq %rdi, %r12                  /* boot info, kept across the clear */
    movq %rsi, %r13                  /* vcpu index */
    testq %rsi, %rsi
    jnz wait_for_bss

    /* vcpu 0: zero .bss with rep stosb (RDI dest, RCX count, AL value). */
    leaq __bss_start(%rip), %rdi
    leaq __bss_end(%rip), %rcx
    subq %rdi, %rcx
    xorl %eax, %eax
    rep stosb
    /* Fast-string stores may be reordered among themselves; fence them so
     * no other vcpu can see the flag before every zero is visible. */
    sfence
    movl $1, bss_cleared(%rip)
    jmp enter_c

wait_for_bss:
    pause
    cmpl $0, bss_cleared(%rip)
    je wait_for_bss

enter_c:
    movq %r12, %rdi                  /* ctl_main(info, cpu) */
    movl %r13d, %esi
    xorl %ebp, %ebp                  /* end of the frame-pointer chain */
    call ctl_main

halt_forever:
    cli
    hlt
    jmp halt_forever

    /* In .data, not .bss: vcpu 0's clear must not race the waiters' reads. */
    .section .data
    .balign 4
bss_cleared:
    .long 0

    .section .bss
    .balign 4096
    .globl ctl_stacks
ctl_stacks:
    .skip CTL_MAX_CPUS * CTL_STACK_SIZE

    .section .note.GNU-stack, "", @progbits
