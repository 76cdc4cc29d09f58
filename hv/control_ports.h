/* The I/O ports of devices the hypervisor keeps for itself, which the
 * control domain must not reach although it is otherwise given the
 * machine's ports: the console UART, the two 8259 PICs the hypervisor
 * masked at boot (and their edge/level registers), the PIT and the port-B
 * gate of its channel 2 that TSC calibration uses. Reprogramming any of
 * them (unmasking the PICs with the PIT firing, say) would hand the
 * hypervisor interrupts it never asked for. Both backends intercept these
 * ports for the control domain (svm_bitmaps.c, vmx_bitmaps.c) and
 * control_domain.c completes each access as if no device answered. */
#ifndef HV_CONTROL_PORTS_H
#define HV_CONTROL_PORTS_H

#include <stdint.h>

#include "hv/serial.h"

struct port_range {
    uint16_t first, count;
};

static const struct port_range control_intercepted_ports[] = {
    { COM1_PORT, 8 },
    { 0x20, 2 },      /* master PIC */
    { 0xa0, 2 },      /* slave PIC */
    { 0x4d0, 2 },     /* ELCR */
    { 0x40, 4 },      /* PIT */
    { 0x61, 1 },      /* port B: PIT channel 2 gate and speaker */
};

#define CONTROL_INTERCEPTED_RANGES \
    (sizeof(control_intercepted_ports) / sizeof(control_intercepted_ports[0]))

#endif
