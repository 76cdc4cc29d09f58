/*
 * GET_DEBUGREGS / SET_DEBUGREGS and the switching of debug registers
 * (abi/README.md section 7): what a guest writes with its own MOV to DR0-DR3,
 * DR6 and DR7 is what GET_DEBUGREGS reads, and survives another guest's
 * RUN and a DEBUG_GUEST breakpoint on the same CPU; what SET_DEBUGREGS
 * writes is what the guest's MOV from DR reads; the control domain's own
 * debug registers survive its children's RUNs. Argument errors, rights and
 * -HV_EBUSY. The guest's breakpoints and DEBUG_GUEST are in
 * hvtest_debugregs_guest.c.
 *
 * No test here enables a breakpoint in a guest's DR7: under QEMU a guest's
 * own MOV to DR7 arms breakpoints that outlive its RUN (README, limits).
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"
#include "guest-tools/tools/hvtest_concurrency.h"

#define GPR_EAX 0
#define DR6_VALUE 0xffff4ff2u      /* B1 and BS set, the rest as it reads */
#define DR7_VALUE 0x000d0700u      /* LE, GE; slot 0 write of 4 bytes; none enabled */
#define BUSY_TRIES 2000000

/* mov r32, drN (0F 21 /r) and mov drN, r32 (0F 23 /r): ModRM with mod 11,
 * reg the debug register, rm the general register (encoding order). */
uint32_t hvt_mov_from_dr(struct hvt_code *code, unsigned dr, unsigned gpr)
{
    uint8_t insn[3] = { 0x0f, 0x21, (uint8_t)(0xc0 | dr << 3 | gpr) };
    return hvt_bytes(code, insn, sizeof(insn));
}

uint32_t hvt_mov_to_dr(struct hvt_code *code, unsigned dr, unsigned gpr)
{
    uint8_t insn[3] = { 0x0f, 0x23, (uint8_t)(0xc0 | dr << 3 | gpr) };
    return hvt_bytes(code, insn, sizeof(insn));
}

/* mov eax, value; mov drN, eax */
uint32_t hvt_set_dr(struct hvt_code *code, unsigned dr, uint32_t value)
{
    uint32_t at = hvt_mov_eax_imm(code, value);
    hvt_mov_to_dr(code, dr, GPR_EAX);
    return at;
}

/* mov eax, drN; out HVT_PORT_ECHO, eax. Returns the OUT's address. */
uint32_t hvt_report_dr(struct hvt_code *code, unsigned dr)
{
    hvt_mov_from_dr(code, dr, GPR_EAX);
    return hvt_out_imm(code, HVT_PORT_ECHO, 4);
}

int hvt_run_expect_dr(struct vm_instance *vm, uint32_t out, uint32_t value, const char *what)
{
    return hvt_run_expect_out(vm, HVT_PORT_ECHO, 4, value, out, what);
}

int hvt_debugregs_eq(const struct hv_debugregs *got, const uint64_t db[4], uint64_t dr6,
                     uint64_t dr7, const char *what)
{
    char label[80];

    for (unsigned i = 0; i < 4; i++) {
        snprintf(label, sizeof(label), "%s: DR%u", what, i);
        if (!hvt_eq(got->db[i], db[i], label))
            return 0;
    }
    snprintf(label, sizeof(label), "%s: DR6", what);
    if (!hvt_eq(got->dr6, dr6, label))
        return 0;
    snprintf(label, sizeof(label), "%s: DR7", what);
    if (!hvt_eq(got->dr7, dr7, label))
        return 0;
    snprintf(label, sizeof(label), "%s: flags", what);
    return hvt_eq(got->flags, 0, label);
}

