/*
 * libhv: the hypercall ABI (abi/hv_abi.h) as C functions, for code running
 * in the control domain, as libkvm wraps KVM's ioctls.
 *
 * hv_init() must succeed first: it finds the hypervisor by CPUID and makes
 * every call site the instruction of its backend (VMMCALL on SVM, VMCALL on
 * VMX; see HV_CALL_INSN). Every call then returns the hypervisor's raw
 * result: >= 0 on success, a negated HV_E* code on failure. Pointers are passed as they are: the control domain is
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

/* The backend hv_init found. */
extern uint32_t hv_backend_in_use;

/* The instruction of every call below: VMCALL (0f 01 c1) as built, each
 * site's address kept in the section hv_call_sites, where hv_init finds
 * them and, on an SVM hypervisor, makes each a VMMCALL (0f 01 d9) by its
 * third byte -- as Linux patches its KVM hypercalls -- so that a call
 * costs no test of the backend (a VMX CPU raises #UD on VMMCALL and an
 * SVM CPU on VMCALL). No call runs before hv_init: the other CPUs wait in
 * HLT until CPU 0 has set up (guest-tools/runtime/smp.c), and each comes
 * to the sites through a VM exit and entry, which serialize. */
#define HV_CALL_INSN                        \
    "1: vmcall\n\t"                          \
    ".pushsection hv_call_sites, \"a\"\n\t" \
    ".balign 8\n\t"                          \
    ".quad 1b\n\t"                           \
    ".popsection"

/* A raw hypercall: RAX = nr, RDI = handle, RSI RDX R10 R8 R9 = a1..a5.
 * For tests that pass values the typed wrappers would not. */
static inline long hv_call(uint64_t nr, uint64_t handle, uint64_t a1, uint64_t a2,
                           uint64_t a3, uint64_t a4, uint64_t a5)
{
    /* Arguments 3..5 travel in R10, R8, R9, which have no constraint
     * letters: bind them with register variables. */
    register uint64_t r10 __asm__("r10") = a3;
    register uint64_t r8 __asm__("r8") = a4;
    register uint64_t r9 __asm__("r9") = a5;
    uint64_t rax = nr;
    /* The hypervisor preserves every register but RAX; "memory" because
     * it reads and writes the structures the arguments point at. */
    __asm__ volatile(HV_CALL_INSN
                     : "+a"(rax)
                     : "D"(handle), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "memory");
    return (long)rax;
}

/* The typed wrappers below load only the arguments their call takes (the
 * hypervisor reads no other, abi/README.md), so that a call costs no
 * instructions for registers it ignores: hv_call0 passes the handle
 * alone, hv_call1 one argument more, hv_call2 two. Same instructions and
 * results as hv_call. */
static inline long hv_call0(uint64_t nr, uint64_t handle)
{
    uint64_t rax = nr;
    __asm__ volatile(HV_CALL_INSN : "+a"(rax) : "D"(handle) : "memory");
    return (long)rax;
}

static inline long hv_call1(uint64_t nr, uint64_t handle, uint64_t a1)
{
    uint64_t rax = nr;
    __asm__ volatile(HV_CALL_INSN : "+a"(rax) : "D"(handle), "S"(a1) : "memory");
    return (long)rax;
}

static inline long hv_call2(uint64_t nr, uint64_t handle, uint64_t a1, uint64_t a2)
{
    uint64_t rax = nr;
    __asm__ volatile(HV_CALL_INSN : "+a"(rax) : "D"(handle), "S"(a1), "d"(a2) : "memory");
    return (long)rax;
}

/* Pointers become guest-physical addresses as they are (identity map). */
static inline uint64_t hv_gpa(const volatile void *p) { return (uint64_t)(uintptr_t)p; }

