/* The single-step trap after an instruction the hypervisor carries out
 * for a guest (CPUID, RDMSR/WRMSR, port I/O, an xAPIC access, HLT, a
 * control- or debug-register move, XSETBV, INVD): the CPU traps only
 * after instructions it executes itself, and an intercepted one it does
 * not. With RFLAGS.TF set as such an instruction began, whoever set it
 * gets the trap right after it, as KVM's kvm_skip_emulated_instruction
 * gives it:
 *  - DEBUG_GUEST single-stepping: the RUN ends with HV_EXIT_DEBUG at the
 *    next instruction, before the guest runs it;
 *  - the guest's own TF: a #DB with DR6.BS (B0-B3 cleared) is injected,
 *    which goes ahead of any interrupt (a trap on the previous
 *    instruction, SDM 3A 6.9), and a HLT does not halt; but not over an
 *    event already queued for the entry (an exception the VMM set with
 *    SET_VCPU_EVENTS), which goes first and takes the trap's place.
 * When the exit ends the RUN for the VMM anyway (port I/O, a hypercall),
 * the trap waits in vcpu->state for the next RUN, which delivers or
 * reports it before the guest runs anything: the VMM's answer comes
 * first (IN's data, a hypercall's RAX by SET_REGS, which keeps the
 * pending step as long as RIP stays where it was; a new RIP or
 * SET_SREGS abandons it, as KVM skips only when RIP is unchanged).
 * The backends' fast paths leave an exit with TF set to their general
 * path, whose skip functions call vcpu_single_step_trap. An MMIO access
 * the VMM emulates is the VMM's to step (it moves RIP itself). */
#ifndef HV_SINGLE_STEP_H
#define HV_SINGLE_STEP_H

#include "hv/vcpu.h"

/* The guest's instruction is done and RIP past it; its RFLAGS.TF was set:
 * the trap waits in vcpu->state (VCPU_STEP_PENDING) for the exit handler
 * or the next RUN to deliver it. */
void vcpu_single_step_trap(struct vcpu *vcpu);

/* VCPU_STEP_PENDING is taken: HV_EXIT_DEBUG with the run page's debug
 * fields filled (pc the new RIP, DR6.BS) under DEBUG_GUEST's
 * single-stepping, else -1, the guest's own #DB injected if its TF is
 * (still) set. */
int vcpu_single_step_deliver(struct vcpu *vcpu);

#endif
