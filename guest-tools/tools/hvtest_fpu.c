/*
 * Extended state (x87, SSE, AVX, AVX-512, PKRU and XCR0) is each vcpu's
 * own: two VMs interleaved on one CPU, each with its own pattern in every
 * register, read back only their own, and so does the control domain;
 * XSETBV is checked and its XCR0 kept per vcpu; GET/SET_FPU, GET/SET_XSAVE
 * and GET/SET_XCRS move the state the guest sees, and refuse what XRSTOR
 * or XSETBV would.
 *
 * The guests load their pattern with XRSTOR from an image the VMM wrote
 * into their RAM and dump their registers with XSAVE before each exit, so
 * every component the hypervisor switches is compared byte by byte
 * (FXRSTOR/FXSAVE where the hypervisor offers no XSAVE).
 */
#include <stdbool.h>

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define IMAGE_GPA 0x20000u       /* the pattern the guest loads */
#define DUMP_GPA  0x24000u       /* where the guest saves its registers */
#define INTERLEAVINGS 1000
#define LEGACY_CHECKED 416       /* FCW..MXCSR, ST0-7, XMM0-15 */
#define HEADER 512
#define XSTATE_BV 512
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE (1u << 18)
#define XCR0_X87 1ull
#define XCR0_SSE 2ull
#define XCR0_AVX 4ull
#define VECTOR_UD 6
#define VECTOR_GP 13

/* What the hypervisor offers, read once per test. */
struct xstate_info {
    uint64_t xcr0;               /* HV_CAP_SUPPORTED_XCR0 */
    uint32_t size;               /* HV_CAP_XSAVE_SIZE */
    uint32_t offset[64], length[64]; /* components from CPUID 0xD */
};

static void cpuid2(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b)
{
    uint32_t c, d;
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(c), "=d"(d) : "a"(leaf), "c"(sub));
}

static int xstate_info(struct xstate_info *x)
{
    memset(x, 0, sizeof(*x));
    x->xcr0 = (uint64_t)hv_check_extension(hvt_sys(), HV_CAP_SUPPORTED_XCR0);
    x->size = (uint32_t)hv_check_extension(hvt_sys(), HV_CAP_XSAVE_SIZE);
    if (!hvt_true(x->xcr0 & XCR0_X87, "HV_CAP_SUPPORTED_XCR0 has x87") ||
        !hvt_true(x->size >= 576 && x->size <= HV_MAX_XSAVE_SIZE,
                  "HV_CAP_XSAVE_SIZE between 576 and HV_MAX_XSAVE_SIZE"))
        return -1;
    for (unsigned i = 2; i < 64; i++)
        if (x->xcr0 & (1ull << i))
            cpuid2(0xd, i, &x->length[i], &x->offset[i]);
    return 0;
}

static bool has_xsave(const struct xstate_info *x) { return x->xcr0 != XCR0_X87; }

static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* A standard-format image holding `seed`'s pattern in every component of
 * xcr0: x87 registers, control and status words that differ per seed but
 * keep every exception masked, MXCSR likewise. FIP, FDP and FOP stay 0:
 * emulators do not keep them. */
static void build_image(uint8_t *image, const struct xstate_info *x, uint64_t xcr0,
                        uint64_t seed)
{
    uint64_t state = seed * 0x9e3779b97f4a7c15ull + 1;
    memset(image, 0, x->size);
    uint16_t fcw = (uint16_t)(0x037f | ((seed & 3) << 10));
    uint16_t fsw = (uint16_t)((seed & 7) << 11);
    memcpy(image + 0, &fcw, 2);
    memcpy(image + 2, &fsw, 2);
    image[4] = (uint8_t)(0xff ^ (seed & 0x0f));
    uint32_t mxcsr = 0x1f80 | (uint32_t)((seed & 3) << 13);
    memcpy(image + 24, &mxcsr, 4);
    for (unsigned r = 0; r < 8; r++)
        for (unsigned b = 0; b < 10; b++)
            image[32 + r * 16 + b] = (uint8_t)next_random(&state);
    for (unsigned i = 160; i < LEGACY_CHECKED; i++)
        image[i] = (uint8_t)next_random(&state);
    for (unsigned c = 2; c < 64; c++) {
        if (!(xcr0 & (1ull << c)))
            continue;
        for (unsigned i = 0; i < x->length[c]; i++)
            image[x->offset[c] + i] = (uint8_t)(next_random(&state) | 1);
    }
    uint64_t bv = xcr0 & (has_xsave(x) ? ~0ull : XCR0_X87 | XCR0_SSE);
    memcpy(image + XSTATE_BV, &bv, 8);
}

