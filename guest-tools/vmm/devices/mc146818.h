/*
 * MC146818A real-time clock and CMOS RAM (Motorola data sheet) as a PC has
 * it: index port 0x70 (bits 6:0 select one of 128 bytes, bit 7 masks NMI),
 * data port 0x71, interrupt on IRQ 8, 32.768 kHz time base.
 *
 * Interface (device.h contract):
 *   mc146818_init         power-on state: registers A 0x26 (time base
 *                         running, 1024 Hz rate), B 0x02 (BCD, 24-hour),
 *                         D 0x80 (battery good), RAM zero; the clock reads
 *                         `wall_clock_seconds` (since 1970-01-01 00:00:00;
 *                         UTC for Linux guests) at guest time 0.
 *   mc146818_read/write   `offset` 0 (index) or 1 (data) from port 0x70,
 *                         `size` 1, 2 or 4 (wider accesses reach both).
 *   mc146818_advance      brings the clock and its interrupt flags to
 *                         `now_ns`; call it at mc146818_next_event_ns
 *                         (periodic, alarm and update-ended interrupts,
 *                         only those enabled in register B), which may
 *                         change after any other call.
 *   mc146818_cmos_set/get RAM bytes 0x0e-0x7f for the VMM (not the clock
 *                         registers; 0x32 is the clock's century); what a
 *                         PC keeps in them is pc_cmos.h's business.
 *
 * Time: the clock counts seconds from the divider chain, which runs in
 * step with guest time; an update happens at each second boundary, with
 * UIP set for the 2228 us before it (244 us set-up plus the 1984 us update
 * cycle of a 32.768 kHz part), when the time registers read the old
 * second. While register B's SET bit is held the clock does not update and
 * the guest writes its new time; writes to a time register always take
 * effect (values are carried as calendar.h says). Divider bits 110/111 hold
 * the chain in reset; leaving reset puts the next update 500 ms later.
 * Every other divider value counts at 32.768 kHz. B's DSE and SQWE bits
 * are kept but have no effect (no daylight-saving jumps, and a PC does not
 * wire the square-wave pin).
 *
 * Locking: none inside; the VMM serialises all calls on one mc146818.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_MC146818_H
#define GUEST_TOOLS_VMM_DEVICES_MC146818_H

#include "guest-tools/vmm/devices/calendar.h"
#include "guest-tools/vmm/devices/device.h"

#define MC146818_PORT_BASE  0x70
#define MC146818_PORT_COUNT 2
#define MC146818_IRQ        8
#define MC146818_CMOS_SIZE  128

/* Clock registers (data sheet figure 6). */
#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06 /* 1 Sunday .. 7 Saturday */
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0a
#define RTC_REG_B         0x0b
#define RTC_REG_C         0x0c
#define RTC_REG_D         0x0d
#define RTC_CENTURY       0x32 /* PC convention; the FADT's CENTURY field */

#define RTC_A_UIP         0x80 /* update in progress (read-only) */
#define RTC_A_DIVIDER     0x70 /* DV2:0; 010 runs the 32.768 kHz chain */
#define RTC_A_DIVIDER_RESET 0x60 /* DV2:1 both set: chain held in reset */
#define RTC_A_RATE        0x0f /* periodic rate select RS3:0 */
#define RTC_B_SET         0x80
#define RTC_B_PIE         0x40
#define RTC_B_AIE         0x20
#define RTC_B_UIE         0x10
#define RTC_B_SQWE        0x08
#define RTC_B_DM_BINARY   0x04
#define RTC_B_24H         0x02
#define RTC_B_DSE         0x01
#define RTC_C_IRQF        0x80
#define RTC_C_PF          0x40 /* the flags line up with B's enables */
#define RTC_C_AF          0x20
#define RTC_C_UF          0x10
#define RTC_D_VRT         0x80
#define RTC_ALARM_DONT_CARE 0xc0 /* an alarm byte with both top bits set */
#define RTC_INDEX_NMI_DISABLE 0x80

struct mc146818 {
    struct irq_line irq;
    uint8_t index;      /* bits 6:0 of the last index write */
    bool nmi_disabled;  /* bit 7 of the last index write */
    uint8_t ram[MC146818_CMOS_SIZE]; /* RAM, the alarm bytes and registers A, B, C */

    /* The clock registers, decoded (hour 0-23 whatever B's mode). Kept as
     * the guest wrote them until the next update carries them. */
    struct calendar_time clock;
    unsigned weekday;   /* 1-7, counted on by itself as on the chip */

    /* The divider chain: 32.768 kHz ticks since it left reset. */
    bool divider_held;
    uint64_t chain_start_ns;    /* guest time when the chain last started */
    uint64_t chain_start_ticks; /* its count then (0, or 16384 after reset) */
    uint64_t seconds_seen;      /* ticks / 32768 already accounted for */
    uint64_t periodic_seen;     /* ticks >> rate shift already accounted for */

    bool irq_level;
    uint64_t now_ns;    /* latest time seen: time never runs back */
};

void mc146818_init(struct mc146818 *rtc, struct irq_line irq, uint64_t wall_clock_seconds);
uint32_t mc146818_read(struct mc146818 *rtc, unsigned offset, unsigned size, uint64_t now_ns);
void mc146818_write(struct mc146818 *rtc, unsigned offset, unsigned size, uint32_t value,
                    uint64_t now_ns);
void mc146818_advance(struct mc146818 *rtc, uint64_t now_ns);
uint64_t mc146818_next_event_ns(const struct mc146818 *rtc);
bool mc146818_nmi_disabled(const struct mc146818 *rtc);

void mc146818_cmos_set(struct mc146818 *rtc, uint8_t index, uint8_t value);
uint8_t mc146818_cmos_get(const struct mc146818 *rtc, uint8_t index);

#endif
