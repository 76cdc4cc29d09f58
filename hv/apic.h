/* Local APIC: x2APIC (MSR access) when the CPU has it, xAPIC (MMIO) else.
 * The BSP picks the mode once; every AP follows it. */
#ifndef HV_APIC_H
#define HV_APIC_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + offset / 16). */
enum {
    APIC_ID = 0x20,
    APIC_EOI = 0xb0,
    APIC_SPURIOUS = 0xf0,
    APIC_ICR_LOW = 0x300,
    APIC_ICR_HIGH = 0x310,
    APIC_LVT_TIMER = 0x320,
    APIC_TIMER_INITIAL = 0x380,
    APIC_TIMER_CURRENT = 0x390,
    APIC_TIMER_DIVIDE = 0x3e0,
};

#define ICR_INIT        0x00000500u
#define ICR_STARTUP     0x00000600u
#define ICR_NMI         0x00000400u
#define ICR_ASSERT      0x00004000u
#define ICR_PENDING     0x00001000u
#define ICR_TO_SELF     0x00040000u   /* destination shorthand: this CPU */

/* Remaps and masks the legacy 8259 PICs (once, on the BSP). */
void legacy_pic_disable(void);

/* Chooses the mode on the BSP. */
void apic_choose_mode(void);
bool apic_is_x2apic(void);
/* Enables the calling CPU's APIC in the chosen mode. */
void apic_init_local(void);
uint32_t apic_self_id(void);
/* Sends an IPI; returns false if delivery did not complete in time. */
bool apic_send_ipi(uint32_t dest_apic_id, uint32_t icr_low);
void apic_eoi(void);

/* The local APIC timer, used one-shot for vcpu time slices. Calibrated once
 * on the BSP against the TSC; every CPU's timer runs at the same rate. */
void apic_timer_calibrate(void);
/* Programs the calling CPU's timer: one-shot, `vector`, stopped. */
void apic_timer_setup(uint8_t vector);
uint32_t apic_timer_ticks(uint64_t microseconds);
/* The mode chosen and the xAPIC registers, for the inline writes below. */
extern bool apic_x2apic_mode;
extern volatile uint32_t *apic_xapic_mmio;

/* Arms the one-shot timer: a single register write, inline because it is
 * on RUN's path. */
static inline void apic_timer_start(uint32_t ticks)
{
    if (apic_x2apic_mode)
        __asm__ volatile("wrmsr" ::"c"(0x800 + APIC_TIMER_INITIAL / 16), "a"(ticks), "d"(0)
                         : "memory");
    else
        apic_xapic_mmio[APIC_TIMER_INITIAL / 4] = ticks;
}

static inline void apic_timer_stop(void) { apic_timer_start(0); }

#endif