/* Names the first byte of `dump` that differs from `want` in the parts
 * both hold (components in xcr0), or returns 1. */
static int image_matches(const uint8_t *dump, const uint8_t *want, const struct xstate_info *x,
                         uint64_t xcr0, const char *who)
{
    static const struct { unsigned from, to; } legacy[] = { { 0, 5 }, { 24, 28 } };
    for (unsigned r = 0; r < 2; r++)
        for (unsigned i = legacy[r].from; i < legacy[r].to; i++)
            if (dump[i] != want[i])
                return hvt_eq(dump[i], want[i], who);
    for (unsigned s = 0; s < 8; s++)
        for (unsigned b = 0; b < 10; b++)
            if (dump[32 + s * 16 + b] != want[32 + s * 16 + b])
                return hvt_eq(dump[32 + s * 16 + b], want[32 + s * 16 + b], who);
    for (unsigned i = 160; i < LEGACY_CHECKED; i++)
        if (dump[i] != want[i])
            return hvt_eq(dump[i], want[i], who);
    if (!has_xsave(x))
        return 1;
    uint64_t bv;
    memcpy(&bv, dump + XSTATE_BV, 8);
    for (unsigned c = 2; c < 64; c++) {
        if (!(xcr0 & (1ull << c)))
            continue;
        if (!(bv & (1ull << c)))
            return hvt_true(0, who);
        for (unsigned i = 0; i < x->length[c]; i++)
            if (dump[x->offset[c] + i] != want[x->offset[c] + i])
                return hvt_eq(dump[x->offset[c] + i], want[x->offset[c] + i], who);
    }
    return 1;
}

static void emit_abs(struct hvt_code *code, uint8_t reg, uint32_t address)
{
    /* REX.W 0F AE /reg with [disp32]: FXSAVE64 /0, FXRSTOR64 /1,
     * XSAVE64 /4, XRSTOR64 /5. */
    uint8_t insn[9] = { 0x48, 0x0f, 0xae, (uint8_t)(reg << 3 | 4), 0x25 };
    memcpy(insn + 5, &address, 4);
    hvt_bytes(code, insn, sizeof(insn));
}

static void emit_mov_imm(struct hvt_code *code, uint8_t opcode, uint32_t value)
{
    uint8_t insn[5] = { opcode };
    memcpy(insn + 1, &value, 4);
    hvt_bytes(code, insn, sizeof(insn));
}

/* The guest: set XCR0 (XSETBV), load the image, then forever dump the
 * registers and OUT to HVT_PORT_VALUE. Returns the loop's address. */
static uint32_t write_pattern_guest(struct vm_instance *vm, const struct xstate_info *x,
                                    uint64_t xcr0)
{
    struct hvt_code code;
    static const uint8_t xsetbv[] = { 0x0f, 0x01, 0xd1 };
    static const uint8_t out_jmp[] = { 0xe6, HVT_PORT_VALUE, 0xeb, 0x00 };
    hvt_code_start(&code, vm, HVT_CODE_GPA);
    if (has_xsave(x)) {
        emit_mov_imm(&code, 0xb9, 0);                       /* mov ecx, 0 */
        emit_mov_imm(&code, 0xb8, (uint32_t)xcr0);          /* mov eax */
        emit_mov_imm(&code, 0xba, (uint32_t)(xcr0 >> 32));  /* mov edx */
        hvt_bytes(&code, xsetbv, sizeof(xsetbv));
        emit_abs(&code, 5, IMAGE_GPA);
    } else {
        emit_abs(&code, 1, IMAGE_GPA);
    }
    uint32_t loop = code.at;
    emit_abs(&code, has_xsave(x) ? 4 : 0, DUMP_GPA);
    uint32_t jmp = hvt_bytes(&code, out_jmp, sizeof(out_jmp));
    vm->ram[jmp + 3] = (uint8_t)(loop - (jmp + 4));
    return loop;
}

/* hvt_guest_long64's state with CR4 bits added. */
static int long64_with_cr4(struct vm_instance *vm, uint32_t entry, uint64_t cr4)
{
    struct hv_sregs sregs;
    if (hvt_guest_long64(vm, entry) < 0 || !hvt_ok(hv_get_sregs(vm->vcpu, &sregs), "GET_SREGS"))
        return -1;
    sregs.cr4 |= cr4;
    return hvt_ok(hv_set_sregs(vm->vcpu, &sregs), "SET_SREGS (CR4)") ? 0 : -1;
}

