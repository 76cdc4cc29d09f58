/*
 * A vcpu's whole state can leave its VM and go on in another, as a VMM
 * that checkpoints or migrates a guest moves it (KVM's GET/SET calls,
 * QEMU's order): every GET on the vcpu of VM A in the middle of its run,
 * its RAM copied, a new VM B given all of it with the SETs, A closed, B
 * run on the same CPU to the end. What the guest computes, in general,
 * SSE and x87 registers, comes out as an uninterrupted run would give it;
 * the MSRs it wrote and its DR0 read back as written; its TSC goes on
 * from where A's was (set far beyond the host's at A's start); and
 * its TSC-deadline timer, which its handler re-arms each time, keeps
 * firing in B -- which needs the deadline armed at the checkpoint, an
 * MSR (IA32_TSC_DEADLINE) that GET/SET_LAPIC do not carry. Twice: a flat
 * 32-bit guest with its APIC in xAPIC mode, and a 64-bit guest under
 * paging that turned x2APIC on (its APIC base, LDR and the upper half of
 * KERNEL_GS_BASE checked in B too).
 */
#include <stdbool.h>

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define APIC 0xfee00000u
#define TIMER_VECTOR 0x40
#define HANDLER_GPA 0x19000u
#define COUNT_GPA   HVT_DATA_GPA            /* timer interrupts taken */
#define SCRATCH_GPA (HVT_DATA_GPA + 0x4)
#define ONES_GPA    (HVT_DATA_GPA + 0x10)   /* four dwords of 1, for PADDD */
#define ITERATIONS  (24u * 0x4000u)
#define MARK_EVERY  0x4000u                 /* iterations between marks */
#define MARK_MOVE   8                       /* the mark at which it moves */
#define PORT_MARK   0xe8
#define PORT_RESULT 0xe9
#define TSC_START   (1ull << 50)            /* A's TSC, far beyond the host's */
#define WAIT_SPINS  200000000u              /* for one more timer interrupt */
#define DONE        0xd0e

#define SYSENTER_ESP_VALUE 0x13572468u
#define KERNEL_GS_VALUE    0x2468ace0u
#define KERNEL_GS_HIGH     0xffff8000u      /* the 64-bit guest's: canonical */
#define TSC_AUX_VALUE      0x5au
#define DR0_VALUE          0x12340000u

/* What the program OUTs to PORT_RESULT at its end, in this order; the
 * 64-bit one adds the last three. */
enum result { R_EBX, R_XMM0, R_X87, R_SYSENTER_ESP, R_KERNEL_GS, R_TSC_AUX, R_DR0,
              R_TSC_LOW, R_TSC_HIGH, R_COUNT_BEFORE_WAIT, R_COUNT, RESULTS_32,
              R_KERNEL_GS_HIGH = RESULTS_32, R_APIC_BASE, R_LDR, RESULTS_64 };
static const char *const result_names[RESULTS_64] = {
    "EBX", "XMM0[31:0]", "x87 ST0", "SYSENTER_ESP", "KERNEL_GS_BASE", "TSC_AUX", "DR0",
    "TSC[31:0]", "TSC[63:32]", "timer count before the wait", "timer count",
    "KERNEL_GS_BASE[63:32]", "IA32_APIC_BASE", "x2APIC LDR",
};

