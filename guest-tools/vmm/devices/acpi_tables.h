/*
 * ACPI tables for a guest PC, built into one buffer that the VMM copies to
 * guest memory: RSDP (ACPI 2.0+), XSDT and RSDT, FADT (ACPI 6.0, revision
 * 6), FACS, a DSDT holding only \_S5 (so that an OS can power off through
 * PM1a_CNT), and the MADT (local APIC per vcpu, the IOAPIC, the PC's
 * interrupt source overrides, LINT1 as NMI).
 *
 * Interface:
 * - acpi_platform_pc_defaults(): the description of the VMM's PC (IOAPIC
 *   at 0xfec00000, PM block at 0x600, SCI on IRQ 9, reset through 0xcf9);
 *   the caller then sets the vcpus and whatever differs.
 * - acpi_tables_build(): writes the tables into `buffer`, which will live
 *   at guest-physical `buffer_address`, and says where each one went.
 *   The RSDP is the first 36 bytes. Put the buffer at 0xe0000 and both
 *   ways an OS finds the RSDP work: the BIOS-area scan (16-byte aligned in
 *   0xe0000-0xfffff) and a pointer (Linux boot_params.acpi_rsdp_addr,
 *   layout->rsdp_address). The VMM marks the range reserved (or ACPI) in
 *   the e820 map.
 *
 * The SLP_TYP the DSDT gives for S5 is platform->s5_sleep_type: the PM
 * model powers the VM off when the guest writes PM1a_CNT with SLP_EN
 * (bit 13) and that SLP_TYP (bits 12:10). SMI_CMD is 0 (no SMM), which
 * tells the OS the machine is already in ACPI mode: PM1a_CNT.SCI_EN
 * (bit 0) must read 1 from reset.
 *
 * No locking: a pure function of its arguments.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_ACPI_TABLES_H
#define GUEST_TOOLS_VMM_DEVICES_ACPI_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* xAPIC IDs only (MADT type 0 entries): 0-254, 0xff being broadcast. */
#define ACPI_TABLES_MAX_CPUS 255
/* Enough for ACPI_TABLES_MAX_CPUS; a buffer of this size never fails
 * with -HV_ENOSPC. */
#define ACPI_TABLES_MAX_SIZE 4096
/* The FACS must be 64-byte aligned; the buffer's start gives it that. */
#define ACPI_TABLES_ALIGNMENT 64

/* PC defaults (PIIX4-style PM block, as QEMU's pc and q35 place it). */
#define ACPI_PC_PM_BASE          0x600
#define ACPI_PC_PM1A_EVENT_PORT  (ACPI_PC_PM_BASE + 0x0)  /* PM1_STS, PM1_EN */
#define ACPI_PC_PM1A_CONTROL_PORT (ACPI_PC_PM_BASE + 0x4) /* PM1_CNT */
#define ACPI_PC_PM_TIMER_PORT    (ACPI_PC_PM_BASE + 0x8)  /* PM_TMR */
#define ACPI_PC_SCI_IRQ          9
#define ACPI_PC_RESET_PORT       0xcf9
#define ACPI_PC_RESET_VALUE      0x06  /* reset CPU, full (system) reset */
#define ACPI_PC_S5_SLEEP_TYPE    0     /* PIIX4's soft-off encoding */
#define ACPI_PC_RTC_CENTURY      0x32  /* CMOS index of the century byte */

/* PM1 register bits the PM model implements against these tables
 * (ACPI 6.0, 4.8.3.2.1). */
#define ACPI_PM1_CNT_SCI_EN        (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK  (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN        (1u << 13)

struct acpi_platform {
    unsigned cpu_count;
    const uint8_t *apic_ids;      /* cpu_count distinct IDs; the ACPI UID of CPU i is i */
    uint32_t local_apic_address;
    uint32_t ioapic_address;
    uint8_t ioapic_id;
    uint32_t ioapic_gsi_base;     /* ISA IRQ n is GSI base + n */
    uint8_t sci_irq;              /* ISA IRQ of the SCI: level, active high */
    uint16_t pm1a_event_port;     /* 4 bytes: status then enable */
    uint16_t pm1a_control_port;   /* 2 bytes */
    uint16_t pm_timer_port;       /* 4 bytes; 0: no PM timer */
    bool pm_timer_32bit;          /* TMR_VAL_EXT: 32-bit counter, else 24 */
    uint16_t reset_port;          /* 0: no reset register */
    uint8_t reset_value;
    uint8_t s5_sleep_type;        /* 0-7 */
    uint8_t rtc_century_index;    /* 0: the RTC has no century byte */
    bool has_legacy_pics;         /* MADT PCAT_COMPAT: a dual 8259 is present */
    bool has_i8042;
    bool has_vga;
};

/* Where the tables went: offsets from the buffer's start. */
struct acpi_tables_layout {
    uint64_t rsdp_address;        /* guest-physical, = buffer_address */
    uint32_t size;                /* bytes of the buffer used */
    uint32_t xsdt_offset, rsdt_offset, fadt_offset, facs_offset, dsdt_offset, madt_offset;
};

void acpi_platform_pc_defaults(struct acpi_platform *platform);

