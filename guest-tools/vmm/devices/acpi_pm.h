/*
 * ACPI fixed hardware of a PC chipset (ACPI spec, "ACPI Hardware
 * Specification"): the PM1a event and control registers, the PM timer, and
 * the reset register at I/O port 0xcf9 (the PIIX/ICH reset control
 * register the FADT's RESET_REG names).
 *
 * The PM block sits at a base port the VMM picks (0x600 as on QEMU's
 * PIIX4, say) with the PIIX4 layout; the FADT names the same ports:
 *   base+0  PM1a_EVT_BLK, 4 bytes: PM1_STS (write 1 to clear), PM1_EN
 *   base+4  PM1a_CNT_BLK, 2 bytes: PM1_CNT (SCI_EN, SLP_TYP, SLP_EN)
 *   base+8  PM_TMR_BLK,   4 bytes: 24-bit timer at 3.579545 MHz
 *                         (FADT flag TMR_VAL_EXT clear), read-only.
 * FADT values: PM1_EVT_LEN 4, PM1_CNT_LEN 2, PM_TMR_LEN 4, SMI_CMD 0 (no
 * SMM: the OS finds the machine in ACPI mode, so init with SCI_EN set),
 * RESET_REG system I/O 0xcf9 width 8, RESET_VALUE 0x06, and a DSDT \_S5
 * package holding `s5_sleep_type`. No GPE block and no other sleep states:
 * writing SLP_EN with another type sets WAK_STS at once (the machine
 * "wakes" immediately) so a guest that tries cannot hang waiting.
 *
 * Interface (device.h contract):
 *   acpi_pm_init            from an acpi_pm_config.
 *   acpi_pm_read/write      `offset` from the PM base (0-11), `size` 1, 2
 *                           or 4 (wider accesses reach the next registers).
 *   acpi_pm_reset_control_read/write   a byte access to port 0xcf9 (wider
 *                           accesses at 0xcf8 are PCI's CONFIG_ADDRESS and
 *                           are not routed here). Setting RST_CPU (bit 2)
 *                           requests a reset: 0x06 and 0x0e do, 0x02 not.
 *   acpi_pm_press_power_button  the host asks the guest to shut down:
 *                           PWRBTN_STS, an SCI if the guest enabled it.
 *   acpi_pm_advance / acpi_pm_next_event_ns  the timer's overflow event
 *                           (TMR_STS every 2^23 ticks, an SCI if TMR_EN).
 *
 * Locking: none inside; the VMM serialises all calls on one acpi_pm.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_ACPI_PM_H
#define GUEST_TOOLS_VMM_DEVICES_ACPI_PM_H

#include "guest-tools/vmm/devices/device.h"
#include "guest-tools/vmm/devices/platform_request.h"

#define ACPI_PM_PORT_COUNT      12
#define ACPI_PM1_STS            0x0 /* offsets from the PM base */
#define ACPI_PM1_EN             0x2
#define ACPI_PM1_CNT            0x4
#define ACPI_PM_TMR             0x8
#define ACPI_PM_TIMER_HZ        3579545u
#define ACPI_PM_TIMER_MASK      0xffffffu

/* PM1_STS and PM1_EN bits (ACPI spec, "PM1 Event Grouping"). */
#define ACPI_PM1_TMR            (1u << 0)  /* TMR_STS / TMR_EN */
#define ACPI_PM1_BM_STS         (1u << 4)
#define ACPI_PM1_GBL            (1u << 5)  /* GBL_STS / GBL_EN */
#define ACPI_PM1_PWRBTN         (1u << 8)
#define ACPI_PM1_SLPBTN         (1u << 9)
#define ACPI_PM1_RTC            (1u << 10)
#define ACPI_PM1_PCIEXP_WAKE    (1u << 14) /* PCIEXP_WAKE_STS / _DIS */
#define ACPI_PM1_WAK_STS        (1u << 15)

/* PM1_CNT bits (ACPI spec, "PM1 Control Grouping"). */
#define ACPI_PM1_CNT_SCI_EN     (1u << 0)
#define ACPI_PM1_CNT_BM_RLD     (1u << 1)
#define ACPI_PM1_CNT_GBL_RLS    (1u << 2)  /* write-only */
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP    (7u << 10)
#define ACPI_PM1_CNT_SLP_EN     (1u << 13) /* write-only */

#define ACPI_RESET_CONTROL_PORT 0xcf9
#define ACPI_RESET_SYS_RST      0x02       /* hard rather than soft reset */
#define ACPI_RESET_RST_CPU      0x04       /* 0 -> 1 starts the reset */
#define ACPI_RESET_FULL_RST     0x08
#define ACPI_RESET_VALUE        0x06       /* the FADT's RESET_VALUE */

struct acpi_pm_config {
    struct irq_line sci;                   /* SCI, level, usually IRQ 9 */
    struct platform_request_sink platform;
    uint8_t s5_sleep_type;                 /* SLP_TYPa of the DSDT's \_S5 */
    bool sci_enabled;                      /* SCI_EN at reset: true without SMI_CMD */
};

struct acpi_pm {
    struct acpi_pm_config config;
    uint16_t status;        /* PM1_STS */
    uint16_t enable;        /* PM1_EN */
    uint16_t control;       /* PM1_CNT, readable bits */
    uint8_t reset_control;  /* 0xcf9 */
    uint64_t overflows_seen; /* timer ticks >> 23 already accounted for */
    bool sci_level;
    uint64_t now_ns;        /* latest time seen: time never runs back */
};

void acpi_pm_init(struct acpi_pm *pm, const struct acpi_pm_config *config);
uint32_t acpi_pm_read(struct acpi_pm *pm, unsigned offset, unsigned size, uint64_t now_ns);
void acpi_pm_write(struct acpi_pm *pm, unsigned offset, unsigned size, uint32_t value,
                   uint64_t now_ns);
uint8_t acpi_pm_reset_control_read(const struct acpi_pm *pm);
void acpi_pm_reset_control_write(struct acpi_pm *pm, uint8_t value);
void acpi_pm_press_power_button(struct acpi_pm *pm, uint64_t now_ns);
void acpi_pm_advance(struct acpi_pm *pm, uint64_t now_ns);
uint64_t acpi_pm_next_event_ns(const struct acpi_pm *pm);
uint32_t acpi_pm_timer_value(uint64_t now_ns);

#endif