/* On the system handle. */
static inline long hv_get_api_version(hv_handle_t sys)
{ return hv_call0(HV_CALL_GET_API_VERSION, (uint64_t)sys); }
static inline long hv_check_extension(hv_handle_t sys, uint64_t extension)
{ return hv_call1(HV_CALL_CHECK_EXTENSION, (uint64_t)sys, extension); }
static inline long hv_create_vm(hv_handle_t sys)
{ return hv_call1(HV_CALL_CREATE_VM, (uint64_t)sys, 0); }
/* flags: HV_VM_LAPIC */
static inline long hv_create_vm_flags(hv_handle_t sys, uint32_t flags)
{ return hv_call1(HV_CALL_CREATE_VM, (uint64_t)sys, flags); }
static inline long hv_console_write(hv_handle_t sys, uint64_t gpa, uint64_t len)
{ return hv_call2(HV_CALL_CONSOLE_WRITE, (uint64_t)sys, gpa, len); }
/* Typed console input: returns the bytes stored at gpa (0: none yet). */
static inline long hv_console_read(hv_handle_t sys, uint64_t gpa, uint64_t len)
{ return hv_call2(HV_CALL_CONSOLE_READ, (uint64_t)sys, gpa, len); }
static inline long hv_wake_cpu(hv_handle_t sys, uint32_t cpu)
{ return hv_call1(HV_CALL_WAKE_CPU, (uint64_t)sys, cpu); }
static inline long hv_get_stats(hv_handle_t sys, struct hv_stats *stats)
{ return hv_call1(HV_CALL_GET_STATS, (uint64_t)sys, hv_gpa(stats)); }
/* cpuid->count in: room for entries; out: entries written. */
static inline long hv_get_supported_cpuid(hv_handle_t sys, struct hv_cpuid *cpuid)
{ return hv_call1(HV_CALL_GET_SUPPORTED_CPUID, (uint64_t)sys, hv_gpa(cpuid)); }
static inline long hv_send_nmi(hv_handle_t sys, uint32_t cpu)
{ return hv_call1(HV_CALL_SEND_NMI, (uint64_t)sys, cpu); }
/* A test option: k >= 1 fails the k-th allocation from now; 0 disarms and
 * returns the allocations counted since arming. */
static inline long hv_fault_inject(hv_handle_t sys, uint64_t k)
{ return hv_call1(HV_CALL_FAULT_INJECT, (uint64_t)sys, k); }

/* On a VM handle. */
static inline long hv_create_vcpu(hv_handle_t vm, uint32_t slot, struct hv_run *run_page)
{ return hv_call2(HV_CALL_CREATE_VCPU, (uint64_t)vm, slot, hv_gpa(run_page)); }
static inline long hv_set_memory_region(hv_handle_t vm, const struct hv_memory_region *region)
{ return hv_call1(HV_CALL_SET_MEMORY_REGION, (uint64_t)vm, hv_gpa(region)); }
/* bitmap: HV_DIRTY_LOG_BYTES(slot size) bytes, 8-byte aligned. */
static inline long hv_get_dirty_log(hv_handle_t vm, uint32_t slot, uint64_t *bitmap)
{ return hv_call2(HV_CALL_GET_DIRTY_LOG, (uint64_t)vm, slot, hv_gpa(bitmap)); }