static int pattern_vm(struct vm_instance *vm, const char *name, const struct xstate_info *x,
                      uint64_t xcr0, uint64_t seed)
{
    if (hvt_guest_create(vm, name) ||
        long64_with_cr4(vm, HVT_CODE_GPA, CR4_OSFXSR | CR4_OSXMMEXCPT |
                                               (has_xsave(x) ? CR4_OSXSAVE : 0)))
        return -1;
    build_image(vm->ram + IMAGE_GPA, x, xcr0, seed);
    write_pattern_guest(vm, x, xcr0);
    return 0;
}

/* RUN until an exit other than the end of a time slice (which a loaded
 * host can bring at any instruction), which must be an OUT. */
static int run_to_io(struct vm_instance *vm, const char *what)
{
    for (unsigned i = 0; i < 100; i++) {
        if (!hvt_run(vm))
            return 0;
        if (vm->run->exit_reason != HV_EXIT_INTR)
            break;
    }
    return hvt_exit_is(vm, HV_EXIT_IO, what);
}

/* The x87 part of an image in its initial state (FCW 0x37f, the rest 0). */
static void make_x87_initial(uint8_t *image)
{
    uint16_t fcw = 0x037f;
    memset(image, 0, 24);
    memcpy(image, &fcw, 2);
    memset(image + 32, 0, 128);
}

/* An XSAVE whose CPU tracks use writes nothing of x87 in its initial
 * state and clears XSTATE_BV bit 0: the dump then reads as that state. */
static void read_unused_x87_as_initial(uint8_t *dump, const struct xstate_info *x)
{
    if (has_xsave(x) && !(dump[XSTATE_BV] & XCR0_X87))
        make_x87_initial(dump);
}

/* Runs to the loop's OUT and checks the dump against the VM's image. */
static int run_and_check(struct vm_instance *vm, const struct xstate_info *x, uint64_t xcr0,
                         const char *who)
{
    if (!run_to_io(vm, who))
        return 0;
    read_unused_x87_as_initial(vm->ram + DUMP_GPA, x);
    return image_matches(vm->ram + DUMP_GPA, vm->ram + IMAGE_GPA, x, xcr0, who);
}

/* The control domain's own registers: loaded from and compared with an
 * image in its memory. Its code is built with general registers only, so
 * nothing of its own touches them between the two. */
