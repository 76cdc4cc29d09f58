/*
 * Concurrency (abi/README.md sections 1 and 7), on as many control-domain
 * CPUs as there are, up to 4: every CPU drives its own vcpu of one VM with
 * no cross-talk; a call on a vcpu inside RUN on another CPU returns
 * -HV_EBUSY at once; KICK ends a RUN on another CPU. Closing and
 * destroying under running vcpus is in hvtest_concurrency_close.c.
 *
 * With one CPU there is nothing to race, and the tests pass without
 * checking anything, so that the PASS lines are the same on every machine.
 */
#include <stdarg.h>

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest_concurrency.h"

#define RFLAGS_FIXED 0x2u
#define LOOP_ROUNDS 200
#define LOOP_CODE_STRIDE 0x40        /* each vcpu's program at its own address */
#define BUSY_RETRY_MAX (1u << 24)    /* RUN refused while CPU 0 holds the vcpu */
#define PROBE_MAX 2000000            /* GET_REGS probes before "never ran" */
#define SLICE_INTR_MAX 1000          /* slices a short program may span */
#define BUSY_SAMPLES 8               /* -HV_EBUSY results timed per call */

/* ---- shared with hvtest_concurrency_close.c ------------------------- */

uint64_t conc_tsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

unsigned conc_cpus(void)
{
    unsigned n = smp_cpu_count();
    return n > CONC_MAX_CPUS ? CONC_MAX_CPUS : n;
}

