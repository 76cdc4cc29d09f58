/* Starting the application processors with INIT-SIPI-SIPI (Intel SDM 3A,
 * 8.4.4; the same sequence works on AMD). */
#ifndef HV_SMP_H
#define HV_SMP_H

#include <stdint.h>

#include "hv/acpi.h"
#include "hv/percpu.h"

/* Picks a usable page below 1 MiB for the trampoline from the memory map,
 * avoiding `avoid_start..avoid_end` (the loader's data). 0 if none. */
uint64_t smp_pick_trampoline(const struct boot_info *boot, uint64_t avoid_start,
                             uint64_t avoid_end);

/* Starts every CPU in `madt` except the caller, one at a time, and waits for
 * each to finish its bring-up. Returns the number of CPUs online, BSP
 * included. */
unsigned smp_start_aps(const struct madt_info *madt, uint64_t trampoline_page,
                       uint64_t host_cr3);

/* Entry of each AP in C, called from boot/ap_trampoline.S. */
void ap_main(struct percpu *cpu);

#endif
