/*
 * Shared by the concurrency tests (hvtest_concurrency.c,
 * hvtest_concurrency_close.c): a spinning guest that a job keeps inside RUN
 * on another control-domain CPU, and per-job failure records.
 *
 * Jobs run on other CPUs and never call hvt_fail (its message buffer is the
 * runner's, unlocked): each job writes its first failure into its own
 * record, and CPU 0 reports the records after smp_wait. Every record is
 * static or page-allocated before the jobs start, on its own cache line.
 */
#ifndef GUEST_TOOLS_TOOLS_HVTEST_CONCURRENCY_H
#define GUEST_TOOLS_TOOLS_HVTEST_CONCURRENCY_H

#include <stdint.h>

#include "guest-tools/tools/hvtest.h"

#define CONC_MAX_CPUS 4
#define CONC_FAILURE_MAX 160

/* A vcpu that a job (conc_spin_job) keeps inside RUN on another CPU: it
 * RUNs again after each slice until CPU 0 sets `stop`, so that CPU 0 finds
 * it inside RUN however late CPU 0 gets there. */
struct spin_run {
    hv_handle_t vcpu;
    struct hv_run *run;
    uint32_t stop;             /* CPU 0: RUN no more after this one */
    uint32_t entering;         /* job: about to call RUN (set before each) */
    long rc;                   /* the last RUN's result */
    uint32_t exit_reason;      /* the exit of the last RUN that succeeded */
    uint64_t ended_tsc;        /* TSC when the last RUN returned */
    uint64_t runs;             /* RUNs that succeeded */
    uint64_t busy;             /* RUNs refused with -HV_EBUSY (CPU 0 held it) */
} __attribute__((aligned(64)));

uint64_t conc_tsc(void);

/* Control-domain CPUs the tests use: smp_cpu_count(), at most 4. */
unsigned conc_cpus(void);

/* The first failure of a job, kept in its own buffer. */
void conc_job_fail(char *failure, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reports a job's failure as the test's (on CPU 0, after smp_wait). */
int conc_job_passed(const char *failure, unsigned cpu);

/* vm with vcpu 0 in flat 32-bit mode at a `jmp $` (kept for closing). */
int conc_spin_guest(struct vm_instance *vm);
/* One more vcpu of vm in `slot` with its own run page, at the same entry;
 * *vcpu is vm with that vcpu and run page. */
int conc_add_vcpu(struct vm_instance *vm, uint32_t slot, uint32_t entry,
                  struct vm_instance *vcpu);

void conc_spin_init(struct spin_run *s, const struct vm_instance *vcpu);
/* smp_job: RUNs s->vcpu (retrying -HV_EBUSY) until a RUN fails or stop. */
void conc_spin_job(unsigned cpu, void *arg);
/* Waits until the job is inside RUN, seen as GET_REGS giving -HV_EBUSY. */
int conc_wait_running(struct spin_run *s, const char *what);
/* After stop: the job's RUNs gave 0 with HV_EXIT_INTR (slice, kick: the
 * documented result of a RUN in flight), the last one perhaps, with
 * may_be_closed, -HV_ECLOSED (a RUN begun after its handle was closed). */
int conc_spin_ended_intr(const struct spin_run *s, unsigned cpu, int may_be_closed,
                         const char *what);

/* TSC ticks of one time slice: a spinning RUN on this CPU, not kicked. */
uint64_t conc_slice_ticks(struct vm_instance *vm);

#endif