/* On a vcpu handle. */
static inline long hv_run(hv_handle_t vcpu)
{ return hv_call0(HV_CALL_RUN, (uint64_t)vcpu); }
static inline long hv_get_regs(hv_handle_t vcpu, struct hv_regs *regs)
{ return hv_call1(HV_CALL_GET_REGS, (uint64_t)vcpu, hv_gpa(regs)); }
static inline long hv_set_regs(hv_handle_t vcpu, const struct hv_regs *regs)
{ return hv_call1(HV_CALL_SET_REGS, (uint64_t)vcpu, hv_gpa(regs)); }
static inline long hv_get_sregs(hv_handle_t vcpu, struct hv_sregs *sregs)
{ return hv_call1(HV_CALL_GET_SREGS, (uint64_t)vcpu, hv_gpa(sregs)); }
static inline long hv_set_sregs(hv_handle_t vcpu, const struct hv_sregs *sregs)
{ return hv_call1(HV_CALL_SET_SREGS, (uint64_t)vcpu, hv_gpa(sregs)); }
/* GET/SET_MSRS return the number of entries processed (see abi/README.md). */
static inline long hv_get_msrs(hv_handle_t vcpu, struct hv_msrs *msrs)
{ return hv_call1(HV_CALL_GET_MSRS, (uint64_t)vcpu, hv_gpa(msrs)); }
static inline long hv_set_msrs(hv_handle_t vcpu, const struct hv_msrs *msrs)
{ return hv_call1(HV_CALL_SET_MSRS, (uint64_t)vcpu, hv_gpa(msrs)); }
static inline long hv_translate(hv_handle_t vcpu, struct hv_translation *translation)
{ return hv_call1(HV_CALL_TRANSLATE, (uint64_t)vcpu, hv_gpa(translation)); }
/* INTERRUPT: vector 0..255; -HV_EBUSY while an earlier one is pending. */
static inline long hv_interrupt(hv_handle_t vcpu, uint32_t vector)
{ return hv_call1(HV_CALL_INTERRUPT, (uint64_t)vcpu, vector); }
static inline long hv_debug_guest(hv_handle_t vcpu, const struct hv_guest_debug *debug)
{ return hv_call1(HV_CALL_DEBUG_GUEST, (uint64_t)vcpu, hv_gpa(debug)); }
static inline long hv_kick(hv_handle_t vcpu)
{ return hv_call0(HV_CALL_KICK, (uint64_t)vcpu); }
static inline long hv_get_fpu(hv_handle_t vcpu, struct hv_fpu *fpu)
{ return hv_call1(HV_CALL_GET_FPU, (uint64_t)vcpu, hv_gpa(fpu)); }
static inline long hv_set_fpu(hv_handle_t vcpu, const struct hv_fpu *fpu)
{ return hv_call1(HV_CALL_SET_FPU, (uint64_t)vcpu, hv_gpa(fpu)); }
/* size: the buffer's, at least CHECK_EXTENSION(HV_CAP_XSAVE_SIZE). */
static inline long hv_get_xsave(hv_handle_t vcpu, void *area, uint64_t size)
{ return hv_call2(HV_CALL_GET_XSAVE, (uint64_t)vcpu, hv_gpa(area), size); }
static inline long hv_set_xsave(hv_handle_t vcpu, const void *area, uint64_t size)
{ return hv_call2(HV_CALL_SET_XSAVE, (uint64_t)vcpu, hv_gpa(area), size); }
static inline long hv_get_xcrs(hv_handle_t vcpu, struct hv_xcrs *xcrs)
{ return hv_call1(HV_CALL_GET_XCRS, (uint64_t)vcpu, hv_gpa(xcrs)); }
static inline long hv_set_xcrs(hv_handle_t vcpu, const struct hv_xcrs *xcrs)
{ return hv_call1(HV_CALL_SET_XCRS, (uint64_t)vcpu, hv_gpa(xcrs)); }
static inline long hv_get_debugregs(hv_handle_t vcpu, struct hv_debugregs *regs)
{ return hv_call1(HV_CALL_GET_DEBUGREGS, (uint64_t)vcpu, hv_gpa(regs)); }
static inline long hv_set_debugregs(hv_handle_t vcpu, const struct hv_debugregs *regs)
{ return hv_call1(HV_CALL_SET_DEBUGREGS, (uint64_t)vcpu, hv_gpa(regs)); }
/* GET_CPUID: cpuid->count in: room; out: entries. SET_CPUID: count entries. */
static inline long hv_get_cpuid(hv_handle_t vcpu, struct hv_cpuid *cpuid)
{ return hv_call1(HV_CALL_GET_CPUID, (uint64_t)vcpu, hv_gpa(cpuid)); }
static inline long hv_set_cpuid(hv_handle_t vcpu, const struct hv_cpuid *cpuid)
{ return hv_call1(HV_CALL_SET_CPUID, (uint64_t)vcpu, hv_gpa(cpuid)); }
/* SIGNAL_MSI: >= 0 the APICs that accepted it. */
static inline long hv_signal_msi(hv_handle_t vcpu, uint64_t address, uint32_t data)
{ return hv_call2(HV_CALL_SIGNAL_MSI, (uint64_t)vcpu, address, data); }
static inline long hv_get_lapic(hv_handle_t vcpu, struct hv_lapic_state *state)
{ return hv_call1(HV_CALL_GET_LAPIC, (uint64_t)vcpu, hv_gpa(state)); }
static inline long hv_set_lapic(hv_handle_t vcpu, const struct hv_lapic_state *state)
{ return hv_call1(HV_CALL_SET_LAPIC, (uint64_t)vcpu, hv_gpa(state)); }
static inline long hv_get_mp_state(hv_handle_t vcpu, uint32_t *state)
{ return hv_call1(HV_CALL_GET_MP_STATE, (uint64_t)vcpu, hv_gpa(state)); }
static inline long hv_set_mp_state(hv_handle_t vcpu, uint32_t state)
{ return hv_call1(HV_CALL_SET_MP_STATE, (uint64_t)vcpu, state); }
static inline long hv_get_vcpu_events(hv_handle_t vcpu, struct hv_vcpu_events *events)
{ return hv_call1(HV_CALL_GET_VCPU_EVENTS, (uint64_t)vcpu, hv_gpa(events)); }
static inline long hv_set_vcpu_events(hv_handle_t vcpu, const struct hv_vcpu_events *events)
{ return hv_call1(HV_CALL_SET_VCPU_EVENTS, (uint64_t)vcpu, hv_gpa(events)); }

/* On any handle. */
static inline long hv_close(hv_handle_t handle)
{ return hv_call0(HV_CALL_CLOSE, (uint64_t)handle); }
static inline long hv_dup(hv_handle_t handle, uint32_t rights)
{ return hv_call1(HV_CALL_DUP, (uint64_t)handle, rights); }

/* The name of an error code, given negated as calls return it or plain:
 * "HV_EINVAL" for -HV_EINVAL; "success" for 0; "HV_E?" if unknown. */
const char *hv_strerror(long err);

#endif