void conc_job_fail(char *failure, const char *fmt, ...)
{
    va_list ap;

    if (failure[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(failure, CONC_FAILURE_MAX, fmt, ap);
    va_end(ap);
}

int conc_job_passed(const char *failure, unsigned cpu)
{
    if (failure[0] == '\0')
        return 1;
    hvt_fail("on CPU %u: %s", cpu, failure);
    return 0;
}

int conc_spin_guest(struct vm_instance *vm)
{
    struct hvt_code code;

    if (hvt_guest_create(vm, "hvtest") < 0)
        return -1;
    hvt_code_start(&code, vm, HVT_CODE_GPA);
    hvt_jmp_self(&code);
    return hvt_guest_flat32(vm, HVT_CODE_GPA);
}

int conc_add_vcpu(struct vm_instance *vm, uint32_t slot, uint32_t entry,
                  struct vm_instance *vcpu)
{
    *vcpu = *vm;
    vcpu->run = page_alloc(HV_RUN_PAGE_SIZE);
    vcpu->vcpu = hvt_keep(hv_create_vcpu(vm->vm, slot, vcpu->run));
    if (!hvt_ok(vcpu->vcpu, "CREATE_VCPU"))
        return -1;
    return hvt_guest_flat32(vcpu, entry);
}

void conc_spin_init(struct spin_run *s, const struct vm_instance *vcpu)
{
    memset(s, 0, sizeof(*s));
    s->vcpu = vcpu->vcpu;
    s->run = vcpu->run;
}

/* A RUN refused with -HV_EBUSY only means CPU 0 held the vcpu for one
 * call (its probes): try again. */
void conc_spin_job(unsigned cpu, void *arg)
{
    struct spin_run *s = arg;
    long rc;

    (void)cpu;
    for (;;) {
        __atomic_store_n(&s->entering, 1, __ATOMIC_RELEASE);
        rc = hv_run(s->vcpu);
        if (rc == -HV_EBUSY && ++s->busy < BUSY_RETRY_MAX)
            continue;
        s->ended_tsc = conc_tsc();
        s->rc = rc;
        if (rc == 0) {
            s->exit_reason = s->run->exit_reason;
            s->runs++;
        }
        if (rc != 0 || __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
            return;
    }
}

int conc_wait_running(struct spin_run *s, const char *what)
{
    struct hv_regs regs;
    char got[48];

    while (!__atomic_load_n(&s->entering, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause");
    for (unsigned i = 0; i < PROBE_MAX; i++) {
        long rc = hv_get_regs(s->vcpu, &regs);
        if (rc == -HV_EBUSY)
            return 1;
        if (rc != 0) {
            hvt_fail("%s: GET_REGS probe expected success or HV_EBUSY, got %s",
                     what, hvt_result_name(rc, got, sizeof(got)));
            return 0;
        }
    }
    hvt_fail("%s: the vcpu was never seen inside RUN on the other CPU", what);
    return 0;
}

int conc_spin_ended_intr(const struct spin_run *s, unsigned cpu, int may_be_closed,
                         const char *what)
{
    char got[48];

    if (s->rc != 0 && !(may_be_closed && s->rc == -HV_ECLOSED)) {
        hvt_fail("%s: RUN on CPU %u expected success%s, got %s", what, cpu,
                 may_be_closed ? " or HV_ECLOSED" : "",
                 hvt_result_name(s->rc, got, sizeof(got)));
        return 0;
    }
    if (s->runs == 0 || s->exit_reason != HV_EXIT_INTR) {
        hvt_fail("%s: RUN on CPU %u expected HV_EXIT_INTR, got %s (%lu RUNs)", what,
                 cpu, hvt_exit_name(s->exit_reason), s->runs);
        return 0;
    }
    return 1;
}

uint64_t conc_slice_ticks(struct vm_instance *vm)
{
    uint64_t start = conc_tsc();

    if (!hvt_run(vm) || !hvt_exit_is(vm, HV_EXIT_INTR, "a spinning RUN"))
        return 0;
    return conc_tsc() - start;
}

/* ---- every CPU on its own vcpu ------------------------------------- */

struct loop_job {
    struct vm_instance vcpu;
    uint32_t entry;            /* add eax, constant; out HVT_PORT_VALUE, eax */
    uint32_t constant;
    unsigned rounds;
    char failure[CONC_FAILURE_MAX];
} __attribute__((aligned(64)));

static struct loop_job loop_jobs[CONC_MAX_CPUS];

/* Each vcpu's own numbers: a cross-talk shows as another vcpu's value. */
static uint32_t loop_constant(unsigned k) { return 0x11110000u * (k + 1) + 0x0101u; }
static uint64_t loop_input(unsigned k, unsigned round) { return (uint64_t)k << 24 | round; }
static uint64_t loop_marker(unsigned k, unsigned round)
{
    return 0xfeed000000000000ull | (uint64_t)k << 32 | round;
}

/* One round: SET_REGS, RUN to the OUT, GET_REGS; 0 with the failure set. */
static int loop_round(struct loop_job *job, unsigned k, unsigned round)
{
    struct hv_run *run = job->vcpu.run;
    struct hv_regs regs;
    uint32_t want = (uint32_t)loop_input(k, round) + job->constant, data;
    unsigned slices = 0;
    long rc;

    memset(&regs, 0, sizeof(regs));
    regs.rax = loop_input(k, round);
    regs.rbx = loop_marker(k, round);
    regs.rip = job->entry;
    regs.rsp = HVT_STACK_TOP;
    regs.rflags = RFLAGS_FIXED;
    if ((rc = hv_set_regs(job->vcpu.vcpu, &regs)) != 0) {
        conc_job_fail(job->failure, "round %u: SET_REGS gave %ld", round, rc);
        return 0;
    }
    /* A slice can end before two instructions under an emulator. */
    do {
        if ((rc = hv_run(job->vcpu.vcpu)) != 0) {
            conc_job_fail(job->failure, "round %u: RUN gave %ld", round, rc);
            return 0;
        }
    } while (run->exit_reason == HV_EXIT_INTR && ++slices < SLICE_INTR_MAX);
    memcpy(&data, (const uint8_t *)run + run->io.data_offset, 4);
    if (run->exit_reason != HV_EXIT_IO || run->io.port != HVT_PORT_VALUE ||
        run->io.direction != HV_IO_OUT || run->io.size != 4 ||
        run->exit_rip != job->entry + 5 || data != want) {
        conc_job_fail(job->failure, "round %u: expected OUT 0x%x to port 0x%x at "
                      "0x%x, got %s port 0x%x data 0x%x at 0x%lx", round, want,
                      HVT_PORT_VALUE, job->entry + 5, hvt_exit_name(run->exit_reason),
                      run->io.port, data, run->exit_rip);
        return 0;
    }
    if ((rc = hv_get_regs(job->vcpu.vcpu, &regs)) != 0) {
        conc_job_fail(job->failure, "round %u: GET_REGS gave %ld", round, rc);
        return 0;
    }
    if ((uint32_t)regs.rax != want || regs.rbx != loop_marker(k, round)) {
        conc_job_fail(job->failure, "round %u: GET_REGS expected rax 0x%x rbx 0x%lx, "
                      "got rax 0x%lx rbx 0x%lx", round, want,
                      loop_marker(k, round), regs.rax, regs.rbx);
        return 0;
    }
    return 1;
}

static void loop_job_run(unsigned cpu, void *arg)
{
    struct loop_job *job = arg;

    for (unsigned round = 0; round < LOOP_ROUNDS; round++) {
        if (!loop_round(job, cpu, round))
            return;
        job->rounds++;
    }
}

static void per_vcpu_loops_on_every_cpu(void)
{
    unsigned n = conc_cpus();
    struct vm_instance vm;
    struct hv_stats before;
    struct hvt_code code;

    if (n < 2 || !hvt_stats(&before) || hvt_guest_create(&vm, "hvtest") < 0)
        return;
    for (unsigned k = 0; k < n; k++) {
        struct loop_job *job = &loop_jobs[k];
        static const uint8_t add_eax[] = { 0x05 };   /* add eax, imm32 */

        memset(job, 0, sizeof(*job));
        job->entry = HVT_CODE_GPA + k * LOOP_CODE_STRIDE;
        job->constant = loop_constant(k);
        hvt_code_start(&code, &vm, job->entry);
        hvt_bytes(&code, add_eax, sizeof(add_eax));
        hvt_bytes(&code, (const uint8_t *)&job->constant, 4);
        hvt_out_imm(&code, HVT_PORT_VALUE, 4);
        hvt_hlt(&code);
        if (k == 0) {
            job->vcpu = vm;
            if (hvt_guest_flat32(&vm, job->entry) < 0)
                return;
        } else if (conc_add_vcpu(&vm, k, job->entry, &job->vcpu) < 0) {
            return;
        }
    }
    for (unsigned k = 1; k < n; k++)
        smp_call(k, loop_job_run, &loop_jobs[k]);
    loop_job_run(0, &loop_jobs[0]);
    for (unsigned k = 0; k < n; k++) {
        smp_wait(k);
        if (!conc_job_passed(loop_jobs[k].failure, k) ||
            !hvt_eq(loop_jobs[k].rounds, LOOP_ROUNDS, "rounds completed"))
            return;
    }
    for (unsigned k = 1; k < n; k++)
        hvt_err(hv_close(loop_jobs[k].vcpu.vcpu), 0, "CLOSE of a vcpu");
    hvt_err(hv_close(vm.vcpu), 0, "CLOSE of vcpu 0");
    hvt_err(hv_close(vm.vm), 0, "CLOSE of the VM");
    hvt_stats_unchanged(&before, "after closing the VM");
}

/* ---- busy and kick -------------------------------------------------- */

static struct spin_run spinner;

/* Calls `call` on the vcpu until it gives -HV_EBUSY BUSY_SAMPLES times
 * (0 is allowed: the other CPU was between two RUNs). An emulator may
 * pause a CPU between any two instructions, so one sample can be slow:
 * the fastest one shows whether the call waits for the RUN. */
static int busy_at_once(long (*call)(hv_handle_t, void *), void *arg,
                        uint64_t slice, const char *what)
{
    uint64_t fastest = ~0ull;
    unsigned seen = 0;
    char got[48];

    for (unsigned i = 0; i < PROBE_MAX && seen < BUSY_SAMPLES; i++) {
        uint64_t start = conc_tsc();
        long rc = call(spinner.vcpu, arg);
        uint64_t ticks = conc_tsc() - start;

        if (rc == -HV_EBUSY) {
            seen++;
            fastest = ticks < fastest ? ticks : fastest;
        } else if (rc != 0) {
            hvt_fail("%s on a vcpu running elsewhere: expected HV_EBUSY, got %s",
                     what, hvt_result_name(rc, got, sizeof(got)));
            return 0;
        }
    }
    if (!hvt_true(seen == BUSY_SAMPLES, "the vcpu was never busy"))
        return 0;
    ctl_printf("concurrency: %s gave HV_EBUSY after %lu TSC ticks at best "
               "(a slice is %lu)\n", what, fastest, slice);
    if (fastest > slice / 8) {
        hvt_fail("%s gave HV_EBUSY after %lu TSC ticks at best (a slice is %lu): "
                 "not at once", what, fastest, slice);
        return 0;
    }
    return 1;
}

static long call_run(hv_handle_t vcpu, void *arg) { (void)arg; return hv_run(vcpu); }
static long call_get(hv_handle_t vcpu, void *arg) { return hv_get_regs(vcpu, arg); }
static long call_set(hv_handle_t vcpu, void *arg) { return hv_set_regs(vcpu, arg); }
static long call_get_cpuid(hv_handle_t vcpu, void *arg) { return hv_get_cpuid(vcpu, arg); }
static long call_set_cpuid(hv_handle_t vcpu, void *arg) { return hv_set_cpuid(vcpu, arg); }
static long call_get_events(hv_handle_t vcpu, void *arg) { return hv_get_vcpu_events(vcpu, arg); }
static long call_set_events(hv_handle_t vcpu, void *arg) { return hv_set_vcpu_events(vcpu, arg); }

/* SET_VCPU_EVENTS of no part (flags 0): nothing to change but the claim. */
static struct hv_vcpu_events events_arg;

/* GET_CPUID's room for a whole table; SET_CPUID of no entries (the spinning
 * guest executes no CPUID). */
static struct {
    struct hv_cpuid header;
    struct hv_cpuid_entry entries[HV_MAX_CPUID_ENTRIES];
} cpuid_table_arg, cpuid_empty_arg;

static void run_on_vcpu_running_elsewhere_is_busy(void)
{
    struct vm_instance vm;
    struct hv_stats before;
    struct hv_regs regs;
    uint64_t slice;

    if (conc_cpus() < 2 || !hvt_stats(&before) || conc_spin_guest(&vm) < 0 ||
        (slice = conc_slice_ticks(&vm)) == 0 ||
        !hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS before"))
        return;
    cpuid_table_arg.header.count = HV_MAX_CPUID_ENTRIES;
    conc_spin_init(&spinner, &vm);
    smp_call(1, conc_spin_job, &spinner);
    int ok = conc_wait_running(&spinner, "RUN on CPU 1") &&
             busy_at_once(call_run, NULL, slice, "RUN") &&
             busy_at_once(call_get, &regs, slice, "GET_REGS") &&
             busy_at_once(call_set, &regs, slice, "SET_REGS") &&
             busy_at_once(call_get_cpuid, &cpuid_table_arg, slice, "GET_CPUID") &&
             busy_at_once(call_set_cpuid, &cpuid_empty_arg, slice, "SET_CPUID") &&
             busy_at_once(call_get_events, &events_arg, slice, "GET_VCPU_EVENTS") &&
             (memset(&events_arg, 0, sizeof(events_arg)),
              busy_at_once(call_set_events, &events_arg, slice, "SET_VCPU_EVENTS"));
    __atomic_store_n(&spinner.stop, 1, __ATOMIC_RELEASE);
    hv_kick(vm.vcpu);
    smp_wait(1);
    if (!ok || !conc_spin_ended_intr(&spinner, 1, 0, "the spinning RUN"))
        return;
    /* The other CPU is out of RUN: the same calls work here. */
    vm.run->immediate_exit = 1;
    if (!hvt_err(hv_get_regs(vm.vcpu, &regs), 0, "GET_REGS after the RUN elsewhere") ||
        !hvt_err(hv_set_regs(vm.vcpu, &regs), 0, "SET_REGS after the RUN elsewhere") ||
        !hvt_err(hv_run(vm.vcpu), 0, "RUN after the RUN elsewhere") ||
        !hvt_exit_is(&vm, HV_EXIT_INTR, "RUN with immediate_exit"))
        return;
    vm.run->immediate_exit = 0;
    if (hvt_err(hv_close(vm.vcpu), 0, "CLOSE of the vcpu") &&
        hvt_err(hv_close(vm.vm), 0, "CLOSE of the VM"))
        hvt_stats_unchanged(&before, "after closing the VM");
}

/* KICK needs no claim on the vcpu: it reaches the RUN in progress. Under
 * Bochs VMX the IPI may land only when the slice ends (the preemption timer
 * bounds it), so up to a slice after the kick is within the contract. */
static void kick_ends_run_on_another_cpu(void)
{
    struct vm_instance vm;
    struct hv_stats before;
    uint64_t slice, kicked;

    if (conc_cpus() < 2 || !hvt_stats(&before) || conc_spin_guest(&vm) < 0 ||
        (slice = conc_slice_ticks(&vm)) == 0)
        return;
    /* A RUN that ended at its slice just before the kick is followed by
     * one the kick ends (the job RUNs until told to stop). */
    conc_spin_init(&spinner, &vm);
    smp_call(1, conc_spin_job, &spinner);
    int ok = conc_wait_running(&spinner, "RUN on CPU 1");
    kicked = conc_tsc();
    __atomic_store_n(&spinner.stop, 1, __ATOMIC_RELEASE);
    ok = hvt_err(hv_kick(vm.vcpu), 0, "KICK of a vcpu running elsewhere") && ok;
    smp_wait(1);
    if (!ok || !conc_spin_ended_intr(&spinner, 1, 0, "the kicked RUN"))
        return;
    uint64_t took = spinner.ended_tsc - kicked;
    ctl_printf("concurrency: KICK ended RUN on CPU 1 after %lu TSC ticks "
               "(a slice is %lu)\n", took, slice);
    if (took > 2 * slice)
        hvt_fail("KICK ended RUN on CPU 1 after %lu TSC ticks, more than the "
                 "slice it may wait for (%lu)", took, slice);
    else if (hvt_err(hv_close(vm.vcpu), 0, "CLOSE of the vcpu") &&
             hvt_err(hv_close(vm.vm), 0, "CLOSE of the VM"))
        hvt_stats_unchanged(&before, "after closing the VM");
}

const struct hvtest_case hvtest_concurrency_cases[] = {
    { "per_vcpu_loops_on_every_cpu", per_vcpu_loops_on_every_cpu },
    { "run_on_vcpu_running_elsewhere_is_busy", run_on_vcpu_running_elsewhere_is_busy },
    { "kick_ends_run_on_another_cpu", kick_ends_run_on_another_cpu },
    { NULL, NULL },
};
