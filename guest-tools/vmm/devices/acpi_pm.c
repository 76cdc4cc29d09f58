/*
 * ACPI PM block and reset register; the interface is in acpi_pm.h.
 *
 * The PM timer is not state: it is guest time scaled to 3.579545 MHz, in
 * integers (the control domain has no floating point), so it neither
 * drifts nor depends on when it was last read. Its overflow status is the
 * one lazy event: bit 23 of the counter changing since the guest last saw
 * it (the status bit is set on every change of the top bit, ACPI spec
 * "Power Management Timer").
 */
#include "guest-tools/vmm/devices/acpi_pm.h"

#include "guest-tools/vmm/devices/byte_ports.h"

#define NS_PER_SECOND         1000000000ull
#define TIMER_OVERFLOW_SHIFT  23

/* Status bits that can raise the SCI, paired with their enables. */
#define PM1_SCI_SOURCES \
    (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC)
#define PM1_EN_WRITABLE (PM1_SCI_SOURCES | ACPI_PM1_PCIEXP_WAKE)
#define PM1_CNT_READABLE \
    (ACPI_PM1_CNT_SCI_EN | ACPI_PM1_CNT_BM_RLD | ACPI_PM1_CNT_SLP_TYP)

static uint64_t timer_ticks(uint64_t now_ns)
{
    return now_ns / NS_PER_SECOND * ACPI_PM_TIMER_HZ +
           now_ns % NS_PER_SECOND * ACPI_PM_TIMER_HZ / NS_PER_SECOND;
}

