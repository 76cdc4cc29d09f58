/* Hypercall dispatch for the control domain. Every call is decoded and
 * checked in one place (hypercall_dispatch: call number, handle, type,
 * rights) before its handler runs; handlers check their own arguments first
 * and then act. abi/README.md is the specification. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include <stdint.h>

#include "abi/hv_abi.h"

struct vm;
struct guest_gprs;

/* Performs call `nr` with the handle and arguments in the caller's saved
 * registers (RDI; RSI RDX R10 R8 R9). Returns the result for RAX. */
long hypercall_dispatch(struct vm *caller, uint64_t nr, const struct guest_gprs *call);

/* The object the control domain's system handle names. */
void *hypercall_system_object(void);

/* Drops the reference a closed handle held (the handle table's release). */
void hypercall_release_handle(void *object, enum hv_handle_type type);

#endif
