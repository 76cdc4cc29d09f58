/*
 * KICK (abi/README.md section 7) on one CPU: a kick made between two RUNs
 * makes the next RUN return HV_EXIT_INTR at once, without entering the
 * guest; that HV_EXIT_INTR answers every kick made before it, so the RUN
 * after runs the guest again; KICK needs the RUN right. (A kick reaching a
 * RUN in progress on another CPU is the concurrency tests' business.)
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define POISON_RIP 0xdead0000dead0000ull

/* A guest whose first instruction is an OUT, then HLT. Returns the OUT's
 * address, or 0 (the test has failed). */
static uint32_t out_then_hlt_guest(struct vm_instance *vm)
{
    struct hvt_code code;
    uint32_t out;

    if (hvt_guest_create(vm, "hvtest") < 0)
        return 0;
    hvt_code_start(&code, vm, HVT_CODE_GPA);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    return hvt_guest_flat32(vm, HVT_CODE_GPA) < 0 ? 0 : out;
}

/* RUN returns HV_EXIT_INTR and the guest is still at its first
 * instruction: it did not run. */
static int run_returns_intr_unentered(struct vm_instance *vm, const char *what)
{
    struct hv_regs regs;

    vm->run->exit_reason = HV_EXIT_UNKNOWN;
    vm->run->exit_rip = POISON_RIP;
    return hvt_run(vm) && hvt_exit_is(vm, HV_EXIT_INTR, what) &&
           hvt_eq(vm->run->exit_rip, HVT_CODE_GPA, "exit_rip of the kicked RUN") &&
           hvt_err(hv_get_regs(vm->vcpu, &regs), 0, "GET_REGS") &&
           hvt_eq(regs.rip, HVT_CODE_GPA, "RIP after the kicked RUN (guest must not run)");
}

static void kick_before_run_returns_intr_at_once(void)
{
    struct vm_instance vm;
    uint32_t out = out_then_hlt_guest(&vm);

    if (out == 0 || !hvt_err(hv_kick(vm.vcpu), 0, "KICK") ||
        !run_returns_intr_unentered(&vm, "RUN after KICK") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0, out, "the RUN after the kicked one"))
        return;
    if (hvt_run(&vm))
        hvt_exit_is(&vm, HV_EXIT_HLT, "RUN after the OUT");
}

static void kick_is_answered_by_one_intr(void)
{
    struct vm_instance vm;
    uint32_t out = out_then_hlt_guest(&vm);

    if (out == 0 || !hvt_err(hv_kick(vm.vcpu), 0, "first KICK") ||
        !hvt_err(hv_kick(vm.vcpu), 0, "second KICK") ||
        !hvt_err(hv_kick(vm.vcpu), 0, "third KICK") ||
        !run_returns_intr_unentered(&vm, "RUN after three KICKs") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0, out,
                            "the RUN after the kicked one (kicks do not pile up)"))
        return;
    /* An HV_EXIT_INTR for immediate_exit answers a kick too. */
    if (!hvt_err(hv_kick(vm.vcpu), 0, "KICK before an immediate exit"))
        return;
    vm.run->immediate_exit = 1;
    if (!hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_INTR, "RUN with immediate_exit"))
        return;
    vm.run->immediate_exit = 0;
    if (hvt_run(&vm))
        hvt_exit_is(&vm, HV_EXIT_HLT, "RUN after the immediate exit");
}

static void kick_needs_run_right(void)
{
    struct vm_instance vm;
    uint32_t out = out_then_hlt_guest(&vm);
    long no_run;

    if (out == 0)
        return;
    no_run = hvt_keep(hv_dup(vm.vcpu, HV_RIGHTS_ALL & ~HV_RIGHT_RUN));
    if (!hvt_ok(no_run, "DUP without RUN") ||
        !hvt_err(hv_kick(no_run), -HV_EPERM, "KICK without RUN") ||
        !hvt_err(hv_kick(vm.vm), -HV_EBADTYPE, "KICK on the VM handle"))
        return;
    /* Refused means not kicked: the guest runs. */
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0, out, "RUN after the refused KICK");
}

const struct hvtest_case hvtest_kick_cases[] = {
    { "kick_before_run_returns_intr_at_once", kick_before_run_returns_intr_at_once },
    { "kick_is_answered_by_one_intr", kick_is_answered_by_one_intr },
    { "kick_needs_run_right", kick_needs_run_right },
    { NULL, NULL },
};
