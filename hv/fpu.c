/* Per-vcpu extended state. Each vcpu owns a standard-format XSAVE image;
 * RUN of a child saves the control domain's registers into its vcpu's
 * image and loads the child's, and the reverse when RUN returns (eager:
 * two saves and two loads per RUN, measured by `make bench`; lazy
 * switching would need #NM traps on the control domain, which costs more
 * and is the kind of lazy state that leaked across contexts on real CPUs).
 *
 * Every switch runs with XCR0 set to every component the hypervisor
 * manages, whatever the guests enabled, so that the images always hold
 * all of a vcpu's state: a guest that enables AVX later, or writes PKRU
 * (which needs only CR4.PKE), then finds its own values, never the last
 * VM's. The guest's own XCR0 is set just before it runs.
 *
 * XSAVEOPT is used where offered: the images are in the standard format,
 * which is what GET/SET_XSAVE exchange, so XSAVES and its compacted
 * format would buy nothing while guests get no supervisor components.
 *
 * The `qemu_x87_guard` option (on by default under QEMU's TCG) exists for
 * QEMU 7.2's multi-threaded TCG: its XRSTOR of an x87 part calls
 * cpu_clear_ignne, which clears a bit in CPU 0's hflags2 with an unlocked
 * read-modify-write from whichever thread runs it, and so can put back
 * CPU 0's SVM state (GIF, nested paging) from before a VMRUN or #VMEXIT
 * of CPU 0: the hypervisor then triple-faults there (README, known
 * limits). Its XSAVE never marks a component unused, so every image holds
 * x87 as in use; the guard clears that bit where the x87 part is in its
 * initial state, which it nearly always is (neither Linux nor the tools
 * use x87), and QEMU then initialises x87 without that call. Exact on any
 * CPU; it costs a comparison of 152 bytes before each load, which is why
 * hardware goes without it. */
#include "hv/fpu.h"

#include "abi/hv_errno.h"
#include "hv/format.h"
#include "hv/memory.h"
#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "hv/x86.h"
#include "hv/xstate_check.h"

#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE    (1ull << 18)
#define CPUID_1_ECX_XSAVE (1u << 26)

struct fpu_config fpu_config;

static uint32_t image_size(uint64_t xcr0)
{
    uint32_t size = FXSAVE_SIZE + XSAVE_HEADER_SIZE;
    for (unsigned i = 2; i < 64; i++) {
        if (!(xcr0 & (1ull << i)))
            continue;
        uint32_t a, b, c, d;
        cpuid_count(0xd, i, &a, &b, &c, &d);
        if (a + b > size)
            size = a + b;
    }
    return size;
}

void fpu_probe(bool allow_xsave, bool mark_init_x87)
{
    fpu_config.xsave = allow_xsave && (cpuid_ecx(1) & CPUID_1_ECX_XSAVE);
    fpu_config.mark_init_x87 = fpu_config.xsave && mark_init_x87;
    if (fpu_config.xsave) {
        uint32_t a, b, c, d;
        cpuid_count(0xd, 0, &a, &b, &c, &d);
        fpu_config.xcr0 = ((uint64_t)d << 32 | a) & XCR0_SWITCHABLE;
        if (!xcr0_valid(fpu_config.xcr0, fpu_config.xcr0))
            fpu_config.xcr0 &= ~XCR0_AVX512; /* a partial AVX-512 set is not usable */
        if (!xcr0_valid(fpu_config.xcr0, fpu_config.xcr0))
            fpu_config.xcr0 = XCR0_X87 | XCR0_SSE;
        cpuid_count(0xd, 1, &a, &b, &c, &d);
        fpu_config.xsaveopt = a & 1;
        fpu_config.fast = fpu_config.xsaveopt && !fpu_config.mark_init_x87;
        fpu_config.size = image_size(fpu_config.xcr0);
    } else {
        fpu_config.xcr0 = XCR0_X87;
        fpu_config.size = FXSAVE_SIZE + XSAVE_HEADER_SIZE;
    }
    fpu_config.mxcsr_mask = MXCSR_MASK_DEFAULT;
}

void fpu_enable_cpu(void)
{
    write_cr0((read_cr0() | CR0_MP) & ~(CR0_EM | CR0_TS));
    uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    write_cr4(fpu_config.xsave ? cr4 | CR4_OSXSAVE : cr4);
    if (fpu_config.xsave)
        xsetbv(0, fpu_config.xcr0);
    /* FXSAVE tells which MXCSR bits this CPU implements (0: the default). */
    uint8_t probe[FXSAVE_SIZE] __attribute__((aligned(16)));
    __asm__ volatile("fxsave64 %0" : "=m"(probe) :: "memory");
    uint32_t mask = (uint32_t)probe[FXSAVE_MXCSR_MASK] | (uint32_t)probe[FXSAVE_MXCSR_MASK + 1] << 8 |
                    (uint32_t)probe[FXSAVE_MXCSR_MASK + 2] << 16 |
                    (uint32_t)probe[FXSAVE_MXCSR_MASK + 3] << 24;
    if (mask && this_cpu_index() == 0)
        fpu_config.mxcsr_mask = mask;
}

uint64_t fpu_supported_xcr0(void) { return fpu_config.xcr0; }
uint32_t fpu_xsave_size(void) { return fpu_config.size; }

uint64_t fpu_control_cr4(void)
{
    return CR4_OSFXSR | CR4_OSXMMEXCPT | (fpu_config.xsave ? CR4_OSXSAVE : 0);
}

