/*
 * Handles closed and duplicated while other CPUs use them (abi/README.md
 * section 1): "a handle closed while a call on it is in flight stays valid
 * for that call; the object is freed when the last call using it returns".
 * So a RUN in progress elsewhere ends normally (HV_EXIT_INTR at its slice),
 * a RUN begun after the close (the job's loop may race the close) and
 * every later call on the closed handle give -HV_ECLOSED, and once every handle is closed
 * GET_STATS shows the VM, its vcpus and their pages gone.
 *
 * As in hvtest_concurrency.c, a single CPU has nothing to race and the
 * tests pass without checking anything.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest_concurrency.h"

#define REGS_MARKER 0x600dcafe12345678ull
#define READER_CALLS 3000            /* GET_REGS on CPU 1 */
#define DUP_ROUNDS 400               /* DUP, GET_REGS, CLOSE on CPU 0 */

static struct spin_run spinners[CONC_MAX_CPUS];

static void close_vcpu_handle_while_running_elsewhere(void)
{
    struct spin_run *s = &spinners[1];
    struct vm_instance vm;
    struct hv_stats before;
    struct hv_regs regs;

    if (conc_cpus() < 2 || !hvt_stats(&before) || conc_spin_guest(&vm) < 0)
        return;
    conc_spin_init(s, &vm);
    smp_call(1, conc_spin_job, s);
    /* After the close nobody can kick it: the RUN ends at its slice. */
    int ok = conc_wait_running(s, "RUN on CPU 1");
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    ok = ok && hvt_err(hv_close(vm.vcpu), 0, "CLOSE of the vcpu handle during its RUN") &&
             hvt_err(hv_get_regs(vm.vcpu, &regs), -HV_ECLOSED,
                     "GET_REGS on the closed handle during the RUN");
    smp_wait(1);
    if (!ok || !conc_spin_ended_intr(s, 1, 1, "the RUN whose handle was closed") ||
        !hvt_err(hv_run(vm.vcpu), -HV_ECLOSED, "RUN on the closed handle") ||
        !hvt_err(hv_kick(vm.vcpu), -HV_ECLOSED, "KICK on the closed handle") ||
        !hvt_err(hv_close(vm.vm), 0, "CLOSE of the VM handle"))
        return;
    hvt_stats_unchanged(&before, "after closing both handles");
}

static void destroy_vm_while_vcpus_run_elsewhere(void)
{
    unsigned n = conc_cpus();
    struct vm_instance vm, vcpus[CONC_MAX_CPUS];
    struct hv_stats before;
    int ok = 1;

    if (n < 2 || !hvt_stats(&before) || conc_spin_guest(&vm) < 0)
        return;
    for (unsigned k = 1; k < n; k++) {
        if (conc_add_vcpu(&vm, k, HVT_CODE_GPA, &vcpus[k]) < 0)
            return;
        conc_spin_init(&spinners[k], &vcpus[k]);
    }
    for (unsigned k = 1; k < n; k++)
        smp_call(k, conc_spin_job, &spinners[k]);
    for (unsigned k = 1; k < n && ok; k++)
        ok = conc_wait_running(&spinners[k], "RUN elsewhere");
    for (unsigned k = 1; k < n; k++)
        __atomic_store_n(&spinners[k].stop, 1, __ATOMIC_RELEASE);
    /* The VM handle first, then every vcpu handle, all while they run. */
    ok = ok && hvt_err(hv_close(vm.vm), 0, "CLOSE of the VM handle during RUNs") &&
         hvt_err(hv_close(vm.vcpu), 0, "CLOSE of idle vcpu 0");
    for (unsigned k = 1; k < n && ok; k++)
        ok = hvt_err(hv_close(vcpus[k].vcpu), 0, "CLOSE of a vcpu handle during its RUN");
    for (unsigned k = 1; k < n; k++)
        smp_wait(k);
    for (unsigned k = 1; k < n && ok; k++)
        ok = conc_spin_ended_intr(&spinners[k], k, 1, "a RUN whose VM was closed");
    if (ok)
        hvt_stats_unchanged(&before, "after closing the VM and its vcpus");
}

/* ---- DUP and CLOSE against calls ----------------------------------- */

