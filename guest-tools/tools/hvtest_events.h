/*
 * Helpers shared by hvtest_events.c (the calls) and hvtest_events_guest.c
 * (their effect on guests).
 */
#ifndef GUEST_TOOLS_TOOLS_HVTEST_EVENTS_H
#define GUEST_TOOLS_TOOLS_HVTEST_EVENTS_H

#include "guest-tools/tools/hvtest.h"

#define HVT_EVENTS_HANDLERS_GPA 0x19000u  /* past hvt_guest_catch_vector's */
#define VECTOR_UD 6
#define VECTOR_GP 13

/* A zeroed, page-allocated struct hv_vcpu_events. */
struct hv_vcpu_events *hvt_events_buffer(void);
/* IDT gate `vector` of a hvt_guest_flat32 guest: a 32-bit interrupt gate
 * to `handler`. */
void hvt_events_set_gate(struct vm_instance *vm, unsigned vector, uint32_t handler);
/* A flat 32-bit guest with a full IDT (#UD caught by the suite's handler)
 * and RFLAGS.IF as given. 0 or -1 (the test failed). */
int hvt_events_guest(struct vm_instance *vm, const char *name, int interrupts_on);
/* GET_VCPU_EVENTS into *e; fails the test, naming `when`, if it fails. */
int hvt_get_events(const struct vm_instance *vm, struct hv_vcpu_events *e, const char *when);

#endif
