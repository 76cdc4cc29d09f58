/* Machine checks belong to the hypervisor (DESIGN.md, "Isolation"): a
 * hardware error is the host's, whichever context the CPU was running, so
 * no guest is ever given one. Every one is reported on the console (the
 * CPU, MCG_STATUS, each bank with VAL set), counted (GET_STATS
 * `machine_checks`) and cleared, so that the next one is not a shutdown.
 *
 *  - in the hypervisor: the vector-18 handler (IST stack) reports it and
 *    resumes, or halts the CPU when MCG_STATUS.RIPV says the interrupted
 *    code cannot go on;
 *  - in a guest: #MC is intercepted on both backends; the exit does not
 *    run any handler by itself (AMD: "the hypervisor must perform all the
 *    functions of a #MC handler"), so the exit handlers call
 *    machine_check_handle(). A recoverable one resumes the guest; one that
 *    is not ends a child's RUN with HV_EXIT_INTERNAL_ERROR
 *    (HV_INTERNAL_ERROR_MACHINE_CHECK) and stops a control-domain vcpu.
 *
 * Locking: none; banks and counts are per CPU and touched by their CPU. */
#ifndef HV_MACHINE_CHECK_H
#define HV_MACHINE_CHECK_H

#include <stdbool.h>
#include <stdint.h>

/* What the report found, for RUN's HV_EXIT_INTERNAL_ERROR. */
struct machine_check_info {
    uint64_t mcg_status;
    uint64_t banks_valid;       /* bit i: bank i had VAL set */
    uint64_t first_status;      /* MCi_STATUS of the lowest such bank */
    uint64_t first_addr;        /* its MCi_ADDR when ADDRV, else 0 */
};

/* Installs the vector-18 handler (once, on the BSP, after idt_init). */
void machine_check_init(void);

/* Enables machine-check reporting on the calling CPU (SDM 3B 15.8): every
 * bank's errors enabled, stale logs from before boot reported and cleared,
 * CR4.MCE set. Without it a machine check is a shutdown. */
void machine_check_init_cpu(void);

/* Reports and clears the machine check just taken on this CPU; `where`
 * names the context ("in child VM 3, vcpu 0"). Fills *info if not NULL.
 * Returns whether the interrupted context can resume (MCG_STATUS.RIPV).
 * Call with interrupts off and the hypervisor's GS. */
bool machine_check_handle(const char *where, struct machine_check_info *info);

/* Machine checks taken so far, summed over every CPU. */
uint64_t machine_check_count_all(void);

#endif
