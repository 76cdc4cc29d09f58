/*
 * SEND_NMI and the NMI paths (abi/README.md sections 5 and 8): an NMI sent
 * to any CPU, whatever runs there -- the hypervisor serving this very call,
 * an idle or a busy control-domain vcpu, a child inside RUN -- is taken by
 * the hypervisor and counted in GET_STATS `nmis`; nothing stops, no RUN
 * ends because of it, and the guest's work goes on.
 *
 * With one CPU only the calling CPU can be reached, and the tests that
 * need another pass without checking, so that the PASS lines are the same
 * on every machine.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define NMI_POLLS        200000u   /* GET_STATS polls before "never counted" */
#define PROGRESS_POLLS   50000000u /* reads of a counter before "it stopped" */
#define NMI_ROUNDS       5
/* Rounds of NMIs to a CPU running a child: on a loaded emulator host a
 * vCPU thread can be descheduled past a whole slice between the send and
 * the count, so one round that shows the RUN going on needs many tries. */
#define NMI_CHILD_ROUNDS 25
#define MAX_CPUS_USED    4
#define RFLAGS_FIXED     0x2u

/* Waits until GET_STATS counts `want` NMIs; 1 when it does. */
static int nmis_reach(uint64_t want, const char *what)
{
    struct hv_stats stats;

    for (unsigned i = 0; i < NMI_POLLS; i++) {
        if (!hvt_stats(&stats))
            return 0;
        if (stats.nmis >= want)
            return hvt_eq(stats.nmis, want, what);
    }
    hvt_fail("%s: GET_STATS nmis expected %lu, still %lu", what, want, stats.nmis);
    return 0;
}

/* Sends one NMI to `cpu` and waits until the hypervisor has counted it. */
static int nmi_counted(unsigned cpu, const char *what)
{
    struct hv_stats before;

    return hvt_stats(&before) &&
           hvt_err(hv_send_nmi(hvt_sys(), cpu), 0, "SEND_NMI") &&
           nmis_reach(before.nmis + 1, what);
}

/* Waits until *counter moves past `from`: the work on it goes on. */
static int progresses(const volatile uint32_t *counter, uint32_t from, const char *what)
{
    for (unsigned i = 0; i < PROGRESS_POLLS; i++) {
        if (*counter != from)
            return 1;
        __asm__ volatile("pause");
    }
    hvt_fail("%s: stopped at %u", what, from);
    return 0;
}

static unsigned cpus_used(void)
{
    unsigned n = smp_cpu_count();
    return n > MAX_CPUS_USED ? MAX_CPUS_USED : n;
}

static void send_nmi_checks_its_argument(void)
{
    long no_run, vm;

    if (!hvt_err(hv_send_nmi(hvt_sys(), hvt_info()->cpu_count), -HV_ERANGE,
                 "SEND_NMI to the CPU after the last") ||
        !hvt_err(hv_call(HV_CALL_SEND_NMI, (uint64_t)hvt_sys(), ~0ull, 0, 0, 0, 0),
                 -HV_ERANGE, "SEND_NMI with a huge CPU index") ||
        !hvt_err(hv_call(HV_CALL_SEND_NMI, (uint64_t)hvt_sys(), 1ull << 32, 0, 0, 0, 0),
                 -HV_ERANGE, "SEND_NMI with CPU 0 in the upper half"))
        return;
    no_run = hvt_keep(hv_dup(hvt_sys(), HV_RIGHTS_ALL & ~HV_RIGHT_RUN));
    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (hvt_ok(no_run, "DUP of the system handle without RUN") &&
        hvt_err(hv_send_nmi(no_run, 0), -HV_EPERM, "SEND_NMI without RUN") &&
        hvt_ok(vm, "CREATE_VM"))
        hvt_err(hv_send_nmi(vm, 0), -HV_EBADTYPE, "SEND_NMI on a VM handle");
}

/* The calling CPU is inside the hypervisor, serving SEND_NMI, when its own
 * NMI arrives. */
static void nmi_to_own_cpu_is_counted(void)
{
    for (unsigned i = 0; i < NMI_ROUNDS; i++)
        if (!nmi_counted(0, "NMI to the calling CPU"))
            return;
    hvt_eq(hv_get_api_version(hvt_sys()), HV_API_VERSION,
           "GET_API_VERSION after NMIs to the calling CPU");
}

/* ---- other control-domain CPUs ------------------------------------- */

struct busy_job {
    volatile uint32_t count;
    volatile uint32_t stop;
} __attribute__((aligned(64)));

static struct busy_job busy_jobs[MAX_CPUS_USED];

static void busy_loop(unsigned cpu, void *arg)
{
    struct busy_job *job = arg;

    (void)cpu;
    while (!job->stop)
        job->count++;
}

static void mark_ran(unsigned cpu, void *arg)
{
    (void)cpu;
    *(volatile uint32_t *)arg = 1;
}