static void control_load(const uint8_t *image, const struct xstate_info *x)
{
    if (has_xsave(x))
        __asm__ volatile("xrstor64 (%0)" ::"r"(image), "a"((uint32_t)x->xcr0),
                         "d"((uint32_t)(x->xcr0 >> 32)) : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" ::"r"(image) : "memory");
}

static void control_save(uint8_t *dump, const struct xstate_info *x)
{
    if (has_xsave(x))
        __asm__ volatile("xsave64 (%0)" ::"r"(dump), "a"((uint32_t)x->xcr0),
                         "d"((uint32_t)(x->xcr0 >> 32)) : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" ::"r"(dump) : "memory");
}

/* The control domain's registers, saved into `dump`, are still `mine`. */
static int control_matches(uint8_t *dump, const uint8_t *mine, const struct xstate_info *x,
                           const char *who)
{
    memset(dump, 0xee, x->size);
    control_save(dump, x);
    read_unused_x87_as_initial(dump, x);
    return image_matches(dump, mine, x, x->xcr0, who);
}

static void two_vms_on_one_cpu_keep_their_own_extended_state(void)
{
    struct xstate_info x;
    struct vm_instance a, b;
    if (xstate_info(&x))
        return;
    /* B enables only x87 and SSE, so its runs also switch XCR0. */
    uint64_t xcr0_b = x.xcr0 & (XCR0_X87 | XCR0_SSE);
    if (pattern_vm(&a, "fpu_a", &x, x.xcr0, 1) || pattern_vm(&b, "fpu_b", &x, xcr0_b, 2))
        return;
    uint8_t *mine = page_alloc(x.size), *dump = page_alloc(x.size);
    build_image(mine, &x, x.xcr0, 3);
    control_load(mine, &x);
    char who[64];
    for (unsigned i = 0; i < INTERLEAVINGS; i++) {
        snprintf(who, sizeof(who), "VM A's state after %u switches", i);
        if (!run_and_check(&a, &x, x.xcr0, who))
            return;
        snprintf(who, sizeof(who), "VM B's state after %u switches", i);
        if (!run_and_check(&b, &x, xcr0_b, who))
            return;
        snprintf(who, sizeof(who), "the control domain's state after %u RUNs", 2 * i + 2);
        if (!control_matches(dump, mine, &x, who))
            return;
    }
}

/* Under QEMU's TCG the hypervisor marks an x87 part in its initial state
 * as unused before XRSTOR (qemu_x87_guard, hv/fpu.c); x87 in use must
 * never be taken for it. Guest A's x87 is initial, B's has only its
 * registers' contents (tags all empty, control and status words as
 * initialised), the control domain's alternates between the two kinds:
 * each reads back exactly its own after every switch. */
static void initial_x87_beside_x87_in_use(void)
{
    struct xstate_info x;
    struct vm_instance a, b;
    if (xstate_info(&x))
        return;
    uint64_t xcr0_b = x.xcr0 & (XCR0_X87 | XCR0_SSE);
    if (pattern_vm(&a, "x87_initial", &x, x.xcr0, 1) ||
        pattern_vm(&b, "x87_registers_only", &x, xcr0_b, 8))
        return;
    make_x87_initial(a.ram + IMAGE_GPA);
    b.ram[IMAGE_GPA + 4] = 0;                   /* FTW: every register empty */
    uint8_t *in_use = page_alloc(x.size), *initial = page_alloc(x.size);
    uint8_t *dump = page_alloc(x.size);
    build_image(in_use, &x, x.xcr0, 16);        /* FCW 0x37f, FSW 0 as well */
    build_image(initial, &x, x.xcr0, 5);
    make_x87_initial(initial);
    char who[80];
    for (unsigned i = 0; i < INTERLEAVINGS / 4; i++) {
        const uint8_t *mine = i & 1 ? initial : in_use;
        control_load(mine, &x);
        const char *kind = i & 1 ? "initial" : "in use";
        snprintf(who, sizeof(who), "initial x87 of VM A, control domain's %s, run %u", kind, i);
        if (!run_and_check(&a, &x, x.xcr0, who))
            return;
        snprintf(who, sizeof(who), "x87 registers of VM B, control domain's %s, run %u", kind, i);
        if (!run_and_check(&b, &x, xcr0_b, who))
            return;
        snprintf(who, sizeof(who), "the control domain's %s x87 after run %u", kind, i);
        if (!control_matches(dump, mine, &x, who))
            return;
    }
}

/* A component a guest enables late holds its own (initial) state, not the
 * values another VM left in the registers. */
static void newly_enabled_component_holds_own_state(void)
{
    struct xstate_info x;
    struct vm_instance a, b;
    if (xstate_info(&x))
        return;
    uint64_t small = x.xcr0 & (XCR0_X87 | XCR0_SSE);
    if (pattern_vm(&a, "fpu_a", &x, x.xcr0, 4) || pattern_vm(&b, "fpu_b", &x, small, 5))
        return;
    if (!run_and_check(&a, &x, x.xcr0, "VM A's first run") ||
        !run_and_check(&b, &x, small, "VM B's first run") || !has_xsave(&x))
        return;
    /* B now sets every component and dumps them all. */
    struct hv_regs regs;
    if (!hvt_ok(hv_get_regs(b.vcpu, &regs), "GET_REGS"))
        return;
    regs.rip = HVT_CODE_GPA;
    /* Skip B's XRSTOR: jump to the XSETBV, then straight to the dump. */
    static const uint8_t xsetbv_only[] = {
        0xb9, 0, 0, 0, 0, 0xb8, 0, 0, 0, 0, 0xba, 0, 0, 0, 0, 0x0f, 0x01, 0xd1,
        0x48, 0x0f, 0xae, 0x24, 0x25, 0, 0x40, 0x02, 0, 0xe6, HVT_PORT_VALUE, 0xf4,
    };
    uint8_t code[sizeof(xsetbv_only)];
    memcpy(code, xsetbv_only, sizeof(code));
    uint32_t lo = (uint32_t)x.xcr0, hi = (uint32_t)(x.xcr0 >> 32);
    memcpy(code + 6, &lo, 4);
    memcpy(code + 11, &hi, 4);
    memcpy(b.ram + HVT_CODE_GPA, code, sizeof(code));
    if (!hvt_ok(hv_set_regs(b.vcpu, &regs), "SET_REGS"))
        return;
    memset(b.ram + DUMP_GPA, 0, x.size);
    if (!run_to_io(&b, "B's dump after enabling everything"))
        return;
    uint64_t bv;
    memcpy(&bv, b.ram + DUMP_GPA + XSTATE_BV, 8);
    const uint8_t *a_image = a.ram + IMAGE_GPA;
    for (unsigned c = 2; c < 64; c++) {
        if (!(x.xcr0 & (1ull << c)) || !(bv & (1ull << c)))
            continue; /* in its initial state: nothing of A's */
        bool same = true;
        for (unsigned i = 0; i < x.length[c] && same; i++)
            same = b.ram[DUMP_GPA + x.offset[c] + i] == a_image[x.offset[c] + i];
        char what[80];
        snprintf(what, sizeof(what), "component %u that B enabled late does not hold A's values", c);
        if (!hvt_true(!same, what))
            return;
    }
}

/* XSETBV of a value the CPU refuses gives the guest #GP; without
 * CR4.OSXSAVE it is #UD. */
static void xsetbv_checks_give_exceptions(void)
{
    struct xstate_info x;
    struct vm_instance vm;
    if (xstate_info(&x) || !has_xsave(&x))
        return;
    static const struct { uint32_t ecx, eax, edx; unsigned vector; bool osxsave; const char *what; } cases[] = {
        { 0, 0x2, 0, VECTOR_GP, true, "XSETBV without x87" },
        { 0, 0x5, 0, VECTOR_GP, true, "XSETBV of AVX without SSE" },
        { 1, 0x1, 0, VECTOR_GP, true, "XSETBV of XCR1" },
        { 0, 0x1, 0x80000000u, VECTOR_GP, true, "XSETBV of a reserved bit" },
        { 0, 0x3, 0, VECTOR_UD, false, "XSETBV with CR4.OSXSAVE clear" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hvt_code code;
        static const uint8_t xsetbv[] = { 0x0f, 0x01, 0xd1 };
        if (hvt_guest_create(&vm, "xsetbv") || hvt_guest_flat32(&vm, HVT_CODE_GPA) ||
            hvt_guest_catch_vector(&vm, cases[i].vector))
            return;
        struct hv_sregs sregs;
        if (!hvt_ok(hv_get_sregs(vm.vcpu, &sregs), "GET_SREGS"))
            return;
        sregs.cr4 |= CR4_OSFXSR | (cases[i].osxsave ? CR4_OSXSAVE : 0);
        if (!hvt_ok(hv_set_sregs(vm.vcpu, &sregs), "SET_SREGS (CR4)"))
            return;
        hvt_code_start(&code, &vm, HVT_CODE_GPA);
        emit_mov_imm(&code, 0xb9, cases[i].ecx);
        emit_mov_imm(&code, 0xb8, cases[i].eax);
        emit_mov_imm(&code, 0xba, cases[i].edx);
        hvt_bytes(&code, xsetbv, sizeof(xsetbv));
        hvt_hlt(&code);
        if (!hvt_run_expect_out(&vm, HVT_PORT_VECTOR, 4, cases[i].vector,
                                HVT_HANDLER_GPA + cases[i].vector * 16 + 5, cases[i].what))
            return;
        struct hv_xcrs *xcrs = page_alloc(sizeof(*xcrs));
        if (!hvt_ok(hv_get_xcrs(vm.vcpu, xcrs), "GET_XCRS") ||
            !hvt_eq(xcrs->xcrs[0].value, XCR0_X87, "XCR0 after a refused XSETBV"))
            return;
    }
}

/* A guest that turns CR4.OSXSAVE on itself (no exit on either backend)
 * may use XSETBV at once, and GET_SREGS shows the CR4 it wrote. */
static void guest_cr4_write_enables_xsetbv(void)
{
    struct xstate_info x;
    struct vm_instance vm;
    struct hvt_code code;
    if (xstate_info(&x) || !has_xsave(&x) || hvt_guest_create(&vm, "cr4_xsave") ||
        hvt_guest_flat32(&vm, HVT_CODE_GPA))
        return;
    static const uint8_t set_cr4[] = {
        0x0f, 0x20, 0xe0,                         /* mov eax, cr4 */
        0x0d, 0x00, 0x06, 0x04, 0x00,             /* or eax, OSXSAVE|OSXMMEXCPT|OSFXSR */
        0x0f, 0x22, 0xe0,                         /* mov cr4, eax */
        0x31, 0xc9, 0x31, 0xd2,                   /* xor ecx, ecx; xor edx, edx */
        0xb8, 0x03, 0x00, 0x00, 0x00,             /* mov eax, 3 */
        0x0f, 0x01, 0xd1,                         /* xsetbv */
    };
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_bytes(&code, set_cr4, sizeof(set_cr4));
    uint32_t out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 3, out, "OUT after the guest's XSETBV"))
        return;
    struct hv_sregs sregs;
    struct hv_xcrs *xcrs = page_alloc(sizeof(*xcrs));
    if (!hvt_ok(hv_get_sregs(vm.vcpu, &sregs), "GET_SREGS") ||
        !hvt_eq(sregs.cr4 & (CR4_OSXSAVE | CR4_OSXMMEXCPT | CR4_OSFXSR),
                CR4_OSXSAVE | CR4_OSXMMEXCPT | CR4_OSFXSR, "GET_SREGS CR4 after the guest's MOV to CR4") ||
        !hvt_ok(hv_get_xcrs(vm.vcpu, xcrs), "GET_XCRS"))
        return;
    hvt_eq(xcrs->xcrs[0].value, 3, "XCR0 after the guest's XSETBV");
}

/* One VM's accepted XCR0 is its own: another VM on the CPU reads its own
 * with XGETBV, and GET_XCRS reports each. */
static void xcr0_is_per_vcpu(void)
{
    struct xstate_info x;
    struct vm_instance a, b;
    if (xstate_info(&x) || !has_xsave(&x))
        return;
    uint64_t wide = x.xcr0 & (XCR0_X87 | XCR0_SSE | XCR0_AVX);
    struct vm_instance *vms[2] = { &a, &b };
    uint64_t set[2] = { wide, XCR0_X87 | XCR0_SSE };
    for (unsigned i = 0; i < 2; i++) {
        struct hvt_code code;
        static const uint8_t xsetbv_xgetbv[] = { 0x0f, 0x01, 0xd1, 0x31, 0xc9, 0x0f, 0x01, 0xd0 };
        if (hvt_guest_create(vms[i], i ? "xcr0_b" : "xcr0_a") ||
            long64_with_cr4(vms[i], HVT_CODE_GPA, CR4_OSFXSR | CR4_OSXSAVE))
            return;
        hvt_code_start(&code, vms[i], HVT_CODE_GPA);
        emit_mov_imm(&code, 0xb9, 0);
        emit_mov_imm(&code, 0xb8, (uint32_t)set[i]);
        emit_mov_imm(&code, 0xba, 0);
        hvt_bytes(&code, xsetbv_xgetbv, sizeof(xsetbv_xgetbv));  /* xgetbv after */
        uint32_t out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
        uint8_t again[] = { 0x31, 0xc9, 0x0f, 0x01, 0xd0, 0xeb, 0 }; /* xgetbv; jmp out */
        again[6] = (uint8_t)(out - (code.at + sizeof(again)));
        hvt_bytes(&code, again, sizeof(again));
    }
    for (unsigned round = 0; round < 3; round++)
        for (unsigned i = 0; i < 2; i++) {
            if (!run_to_io(vms[i], "XGETBV's OUT"))
                return;
            uint32_t got;
            memcpy(&got, (uint8_t *)vms[i]->run + vms[i]->run->io.data_offset, 4);
            if (!hvt_eq(got, (uint32_t)set[i], i ? "VM B's XGETBV" : "VM A's XGETBV"))
                return;
            struct hv_xcrs *xcrs = page_alloc(sizeof(*xcrs));
            if (!hvt_ok(hv_get_xcrs(vms[i]->vcpu, xcrs), "GET_XCRS") ||
                !hvt_eq(xcrs->nr_xcrs, 1, "GET_XCRS nr_xcrs") ||
                !hvt_eq(xcrs->xcrs[0].value, set[i], "GET_XCRS value"))
                return;
        }
}

/* SET_XSAVE's image is what the guest's registers hold; the guest's own
 * XRSTOR is what GET_XSAVE and GET_FPU report. */
static void get_set_xsave_and_fpu_move_guest_state(void)
{
    struct xstate_info x;
    struct vm_instance vm;
    if (xstate_info(&x) || pattern_vm(&vm, "xsave_io", &x, x.xcr0, 7))
        return;
    if (!run_and_check(&vm, &x, x.xcr0, "the guest's own pattern"))
        return;
    uint8_t *got = page_alloc(x.size);
    if (!hvt_ok(hv_get_xsave(vm.vcpu, got, x.size), "GET_XSAVE") ||
        !image_matches(got, vm.ram + IMAGE_GPA, &x, x.xcr0, "GET_XSAVE after the guest's XRSTOR"))
        return;
    struct hv_fpu *fpu = page_alloc(sizeof(*fpu));
    if (!hvt_ok(hv_get_fpu(vm.vcpu, fpu), "GET_FPU"))
        return;
    const uint8_t *image = vm.ram + IMAGE_GPA;
    if (!hvt_true(!memcmp(fpu->xmm, image + 160, sizeof(fpu->xmm)), "GET_FPU's XMM registers") ||
        !hvt_eq(fpu->mxcsr, *(const uint32_t *)(image + 24), "GET_FPU's MXCSR") ||
        !hvt_eq(fpu->fcw, *(const uint16_t *)image, "GET_FPU's FCW"))
        return;
    /* A new image through SET_XSAVE, then SET_FPU over its legacy part. */
    uint8_t *fresh = page_alloc(x.size);
    build_image(fresh, &x, x.xcr0, 8);
    if (!hvt_ok(hv_set_xsave(vm.vcpu, fresh, x.size), "SET_XSAVE"))
        return;
    if (!run_to_io(&vm, "run after SET_XSAVE") ||
        !image_matches(vm.ram + DUMP_GPA, fresh, &x, x.xcr0, "the guest's registers after SET_XSAVE"))
        return;
    for (unsigned i = 0; i < 16; i++)
        fpu->xmm[i][0] = (uint8_t)(0xa0 + i), fpu->xmm[i][15] = (uint8_t)i;
    fpu->mxcsr = 0x1f80 | (1u << 13);
    if (!hvt_ok(hv_set_fpu(vm.vcpu, fpu), "SET_FPU") || !run_to_io(&vm, "run after SET_FPU"))
        return;
    const uint8_t *dump = vm.ram + DUMP_GPA;
    if (!hvt_true(!memcmp(dump + 160, fpu->xmm, sizeof(fpu->xmm)), "XMM registers after SET_FPU") ||
        !hvt_eq(*(const uint32_t *)(dump + 24), fpu->mxcsr, "MXCSR after SET_FPU"))
        return;
}

static void extended_state_calls_refuse_bad_input(void)
{
    struct xstate_info x;
    struct vm_instance vm;
    if (xstate_info(&x) || hvt_guest_create(&vm, "xsave_bad"))
        return;
    uint8_t *image = page_alloc(2 * x.size + HV_MAX_XSAVE_SIZE);
    if (!hvt_ok(hv_get_xsave(vm.vcpu, image, x.size), "GET_XSAVE"))
        return;
    uint8_t *saved = page_alloc(x.size);
    memcpy(saved, image, x.size);
    hvt_err(hv_get_xsave(vm.vcpu, image, x.size - 1), -HV_EINVAL, "GET_XSAVE with a short buffer");
    hvt_err(hv_get_xsave(vm.vcpu, image, HV_MAX_XSAVE_SIZE + 1), -HV_E2BIG,
            "GET_XSAVE with a size above HV_MAX_XSAVE_SIZE");
    hvt_err(hv_get_xsave(vm.vcpu, (void *)(uintptr_t)(hvt_info()->memory_size - 8), x.size),
            -HV_EFAULT, "GET_XSAVE past the end of memory");
    hvt_err(hv_get_xsave(vm.vcpu, image + 4, x.size), -HV_EINVAL, "GET_XSAVE misaligned");
    hvt_err(hv_call(HV_CALL_GET_XSAVE, (uint64_t)vm.vm, hv_gpa(image), x.size, 0, 0, 0),
            -HV_EBADTYPE, "GET_XSAVE on a VM handle");
    struct { const char *what; unsigned offset; uint64_t value; unsigned width; } bad[] = {
        { "XSTATE_BV with a component not offered", 512, ~x.xcr0 & 0xffffffffffull, 8 },
        { "XCOMP_BV set (compacted format)", 520, 1ull << 63, 8 },
        { "a reserved header byte", 540, 1, 1 },
        { "MXCSR with a reserved bit", 24, 0x1f80 | (1u << 31), 4 },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(image, saved, x.size);
        memcpy(image + bad[i].offset, &bad[i].value, bad[i].width);
        char what[96];
        snprintf(what, sizeof(what), "SET_XSAVE with %s", bad[i].what);
        hvt_err(hv_set_xsave(vm.vcpu, image, x.size), -HV_EINVAL, what);
    }
    uint8_t *after = page_alloc(x.size);
    if (!hvt_ok(hv_get_xsave(vm.vcpu, after, x.size), "GET_XSAVE") ||
        !hvt_true(!memcmp(after, saved, x.size), "state unchanged by refused SET_XSAVEs"))
        return;
    struct hv_fpu *fpu = page_alloc(sizeof(*fpu));
    hv_get_fpu(vm.vcpu, fpu);
    hvt_eq(fpu->fcw, 0x37f, "a new vcpu's FCW");
    hvt_eq(fpu->mxcsr, 0x1f80, "a new vcpu's MXCSR");
    fpu->mxcsr = 0xffffffffu;
    hvt_err(hv_set_fpu(vm.vcpu, fpu), -HV_EINVAL, "SET_FPU with MXCSR reserved bits");
    hvt_err(hv_set_fpu(vm.vcpu, (void *)(uintptr_t)(hvt_info()->memory_size - 8)), -HV_EFAULT,
            "SET_FPU past the end of memory");
    struct hv_xcrs *xcrs = page_alloc(sizeof(*xcrs));
    memset(xcrs, 0, sizeof(*xcrs));
    xcrs->nr_xcrs = 1;
    xcrs->xcrs[0].value = 0x2;
    hvt_err(hv_set_xcrs(vm.vcpu, xcrs), -HV_EINVAL, "SET_XCRS without x87");
    xcrs->xcrs[0].value = 1;
    xcrs->xcrs[0].xcr = 1;
    hvt_err(hv_set_xcrs(vm.vcpu, xcrs), -HV_EINVAL, "SET_XCRS of XCR1");
    xcrs->xcrs[0].xcr = 0;
    xcrs->flags = 1;
    hvt_err(hv_set_xcrs(vm.vcpu, xcrs), -HV_EINVAL, "SET_XCRS with flags");
    xcrs->flags = 0;
    xcrs->nr_xcrs = HV_MAX_XCRS + 1;
    hvt_err(hv_set_xcrs(vm.vcpu, xcrs), -HV_E2BIG, "SET_XCRS with too many entries");
    xcrs->nr_xcrs = 1;
    xcrs->xcrs[0].value = x.xcr0;
    hvt_err(hv_set_xcrs(vm.vcpu, xcrs), 0, "SET_XCRS of every supported component");
    memset(xcrs, 0, sizeof(*xcrs));
    if (hvt_ok(hv_get_xcrs(vm.vcpu, xcrs), "GET_XCRS"))
        hvt_eq(xcrs->xcrs[0].value, x.xcr0, "XCR0 after SET_XCRS");
    long ro = hvt_keep(hv_dup(vm.vcpu, HV_RIGHT_READ));
    hvt_err(hv_set_xcrs(ro, xcrs), -HV_EPERM, "SET_XCRS without the WRITE right");
    hvt_err(hv_set_xsave(ro, saved, x.size), -HV_EPERM, "SET_XSAVE without the WRITE right");
}

const struct hvtest_case hvtest_fpu_cases[] = {
    { "xstate_two_vms_on_one_cpu_keep_their_own_extended_state",
      two_vms_on_one_cpu_keep_their_own_extended_state },
    { "xstate_initial_x87_beside_x87_in_use", initial_x87_beside_x87_in_use },
    { "xstate_newly_enabled_component_holds_own_state", newly_enabled_component_holds_own_state },
    { "xstate_xsetbv_checks_give_exceptions", xsetbv_checks_give_exceptions },
    { "xstate_xcr0_is_per_vcpu", xcr0_is_per_vcpu },
    { "xstate_guest_cr4_write_enables_xsetbv", guest_cr4_write_enables_xsetbv },
    { "xstate_get_set_xsave_and_fpu_move_guest_state", get_set_xsave_and_fpu_move_guest_state },
    { "xstate_extended_state_calls_refuse_bad_input", extended_state_calls_refuse_bad_input },
    { NULL, NULL },
};
