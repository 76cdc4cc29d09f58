/* NMIs belong to the hypervisor (DESIGN.md, "Isolation"): whatever runs
 * when one arrives -- the hypervisor, the control domain, a child -- it ends
 * in the hypervisor's vector-2 handler on the CPU that received it, which
 * counts it. No guest is ever given an NMI, and none stops a RUN.
 *
 * How each context gets there:
 *  - the hypervisor itself: through its IDT (gate 2, on its own IST stack);
 *  - a guest on SVM: NMIs are intercepted; the #VMEXIT leaves the NMI
 *    pending while GIF is clear, and the host takes it through gate 2 at
 *    the STGI after the exit (APM vol. 2, 15.17);
 *  - a guest on VMX: "NMI exiting" turns the NMI into a VM exit that
 *    consumes it and leaves NMIs blocked (SDM 3C 27.1: "An NMI causes
 *    subsequent NMIs to be blocked, but only after the VM exit completes");
 *    the backend calls nmi_from_vm_exit(), which runs the same handler.
 *
 * SEND_NMI (abi/README.md) sends one to any CPU, for tests and watchdogs.
 * Locking: none; each CPU's count is written by that CPU only. */
#ifndef HV_NMI_H
#define HV_NMI_H

#include <stdint.h>

/* Installs the vector-2 handler (once, on the BSP, after idt_init). */
void nmi_init(void);

/* VMX: an NMI caused the VM exit just taken. Runs the vector-2 handler by
 * INT 2; the IRETQ that ends it lifts the NMI blocking the exit left, so
 * the next NMI is not held back. Call with interrupts off. */
static inline void nmi_from_vm_exit(void)
{
    __asm__ volatile("int $2" ::: "memory");
}

/* NMIs taken so far, summed over every CPU (GET_STATS `nmis`). */
uint64_t nmi_count_all(void);

/* SEND_NMI: an NMI IPI to CPU `cpu` (the caller's own included). Returns
 * 0, or -HV_ERANGE for a CPU that does not exist. */
long nmi_send(uint64_t cpu);

#endif
