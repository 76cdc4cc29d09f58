/*
 * libhv: the hypercall ABI (abi/hv_abi.h) as C functions, for code running
 * in the control domain, as libkvm wraps KVM's ioctls.
 *
 * hv_init() must succeed first: it finds the hypervisor by CPUID and picks
 * the instruction of its backend (VMMCALL on SVM, VMCALL on VMX). Every call
 * then returns the hypervisor's raw result: >= 0 on success, a negated HV_E*
 * code on failure. Pointers are passed as they are: the control domain is
 * identity mapped, so a pointer value is its guest-physical address.
 *
 * Calls are reentrant; any vcpu may make them once hv_init has returned.
 */
#ifndef GUEST_TOOLS_LIBHV_LIBHV_H
#define GUEST_TOOLS_LIBHV_LIBHV_H

#include <stdint.h>

#include "abi/hv_abi.h"

/* 0, -HV_ENODEV without the hypervisor's CPUID signature, -HV_ENOTSUP for
 * an unknown backend or an API version other than HV_API_VERSION. */
int hv_init(void);

/* What hv_init found in CPUID (0 before it succeeded). */
uint32_t hv_backend(void);            /* HV_BACKEND_SVM or HV_BACKEND_VMX */
uint32_t hv_cpuid_api_version(void);
const char *hv_backend_name(uint32_t backend);

/* A raw hypercall: RAX = nr, RDI = handle, RSI RDX R10 R8 R9 = a1..a5.
 * For tests that pass values the typed wrappers would not. Returns
 * -HV_ENODEV if hv_init has not succeeded. */
long hv_call(uint64_t nr, uint64_t handle, uint64_t a1, uint64_t a2,
             uint64_t a3, uint64_t a4, uint64_t a5);

/* On the system handle. */
long hv_get_api_version(hv_handle_t sys);
long hv_check_extension(hv_handle_t sys, uint64_t extension);
long hv_create_vm(hv_handle_t sys);
long hv_console_write(hv_handle_t sys, uint64_t gpa, uint64_t len);
long hv_get_stats(hv_handle_t sys, struct hv_stats *stats);

/* On a VM handle. */
long hv_create_vcpu(hv_handle_t vm, uint32_t slot, struct hv_run *run_page);
long hv_set_memory_region(hv_handle_t vm,
                          const struct hv_memory_region *region);

/* On a vcpu handle. */
long hv_run(hv_handle_t vcpu);
long hv_get_regs(hv_handle_t vcpu, struct hv_regs *regs);
long hv_set_regs(hv_handle_t vcpu, const struct hv_regs *regs);
long hv_get_sregs(hv_handle_t vcpu, struct hv_sregs *sregs);
long hv_set_sregs(hv_handle_t vcpu, const struct hv_sregs *sregs);

/* On any handle. */
long hv_close(hv_handle_t handle);
long hv_dup(hv_handle_t handle, uint32_t rights);

/* The name of an error code, given negated as calls return it or plain:
 * "HV_EINVAL" for -HV_EINVAL; "success" for 0; "HV_E?" if unknown. */
const char *hv_strerror(long err);

#endif
