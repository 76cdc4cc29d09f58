/*
 * Interfaces between the files of the VMM library; not for its users.
 */
#ifndef GUEST_TOOLS_VMM_VMM_INTERNAL_H
#define GUEST_TOOLS_VMM_VMM_INTERNAL_H

#include "guest-tools/vmm/multiboot_info.h"
#include "guest-tools/vmm/vmm.h"

/* cpu_state.c: start every vcpu at entry in flat 32-bit protected mode,
 * vcpu 0 with eax and ebx, the others as smp_entry.h says; with
 * vm->aps_wait_for_sipi, vcpu 0 alone, as a PC's firmware hands over. */
int vmm_set_protected_mode(struct vm_instance *vm, uint32_t entry,
                           uint32_t eax, uint32_t ebx);

/* load_multiboot.c: 1 if image starts with the ELF magic; then
 * vmm_load_multiboot loads it as a multiboot1 ELF32 kernel (0 or -HV_E*). */
int vmm_is_elf(const void *image, uint64_t size);
int vmm_load_multiboot(struct vm_instance *vm, const uint8_t *image,
                       uint64_t size, const char *cmdline,
                       const struct multiboot_module_image *modules,
                       unsigned module_count);

/* uart.c: handles an access to a COM1 register; data is the run page's
 * I/O data (the byte written, or where to store the byte read). */
int vmm_uart_is_port(uint16_t port);
void vmm_uart_access(struct vmm_vcpu *vcpu, uint16_t port, int is_write,
                     uint8_t *data);
/* Prints the vcpu's unfinished output line, if any. */
void vmm_uart_flush(struct vmm_vcpu *vcpu);

/* exit_report.c: the one line saying why vmm_run stopped. */
void vmm_report_stop(const struct vmm_vcpu *vcpu,
                     const struct vmm_result *result);

/* cpu_dump.c: the vcpu's registers, segments, control registers, the MSRs
 * a 64-bit kernel's entry paths use and its pending events, as lines on
 * the console. */
void vmm_dump_cpu_state(const struct vmm_vcpu *vcpu);

#endif