static void get_reads_what_the_guest_wrote(void)
{
    static const uint64_t db[4] = { 0x11110000, 0x22220001, 0x33330002, 0x44440003 };
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_debugregs *regs = page_alloc(sizeof(*regs));
    uint32_t out;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    for (unsigned i = 0; i < 4; i++)
        hvt_set_dr(&code, i, (uint32_t)db[i]);
    hvt_set_dr(&code, 6, DR6_VALUE);
    hvt_set_dr(&code, 7, DR7_VALUE);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    hvt_hlt(&code);
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 1, DR7_VALUE & 0xff, out,
                            "the OUT after the guest's MOVs to DR0-DR7") ||
        !hvt_err(hv_get_debugregs(vm.vcpu, regs), 0, "GET_DEBUGREGS"))
        return;
    hvt_debugregs_eq(regs, db, DR6_VALUE, DR7_VALUE, "GET_DEBUGREGS after the guest's MOVs");
}

/* SET_DEBUGREGS takes any 64-bit DR0-DR3; a 32-bit guest reads the low
 * half. */
static void guest_reads_what_set_wrote(void)
{
    static const uint64_t db[4] = { 0xffff800012345678ull, 0x0badc0de, 0x7, 0x80000000 };
    static const unsigned order[6] = { 0, 1, 2, 3, 6, 7 };
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_debugregs *regs = page_alloc(sizeof(*regs));
    uint32_t out[6];

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    for (unsigned i = 0; i < 6; i++)
        out[i] = hvt_report_dr(&code, order[i]);
    hvt_hlt(&code);
    memset(regs, 0, sizeof(*regs));
    memcpy(regs->db, db, sizeof(db));
    regs->dr6 = DR6_VALUE;
    regs->dr7 = DR7_VALUE;
    if (!hvt_err(hv_set_debugregs(vm.vcpu, regs), 0, "SET_DEBUGREGS"))
        return;
    for (unsigned i = 0; i < 6; i++) {
        unsigned n = order[i];
        uint32_t want = n < 4 ? (uint32_t)db[n] : n == 6 ? DR6_VALUE : DR7_VALUE;
        char what[48];

        snprintf(what, sizeof(what), "the guest's MOV from DR%u", n);
        if (!hvt_run_expect_dr(&vm, out[i], want, what))
            return;
    }
    if (hvt_err(hv_get_debugregs(vm.vcpu, regs), 0, "GET_DEBUGREGS"))
        hvt_debugregs_eq(regs, db, DR6_VALUE, DR7_VALUE, "GET_DEBUGREGS after SET");
}

static void vmm_resets_guest_dr7(void)
{
    static const uint64_t db[4] = { 0x5000, 0, 0, 0 };
    struct vm_instance vm;
    struct hvt_code code;
    struct hv_debugregs *regs = page_alloc(sizeof(*regs));
    uint32_t first, second;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_set_dr(&code, 0, (uint32_t)db[0]);
    hvt_set_dr(&code, 7, DR7_VALUE);
    first = hvt_report_dr(&code, 7);
    second = hvt_report_dr(&code, 7);
    hvt_hlt(&code);
    if (!hvt_run_expect_dr(&vm, first, DR7_VALUE, "DR7 the guest wrote") ||
        !hvt_err(hv_get_debugregs(vm.vcpu, regs), 0, "GET_DEBUGREGS"))
        return;
    regs->dr7 = 0x400;
    if (!hvt_err(hv_set_debugregs(vm.vcpu, regs), 0, "SET_DEBUGREGS of DR7 0x400") ||
        !hvt_run_expect_dr(&vm, second, 0x400, "DR7 the guest reads after the reset") ||
        !hvt_err(hv_get_debugregs(vm.vcpu, regs), 0, "GET_DEBUGREGS"))
        return;
    hvt_debugregs_eq(regs, db, 0xffff0ff0, 0x400, "GET_DEBUGREGS after the reset");
}

