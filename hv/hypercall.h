/* Hypercall dispatch for the control domain. Every call is decoded and
 * checked in one place (hypercall_dispatch: call number, handle, type,
 * rights) before its handler runs; handlers check their own arguments first
 * and then act. abi/README.md is the specification.
 *
 * hypercall_dispatch is inline: it is the control domain's hypercall fast
 * path (hv/control_domain.h), which both backends' exit paths take for
 * every control-domain hypercall, and it is short enough to cost no call. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include <stdint.h>

#include "abi/hv_abi.h"
#include "abi/hv_errno.h"
#include "hv/handle.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

/* A call's handler: the calling domain, the handle slot already checked
 * for type and rights (pinned unless the call is on the system handle),
 * and the caller's registers (arguments 1 and 2 in RSI and RDX). */
typedef long (*call_handler)(struct vm *cd, struct handle_slot *slot,
                             const struct guest_gprs *call);

/* A call's entry from the exit path: the calling control-domain vcpu
 * (its VM the calling domain, its saved registers the call's), where its
 * RAX is kept (the call number; it receives the result), and the slot
 * whose state word held `state`, which allowed the call. It runs the call
 * -- one on a VM or vcpu handle with the slot pinned with that value
 * (hypercall_pinned_with below) -- and stores the result; returns 0, for
 * the exit handler to end with it (a tail call). The vcpu rather than the
 * domain and the registers: the exit handler has it in the first
 * argument's register already, and RUN needs neither. */
typedef int (*call_entry)(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                          uint64_t state);

/* One entry of the dispatch table, indexed by call number. The handle
 * checks are precomputed against a slot's state word (hv/handle.h), which
 * also holds the type and rights the long way checks (call_spec_type,
 * call_spec_rights); 32 bytes so that an entry's address is one shift of
 * the call number. `entry` is hypercall_dispatch_unpinned for the system
 * handle's calls, which pin nothing, and hypercall_dispatch_pinned for
 * the others, but for the calls a VMM makes most (RUN, GET_REGS and
 * SET_REGS): the backend's own entry with the handler inlined, so that
 * the exit path reaches the handler's body with one jump and no frame
 * between. */
struct call_spec {
    call_handler handler;   /* the call, with its handle checked (and pinned) */
    call_entry entry;
    uint64_t state_want;    /* HANDLE_STATE_WANT(type, rights) */
    uint64_t state_mask;    /* HANDLE_STATE_MASK(type, rights) */
} __attribute__((aligned(32)));

static inline enum hv_handle_type call_spec_type(const struct call_spec *spec)
{
    return (enum hv_handle_type)(uint8_t)(spec->state_want >> HANDLE_STATE_TYPE_SHIFT);
}

static inline uint16_t call_spec_rights(const struct call_spec *spec)
{
    return (uint8_t)(spec->state_want >> HANDLE_STATE_RIGHTS_SHIFT);
}

/* Every number up to the highest call has an entry (unknown ones a handler
 * that returns -HV_ENOSYS and checks no handle). */
#define HYPERCALL_COUNT (HV_CALL_DUP + 1)
/* Written once more at boot (hypercall_bind_backend), read-only after. */
extern struct call_spec hypercall_table[HYPERCALL_COUNT];
/* Points RUN and GET_REGS straight at the chosen backend's handlers
 * (struct virt_backend's call_run and call_get_regs, for the long way),
 * and RUN, GET_REGS and SET_REGS at its entries (pinned_run,
 * pinned_get_regs, pinned_set_regs, for the exit path): the calls a VMM
 * makes most then reach the backend's code with no jump through its
 * ops. Called once, after virt_select and before the control
 * domain runs. */
void hypercall_bind_backend(void);

/* The call the fast path below did not take, checked the long way, which
 * tells the errors apart in abi/README.md's order (an unknown number, then
 * the handle's: section 3), or retries a pin that lost a race. */
long hypercall_dispatch_checked(struct vm *caller, uint64_t nr,
                                const struct guest_gprs *call);
/* The entry of every call on a VM or vcpu handle but the backend's own
 * (struct call_spec): hypercall_pinned_with with the call's handler from
 * the table. */
int hypercall_dispatch_pinned(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                              uint64_t state);

/* The entry of every call on the system handle (no pin), and what the
 * exit path does with a call hypercall_dispatch's test did not pass
 * (hypercall_dispatch_checked), with the result stored at *rax; both
 * return 0. Out of line like hypercall_dispatch_pinned, so that every way
 * out of the backend's exit function that inlines hypercall_dispatch is a
 * tail call, with no register saved there for the result's address. */
int hypercall_dispatch_unpinned(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                                uint64_t state);
int hypercall_dispatch_refused(struct vcpu *control, uint64_t *rax);

/* A pinned entry's two halves: the pin with the state word the exit
 * path checked (a CLOSE or a DUP in between makes it fail), and the
 * unpin. The caller's table, needed only when the handle was closed
 * meanwhile and this was its last user, is found again from this CPU's
 * control-domain vcpu -- the one that made the call, the control domain
 * being the only domain with handles -- rather than kept in a register
 * across the call. */
static inline bool hypercall_pin(struct handle_slot *slot, uint64_t state)
{
    return __atomic_compare_exchange_n(&slot->state, &state, state + 1, false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void hypercall_unpin(struct handle_slot *slot)
{
    if (__builtin_expect(handle_unpin_was_last(slot), 0))
        handle_release(&this_cpu()->control_vcpu->vm->handles, slot);
}

/* The body of a pinned entry, for `handler` (inlined where it is a
 * constant): the pin -- a race lost goes the long way through
 * hypercall_dispatch_refused, a tail call, so that no register is kept
 * for *rax across a call -- the handler with its result at *rax, and the
 * unpin. */
static inline __attribute__((always_inline)) int
hypercall_pinned_with(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                      uint64_t state, call_handler handler)
{
    if (!hypercall_pin(slot, state))
        return hypercall_dispatch_refused(control, rax);
    *rax = (uint64_t)handler(control->vm, slot, &control->gprs);
    hypercall_unpin(slot);
    return 0;
}

/* Performs the call whose number is at *rax, with the handle and
 * arguments in the control vcpu's saved registers (RDI; RSI RDX R10 R8
 * R9), and leaves its result at *rax: the guest's RAX, wherever the
 * backend keeps it. Returns 0, for the exit handler to return (resume the guest).
 *
 * The handle's generation, open bit, type and rights are one compare with
 * its slot's state word, and the pin (the call's pinned entry) swaps that
 * same value: whatever does not pass goes to hypercall_dispatch_checked. */
static inline int hypercall_dispatch(struct vcpu *control, uint64_t *rax)
{
    uint64_t nr = *rax, handle = control->gprs.rdi;
    if (nr < HYPERCALL_COUNT && !(handle & HANDLE_INVALID_BITS)) {
        const struct call_spec *spec = &hypercall_table[nr];
        struct handle_slot *slot = handle_slot_of(&control->vm->handles, handle);
        uint64_t state = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
        if (handle_state_allows(state, handle, spec->state_want, spec->state_mask))
            return spec->entry(control, rax, slot, state);
    }
    return hypercall_dispatch_refused(control, rax);
}

/* The object the control domain's system handle names. */
void *hypercall_system_object(void);

/* Drops the reference a closed handle held (the handle table's release). */
void hypercall_release_handle(void *object, enum hv_handle_type type);

#endif