/* The first nanosecond at which the timer has counted `ticks`. */
static uint64_t ns_of_tick(uint64_t ticks)
{
    return ticks / ACPI_PM_TIMER_HZ * NS_PER_SECOND +
           (ticks % ACPI_PM_TIMER_HZ * NS_PER_SECOND + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ;
}

uint32_t acpi_pm_timer_value(uint64_t now_ns)
{
    return (uint32_t)(timer_ticks(now_ns) & ACPI_PM_TIMER_MASK);
}

static void catch_up(struct acpi_pm *pm, uint64_t now_ns)
{
    uint64_t overflows;

    if (now_ns > pm->now_ns)
        pm->now_ns = now_ns;
    overflows = timer_ticks(pm->now_ns) >> TIMER_OVERFLOW_SHIFT;
    if (overflows != pm->overflows_seen) {
        pm->overflows_seen = overflows;
        pm->status |= ACPI_PM1_TMR;
    }
}

static void update_sci(struct acpi_pm *pm)
{
    bool level = (pm->control & ACPI_PM1_CNT_SCI_EN) &&
                 (pm->status & pm->enable & PM1_SCI_SOURCES);

    if (level != pm->sci_level) {
        pm->sci_level = level;
        irq_line_set(&pm->config.sci, level);
    }
}

/* SLP_EN: S5 powers off; any other state is not offered, so the machine
 * wakes at once rather than leave the guest polling WAK_STS forever. */
static void enter_sleep(struct acpi_pm *pm)
{
    unsigned type = (pm->control & ACPI_PM1_CNT_SLP_TYP) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;

    if (type == pm->config.s5_sleep_type)
        platform_request(&pm->config.platform, PLATFORM_REQUEST_POWER_OFF);
    else
        pm->status |= ACPI_PM1_WAK_STS;
}

static uint8_t read_byte(void *chip, unsigned offset, uint64_t now_ns)
{
    struct acpi_pm *pm = chip;
    unsigned shift = 8 * (offset & 1);

    catch_up(pm, now_ns);
    update_sci(pm);
    switch (offset) {
    case ACPI_PM1_STS:
    case ACPI_PM1_STS + 1:
        return (uint8_t)(pm->status >> shift);
    case ACPI_PM1_EN:
    case ACPI_PM1_EN + 1:
        return (uint8_t)(pm->enable >> shift);
    case ACPI_PM1_CNT:
    case ACPI_PM1_CNT + 1:
        return (uint8_t)(pm->control >> shift);
    case ACPI_PM_TMR:
    case ACPI_PM_TMR + 1:
    case ACPI_PM_TMR + 2:
    case ACPI_PM_TMR + 3:
        return (uint8_t)(acpi_pm_timer_value(pm->now_ns) >> (8 * (offset - ACPI_PM_TMR)));
    case 6:
    case 7:
        return 0; /* reserved in the PIIX4 layout */
    default:
        return 0xff;
    }
}

static void write_byte(void *chip, unsigned offset, uint8_t value, uint64_t now_ns)
{
    struct acpi_pm *pm = chip;
    unsigned shift = 8 * (offset & 1);
    uint16_t bits = (uint16_t)(value << shift);
    uint16_t other_byte = (uint16_t)(0xff00u >> shift);

    catch_up(pm, now_ns);
    switch (offset) {
    case ACPI_PM1_STS:
    case ACPI_PM1_STS + 1:
        pm->status &= (uint16_t)~bits; /* write 1 to clear */
        break;
    case ACPI_PM1_EN:
    case ACPI_PM1_EN + 1:
        pm->enable = (uint16_t)((pm->enable & other_byte) | (bits & PM1_EN_WRITABLE));
        break;
    case ACPI_PM1_CNT:
    case ACPI_PM1_CNT + 1:
        pm->control = (uint16_t)((pm->control & other_byte) | (bits & PM1_CNT_READABLE));
        /* SLP_TYP and SLP_EN share the high byte: the type written with
         * SLP_EN is the one entered. */
        if (bits & ACPI_PM1_CNT_SLP_EN)
            enter_sleep(pm);
        break;
    default:
        break; /* the timer is read-only */
    }
    update_sci(pm);
}

void acpi_pm_init(struct acpi_pm *pm, const struct acpi_pm_config *config)
{
    *pm = (struct acpi_pm){ .config = *config };
    pm->config.s5_sleep_type &= 7;
    if (config->sci_enabled)
        pm->control = ACPI_PM1_CNT_SCI_EN;
}

uint32_t acpi_pm_read(struct acpi_pm *pm, unsigned offset, unsigned size, uint64_t now_ns)
{
    return byte_port_read(pm, read_byte, offset, size, now_ns);
}

void acpi_pm_write(struct acpi_pm *pm, unsigned offset, unsigned size, uint32_t value,
                   uint64_t now_ns)
{
    byte_port_write(pm, write_byte, offset, size, value, now_ns);
}

uint8_t acpi_pm_reset_control_read(const struct acpi_pm *pm)
{
    return pm->reset_control;
}

/* RST_CPU starts the reset on its rising edge and reads back 0 after it
 * (the reset has happened); SYS_RST and FULL_RST only choose its kind,
 * which a VM does not distinguish. */
void acpi_pm_reset_control_write(struct acpi_pm *pm, uint8_t value)
{
    pm->reset_control = value & (ACPI_RESET_SYS_RST | ACPI_RESET_FULL_RST);
    if (value & ACPI_RESET_RST_CPU)
        platform_request(&pm->config.platform, PLATFORM_REQUEST_RESET);
}

void acpi_pm_press_power_button(struct acpi_pm *pm, uint64_t now_ns)
{
    catch_up(pm, now_ns);
    pm->status |= ACPI_PM1_PWRBTN;
    update_sci(pm);
}

void acpi_pm_advance(struct acpi_pm *pm, uint64_t now_ns)
{
    catch_up(pm, now_ns);
    update_sci(pm);
}

uint64_t acpi_pm_next_event_ns(const struct acpi_pm *pm)
{
    /* Only an overflow that would raise the SCI needs the VMM; a guest
     * polling TMR_STS is served by catch_up. */
    if (!(pm->enable & ACPI_PM1_TMR) || !(pm->control & ACPI_PM1_CNT_SCI_EN) ||
        (pm->status & ACPI_PM1_TMR))
        return DEVICE_TIME_NEVER;
    return ns_of_tick((pm->overflows_seen + 1) << TIMER_OVERFLOW_SHIFT);
}