/* An idle CPU sleeps in the hypervisor (its vcpu's HLT); a busy one runs
 * its control-domain vcpu. Both take the NMI and carry on with their work. */
static void nmi_to_other_control_domain_cpus(void)
{
    for (unsigned k = 1; k < cpus_used(); k++) {
        struct busy_job *job = &busy_jobs[k];
        volatile uint32_t ran = 0;

        if (!nmi_counted(k, "NMI to an idle control-domain CPU") ||
            !hvt_true(smp_call(k, mark_ran, (void *)&ran), "smp_call after the NMI"))
            return;
        smp_wait(k);
        if (!hvt_true(ran, "a job on the CPU that took the NMI while idle ran"))
            return;
        memset((void *)job, 0, sizeof(*job));
        if (!hvt_true(smp_call(k, busy_loop, job), "smp_call of a busy loop") ||
            !progresses(&job->count, 0, "the busy control-domain vcpu"))
            break;
        for (unsigned i = 0; i < NMI_ROUNDS; i++) {
            uint32_t at = job->count;
            if (!nmi_counted(k, "NMI to a busy control-domain CPU") ||
                !progresses(&job->count, at, "the control-domain vcpu's loop after an NMI"))
                break;
        }
        job->stop = 1;
        smp_wait(k);
        if (hvt_failed())
            return;
    }
}

/* ---- a child inside RUN on another CPU ----------------------------- */

struct child_job {
    hv_handle_t vcpu;
    struct hv_run *run;
    volatile uint32_t stop;
    volatile uint64_t runs;      /* RUNs that returned */
    long rc;                     /* first RUN failure */
    uint32_t other_exit;         /* first exit that was not HV_EXIT_INTR */
} __attribute__((aligned(64)));

static struct child_job child;

/* RUN again after every slice until stopped; anything but a slice end (a
 * failure, another exit) ends the job and is reported. */
static void run_child(unsigned cpu, void *arg)
{
    struct child_job *job = arg;

    (void)cpu;
    while (!job->stop) {
        long rc = hv_run(job->vcpu);
        if (rc != 0) {
            job->rc = rc;
            return;
        }
        job->runs++;
        if (job->run->exit_reason != HV_EXIT_INTR) {
            job->other_exit = job->run->exit_reason;
            return;
        }
    }
}

static void nmi_to_cpu_running_child_goes_on(void)
{
    static const uint8_t inc_counter[] = { 0xff, 0x05 };   /* inc dword [imm32] */
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t address = HVT_DATA_GPA, loop;
    volatile uint32_t *counter;
    unsigned went_on = 0;

    if (cpus_used() < 2 || hvt_guest_create(&vm, "hvtest") < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    loop = hvt_bytes(&code, inc_counter, sizeof(inc_counter));
    hvt_bytes(&code, (const uint8_t *)&address, 4);
    hvt_bytes(&code, (const uint8_t[]){ 0xeb, (uint8_t)(loop - (code.at + 2)) }, 2);
    counter = (volatile uint32_t *)(vm.ram + HVT_DATA_GPA);
    *counter = 0;
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    memset(&child, 0, sizeof(child));
    child.vcpu = vm.vcpu;
    child.run = vm.run;
    if (!hvt_true(smp_call(1, run_child, &child), "smp_call of the child's RUN loop"))
        return;
    if (progresses(counter, 0, "the child on CPU 1 (it never ran)")) {
        for (unsigned i = 0; i < NMI_CHILD_ROUNDS && !went_on; i++) {
            uint64_t runs = child.runs;
            uint32_t at = *counter;
            if (!nmi_counted(1, "NMI to a CPU running a child"))
                break;
            went_on += child.runs == runs;
            if (!progresses(counter, at, "the child's loop after an NMI"))
                break;
        }
    }
    child.stop = 1;
    smp_wait(1);
    if (hvt_failed() || !hvt_err(child.rc, 0, "RUN of the child while NMIs came") ||
        !hvt_eq(child.other_exit, 0, "an exit other than HV_EXIT_INTR (slice end) "
                "while NMIs came"))
        return;
    /* A RUN ended by each NMI would have returned between the send and the
     * count every time; a slice ending in each of those windows, 25 times
     * over, is all but impossible. */
    hvt_true(went_on > 0, "every NMI ended the child's RUN (it must go on)");
}

const struct hvtest_case hvtest_nmi_cases[] = {
    { "send_nmi_checks_its_argument", send_nmi_checks_its_argument },
    { "nmi_to_own_cpu_is_counted", nmi_to_own_cpu_is_counted },
    { "nmi_to_other_control_domain_cpus", nmi_to_other_control_domain_cpus },
    { "nmi_to_cpu_running_child_goes_on", nmi_to_cpu_running_child_goes_on },
    { NULL, NULL },
};
