/*
 * INIT-SIPI-SIPI start of the APs (smp.h).
 */
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/guests/lib/smp.h"
#include "guest-tools/guests/lib/timing.h"

#define INIT_DELAY_US    10000      /* SDM 9.4.4.1 */
#define STARTUP_DELAY_US 200
#define CHECK_IN_MS      1000

extern const char ap_trampoline[], ap_trampoline_end[], ap_trampoline_gdtr[];
extern ap_main_function ap_main_entry;

static void install_trampoline(void)
{
    volatile uint8_t *target = (volatile uint8_t *)SMP_TRAMPOLINE;
    uint32_t size = (uint32_t)(ap_trampoline_end - ap_trampoline);
    uint32_t gdtr = (uint32_t)(ap_trampoline_gdtr - ap_trampoline);

    for (uint32_t i = 0; i < size; i++)
        target[i] = (uint8_t)ap_trampoline[i];
    target[gdtr] = (uint8_t)gdt_pointer.limit;
    target[gdtr + 1] = (uint8_t)(gdt_pointer.limit >> 8);
    for (int i = 0; i < 4; i++)
        target[gdtr + 2 + i] = (uint8_t)(gdt_pointer.base >> (8 * i));
}

static int wait_for_check_in(volatile uint32_t *checked_in, uint32_t expected)
{
    uint64_t end = rdtsc() + ms_to_tsc(CHECK_IN_MS);

    while (*checked_in < expected) {
        if (rdtsc() >= end)
            return 0;
        cpu_relax();
    }
    return 1;
}

uint32_t smp_start_aps(const uint32_t *apic_ids, uint32_t count, ap_main_function ap_main,
                       volatile uint32_t *checked_in)
{
    uint32_t self = lapic_id(), started = 0;
    uint32_t startup = ICR_STARTUP | (SMP_TRAMPOLINE >> 12);

    install_trampoline();
    ap_main_entry = ap_main;
    for (uint32_t i = 0; i < count && started < SMP_MAX_APS; i++) {
        uint32_t before = *checked_in;

        if (apic_ids[i] == self)
            continue;
        lapic_send_ipi(apic_ids[i], ICR_INIT | ICR_ASSERT);
        delay_us(INIT_DELAY_US);
        lapic_send_ipi(apic_ids[i], startup);
        delay_us(STARTUP_DELAY_US);
        /* The second STARTUP is ignored by an AP the first one started. */
        lapic_send_ipi(apic_ids[i], startup);
        if (wait_for_check_in(checked_in, before + 1))
            started++;
    }
    return started;
}
