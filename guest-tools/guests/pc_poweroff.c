/*
 * pc_poweroff: the guest turns the machine off the ACPI way (ACPI 6.5,
 * 7.4.2 and 16.1.7): SLP_TYPa of \_S5 from the DSDT, PM1a_CNT from the
 * FADT, ACPI mode entered first if SCI_EN is clear and the FADT has an
 * SMI command port, then SLP_TYP | SLP_EN written to PM1a_CNT. The
 * machine stops there: plain QEMU exits with status 0, the VMM ends the
 * VM. Still running a second later is a failure (status 0x21). The sleep
 * type is not printed: it is the platform's choice (0 on QEMU's q35).
 */
#include "guest-tools/guests/lib/acpi.h"
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/timing.h"

#define PM1_CNT_SCI_EN   (1u << 0)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN   (1u << 13)

static void enter_acpi_mode(const struct acpi_header *fadt, uint16_t pm1a_cnt)
{
    uint32_t smi_cmd = acpi_read32(fadt, FADT_SMI_CMD);
    uint8_t acpi_enable = acpi_read8(fadt, FADT_ACPI_ENABLE);
    uint64_t end;

    if ((inw(pm1a_cnt) & PM1_CNT_SCI_EN) || smi_cmd == 0 || acpi_enable == 0)
        return;                     /* already in ACPI mode, or always is */
    outb((uint16_t)smi_cmd, acpi_enable);
    end = rdtsc() + ms_to_tsc(1000);
    while (!(inw(pm1a_cnt) & PM1_CNT_SCI_EN) && rdtsc() < end)
        cpu_relax();
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    const struct acpi_header *fadt;
    int sleep_type;
    uint16_t pm1a_cnt;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_poweroff: power-off through ACPI S5");
    fadt = acpi_find_table("FACP");
    sleep_type = acpi_s5_sleep_type();
    pm1a_cnt = fadt != 0 ? (uint16_t)acpi_read32(fadt, FADT_PM1A_CNT_BLK) : 0;
    if (!check("poweroff: PM1a_CNT in the FADT, \\_S5 in the DSDT", pm1a_cnt != 0 && sleep_type >= 0))
        pc_finish();
    enter_acpi_mode(fadt, pm1a_cnt);
    serial_puts("poweroff: writing SLP_TYP(S5) | SLP_EN to PM1a_CNT\n");
    outw(pm1a_cnt, (uint16_t)((inw(pm1a_cnt) & PM1_CNT_SCI_EN) |
                              (uint32_t)sleep_type << PM1_CNT_SLP_TYP_SHIFT | PM1_CNT_SLP_EN));
    delay_us(1000000);
    check("poweroff: the machine is still running a second later", 0);
    pc_finish();
}