struct reader_job {
    hv_handle_t vcpu;
    struct hv_regs regs;
    uint64_t done, busy;
    char failure[CONC_FAILURE_MAX];
} __attribute__((aligned(64)));

static struct reader_job reader;

/* GET_REGS may meet CPU 0's GET_REGS on the same vcpu: -HV_EBUSY. */
static void reader_job_run(unsigned cpu, void *arg)
{
    struct reader_job *job = arg;

    (void)cpu;
    for (unsigned i = 0; i < READER_CALLS; i++) {
        long rc = hv_get_regs(job->vcpu, &job->regs);

        if (rc == -HV_EBUSY) {
            job->busy++;
        } else if (rc != 0) {
            conc_job_fail(job->failure, "GET_REGS call %u gave %ld", i, rc);
            return;
        } else if (job->regs.rax != REGS_MARKER) {
            conc_job_fail(job->failure, "GET_REGS call %u: rax 0x%lx", i,
                          job->regs.rax);
            return;
        } else {
            job->done++;
        }
    }
}

/* One DUP (read only), GET_REGS on it, CLOSE, and the closed dup refused. */
static int dup_round(hv_handle_t vcpu, unsigned round)
{
    struct hv_regs regs;
    long dup, rc;
    char got[48];

    dup = hv_dup(vcpu, HV_RIGHT_READ);
    if (!hvt_ok(dup, "DUP of the vcpu with READ only"))
        return 0;
    rc = hv_get_regs(dup, &regs);
    if (rc != 0 && rc != -HV_EBUSY) {
        hvt_fail("round %u: GET_REGS on the dup expected success or HV_EBUSY, "
                 "got %s", round, hvt_result_name(rc, got, sizeof(got)));
        hv_close(dup);
        return 0;
    }
    if ((rc == 0 && !hvt_eq(regs.rax, REGS_MARKER, "rax read through the dup")) ||
        !hvt_err(hv_set_regs(dup, &regs), -HV_EPERM, "SET_REGS on the READ-only dup")) {
        hv_close(dup);
        return 0;
    }
    return hvt_err(hv_close(dup), 0, "CLOSE of the dup") &&
           hvt_err(hv_get_regs(dup, &regs), -HV_ECLOSED, "GET_REGS on the closed dup");
}

static void dup_close_race_with_calls(void)
{
    struct vm_instance vm;
    struct hv_stats before;
    struct hv_regs regs;
    int ok = 1;

    if (conc_cpus() < 2 || !hvt_stats(&before) || conc_spin_guest(&vm) < 0 ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS"))
        return;
    regs.rax = REGS_MARKER;
    if (!hvt_err(hv_set_regs(vm.vcpu, &regs), 0, "SET_REGS of the marker"))
        return;
    memset(&reader, 0, sizeof(reader));
    reader.vcpu = vm.vcpu;
    smp_call(1, reader_job_run, &reader);
    for (unsigned round = 0; round < DUP_ROUNDS && ok; round++)
        ok = dup_round(vm.vcpu, round);
    smp_wait(1);
    if (!ok || !conc_job_passed(reader.failure, 1) ||
        !hvt_eq(reader.done + reader.busy, READER_CALLS, "GET_REGS calls on CPU 1"))
        return;
    /* The original handle is untouched by the dups' lives and deaths. */
    if (!hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS on the original handle") ||
        !hvt_eq(regs.rax, REGS_MARKER, "rax after the race") ||
        !hvt_err(hv_set_regs(vm.vcpu, &regs), 0, "SET_REGS on the original handle") ||
        !hvt_err(hv_close(vm.vcpu), 0, "CLOSE of the vcpu") ||
        !hvt_err(hv_close(vm.vm), 0, "CLOSE of the VM"))
        return;
    hvt_stats_unchanged(&before, "after closing the VM");
}

const struct hvtest_case hvtest_concurrency_close_cases[] = {
    { "close_vcpu_handle_while_running_elsewhere",
      close_vcpu_handle_while_running_elsewhere },
    { "destroy_vm_while_vcpus_run_elsewhere", destroy_vm_while_vcpus_run_elsewhere },
    { "dup_close_race_with_calls", dup_close_race_with_calls },
    { NULL, NULL },
};
