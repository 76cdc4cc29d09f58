/* Extended state (x87, SSE, AVX, AVX-512, PKRU) per vcpu: an XSAVE area
 * each, switched when a child's RUN starts and ends. The hypervisor itself
 * never touches these registers (-mgeneral-regs-only), so the control
 * domain's state stays live in the CPU except while one of its RUNs has a
 * child's loaded.
 *
 * Locking: a vcpu's area is touched only by the CPU that has claimed the
 * vcpu (RUN, GET/SET_FPU, GET/SET_XSAVE, GET/SET_XCRS). */
#ifndef HV_FPU_H
#define HV_FPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/hv_abi.h"

struct vcpu;

/* Reads CPUID 0xD and sets this CPU up (CR4.OSFXSR, OSXMMEXCPT, OSXSAVE;
 * XCR0). fpu_probe on the BSP first, then fpu_enable_cpu on every CPU.
 * allow_xsave false (the `xsave=off` option) uses FXSAVE as on a CPU
 * without XSAVE. */
void fpu_probe(bool allow_xsave);
void fpu_enable_cpu(void);
/* One line for the boot log. */
void fpu_describe(char *buf, size_t size);

/* The XCR0 bits guests may set (x87, SSE, AVX, AVX-512, PKRU, as the CPU
 * has them); 0x1 (x87 only) without XSAVE. */
uint64_t fpu_supported_xcr0(void);
/* CR4 bits a control-domain vcpu starts with so that its tools may use
 * SSE and AVX: OSFXSR, OSXMMEXCPT, and OSXSAVE where the CPU has XSAVE. */
uint64_t fpu_control_cr4(void);
/* Bytes of a vcpu's area in the standard format (HV_CAP_XSAVE_SIZE). */
uint32_t fpu_xsave_size(void);
/* Whether the CPU has XSAVE at all (else FXSAVE is used). */
bool fpu_has_xsave(void);

/* Allocates the vcpu's area in its reset state (FCW 0x37f, MXCSR 0x1f80,
 * XCR0 = x87); the control domain's vcpus get every supported component
 * enabled. 0 or -HV_ENOMEM. */
int fpu_vcpu_init(struct vcpu *vcpu, bool control);
void fpu_vcpu_free(struct vcpu *vcpu);

/* Around a child's run in a RUN of the control domain's vcpu on this
 * CPU: save one's live state and load the other's. */
void fpu_enter_child(struct vcpu *control, struct vcpu *child);
void fpu_leave_child(struct vcpu *child, struct vcpu *control);
/* Loads a vcpu's state into a CPU whose live state belongs to nobody. */
void fpu_load(struct vcpu *vcpu);

/* The guest's XSETBV, emulated: false (the caller injects #GP) for a value
 * the CPU or the hypervisor refuses. */
bool fpu_guest_xsetbv(struct vcpu *vcpu, uint32_t index, uint64_t value);

/* The guest's XSETBV exit (hv/xsetbv_emulate.c): sets XCR0 or injects
 * the exception the CPU would raise; advances RIP when done. */
struct exit_record;
void xsetbv_emulate(struct vcpu *vcpu, const struct exit_record *exit);

/* The vcpu-handle calls; the vcpu is claimed and its state not live. */
void fpu_get(struct vcpu *vcpu, struct hv_fpu *fpu);
long fpu_set(struct vcpu *vcpu, const struct hv_fpu *fpu);
void fpu_get_xsave(struct vcpu *vcpu, void *area);
/* head: the legacy region and header, already copied in; rest: the
 * components after them. -HV_EINVAL (nothing changed) for an image XRSTOR
 * would refuse. */
long fpu_set_xsave(struct vcpu *vcpu, const uint8_t *head, const uint8_t *rest);
uint64_t fpu_get_xcr0(const struct vcpu *vcpu);
long fpu_set_xcr0(struct vcpu *vcpu, uint64_t value);

#endif
