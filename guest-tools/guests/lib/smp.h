/*
 * Starting the APs of a PC the way an OS does (SDM vol. 3A, 9.4.4.1):
 * INIT, 10 ms, STARTUP, 200 us, STARTUP, to each APIC ID the MADT lists,
 * one AP at a time. The real-mode trampoline (ap_trampoline.S) lives at
 * SMP_TRAMPOLINE while the APs start; QEMU's multiboot loader keeps its
 * information at 0x9000, so the page below it is used.
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_SMP_H
#define GUEST_TOOLS_GUESTS_LIB_SMP_H

#include <stdint.h>

#define SMP_TRAMPOLINE 0x8000       /* STARTUP vector 0x08 */
#define SMP_MAX_APS    15

/* Runs on each AP with its index (1, 2, ...), in protected mode on its
 * own stack with the boot CPU's GDT loaded; must not return. It reports
 * that it is up by incrementing *checked_in (smp_start_aps's argument). */
typedef void (*ap_main_function)(uint32_t index);

/* Starts every AP whose APIC ID is in apic_ids (the boot CPU's own is
 * skipped), waiting up to a second for each to increment *checked_in
 * before the next. Returns how many checked in. */
uint32_t smp_start_aps(const uint32_t *apic_ids, uint32_t count, ap_main_function ap_main,
                       volatile uint32_t *checked_in);

#endif
