/*
 * The local APIC as a PC test guest drives it (Intel SDM vol. 3A, chapter
 * 11 "Advanced Programmable Interrupt Controller"): xAPIC through its MMIO
 * page, or x2APIC through MSRs 0x800-0x8ff once lapic_use_x2apic() has
 * switched the calling CPU. Registers are named by their xAPIC offset;
 * in x2APIC mode the MSR is 0x800 + offset / 16 (SDM 11.12.1.2).
 *
 * The access mode is one global: every CPU of a guest uses the same one,
 * switched before the APs start. Nothing here takes a lock: each CPU
 * touches only its own APIC.
 */
#ifndef GUEST_TOOLS_GUESTS_LIB_LAPIC_H
#define GUEST_TOOLS_GUESTS_LIB_LAPIC_H

#include <stdint.h>

/* Register offsets (SDM vol. 3A, table 11-1). */
#define LAPIC_ID            0x020
#define LAPIC_VERSION       0x030
#define LAPIC_TPR           0x080
#define LAPIC_PPR           0x0a0
#define LAPIC_EOI           0x0b0
#define LAPIC_LDR           0x0d0
#define LAPIC_DFR           0x0e0
#define LAPIC_SVR           0x0f0
#define LAPIC_ISR           0x100   /* eight 32-bit words, 16 bytes apart */
#define LAPIC_TMR           0x180
#define LAPIC_IRR           0x200
#define LAPIC_ESR           0x280
#define LAPIC_ICR_LOW       0x300
#define LAPIC_ICR_HIGH      0x310
#define LAPIC_LVT_TIMER     0x320
#define LAPIC_LVT_THERMAL   0x330
#define LAPIC_LVT_PERF      0x340
#define LAPIC_LVT_LINT0     0x350
#define LAPIC_LVT_LINT1     0x360
#define LAPIC_LVT_ERROR     0x370
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE  0x3e0
#define LAPIC_SELF_IPI      0x3f0   /* x2APIC only */

/* LVT bits (SDM figure 11-8). */
#define LVT_MASKED          (1u << 16)
#define LVT_TIMER_ONE_SHOT  (0u << 17)
#define LVT_TIMER_PERIODIC  (1u << 17)
#define LVT_TIMER_DEADLINE  (2u << 17)
#define LVT_DELIVERY_NMI    (4u << 8)
#define LVT_DELIVERY_EXTINT (7u << 8)

/* Divide configuration register values (SDM figure 11-10). */
#define TIMER_DIVIDE_1      0xb
#define TIMER_DIVIDE_16     0x3

/* ICR low word (SDM figure 11-12). */
#define ICR_FIXED           (0u << 8)
#define ICR_NMI             (4u << 8)
#define ICR_INIT            (5u << 8)
#define ICR_STARTUP         (6u << 8)
#define ICR_LOGICAL         (1u << 11)
#define ICR_PENDING         (1u << 12)
#define ICR_ASSERT          (1u << 14)
#define ICR_LEVEL           (1u << 15)
#define ICR_SELF            (1u << 18)
#define ICR_ALL_BUT_SELF    (3u << 18)

#define MSR_APIC_BASE       0x1b
#define MSR_TSC_DEADLINE    0x6e0
#define APIC_BASE_BSP       (1u << 8)
#define APIC_BASE_EXTD      (1u << 10)   /* x2APIC mode */
#define APIC_BASE_ENABLE    (1u << 11)

#define LAPIC_VECTOR_SPURIOUS 0xff

/* Enables the calling CPU's APIC in the current mode: software enable in
 * the SVR, every LVT entry masked, TPR 0, ESR cleared. */
void lapic_init(void);
int lapic_x2apic_offered(void);
void lapic_use_x2apic(void);       /* the calling CPU, from xAPIC mode */
/* Back to xAPIC the only legal way, through the disabled state (which
 * resets the APIC), then lapic_init() again. */
void lapic_leave_x2apic(void);
int lapic_in_x2apic_mode(void);

uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t value);
uint32_t lapic_id(void);           /* 8-bit xAPIC ID or 32-bit x2APIC ID */
void lapic_eoi(void);
/* ISR, IRR or TMR bit of a vector: reg is LAPIC_ISR, _IRR or _TMR. */
int lapic_vector_bit(uint32_t reg, uint8_t vector);

/* Sends an IPI and waits until the APIC has accepted it (xAPIC delivery
 * status idle). destination: an APIC ID, or a logical mask with
 * ICR_LOGICAL; ignored with a shorthand. */
void lapic_send_ipi(uint32_t destination, uint32_t icr_low);

/* Timer ticks per millisecond at divide by 1, from lapic_timer_calibrate
 * (against the TSC, so timing_init first). */
extern uint32_t lapic_timer_khz;
void lapic_timer_calibrate(void);
/* The initial count for `us` microseconds with a TIMER_DIVIDE_* value. */
uint32_t lapic_timer_count(uint32_t us, uint32_t divide_config);

#endif
