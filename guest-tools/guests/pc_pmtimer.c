/*
 * pc_pmtimer: the ACPI power-management timer (ACPI 6.5, 4.8.3.3) runs at
 * 3.579545 MHz. Its port comes from the FADT (PM_TMR_BLK, else the
 * X_PM_TMR_BLK address in I/O space), its width (24 or 32 bits) from the
 * FADT's TMR_VAL_EXT flag. Over 200 ms of PIT-calibrated TSC it must
 * advance 3579545 per second within 1%, and never go backwards between
 * two reads (a step of more than half its range would be one).
 */
#include "guest-tools/guests/lib/acpi.h"
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/timing.h"

#define PM_TIMER_HZ       3579545u
#define FADT_X_PM_TMR_BLK 208       /* Generic Address Structure */
#define GAS_SYSTEM_IO     1
#define WINDOW_MS         200

static uint16_t pm_timer_port(const struct acpi_header *fadt)
{
    uint32_t port = acpi_read32(fadt, FADT_PM_TMR_BLK);

    if (port == 0 && fadt->length >= FADT_X_PM_TMR_BLK + 12 &&
        acpi_read8(fadt, FADT_X_PM_TMR_BLK) == GAS_SYSTEM_IO)
        port = acpi_read32(fadt, FADT_X_PM_TMR_BLK + 4);
    return port <= 0xffff ? (uint16_t)port : 0;
}

static uint16_t port;
static uint32_t mask;

static uint32_t pm_timer_read(void)
{
    return inl(port) & mask;
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    const struct acpi_header *fadt;
    uint32_t previous, last, ticks = 0, hz;
    uint64_t start = 0, end = 0;
    int backwards = 0;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_pmtimer: ACPI PM timer at 3.579545 MHz");
    fadt = acpi_find_table("FACP");
    port = fadt != 0 ? pm_timer_port(fadt) : 0;
    if (!check("pmtimer: the FADT gives a PM timer port", port != 0))
        pc_finish();
    mask = (acpi_read32(fadt, FADT_FLAGS) & FADT_FLAG_TMR_VAL_EXT) ? 0xffffffffu : 0xffffffu;

    /* The first and last reads are timed closely (read_with_tsc); the
     * ones between follow the count through its wraps. */
    previous = read_with_tsc(pm_timer_read, &start);
    do {
        uint32_t value = pm_timer_read(), step = (value - previous) & mask;

        if (step > mask / 2)
            backwards = 1;
        ticks += step;
        previous = value;
    } while (rdtsc() - start < ms_to_tsc(WINDOW_MS));
    last = read_with_tsc(pm_timer_read, &end);
    ticks += (last - previous) & mask;
    hz = (uint32_t)div64_32((uint64_t)ticks * 1000000, tsc_to_us(end - start));
    check_range("pmtimer: rate against the PIT-calibrated TSC (Hz, within 1%)", hz,
                PM_TIMER_HZ - PM_TIMER_HZ / 100, PM_TIMER_HZ + PM_TIMER_HZ / 100);
    check("pmtimer: never went backwards", !backwards);
    pc_finish();
}