/* Returns 0, or -HV_EINVAL for a description the tables cannot express
 * (no CPU or more than 255, an APIC ID of 0xff or twice, SCI IRQ 0, 2 or
 * above 15, no PM1a block, SLP_TYP above 7, a buffer address not 64-byte
 * aligned or whose tables would not lie below 4 GiB), -HV_ENOSPC when the
 * buffer is too small. Bytes past layout->size are left alone. */
int acpi_tables_build(void *buffer, size_t buffer_size, uint64_t buffer_address,
                      const struct acpi_platform *platform, struct acpi_tables_layout *layout);

/* Table offsets and sizes (ACPI 6.0, chapter 5), for the tests and for
 * anyone reading the bytes back. */
#define ACPI_HEADER_SIZE 36
#define ACPI_HEADER_CHECKSUM 9

#define ACPI_RSDP_CHECKSUM 8
#define ACPI_RSDP_REVISION 15
#define ACPI_RSDP_RSDT_ADDRESS 16
#define ACPI_RSDP_LENGTH 20
#define ACPI_RSDP_XSDT_ADDRESS 24
#define ACPI_RSDP_EXTENDED_CHECKSUM 32
#define ACPI_RSDP_SIZE 36

#define ACPI_FACS_SIZE 64

/* FADT, ACPI 6.0 table 5-34. */
#define ACPI_FADT_FIRMWARE_CTRL 36
#define ACPI_FADT_DSDT 40
#define ACPI_FADT_PREFERRED_PM_PROFILE 45
#define ACPI_FADT_SCI_INT 46
#define ACPI_FADT_SMI_CMD 48
#define ACPI_FADT_PM1A_EVT_BLK 56
#define ACPI_FADT_PM1A_CNT_BLK 64
#define ACPI_FADT_PM_TMR_BLK 76
#define ACPI_FADT_GPE0_BLK 80
#define ACPI_FADT_PM1_EVT_LEN 88
#define ACPI_FADT_PM1_CNT_LEN 89
#define ACPI_FADT_PM_TMR_LEN 91
#define ACPI_FADT_P_LVL2_LAT 96
#define ACPI_FADT_P_LVL3_LAT 98
#define ACPI_FADT_CENTURY 108
#define ACPI_FADT_IAPC_BOOT_ARCH 109
#define ACPI_FADT_FLAGS 112
#define ACPI_FADT_RESET_REG 116
#define ACPI_FADT_RESET_VALUE 128
#define ACPI_FADT_MINOR_VERSION 131
#define ACPI_FADT_X_FIRMWARE_CTRL 132
#define ACPI_FADT_X_DSDT 140
#define ACPI_FADT_X_PM1A_EVT_BLK 148
#define ACPI_FADT_X_PM1B_EVT_BLK 160
#define ACPI_FADT_X_PM1A_CNT_BLK 172
#define ACPI_FADT_X_PM1B_CNT_BLK 184
#define ACPI_FADT_X_PM2_CNT_BLK 196
#define ACPI_FADT_X_PM_TMR_BLK 208
#define ACPI_FADT_X_GPE0_BLK 220
#define ACPI_FADT_X_GPE1_BLK 232
#define ACPI_FADT_SLEEP_CONTROL_REG 244
#define ACPI_FADT_SLEEP_STATUS_REG 256
#define ACPI_FADT_HYPERVISOR_VENDOR 268
#define ACPI_FADT_SIZE 276

#define ACPI_FADT_WBINVD        (1u << 0)
#define ACPI_FADT_PROC_C1       (1u << 2)
#define ACPI_FADT_SLP_BUTTON    (1u << 5)
#define ACPI_FADT_TMR_VAL_EXT   (1u << 8)
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED    (1u << 20)

#define ACPI_BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define ACPI_BOOT_ARCH_8042           (1u << 1)
#define ACPI_BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)

/* Generic Address Structure (ACPI 6.0, 5.2.3.2). */
#define ACPI_GAS_SIZE 12
#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_ACCESS_BYTE 1

/* MADT, ACPI 6.0 5.2.12. */
#define ACPI_MADT_LOCAL_APIC_ADDRESS 36
#define ACPI_MADT_FLAGS 40
#define ACPI_MADT_ENTRIES 44
#define ACPI_MADT_PCAT_COMPAT (1u << 0)
#define ACPI_MADT_TYPE_LOCAL_APIC 0
#define ACPI_MADT_TYPE_IOAPIC 1
#define ACPI_MADT_TYPE_INTERRUPT_OVERRIDE 2
#define ACPI_MADT_TYPE_LOCAL_APIC_NMI 4
#define ACPI_MADT_LOCAL_APIC_SIZE 8
#define ACPI_MADT_IOAPIC_SIZE 12
#define ACPI_MADT_INTERRUPT_OVERRIDE_SIZE 10
#define ACPI_MADT_LOCAL_APIC_NMI_SIZE 6
#define ACPI_MADT_ENABLED 1u
/* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2. */
#define ACPI_MPS_ACTIVE_HIGH   (1u << 0)
#define ACPI_MPS_ACTIVE_LOW    (3u << 0)
#define ACPI_MPS_EDGE          (1u << 2)
#define ACPI_MPS_LEVEL         (3u << 2)
#define ACPI_MADT_ALL_PROCESSORS 0xff

#endif
