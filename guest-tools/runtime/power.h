/*
 * Ending the emulated machine when a tool is done, so a test run finishes
 * with the tool's status rather than a hung VM. The hypervisor passes these
 * control-domain port accesses to the hardware.
 */
#ifndef GUEST_TOOLS_RUNTIME_POWER_H
#define GUEST_TOOLS_RUNTIME_POWER_H

/* QEMU's isa-debug-exit device (iobase 0xf4) exits with (status << 1) | 1;
 * Bochs shuts down on "Shutdown" written to port 0x8900. On real hardware
 * neither exists and the vcpu halts for good. */
#define POWER_DEBUG_EXIT_PORT 0xf4
#define POWER_BOCHS_PORT      0x8900

__attribute__((noreturn)) void power_off(int status);

/* Parks the calling vcpu: hlt until the end of time. */
__attribute__((noreturn)) void halt_forever(void);

#endif
