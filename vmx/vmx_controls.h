/* Computing VMX control fields from the capability MSRs. Each capability
 * MSR gives, per control bit, whether it may be 0 (low half: a 1 there means
 * the bit must be 1) and whether it may be 1 (high half). Host-testable. */
#ifndef VMX_VMX_CONTROLS_H
#define VMX_VMX_CONTROLS_H

#include <stdint.h>

/* Returns the control value: `required` and `wanted` bits that the CPU
 * allows, plus every bit it forces on. Sets *missing to the required bits
 * the CPU cannot set (0 when all are there). */
uint32_t vmx_control_value(uint64_t capability, uint32_t required, uint32_t wanted,
                           uint32_t *missing);

#endif
