/* Call handlers that live outside hv/hypercall.c, for its dispatch table:
 * the vcpu handle's (hypercall_vcpu.c), extended state's and LAPIC's.
 * Each receives the calling domain, the handle slot already checked for
 * type and rights, and the caller's registers (arguments 1 and 2 in RSI
 * and RDX). */
#ifndef HV_HYPERCALL_CALLS_H
#define HV_HYPERCALL_CALLS_H

#include "hv/hypercall.h"

/* hypercall_vcpu.c */
long call_set_regs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_get_sregs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_set_sregs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_get_msrs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_set_msrs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_translate(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_interrupt(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_debug_guest(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_get_cpuid(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_set_cpuid(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_get_debugregs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_set_debugregs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_kick(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
/* hypercall_events.c */
long call_get_vcpu_events(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_set_vcpu_events(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
/* hypercall_xstate.c, hypercall_lapic.c */
long call_get_fpu(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_set_fpu(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_get_xsave(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_set_xsave(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_get_xcrs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_set_xcrs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_signal_msi(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_get_lapic(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_set_lapic(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_get_mp_state(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
long call_set_mp_state(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);

#endif