static void u32_at(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void emit(struct hvt_code *c, const uint8_t *bytes, unsigned n) { hvt_bytes(c, bytes, n); }

/* The guest's kind: flat 32-bit code with its APIC in xAPIC mode, or
 * 64-bit code under paging with its APIC in x2APIC mode. */
struct guest_kind {
    bool long64;
    const char *name;
    unsigned results;
};
static const struct guest_kind flat32_xapic = { false, "32-bit, xAPIC", RESULTS_32 };
static const struct guest_kind long64_x2apic = { true, "64-bit, x2APIC", RESULTS_64 };

/* An instruction whose ModRM names the absolute address `address`:
 * opcode bytes, then ModRM (mod 00, `reg`) with disp32 in 32-bit code, or
 * with a SIB of no base and no index in 64-bit code (whose disp32 alone
 * would be RIP-relative). */
static void emit_absolute(struct hvt_code *c, const struct guest_kind *k, const uint8_t *opcode,
                          unsigned n, unsigned reg, uint32_t address)
{
    uint8_t modrm_sib[2] = { (uint8_t)(reg << 3 | (k->long64 ? 4 : 5)), 0x25 };
    emit(c, opcode, n);
    emit(c, modrm_sib, k->long64 ? 2 : 1);
    uint8_t disp[4];
    u32_at(disp, address);
    emit(c, disp, 4);
}

static void load_eax(struct hvt_code *c, const struct guest_kind *k, uint32_t address)
{
    static const uint8_t mov = 0x8b;               /* mov eax, [address] */
    emit_absolute(c, k, &mov, 1, 0, address);
}

/* mov ecx, msr; mov eax, low; mov edx, high; wrmsr */
static void wrmsr_value(struct hvt_code *c, uint32_t msr, uint32_t low, uint32_t high)
{
    uint8_t insn[17] = { 0xb9, 0, 0, 0, 0, 0xb8, 0, 0, 0, 0, 0xba, 0, 0, 0, 0, 0x0f, 0x30 };
    u32_at(insn + 1, msr);
    u32_at(insn + 6, low);
    u32_at(insn + 11, high);
    emit(c, insn, sizeof(insn));
}

/* mov ecx, msr; rdmsr */
static void rdmsr_at(struct hvt_code *c, uint32_t msr)
{
    uint8_t insn[7] = { 0xb9, 0, 0, 0, 0, 0x0f, 0x32 };
    u32_at(insn + 1, msr);
    emit(c, insn, sizeof(insn));
}

/* mov dword [address], value (32-bit code) */
static void store32(struct hvt_code *c, uint32_t address, uint32_t value)
{
    uint8_t insn[10] = { 0xc7, 0x05 };
    u32_at(insn + 2, address);
    u32_at(insn + 6, value);
    emit(c, insn, sizeof(insn));
}

/* A local APIC register written, by its xAPIC offset: an MMIO store, or
 * the x2APIC MSR 0x800 + offset / 16. */
static void apic_write(struct hvt_code *c, const struct guest_kind *k, uint32_t offset,
                       uint32_t value)
{
    if (k->long64)
        wrmsr_value(c, 0x800 + offset / 16, value, 0);
    else
        store32(c, APIC + offset, value);
}

/* rdtsc; add eax, delta; adc edx, 0; mov ecx, IA32_TSC_DEADLINE; wrmsr */
static void arm_deadline(struct hvt_code *c, uint32_t delta)
{
    uint8_t insn[] = { 0x0f, 0x31, 0x05, 0, 0, 0, 0, 0x83, 0xd2, 0x00,
                       0xb9, 0xe0, 0x06, 0, 0, 0x0f, 0x30 };
    u32_at(insn + 3, delta);
    emit(c, insn, sizeof(insn));
}

static void dec_ecx(struct hvt_code *c, const struct guest_kind *k)
{
    static const uint8_t dec32 = 0x49, dec64[2] = { 0xff, 0xc9 };
    if (k->long64)
        emit(c, dec64, 2);
    else
        emit(c, &dec32, 1);
}

static void out_result(struct hvt_code *c) { hvt_out_imm(c, PORT_RESULT, 4); }

/* The handler: one more in COUNT, the next deadline, EOI, back. */
static void write_handler(struct vm_instance *vm, const struct guest_kind *k, uint32_t delta)
{
    static const uint8_t pusha = 0x60, popa = 0x61, iret = 0xcf;
    static const uint8_t push3[] = { 0x50, 0x51, 0x52 };             /* push rax, rcx, rdx */
    static const uint8_t pop3_iretq[] = { 0x5a, 0x59, 0x58, 0x48, 0xcf };
    static const uint8_t inc = 0xff;                                 /* inc dword [COUNT] */
    struct hvt_code c;

    hvt_code_start(&c, vm, HANDLER_GPA);
    if (k->long64)
        emit(&c, push3, sizeof(push3));
    else
        emit(&c, &pusha, 1);
    emit_absolute(&c, k, &inc, 1, 0, COUNT_GPA);
    arm_deadline(&c, delta);
    apic_write(&c, k, 0xb0, 0);                                      /* EOI */
    if (k->long64) {
        emit(&c, pop3_iretq, sizeof(pop3_iretq));
    } else {
        emit(&c, &popa, 1);
        emit(&c, &iret, 1);
    }
    /* A 32-bit interrupt gate, or the first half of a 64-bit one (whose
     * upper offset and reserved dword stay 0). */
    uint8_t gate[16] = { (uint8_t)HANDLER_GPA, (uint8_t)(HANDLER_GPA >> 8), 0x08, 0,
                         0, 0x8e, (uint8_t)(HANDLER_GPA >> 16), (uint8_t)(HANDLER_GPA >> 24) };
    unsigned size = k->long64 ? 16 : 8;
    memcpy(vm->ram + HVT_IDT_GPA + TIMER_VECTOR * size, gate, size);
}

/* The program: its MSRs and DR0, the timer in TSC-deadline mode (x2APIC
 * turned on first for the 64-bit kind), then ITERATIONS of EBX = EBX * 5 +
 * 1, XMM0 += 1 (each dword), ST0 += 1, with an OUT to PORT_MARK every
 * MARK_EVERY; then the results, a wait for one more timer interrupt, and
 * DONE to PORT_MARK. */
static void write_program(struct vm_instance *vm, const struct guest_kind *k, uint32_t delta)
{
    struct hvt_code c;
    static const uint8_t setup[] = {
        0x66, 0x0f, 0xef, 0xc0,                      /* pxor xmm0, xmm0 */
        0xdb, 0xe3,                                  /* fninit */
        0xd9, 0xee,                                  /* fldz */
        0x31, 0xdb,                                  /* xor ebx, ebx */
    };
    static const uint8_t body[] = {
        0x8d, 0x5c, 0x9b, 0x01,                      /* lea ebx, [ebx + ebx * 4 + 1] */
        0x66, 0x0f, 0xfe, 0xc1,                      /* paddd xmm0, xmm1 */
        0xd9, 0xe8, 0xde, 0xc1,                      /* fld1; faddp st1, st0 */
        0xf7, 0xc1, 0, 0, 0, 0,                      /* test ecx, MARK_EVERY - 1 */
    };
    static const uint8_t x2apic_on[] = { 0x0d, 0x00, 0x0c, 0x00, 0x00 }; /* or eax, EN | EXTD */
    static const uint8_t wrmsr[] = { 0x0f, 0x30 };
    static const uint8_t movdqu_xmm1[] = { 0xf3, 0x0f, 0x6f };
    static const uint8_t fistp = 0xdb, cmp_eax = 0x3b;
    uint32_t *ones = (uint32_t *)(vm->ram + ONES_GPA);
    for (unsigned i = 0; i < 4; i++)
        ones[i] = 1;

    hvt_code_start(&c, vm, HVT_CODE_GPA);
    wrmsr_value(&c, 0x175, SYSENTER_ESP_VALUE, 0);
    wrmsr_value(&c, 0xc0000102, KERNEL_GS_VALUE, k->long64 ? KERNEL_GS_HIGH : 0);
    wrmsr_value(&c, 0xc0000103, TSC_AUX_VALUE, 0);
    if (k->long64) {
        rdmsr_at(&c, 0x1b);                                  /* IA32_APIC_BASE */
        emit(&c, x2apic_on, sizeof(x2apic_on));
        emit(&c, wrmsr, sizeof(wrmsr));
    }
    emit_absolute(&c, k, movdqu_xmm1, sizeof(movdqu_xmm1), 1, ONES_GPA);
    emit(&c, setup, sizeof(setup));
    apic_write(&c, k, 0xf0, 0x1ff);                          /* SVR: enabled */
    apic_write(&c, k, 0x320, TIMER_VECTOR | 2u << 17);       /* LVT timer: TSC deadline */
    arm_deadline(&c, delta);
    uint8_t set_count[5] = { 0xb9 };                         /* mov ecx, ITERATIONS */
    u32_at(set_count + 1, ITERATIONS);
    emit(&c, set_count, sizeof(set_count));
    static const uint8_t sti = 0xfb;
    emit(&c, &sti, 1);
    uint32_t loop = c.at;
    emit(&c, body, sizeof(body));
    u32_at(c.ram + c.at - 4, MARK_EVERY - 1);                /* TEST's immediate */
    static const uint8_t skip_mark[] = { 0x75, 0x04, 0x89, 0xc8, 0xe7, PORT_MARK }; /* jnz +4; mov eax, ecx; out */
    emit(&c, skip_mark, sizeof(skip_mark));
    dec_ecx(&c, k);
    uint8_t back[6] = { 0x0f, 0x85 };                        /* jnz loop */
    u32_at(back + 2, loop - (c.at + 6));
    emit(&c, back, sizeof(back));

    static const uint8_t mov_eax_ebx[] = { 0x89, 0xd8 }, mov_eax_edx[] = { 0x89, 0xd0 };
    emit(&c, mov_eax_ebx, sizeof(mov_eax_ebx));
    out_result(&c);                                          /* R_EBX */
    static const uint8_t movd_eax_xmm0[] = { 0x66, 0x0f, 0x7e, 0xc0 };
    emit(&c, movd_eax_xmm0, sizeof(movd_eax_xmm0));
    out_result(&c);                                          /* R_XMM0 */
    emit_absolute(&c, k, &fistp, 1, 3, SCRATCH_GPA);         /* fistp dword [SCRATCH] */
    load_eax(&c, k, SCRATCH_GPA);
    out_result(&c);                                          /* R_X87 */
    static const uint32_t msrs[] = { 0x175, 0xc0000102, 0xc0000103 };
    for (unsigned i = 0; i < 3; i++) {
        rdmsr_at(&c, msrs[i]);
        out_result(&c);                                      /* R_SYSENTER_ESP .. R_TSC_AUX */
    }
    static const uint8_t mov_eax_dr0[] = { 0x0f, 0x21, 0xc0 };
    emit(&c, mov_eax_dr0, sizeof(mov_eax_dr0));
    out_result(&c);                                          /* R_DR0 */
    static const uint8_t rdtsc_save_edx[] = { 0x0f, 0x31, 0x89, 0xd3 }; /* rdtsc; mov ebx, edx */
    emit(&c, rdtsc_save_edx, sizeof(rdtsc_save_edx));
    out_result(&c);                                          /* R_TSC_LOW */
    emit(&c, mov_eax_ebx, sizeof(mov_eax_ebx));
    out_result(&c);                                          /* R_TSC_HIGH */
    load_eax(&c, k, COUNT_GPA);
    out_result(&c);                                          /* R_COUNT_BEFORE_WAIT */
    /* mov ecx, WAIT_SPINS; wait: cmp eax, [COUNT]; jne done; dec ecx;
     * jnz wait; done: */
    uint8_t wait[5] = { 0xb9 };
    u32_at(wait + 1, WAIT_SPINS);
    emit(&c, wait, sizeof(wait));
    uint32_t wait_at = c.at;
    emit_absolute(&c, k, &cmp_eax, 1, 0, COUNT_GPA);
    uint8_t jne_done[2] = { 0x75, (uint8_t)(k->long64 ? 4 : 3) };
    emit(&c, jne_done, sizeof(jne_done));
    dec_ecx(&c, k);
    uint8_t jnz_wait[2] = { 0x75, (uint8_t)(wait_at - (c.at + 2)) };
    emit(&c, jnz_wait, sizeof(jnz_wait));
    load_eax(&c, k, COUNT_GPA);
    out_result(&c);                                          /* R_COUNT */
    if (k->long64) {
        rdmsr_at(&c, 0xc0000102);
        emit(&c, mov_eax_edx, sizeof(mov_eax_edx));
        out_result(&c);                                      /* R_KERNEL_GS_HIGH */
        rdmsr_at(&c, 0x1b);
        out_result(&c);                                      /* R_APIC_BASE */
        rdmsr_at(&c, 0x80d);
        out_result(&c);                                      /* R_LDR */
    }
    /* The end: a HLT with IF set would only sleep until the next
     * interrupt, in the hypervisor. */
    hvt_mov_eax_imm(&c, DONE);
    hvt_out_imm(&c, PORT_MARK, 4);
    static const uint8_t cli = 0xfa;
    emit(&c, &cli, 1);
    hvt_jmp_self(&c);
}

/* A LAPIC VM whose vcpu 0 is in `k`'s mode (flat 32-bit, #GP caught; or
 * 64-bit with the first 2 MiB identity-mapped) with the IDT's full limit
 * and SSE on (CR4.OSFXSR, OSXMMEXCPT), its handles kept for the runner. */
static int migrate_vm(struct vm_instance *vm, const struct guest_kind *k, const char *name)
{
    struct hv_sregs sregs;
    if (!hvt_ok(vmm_create_with(vm, hvt_sys(), name, HVT_GUEST_RAM_MIB, 1, HV_VM_LAPIC),
                "vmm_create_with HV_VM_LAPIC"))
        return -1;
    hvt_keep(vm->vcpu);
    hvt_keep(vm->vm);
    if (k->long64 ? hvt_guest_long64(vm, HVT_CODE_GPA)
                  : hvt_guest_flat32(vm, HVT_CODE_GPA) || hvt_guest_catch_vector(vm, 13))
        return -1;
    if (!hvt_ok(hv_get_sregs(vm->vcpu, &sregs), "GET_SREGS"))
        return -1;
    sregs.cr4 |= (1u << 9) | (1u << 10);
    sregs.idt.limit = 0xfff;
    return hvt_ok(hv_set_sregs(vm->vcpu, &sregs), "SET_SREGS with SSE") ? 0 : -1;
}

/* The value of an OUT exit to `port`, else 0 with the test failed. */
static int out_to(struct vm_instance *vm, uint16_t port, uint32_t *value, const char *what)
{
    const struct hv_run *run = vm->run;
    if (!hvt_run_past_slices(vm) || !hvt_exit_is(vm, HV_EXIT_IO, what))
        return 0;
    if (run->io.direction != HV_IO_OUT || run->io.port != port || run->io.size != 4) {
        hvt_fail("%s: an OUT of 4 bytes to 0x%x expected, got port 0x%x", what, port,
                 run->io.port);
        return 0;
    }
    memcpy(value, (const uint8_t *)run + run->io.data_offset, 4);
    return 1;
}

/* Everything a VMM saves of a vcpu, in the calls' own structures. */
struct vcpu_state {
    struct hv_regs regs;
    struct hv_sregs sregs;
    struct hv_msrs *msrs;
    void *xsave;
    uint32_t xsave_size;
    struct hv_xcrs xcrs;
    struct hv_debugregs debugregs;
    struct hv_cpuid *cpuid;
    struct hv_lapic_state *lapic;
    struct hv_vcpu_events events;
    uint32_t mp_state;
};

static const uint32_t saved_msrs[] = {
    HV_MSR_TSC, HV_MSR_SYSENTER_CS, HV_MSR_SYSENTER_ESP, HV_MSR_SYSENTER_EIP, HV_MSR_PAT,
    HV_MSR_STAR, HV_MSR_LSTAR, HV_MSR_CSTAR, HV_MSR_SFMASK, HV_MSR_KERNEL_GS_BASE,
    HV_MSR_TSC_AUX, HV_MSR_TSC_DEADLINE,
};
#define SAVED_MSRS (sizeof(saved_msrs) / sizeof(saved_msrs[0]))

static int save_vcpu(long vcpu, struct vcpu_state *s)
{
    s->msrs = page_alloc(sizeof(*s->msrs) + SAVED_MSRS * sizeof(struct hv_msr_entry));
    s->msrs->count = SAVED_MSRS;
    for (unsigned i = 0; i < SAVED_MSRS; i++)
        s->msrs->entries[i].index = saved_msrs[i];
    s->xsave_size = (uint32_t)hv_check_extension(hvt_sys(), HV_CAP_XSAVE_SIZE);
    s->xsave = page_alloc(s->xsave_size);
    s->cpuid = hvt_cpuid_buffer();
    s->cpuid->count = HV_MAX_CPUID_ENTRIES;
    s->lapic = page_alloc(sizeof(*s->lapic));
    return hvt_ok(hv_get_regs(vcpu, &s->regs), "GET_REGS") &&
           hvt_ok(hv_get_sregs(vcpu, &s->sregs), "GET_SREGS") &&
           hvt_eq((uint64_t)hv_get_msrs(vcpu, s->msrs), SAVED_MSRS, "GET_MSRS: all of them") &&
           hvt_ok(hv_get_xsave(vcpu, s->xsave, s->xsave_size), "GET_XSAVE") &&
           hvt_ok(hv_get_xcrs(vcpu, &s->xcrs), "GET_XCRS") &&
           hvt_ok(hv_get_debugregs(vcpu, &s->debugregs), "GET_DEBUGREGS") &&
           hvt_ok(hv_get_cpuid(vcpu, s->cpuid), "GET_CPUID") &&
           hvt_ok(hv_get_lapic(vcpu, s->lapic), "GET_LAPIC") &&
           hvt_ok(hv_get_vcpu_events(vcpu, &s->events), "GET_VCPU_EVENTS") &&
           hvt_ok(hv_get_mp_state(vcpu, &s->mp_state), "GET_MP_STATE");
}

/* KVM's order (QEMU's kvm_arch_put_registers): CPUID first, the local
 * APIC before the MSRs, since IA32_TSC_DEADLINE is armed only when the
 * LVT timer is in TSC-deadline mode; events and the MP state last. */
static int restore_vcpu(long vcpu, const struct vcpu_state *s)
{
    return hvt_ok(hv_set_cpuid(vcpu, s->cpuid), "SET_CPUID") &&
           hvt_ok(hv_set_sregs(vcpu, &s->sregs), "SET_SREGS") &&
           hvt_ok(hv_set_regs(vcpu, &s->regs), "SET_REGS") &&
           hvt_ok(hv_set_xcrs(vcpu, &s->xcrs), "SET_XCRS") &&
           hvt_ok(hv_set_xsave(vcpu, s->xsave, s->xsave_size), "SET_XSAVE") &&
           hvt_ok(hv_set_lapic(vcpu, s->lapic), "SET_LAPIC") &&
           hvt_eq((uint64_t)hv_set_msrs(vcpu, s->msrs), SAVED_MSRS, "SET_MSRS: all of them") &&
           hvt_ok(hv_set_vcpu_events(vcpu, &s->events), "SET_VCPU_EVENTS") &&
           hvt_ok(hv_set_mp_state(vcpu, s->mp_state), "SET_MP_STATE") &&
           hvt_ok(hv_set_debugregs(vcpu, &s->debugregs), "SET_DEBUGREGS");
}

static uint64_t msr_in(const struct hv_msrs *msrs, uint32_t index)
{
    for (uint32_t i = 0; i < msrs->count; i++)
        if (msrs->entries[i].index == index)
            return msrs->entries[i].data;
    return ~0ull;
}

static void move_mid_run(const struct guest_kind *k)
{
    struct vm_instance a, b;
    struct vcpu_state state;
    struct hv_debugregs dr;
    uint32_t value, results[RESULTS_64];
    uint32_t delta = (uint32_t)hv_check_extension(hvt_sys(), HV_CAP_TSC_KHZ); /* 1 ms */

    if (migrate_vm(&a, k, "migrate-a") || migrate_vm(&b, k, "migrate-b"))
        return;
    write_handler(&a, k, delta);
    write_program(&a, k, delta);
    memset(&dr, 0, sizeof(dr));
    dr.db[0] = DR0_VALUE;
    dr.dr6 = 0xffff0ff0;
    dr.dr7 = 0x400;
    struct hv_msrs *tsc = page_alloc(sizeof(*tsc) + sizeof(struct hv_msr_entry));
    tsc->count = 1;
    tsc->entries[0].index = HV_MSR_TSC;
    tsc->entries[0].data = TSC_START;
    if (!hvt_ok(hv_set_debugregs(a.vcpu, &dr), "SET_DEBUGREGS on A") ||
        !hvt_eq((uint64_t)hv_set_msrs(a.vcpu, tsc), 1, "SET_MSRS TSC on A"))
        return;

    /* Mark k (from 0) comes with ECX = ITERATIONS - k * MARK_EVERY. */
    for (unsigned mark = 0; mark < MARK_MOVE; mark++)
        if (!out_to(&a, PORT_MARK, &value, "A's marks") ||
            !hvt_eq(value, ITERATIONS - mark * MARK_EVERY, "A's mark: ECX"))
            return;
    uint32_t count_at_move = *(volatile uint32_t *)(a.ram + COUNT_GPA);
    if (!save_vcpu(a.vcpu, &state) ||
        !hvt_true(msr_in(state.msrs, HV_MSR_TSC_DEADLINE) != 0,
                  "GET_MSRS: A's TSC deadline armed at the checkpoint") ||
        !hvt_true(msr_in(state.msrs, HV_MSR_TSC) - TSC_START < 10000ull * delta,
                  "A's TSC counts from TSC_START"))
        return;
    memcpy(b.ram, a.ram, a.ram_size);
    if (!restore_vcpu(b.vcpu, &state) || !hvt_ok(hv_close(a.vcpu), "CLOSE A's vcpu") ||
        !hvt_ok(hv_close(a.vm), "CLOSE A"))
        return;

    for (unsigned mark = MARK_MOVE; mark < ITERATIONS / MARK_EVERY; mark++)
        if (!out_to(&b, PORT_MARK, &value, "B's marks") ||
            !hvt_eq(value, ITERATIONS - mark * MARK_EVERY, "B's mark: ECX"))
            return;
    for (unsigned i = 0; i < k->results; i++)
        if (!out_to(&b, PORT_RESULT, &results[i], result_names[i]))
            return;
    if (!out_to(&b, PORT_MARK, &value, "B's end") || !hvt_eq(value, DONE, "B's end"))
        return;
    ctl_printf("hvtest: info migrate (%s): timer interrupts %u in A, %u at B's end; guest "
               "TSC 0x%lx at the move, 0x%lx at B's end\n", k->name, count_at_move, results[R_COUNT],
               msr_in(state.msrs, HV_MSR_TSC), (uint64_t)results[R_TSC_HIGH] << 32 |
               results[R_TSC_LOW]);

    uint32_t ebx = 0;
    for (unsigned i = 0; i < ITERATIONS; i++)
        ebx = ebx * 5 + 1;
    uint64_t guest_tsc = (uint64_t)results[R_TSC_HIGH] << 32 | results[R_TSC_LOW];
    uint64_t saved_tsc = msr_in(state.msrs, HV_MSR_TSC);
    if (k->long64 &&
        (!hvt_eq(results[R_KERNEL_GS_HIGH], KERNEL_GS_HIGH, "KERNEL_GS_BASE[63:32] in B") ||
         !hvt_eq(results[R_APIC_BASE] & 0xfffffc00u, 0xfee00c00u,
                 "IA32_APIC_BASE in B: enabled, x2APIC, at 0xfee00000") ||
         !hvt_eq(results[R_LDR], 1, "x2APIC LDR in B (cluster 0, ID 0)")))
        return;
    (void)(hvt_eq(results[R_EBX], ebx, "EBX after the loop, moved halfway") &&
        hvt_eq(results[R_XMM0], ITERATIONS, "XMM0's low dword after the loop") &&
        hvt_eq(results[R_X87], ITERATIONS, "x87 ST0 after the loop") &&
        hvt_eq(results[R_SYSENTER_ESP], SYSENTER_ESP_VALUE, "SYSENTER_ESP in B") &&
        hvt_eq(results[R_KERNEL_GS], KERNEL_GS_VALUE, "KERNEL_GS_BASE in B") &&
        hvt_eq(results[R_TSC_AUX], TSC_AUX_VALUE, "TSC_AUX in B") &&
        hvt_eq(results[R_DR0], DR0_VALUE, "DR0 in B") &&
        hvt_true(guest_tsc > saved_tsc && guest_tsc - saved_tsc < 10000ull * delta,
                 "B's TSC goes on from A's (not the host's)") &&
        hvt_true(results[R_COUNT_BEFORE_WAIT] > count_at_move,
                 "the timer fired in B: its deadline came with the vcpu") &&
        hvt_true(results[R_COUNT] > results[R_COUNT_BEFORE_WAIT],
                 "the timer still fires at the end"));
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* An idle guest moved: halted in HLT (in the hypervisor) with its
 * TSC-deadline timer 500 ms away (room for a loaded host) when its RUN's
 * deadline ends it; in B, set HALTED, the timer wakes it and its handler
 * runs. */
static void halted_vcpu_moved_wakes_on_its_timer(void)
{
    const struct guest_kind *k = &flat32_xapic;
    struct vm_instance a, b;
    struct vcpu_state state;
    struct hvt_code c;
    uint32_t value;
    uint64_t ms = (uint64_t)hv_check_extension(hvt_sys(), HV_CAP_TSC_KHZ);

    if (migrate_vm(&a, k, "idle-a") || migrate_vm(&b, k, "idle-b"))
        return;
    write_handler(&a, k, (uint32_t)(500 * ms));
    hvt_code_start(&c, &a, HVT_CODE_GPA);
    apic_write(&c, k, 0xf0, 0x1ff);
    apic_write(&c, k, 0x320, TIMER_VECTOR | 2u << 17);
    arm_deadline(&c, (uint32_t)(500 * ms));
    static const uint8_t sti_hlt[] = { 0xfb, 0xf4 };
    emit(&c, sti_hlt, sizeof(sti_hlt));
    load_eax(&c, k, COUNT_GPA);
    out_result(&c);
    static const uint8_t cli = 0xfa;
    emit(&c, &cli, 1);
    hvt_jmp_self(&c);

    /* RUN until A sleeps: its RUN's own deadline, 2 ms on, ends it there. */
    uint32_t mp = 0;
    for (unsigned i = 0; i < 50 && mp != HV_MP_STATE_HALTED; i++) {
        a.run->deadline_tsc = rdtsc() + 2 * ms;
        if (!hvt_ok(hv_run(a.vcpu), "RUN A") ||
            !hvt_ok(hv_get_mp_state(a.vcpu, &mp), "GET_MP_STATE A"))
            return;
        if (a.run->exit_reason != HV_EXIT_DEADLINE && a.run->exit_reason != HV_EXIT_INTR) {
            hvt_fail("A's RUN: %s, not the deadline", hvt_exit_name(a.run->exit_reason));
            return;
        }
    }
    a.run->deadline_tsc = 0;
    if (!hvt_eq(mp, HV_MP_STATE_HALTED, "A halted in HLT") || !save_vcpu(a.vcpu, &state) ||
        !hvt_eq(state.mp_state, HV_MP_STATE_HALTED, "GET_MP_STATE saved HALTED") ||
        !hvt_true(msr_in(state.msrs, HV_MSR_TSC_DEADLINE) != 0, "A's deadline armed"))
        return;
    memcpy(b.ram, a.ram, a.ram_size);
    if (!restore_vcpu(b.vcpu, &state) || !hvt_ok(hv_get_mp_state(b.vcpu, &mp), "GET_MP_STATE B") ||
        !hvt_eq(mp, HV_MP_STATE_HALTED, "B halted after the SETs") ||
        !hvt_ok(hv_close(a.vcpu), "CLOSE A's vcpu") || !hvt_ok(hv_close(a.vm), "CLOSE A"))
        return;
    b.run->deadline_tsc = rdtsc() + 5000 * ms;  /* a bound, should the timer be lost */
    if (!out_to(&b, PORT_RESULT, &value, "B woken by its timer: the handler's count"))
        return;
    b.run->deadline_tsc = 0;
    hvt_eq(value, 1, "timer interrupts taken, in B");
}

/* IA32_TSC_DEADLINE through GET/SET_MSRS is the guest's RDMSR/WRMSR of
 * it (SDM 10.5.4.1): 0 and a write ignored unless the LVT timer is in
 * TSC-deadline mode, as SET_LAPIC puts it; then the value armed. */
static void tsc_deadline_msr_follows_the_timer_mode(void)
{
    struct vm_instance vm;
    struct hv_lapic_state *lapic = page_alloc(sizeof(*lapic));
    uint64_t value;

    if (migrate_vm(&vm, &flat32_xapic, "tsc-deadline"))
        return;
    struct hvt_msr_list *list = hvt_msr_list();
    hvt_msr_add(list, HV_MSR_TSC_DEADLINE, 0x123456789ull);
    if (!hvt_err(hv_set_msrs(vm.vcpu, &list->header), 1, "SET_MSRS TSC_DEADLINE, one-shot mode") ||
        !hvt_get_msr(vm.vcpu, HV_MSR_TSC_DEADLINE, &value, "GET_MSRS TSC_DEADLINE") ||
        !hvt_eq(value, 0, "TSC_DEADLINE outside TSC-deadline mode") ||
        !hvt_ok(hv_get_lapic(vm.vcpu, lapic), "GET_LAPIC"))
        return;
    uint32_t lvt = TIMER_VECTOR | 2u << 17, svr = 0x1ff;
    memcpy(lapic->regs + 0x320, &lvt, 4);
    memcpy(lapic->regs + 0xf0, &svr, 4);
    if (!hvt_ok(hv_set_lapic(vm.vcpu, lapic), "SET_LAPIC, LVT timer in TSC-deadline mode") ||
        !hvt_err(hv_set_msrs(vm.vcpu, &list->header), 1, "SET_MSRS TSC_DEADLINE") ||
        !hvt_get_msr(vm.vcpu, HV_MSR_TSC_DEADLINE, &value, "GET_MSRS TSC_DEADLINE"))
        return;
    hvt_eq(value, 0x123456789ull, "TSC_DEADLINE armed in TSC-deadline mode");
}

static void vcpu_moved_to_another_vm_goes_on(void) { move_mid_run(&flat32_xapic); }

static void vcpu_moved_to_another_vm_goes_on_64_bit_x2apic(void)
{
    move_mid_run(&long64_x2apic);
}

const struct hvtest_case hvtest_migrate_cases[] = {
    { "vcpu_moved_to_another_vm_goes_on", vcpu_moved_to_another_vm_goes_on },
    { "vcpu_moved_to_another_vm_goes_on_64_bit_x2apic",
      vcpu_moved_to_another_vm_goes_on_64_bit_x2apic },
    { "tsc_deadline_msr_follows_the_timer_mode", tsc_deadline_msr_follows_the_timer_mode },
    { "halted_vcpu_moved_wakes_on_its_timer", halted_vcpu_moved_wakes_on_its_timer },
    { NULL, NULL },
};
