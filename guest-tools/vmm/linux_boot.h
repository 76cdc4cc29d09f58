/*
 * Loading a Linux bzImage into a VM's RAM by the x86 boot protocol
 * (Documentation/arch/x86/boot.rst, protocol 2.06 and later; the zero
 * page as zero-page.rst lays it out): the setup header checked and copied
 * into boot_params, the protected-mode kernel at 1 MiB, the initrd at the
 * top of low RAM under initrd_addr_max, the command line, the e820 map of
 * the VM (e820.h) and the ACPI RSDP's address. It also writes what the
 * entry needs in guest memory: a GDT with the boot protocol's __BOOT_CS and
 * __BOOT_DS and, for the 64-bit entry, identity page tables for the low
 * 4 GiB. Setting the vcpu to that state is the caller's (linux_entry.c).
 *
 * Guest-physical layout below 1 MiB (conventional RAM in the e820 map):
 *   0x6000  GDT            0x7000  boot_params (the zero page)
 *   0x9000  page tables (PML4, PDPT, four page directories)
 *   0x20000 command line   0x100000 the protected-mode kernel
 *
 * The image is untrusted: every field that sizes or places something is
 * checked against the image and the RAM before a byte is written. Pure:
 * no locking, no allocation, host-testable.
 */
#ifndef GUEST_TOOLS_VMM_LINUX_BOOT_H
#define GUEST_TOOLS_VMM_LINUX_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#define LINUX_GDT_ADDRESS         0x6000u
#define LINUX_BOOT_PARAMS_ADDRESS 0x7000u
#define LINUX_PAGE_TABLES_ADDRESS 0x9000u
#define LINUX_CMDLINE_ADDRESS     0x20000u
#define LINUX_KERNEL_ADDRESS      0x100000u
#define LINUX_BOOT_CS             0x10u     /* __BOOT_CS */
#define LINUX_BOOT_DS             0x18u     /* __BOOT_DS */
#define LINUX_GDT_LIMIT           0x1fu     /* four descriptors */
#define LINUX_MIN_PROTOCOL        0x0206u
#define LINUX_CMDLINE_MAX         2048u     /* the kernel's own limit on x86 */

/* boot_params offsets (zero-page.rst) and setup header fields (boot.rst). */
#define BP_ACPI_RSDP_ADDR     0x070
#define BP_EXT_RAMDISK_IMAGE  0x0c0
#define BP_EXT_RAMDISK_SIZE   0x0c4
#define BP_EXT_CMD_LINE_PTR   0x0c8
#define BP_E820_ENTRIES       0x1e8
#define BP_SETUP_HEADER       0x1f1
#define BP_SETUP_SECTS        0x1f1
#define BP_SYSSIZE            0x1f4
#define BP_VID_MODE           0x1fa
#define BP_BOOT_FLAG          0x1fe
#define BP_JUMP               0x200
#define BP_HEADER             0x202
#define BP_VERSION            0x206
#define BP_TYPE_OF_LOADER     0x210
#define BP_LOADFLAGS          0x211
#define BP_CODE32_START       0x214
#define BP_RAMDISK_IMAGE      0x218
#define BP_RAMDISK_SIZE       0x21c
#define BP_HEAP_END_PTR       0x224
#define BP_CMD_LINE_PTR       0x228
#define BP_INITRD_ADDR_MAX    0x22c
#define BP_KERNEL_ALIGNMENT   0x230
#define BP_RELOCATABLE_KERNEL 0x234
#define BP_XLOADFLAGS         0x236
#define BP_CMDLINE_SIZE       0x238
#define BP_SETUP_DATA         0x250
#define BP_PREF_ADDRESS       0x258
#define BP_INIT_SIZE          0x260
#define BP_E820_TABLE         0x2d0
#define BP_E820_MAX           128
#define BP_SIZE               4096

#define LINUX_BOOT_FLAG       0xaa55u
#define LINUX_HEADER_MAGIC    0x53726448u   /* "HdrS" */
#define LOADFLAGS_LOADED_HIGH 0x01u
#define LOADFLAGS_CAN_USE_HEAP 0x80u
#define XLF_KERNEL_64         0x0001u
#define LOADER_TYPE_UNDEFINED 0xffu         /* a boot loader without an ID */

/* What the caller gives: the VM's RAM as the control domain sees it
 * (guest-physical 0 at ram[0]; RAM past ram_below_4g is at 4 GiB). */
struct linux_boot_input {
    uint8_t *ram;
    uint64_t ram_below_4g, ram_above_4g;
    const uint8_t *kernel;
    uint64_t kernel_size;
    const uint8_t *initrd;        /* NULL: none */
    uint64_t initrd_size;
    const char *cmdline;          /* NUL-terminated */
    uint64_t rsdp_address;        /* 0: none to hand over */
};

/* What the loader decided; `error` says why it refused (static text). */
struct linux_boot_plan {
    uint16_t protocol;
    bool entry_64;                /* the image has XLF_KERNEL_64 */
    uint64_t entry;               /* startup_64 or startup_32 */
    uint64_t kernel_end;          /* what the kernel may use: load + init_size */
    uint64_t initrd_address, initrd_size;
    uint64_t cr3;                 /* 64-bit entry: the identity tables */
    const char *error;
};

/* 1 if the image has a boot protocol header ("HdrS" and 0xaa55), the
 * test for "is this a bzImage" before anything else is checked. */
bool linux_is_bzimage(const uint8_t *image, uint64_t size);

/* Checks, places and writes everything; returns 0, or -HV_EINVAL (not a
 * bzImage, protocol too old, header inconsistent with the file),
 * -HV_ERANGE (kernel, initrd or command line not fitting) with
 * plan->error set and the RAM untouched. */
int linux_boot_load(const struct linux_boot_input *in, struct linux_boot_plan *plan);

#endif