/* The control domain's own registers, written and read by its MOVs. */
static void control_write_dr0_3_6(const uint64_t v[5])
{
    __asm__ volatile("mov %0, %%dr0\n\tmov %1, %%dr1\n\tmov %2, %%dr2\n\tmov %3, %%dr3"
                     :: "r"(v[0]), "r"(v[1]), "r"(v[2]), "r"(v[3]));
    __asm__ volatile("mov %0, %%dr6" ::"r"(v[4]));
}

static void control_read_dr0_3_6(uint64_t v[5])
{
    __asm__ volatile("mov %%dr0, %0\n\tmov %%dr1, %1\n\tmov %%dr2, %2\n\tmov %%dr3, %3"
                     : "=r"(v[0]), "=r"(v[1]), "=r"(v[2]), "=r"(v[3]));
    __asm__ volatile("mov %%dr6, %0" : "=r"(v[4]));
}

/* Guest A's own DR0-DR3; guest B writes others; vcpu C runs to a
 * DEBUG_GUEST breakpoint (the VMM's DR0-DR3 in the CPU). A reads its own
 * back. All on this CPU, around the control domain's own values. */
static void guest_registers_survive_other_guests(void)
{
    static const uint64_t a_db[4] = { 0xa0000000, 0xa0000001, 0xa0000002, 0xa0000003 };
    static const uint64_t mine[5] = { 0x1234567800000000ull, 0xffffffff87654320ull,
                                      0x1008, 0xffff800000000000ull, 0xffff4ff3 };
    static const uint64_t reset[5] = { 0, 0, 0, 0, 0xffff0ff0 };
    struct vm_instance a, b, c;
    struct hvt_code code;
    struct hv_guest_debug *debug = page_alloc(sizeof(*debug));
    struct hv_debugregs *regs = page_alloc(sizeof(*regs));
    uint32_t a_out, a_reads[4], b_out, c_stop;
    uint64_t after[5];

    if (hvt_guest_create(&a, "hvtest") < 0 || hvt_guest_flat32(&a, HVT_CODE_GPA) < 0 ||
        hvt_guest_create(&b, "hvtest") < 0 || hvt_guest_flat32(&b, HVT_CODE_GPA) < 0 ||
        hvt_guest_create(&c, "hvtest") < 0 || hvt_guest_flat32(&c, HVT_CODE_GPA) < 0)
        return;
    hvt_code_start(&code, &a, HVT_CODE_GPA);
    for (unsigned i = 0; i < 4; i++)
        hvt_set_dr(&code, i, (uint32_t)a_db[i]);
    a_out = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    for (unsigned i = 0; i < 4; i++)
        a_reads[i] = hvt_report_dr(&code, i);
    hvt_hlt(&code);
    hvt_code_start(&code, &b, HVT_CODE_GPA);
    for (unsigned i = 0; i < 4; i++)
        hvt_set_dr(&code, i, 0xb0000000u + i);
    b_out = hvt_out_imm(&code, HVT_PORT_VALUE, 1);
    hvt_hlt(&code);
    hvt_code_start(&code, &c, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, 1);
    c_stop = hvt_mov_eax_imm(&code, 2);
    hvt_hlt(&code);
    memset(debug, 0, sizeof(*debug));
    debug->control = HV_GUESTDBG_ENABLE | HV_GUESTDBG_USE_HW_BP;
    for (unsigned i = 0; i < 4; i++)
        debug->debugreg[i] = c_stop;
    debug->debugreg[7] = 0xff; /* all four slots: execute, 1 byte */

    control_write_dr0_3_6(mine);
    /* Each OUT sends AL: the low byte of the last value moved. */
    int ok = hvt_run_expect_out(&a, HVT_PORT_VALUE, 1, 3, a_out, "guest A after its MOVs") &&
             hvt_run_expect_out(&b, HVT_PORT_VALUE, 1, 3, b_out, "guest B after its MOVs") &&
             hvt_err(hv_debug_guest(c.vcpu, debug), 0, "DEBUG_GUEST on vcpu C");
    /* Stopped at the breakpoint or (QEMU) at the HLT: C's loop had the
     * VMM's DR0-DR3 in the CPU either way. */
    int stopped = ok ? hvt_run_to_breakpoint(&c, c_stop, 0xf, "vcpu C") : -1;
    ok = stopped == 1 || (stopped == 0 && hvt_exit_is(&c, HV_EXIT_HLT, "vcpu C past its breakpoint"));
    for (unsigned i = 0; ok && i < 4; i++)
        ok = hvt_run_expect_dr(&a, a_reads[i], (uint32_t)a_db[i], "guest A reads its own back");
    control_read_dr0_3_6(after);
    control_write_dr0_3_6(reset);
    if (!ok || !hvt_err(hv_get_debugregs(a.vcpu, regs), 0, "GET_DEBUGREGS of guest A") ||
        !hvt_debugregs_eq(regs, a_db, 0xffff0ff0, 0x400, "guest A's registers"))
        return;
    for (unsigned i = 0; i < 5; i++) {
        char what[64];

        snprintf(what, sizeof(what), "the control domain's own DR%u after the RUNs",
                 i < 4 ? i : 6);
        if (!hvt_eq(after[i], mine[i], what))
            return;
    }
}