void fpu_describe(char *buf, size_t size)
{
    format(buf, size, "%s, XCR0 0x%llx, %u-byte images%s",
             fpu_config.xsaveopt ? "XSAVEOPT" : fpu_config.xsave ? "XSAVE" : "FXSAVE (no XSAVE)",
             (unsigned long long)fpu_config.xcr0, fpu_config.size,
             fpu_config.mark_init_x87 ? ", initial x87 marked (qemu_x87_guard)" : "");
}

int fpu_vcpu_init(struct vcpu *vcpu, bool control)
{
    uint64_t pages = (fpu_config.size + FRAME_SIZE - 1) / FRAME_SIZE;
    uint64_t phys = pages_alloc_zeroed(pages, 0);
    if (phys == FRAME_NONE)
        return -HV_ENOMEM;
    vcpu->fpu_area = phys_to_virt(phys);
    xsave_image_reset(vcpu->fpu_area, fpu_config.size);
    if (!fpu_config.xsave) /* FXSAVE images always hold x87 and SSE state */
        vcpu->fpu_area[XSAVE_XSTATE_BV] = (uint8_t)(XCR0_X87 | XCR0_SSE);
    /* The control domain's tools may use every component; a child starts
     * as a CPU does after RESET, with x87 only. */
    vcpu->xcr0 = control ? fpu_config.xcr0 : XCR0_X87;
    return 0;
}

void fpu_vcpu_free(struct vcpu *vcpu)
{
    if (!vcpu->fpu_area)
        return;
    pages_free(virt_to_phys(vcpu->fpu_area), (fpu_config.size + FRAME_SIZE - 1) / FRAME_SIZE);
    vcpu->fpu_area = NULL;
}

static void load_image(uint8_t *area, uint64_t mask)
{
    if (fpu_config.mark_init_x87)
        xsave_mark_init_x87(area);
    fpu_load_state(area, mask);
}

void fpu_enter_child_slow(struct vcpu *control, struct vcpu *child)
{
    if (!fpu_config.xsave) {
        fxsave(control->fpu_area);
        fxrstor(child->fpu_area);
        return;
    }
    uint64_t all = fpu_config.xcr0;
    if (control->xcr0 != all)
        xsetbv(0, all);
    fpu_save_state(control->fpu_area, ~0ull);
    load_image(child->fpu_area, ~0ull);
    if (child->xcr0 != all)
        xsetbv(0, child->xcr0);
}

void fpu_leave_child_slow(struct vcpu *child, struct vcpu *control)
{
    if (!fpu_config.xsave) {
        fxsave(child->fpu_area);
        fxrstor(control->fpu_area);
        return;
    }
    uint64_t all = fpu_config.xcr0;
    uint64_t live = xgetbv(0);
    if (live != child->xcr0)
        child->xcr0 = (live & all) | XCR0_X87;
    if (live != all)
        xsetbv(0, all);
    fpu_save_state(child->fpu_area, ~0ull);
    load_image(control->fpu_area, ~0ull);
    if (control->xcr0 != all)
        xsetbv(0, control->xcr0);
}

void fpu_load(struct vcpu *vcpu)
{
    if (fpu_config.xsave) {
        load_image(vcpu->fpu_area, fpu_config.xcr0);
        if (vcpu->xcr0 != fpu_config.xcr0)
            xsetbv(0, vcpu->xcr0);
    } else {
        fxrstor(vcpu->fpu_area);
    }
}

bool fpu_guest_xsetbv(struct vcpu *vcpu, uint32_t index, uint64_t value)
{
    if (!fpu_config.xsave || index != 0 || !xcr0_valid(value, fpu_config.xcr0))
        return false;
    /* The vcpu's registers are live: its full state is in the CPU (loaded
     * with every component), so enabling a component exposes its own. */
    vcpu->xcr0 = value;
    xsetbv(0, value);
    return true;
}

void fpu_get(struct vcpu *vcpu, struct hv_fpu *out)
{
    xsave_to_fpu(vcpu->fpu_area, out);
}

long fpu_set(struct vcpu *vcpu, const struct hv_fpu *in)
{
    return fpu_to_xsave(in, vcpu->fpu_area, fpu_config.mxcsr_mask) ? 0 : -HV_EINVAL;
}

void fpu_get_xsave(struct vcpu *vcpu, void *area)
{
    memory_copy(area, vcpu->fpu_area, fpu_config.size);
}

long fpu_set_xsave(struct vcpu *vcpu, const uint8_t *head, const uint8_t *rest)
{
    const uint32_t head_size = FXSAVE_SIZE + XSAVE_HEADER_SIZE;
    uint64_t supported = fpu_config.xsave ? fpu_config.xcr0 : XCR0_X87 | XCR0_SSE;
    if (!xsave_image_valid(head, supported, fpu_config.mxcsr_mask))
        return -HV_EINVAL;
    memory_copy(vcpu->fpu_area, head, head_size);
    memory_copy(vcpu->fpu_area + head_size, rest, fpu_config.size - head_size);
    if (!fpu_config.xsave) /* FXRSTOR ignores the header: both parts are state */
        vcpu->fpu_area[XSAVE_XSTATE_BV] = (uint8_t)(XCR0_X87 | XCR0_SSE);
    return 0;
}

uint64_t fpu_get_xcr0(const struct vcpu *vcpu) { return vcpu->xcr0; }

long fpu_set_xcr0(struct vcpu *vcpu, uint64_t value)
{
    if (!xcr0_valid(value, fpu_config.xcr0))
        return -HV_EINVAL;
    vcpu->xcr0 = value;
    return 0;
}
