/* Constants shared by the boot assembly and C. */
#ifndef BOOT_LAYOUT_H
#define BOOT_LAYOUT_H

#define BOOT_STACK_SIZE      16384
#define CPU_STACK_SIZE       16384
#define IST_STACK_SIZE       4096

/* Selectors of the per-CPU GDT (hv/gdt.c); the trampoline uses the same
 * code/data values so that no reload is needed between the two. */
#define GDT_KERNEL_CS        0x08
#define GDT_KERNEL_DS        0x10
#define GDT_TSS              0x18

/* Layout of the parameter block inside the AP trampoline page, filled in by
 * hv/smp.c before each SIPI (the trampoline runs at whatever low page the
 * memory map offers, so absolute addresses are patched rather than linked). */
#define TRAMPOLINE_PARAMS    0xf00
#define TP_GDTR              (TRAMPOLINE_PARAMS + 0x00)  /* limit16, base32 */
#define TP_PM32_JUMP         (TRAMPOLINE_PARAMS + 0x08)  /* offset32, selector16 */
#define TP_LM64_JUMP         (TRAMPOLINE_PARAMS + 0x10)  /* offset32, selector16 */
#define TP_CR3               (TRAMPOLINE_PARAMS + 0x18)
#define TP_STACK             (TRAMPOLINE_PARAMS + 0x20)
#define TP_PERCPU            (TRAMPOLINE_PARAMS + 0x28)
#define TP_EFER              (TRAMPOLINE_PARAMS + 0x30)
#define TP_GDT               (TRAMPOLINE_PARAMS + 0x40)  /* null, code64, data, code32 */
#define TP_GDT_CODE32        0x18

#endif
