/*
 * A guest on the virtual PC: a VM created with HV_VM_LAPIC (local APICs,
 * INIT/SIPI and HLT in the hypervisor), its RAM, and the platform of
 * pc_machine.h around it, run by the control domain's CPUs.
 *
 * Life cycle, all from one control-domain CPU (CPU 0):
 *   pc_vm_create   the VM, its RAM, vcpus (APs waiting for INIT-SIPI-SIPI,
 *                  the BSP's LINT0 in ExtINT mode as firmware leaves it),
 *                  the machine with the RTC from the host's clock
 *   pc_vm_load     a multiboot1 kernel (or flat binary) with its modules,
 *                  or pc_vm_load_linux: a bzImage with its initrd
 *   pc_vm_run      every vcpu until the machine stops; vcpu k runs on
 *                  control-domain CPU k % n (n = min(CPUs, vcpus)), and a
 *                  CPU with more than one vcpu time-shares them;
 *                  pc_vms_run: several guests at once, vcpu k of each on
 *                  CPU k % n (n = min(CPUs, most vcpus of one guest));
 *                  pc_vms_run_beside: the same on CPUs 1.., while CPU 0
 *                  runs a tool that may hand jobs to those CPUs (smp_call)
 *   pc_vm_destroy  handles closed, memory back to the allocator (created
 *                  VMs are destroyed in the reverse order)
 * vmm_pc_console_input may be called at any time between create and
 * destroy, from any CPU.
 *
 * Output: COM1's lines on the console as "[guest <name>] <line>"; notes
 * and errors as "[ctl] guest <name>...". The caller prints the verdict
 * (pc_vm_end_line).
 */
#ifndef GUEST_TOOLS_VMM_PC_PC_VM_H
#define GUEST_TOOLS_VMM_PC_PC_VM_H

#include <stddef.h>
#include <stdint.h>

#include "abi/hv_abi.h"
#include "guest-tools/vmm/pc/console_switch.h"
#include "guest-tools/vmm/pc/pc_options.h"

/* How a PC guest's run ended. */
enum pc_end {
    PC_END_NONE,
    PC_END_EXITED,         /* isa-debug-exit: status is the value written */
    PC_END_POWER_OFF,      /* ACPI S5 */
    PC_END_RESET,          /* 0xcf9, i8042, or a triple fault */
    PC_END_TIMEOUT,        /* the timeout= option */
    PC_END_STOPPED,        /* an exit the platform cannot go on from */
};

struct pc_result {
    enum pc_end end;
    uint32_t exit_status;
    const char *why;       /* PC_END_RESET / PC_END_STOPPED: what happened */
};

struct pc_vm;

/* Returns 0 or a negated HV_E* code (after saying why on the console). */
int pc_vm_create(struct pc_vm **pc, hv_handle_t sys, const struct pc_options *options);
int pc_vm_load(struct pc_vm *pc, const struct hv_boot_module *kernel,
               const struct hv_boot_module *const *modules, unsigned module_count);
/* A Linux bzImage (vmm_load_linux) with its initrd (NULL: none), the
 * module line's own words as its command line and the RSDP handed over.
 * pc_vm_load takes this way for any bzImage, without an initrd. */
int pc_vm_load_linux(struct pc_vm *pc, const struct hv_boot_module *kernel,
                     const struct hv_boot_module *initrd);
int pc_vm_run(struct pc_vm *pc, struct pc_result *result);

/* At most this many guests run at once. */
#define PC_GROUP_MAX HV_BOOT_MAX_MODULES

/* Guests pcs[0..count) at once until each has stopped; results[g] is
 * pcs[g]'s. Returns 0, or -HV_EINVAL for a count of 0 or above
 * PC_GROUP_MAX (or, beside a tool, a control domain of one CPU). */
int pc_vms_run(struct pc_vm *const *pcs, unsigned count, struct pc_result *results);
int pc_vms_run_beside(struct pc_vm *const *pcs, unsigned count, struct pc_result *results,
                      void (*tool)(void *arg), void *arg);
void pc_vm_destroy(struct pc_vm *pc);

/* Bytes typed on the guest's COM1 from a tool (the input= option).
 * Returns how many were queued. */
size_t vmm_pc_console_input(struct pc_vm *pc, const uint8_t *bytes, size_t len);

/* Typed input at the hypervisor's console goes to the guest's COM1 while
 * it runs, when `sw` routes it to guest `number` (console_switch.h);
 * without this call the guest gets none. Before pc_vm_run. */
void pc_vm_attach_console(struct pc_vm *pc, struct console_switch *sw, unsigned number);

/* The verdict line for a result: "exited with status 16", "powered off",
 * "reset", "stopped: timeout after 5 s", ... (without the guest's name). */
void pc_vm_end_text(const struct pc_result *result, uint64_t timeout_seconds, char *text,
                    size_t size);

#endif
