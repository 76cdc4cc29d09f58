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
#include "hv/vcpu.h"
#include "hv/xstate_check.h"

/* Reads CPUID 0xD and sets this CPU up (CR4.OSFXSR, OSXMMEXCPT, OSXSAVE;
 * XCR0). fpu_probe on the BSP first, then fpu_enable_cpu on every CPU.
 * allow_xsave false (the `xsave=off` option) uses FXSAVE as on a CPU
 * without XSAVE. mark_init_x87 (the `qemu_x87_guard` option): every
 * XRSTOR of a vcpu's image first marks an x87 part in its initial state
 * as such (xsave_mark_init_x87; hv/fpu.c says why). */
void fpu_probe(bool allow_xsave, bool mark_init_x87);
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

/* Allocates the vcpu's area in its reset state (FCW 0x37f, MXCSR 0x1f80,
 * XCR0 = x87); the control domain's vcpus get every supported component
 * enabled. 0 or -HV_ENOMEM. */
int fpu_vcpu_init(struct vcpu *vcpu, bool control);
void fpu_vcpu_free(struct vcpu *vcpu);

/* What fpu_probe found; read-only after it. */
struct fpu_config {
    bool xsave, xsaveopt;
    /* XSAVE and XSAVEOPT both: the only case RUN's inline switch below
     * handles, with one test; the others go out of line. */
    bool fast;
    bool mark_init_x87;     /* only with XSAVE; never `fast` */
    uint64_t xcr0;          /* every component switched (guests' maximum) */
    uint32_t size;          /* bytes of an image */
    uint32_t mxcsr_mask;
};
extern struct fpu_config fpu_config;

static inline void xsetbv(uint32_t index, uint64_t value)
{
    __asm__ volatile("xsetbv" ::"c"(index), "a"((uint32_t)value),
                     "d"((uint32_t)(value >> 32)) : "memory");
}

static inline uint64_t xgetbv(uint32_t index)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
    return (uint64_t)hi << 32 | lo;
}

/* The images are bigger than the operand says; "memory" tells the
 * compiler that all of them may be read or written. */
static inline void fpu_save_state(uint8_t *area, uint64_t mask)
{
    if (fpu_config.xsaveopt)
        __asm__ volatile("xsaveopt64 (%0)" ::"r"(area), "a"((uint32_t)mask),
                         "d"((uint32_t)(mask >> 32)) : "memory");
    else
        __asm__ volatile("xsave64 (%0)" ::"r"(area), "a"((uint32_t)mask),
                         "d"((uint32_t)(mask >> 32)) : "memory");
}

static inline void fpu_load_state(const uint8_t *area, uint64_t mask)
{
    __asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"((uint32_t)mask),
                     "d"((uint32_t)(mask >> 32)) : "memory");
}

static inline void fxsave(uint8_t *area)
{
    __asm__ volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

static inline void fxrstor(const uint8_t *area)
{
    __asm__ volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}

/* Saves the live state to `save` and loads `load`, XCR0 being every
 * switched component: the instructions act on XCR0 & EDX:EAX, so a mask
 * of all ones is the same and costs one register fewer; one asm
 * statement, so that the mask is set up once for both. */
static inline void fpu_swap_state(uint8_t *save, const uint8_t *load)
{
    __asm__ volatile("xsaveopt64 (%0)\n\txrstor64 (%1)"
                     ::"r"(save), "r"(load), "a"(~0u), "d"(~0u) : "memory");
}

/* The other cases (FXSAVE, XSAVE without XSAVEOPT), out of line. */
void fpu_enter_child_slow(struct vcpu *control, struct vcpu *child);
void fpu_leave_child_slow(struct vcpu *child, struct vcpu *control);

/* Around a child's run in a RUN of the control domain's vcpu on this
 * CPU: save one's live state and load the other's. Inline, on every RUN:
 * XSAVEOPT and XRSTOR with every switched component, the guest's XCR0
 * set only when it differs from that. The control domain's XCR0 is every
 * component unless it set another. */
static inline void fpu_enter_child(struct vcpu *control, struct vcpu *child)
{
    if (__builtin_expect(!fpu_config.fast, 0)) {
        fpu_enter_child_slow(control, child);
        return;
    }
    uint64_t all = fpu_config.xcr0;
    if (control->xcr0 != all)
        xsetbv(0, all);
    fpu_swap_state(control->fpu_area, child->fpu_area);
    if (child->xcr0 != all)
        xsetbv(0, child->xcr0);
}

/* xsetbv_exits: every XSETBV of the guest exited, so the live XCR0 is
 * child->xcr0 (fpu_guest_xsetbv keeps the two equal). VMX makes XSETBV
 * exit unconditionally (SDM 3C 25.1.2). SVM intercepts it (APM 15.9),
 * but an emulator that ignores the intercept (QEMU's TCG does) lets a
 * guest set XCR0 itself, checked against the emulated CPU: there what is
 * live is read back as the guest's, within what is switched. */
static inline void fpu_leave_child(struct vcpu *child, struct vcpu *control,
                                   bool xsetbv_exits)
{
    if (__builtin_expect(!fpu_config.fast, 0)) {
        fpu_leave_child_slow(child, control);
        return;
    }
    uint64_t all = fpu_config.xcr0;
    uint64_t live = xsetbv_exits ? child->xcr0 : xgetbv(0);
    if (!xsetbv_exits && live != child->xcr0) /* normally it is the guest's */
        child->xcr0 = (live & all) | XCR0_X87;
    if (live != all)
        xsetbv(0, all);
    fpu_swap_state(child->fpu_area, control->fpu_area);
    if (control->xcr0 != all)
        xsetbv(0, control->xcr0);
}
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