static void debugregs_arguments_and_rights(void)
{
    struct vm_instance vm;
    struct hv_debugregs *regs = page_alloc(2 * sizeof(*regs)), *before = regs + 1;
    uint64_t outside = 1ull << 40;
    long no_read, no_write;

    if (!hvt_eq((uint64_t)hv_check_extension(hvt_sys(), HV_CAP_DEBUGREGS), 1,
                "CHECK_EXTENSION(HV_CAP_DEBUGREGS)") ||
        hvt_guest_create(&vm, "hvtest") < 0 ||
        !hvt_err(hv_get_debugregs(vm.vcpu, before), 0, "GET_DEBUGREGS") ||
        !hvt_debugregs_eq(before, (const uint64_t[4]){ 0 }, 0xffff0ff0, 0x400,
                          "a new vcpu's debug registers"))
        return;
    if (!hvt_err(hv_call(HV_CALL_GET_DEBUGREGS, (uint64_t)vm.vcpu, hv_gpa(regs) + 4, 0, 0, 0, 0),
                 -HV_EINVAL, "GET_DEBUGREGS misaligned") ||
        !hvt_err(hv_call(HV_CALL_SET_DEBUGREGS, (uint64_t)vm.vcpu, hv_gpa(regs) + 4, 0, 0, 0, 0),
                 -HV_EINVAL, "SET_DEBUGREGS misaligned") ||
        !hvt_err(hv_call(HV_CALL_GET_DEBUGREGS, (uint64_t)vm.vcpu, outside, 0, 0, 0, 0),
                 -HV_EFAULT, "GET_DEBUGREGS outside the caller's memory") ||
        !hvt_err(hv_call(HV_CALL_SET_DEBUGREGS, (uint64_t)vm.vcpu, outside, 0, 0, 0, 0),
                 -HV_EFAULT, "SET_DEBUGREGS outside the caller's memory"))
        return;
    *regs = *before;
    regs->flags = 1;
    if (!hvt_err(hv_set_debugregs(vm.vcpu, regs), -HV_EINVAL, "SET_DEBUGREGS flags 1"))
        return;
    regs->flags = 0;
    regs->dr6 = 0x1ffff0ff0ull;
    if (!hvt_err(hv_set_debugregs(vm.vcpu, regs), -HV_EINVAL, "SET_DEBUGREGS DR6 bit 32"))
        return;
    regs->dr6 = 0xffff0ff0;
    regs->dr7 = 0x8000000000000400ull;
    if (!hvt_err(hv_set_debugregs(vm.vcpu, regs), -HV_EINVAL, "SET_DEBUGREGS DR7 bit 63") ||
        !hvt_err(hv_get_debugregs(vm.vcpu, regs), 0, "GET_DEBUGREGS after the refusals") ||
        !hvt_debugregs_eq(regs, before->db, before->dr6, before->dr7,
                          "registers after refused SETs"))
        return;
    no_read = hvt_keep(hv_dup(vm.vcpu, HV_RIGHTS_ALL & ~HV_RIGHT_READ));
    no_write = hvt_keep(hv_dup(vm.vcpu, HV_RIGHTS_ALL & ~HV_RIGHT_WRITE));
    if (hvt_ok(no_read, "DUP without READ") && hvt_ok(no_write, "DUP without WRITE") &&
        hvt_err(hv_get_debugregs(no_read, regs), -HV_EPERM, "GET_DEBUGREGS without READ") &&
        hvt_err(hv_set_debugregs(no_write, regs), -HV_EPERM, "SET_DEBUGREGS without WRITE") &&
        hvt_err(hv_get_debugregs(no_write, regs), 0, "GET_DEBUGREGS without WRITE") &&
        hvt_err(hv_set_debugregs(no_read, regs), 0, "SET_DEBUGREGS without READ"))
        hvt_err(hv_get_debugregs(vm.vm, regs), -HV_EBADTYPE, "GET_DEBUGREGS on the VM handle");
}

/* While CPU 1 keeps the vcpu inside RUN, both calls give -HV_EBUSY (0 is
 * allowed: CPU 1 was between two RUNs). One CPU: nothing to race. */
static void debugregs_busy_while_running_elsewhere(void)
{
    static struct spin_run spinner;
    struct vm_instance vm;
    struct hv_debugregs *regs = page_alloc(sizeof(*regs));
    unsigned get_busy = 0, set_busy = 0;

    if (conc_cpus() < 2 || conc_spin_guest(&vm) < 0 ||
        !hvt_err(hv_get_debugregs(vm.vcpu, regs), 0, "GET_DEBUGREGS before"))
        return;
    conc_spin_init(&spinner, &vm);
    smp_call(1, conc_spin_job, &spinner);
    int ok = conc_wait_running(&spinner, "RUN on CPU 1");
    for (unsigned i = 0; ok && i < BUSY_TRIES && (!get_busy || !set_busy); i++) {
        long get = hv_get_debugregs(vm.vcpu, regs), set = hv_set_debugregs(vm.vcpu, regs);

        get_busy += get == -HV_EBUSY;
        set_busy += set == -HV_EBUSY;
        if ((get != 0 && get != -HV_EBUSY) || (set != 0 && set != -HV_EBUSY))
            ok = hvt_err(get != 0 && get != -HV_EBUSY ? get : set, -HV_EBUSY,
                         "GET/SET_DEBUGREGS on a vcpu running elsewhere");
    }
    __atomic_store_n(&spinner.stop, 1, __ATOMIC_RELEASE);
    hv_kick(vm.vcpu);
    smp_wait(1);
    if (ok && hvt_true(get_busy && set_busy, "GET/SET_DEBUGREGS never gave HV_EBUSY") &&
        conc_spin_ended_intr(&spinner, 1, 0, "the spinning RUN"))
        hvt_err(hv_get_debugregs(vm.vcpu, regs), 0, "GET_DEBUGREGS after the RUN elsewhere");
}

const struct hvtest_case hvtest_debugregs_cases[] = {
    { "debugregs_get_reads_what_the_guest_wrote", get_reads_what_the_guest_wrote },
    { "debugregs_guest_reads_what_set_wrote", guest_reads_what_set_wrote },
    { "debugregs_vmm_resets_guest_dr7", vmm_resets_guest_dr7 },
    { "debugregs_guest_registers_survive_other_guests", guest_registers_survive_other_guests },
    { "debugregs_arguments_and_rights", debugregs_arguments_and_rights },
    { "debugregs_busy_while_running_elsewhere", debugregs_busy_while_running_elsewhere },
    { NULL, NULL },
};
