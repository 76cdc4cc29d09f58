// sources: hv/handle.c
/* Host microbenchmark of the handle lookup and reference path (issue 6):
 * handle_get + a minimal call + handle_put, compiled from hv/handle.c and
 * run on pthreads, 1 to nproc threads, for three designs:
 *   per-vcpu        each thread calls through its own handle to its own vcpu
 *                   (the design: a call touches only its own slot's line);
 *   shared handle   every thread uses one handle, so one slot line bounces
 *                   between CPUs (all callers on one shared vcpu);
 *   shared counter  per-vcpu handles, plus one VM-wide reference count taken
 *                   and dropped on every call (the design it replaced).
 * Figures are wall-clock on the machine it runs on (CLOCK_MONOTONIC), best
 * of a few runs: the point is cache-line contention, which an instruction
 * count cannot show.
 *   usage: handle_bench [calls-per-thread] [max-threads] */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hv/handle.h"

#define DEFAULT_CALLS  10000000L /* ~50 ms a run: long enough that threads overlap */
#define REPEATS        3
#define MAX_THREADS    256

enum variant { PER_VCPU, SHARED_HANDLE, SHARED_COUNTER, VARIANT_COUNT };
static const char *const variant_names[VARIANT_COUNT] = {
    "per-vcpu", "shared-handle", "shared-counter",
};

/* Stand-in for a vcpu object: the call reads one field. One line each so
 * that per-vcpu objects never share a line. */
struct bench_vcpu {
    uint64_t rip;
} __attribute__((aligned(64)));

static struct handle_slot slots[HANDLE_TABLE_SIZE];
static struct handle_table table;
static struct bench_vcpu vcpus[MAX_THREADS];
static hv_handle_t vcpu_handles[MAX_THREADS];

/* The VM-wide count of the shared-counter variant, alone on its line. */
static struct {
    uint64_t calls_in_flight;
} __attribute__((aligned(64))) vm_refcount;

static cpu_set_t allowed_cpus;
static int allowed_cpu_list[CPU_SETSIZE];
static int allowed_cpu_count;

struct worker {
    pthread_t thread;
    int id;
    enum variant variant;
    long calls;
    pthread_barrier_t *start;
    struct timespec begin, end;
    uint64_t sink;           /* keeps the call's read alive */
} __attribute__((aligned(64)));

static void never_released(void *object, enum hv_handle_type type)
{
    (void)object;
    (void)type;
    fprintf(stderr, "handle_bench: a handle was released during the run\n");
    exit(1);
}

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

/* The measured loop: what a per-vcpu hypercall does around its work. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    hv_handle_t handle = w->variant == SHARED_HANDLE ? vcpu_handles[0]
                                                     : vcpu_handles[w->id];
    bool vm_wide = w->variant == SHARED_COUNTER;
    uint64_t sink = 0;

    pthread_barrier_wait(w->start);
    clock_gettime(CLOCK_MONOTONIC, &w->begin);
    for (long i = 0; i < w->calls; i++) {
        long err = 0;
        struct handle_slot *slot = handle_get(&table, handle, HV_HANDLE_VCPU,
                                              HV_RIGHT_READ, &err);
        if (!slot) {
            fprintf(stderr, "handle_bench: handle_get failed: %ld\n", err);
            exit(1);
        }
        if (vm_wide)
            __atomic_add_fetch(&vm_refcount.calls_in_flight, 1, __ATOMIC_ACQUIRE);
        sink += ((const struct bench_vcpu *)slot->object)->rip;
        if (vm_wide)
            __atomic_sub_fetch(&vm_refcount.calls_in_flight, 1, __ATOMIC_RELEASE);
        handle_put(&table, slot);
    }
    clock_gettime(CLOCK_MONOTONIC, &w->end);
    w->sink = sink;
    return NULL;
}

/* One run of `threads` workers; returns wall seconds from the first start
 * to the last finish. */
static double run_once(enum variant variant, int threads, long calls)
{
    static struct worker workers[MAX_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);

    for (int i = 0; i < threads; i++) {
        struct worker *w = &workers[i];
        *w = (struct worker){ .id = i, .variant = variant, .calls = calls,
                              .start = &start };
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        /* Pin: thread i on the i-th allowed CPU, wrapping when oversubscribed. */
        cpu_set_t cpu;
        CPU_ZERO(&cpu);
        CPU_SET(allowed_cpu_list[i % allowed_cpu_count], &cpu);
        pthread_attr_setaffinity_np(&attr, sizeof(cpu), &cpu);
        int rc = pthread_create(&w->thread, &attr, worker_main, w);
        if (rc == EINVAL) /* affinity refused: run unpinned */
            rc = pthread_create(&w->thread, NULL, worker_main, w);
        pthread_attr_destroy(&attr);
        if (rc) {
            fprintf(stderr, "handle_bench: pthread_create: error %d\n", rc);
            exit(1);
        }
    }
    struct timespec first = { 0, 0 }, last = { 0, 0 };
    for (int i = 0; i < threads; i++) {
        struct worker *w = &workers[i];
        pthread_join(w->thread, NULL);
        if (i == 0 || seconds_between(&w->begin, &first) > 0)
            first = w->begin;
        if (i == 0 || seconds_between(&last, &w->end) > 0)
            last = w->end;
    }
    pthread_barrier_destroy(&start);
    if (__atomic_load_n(&vm_refcount.calls_in_flight, __ATOMIC_RELAXED) != 0 ||
        handle_slot_users(&slots[0]) != 1) {
        fprintf(stderr, "handle_bench: counts not back to rest after a run\n");
        exit(1);
    }
    return seconds_between(&first, &last);
}

/* Thread counts to measure: every count up to nproc (powers of two past 8),
 * then twice nproc, oversubscribed. */
static int next_thread_count(int threads, int max_threads)
{
    int next = threads < 8 ? threads + 1 : threads * 2;
    if (threads < max_threads && next > max_threads)
        next = max_threads;
    return next;
}

int main(int argc, char **argv)
{
    long calls = argc > 1 ? atol(argv[1]) : DEFAULT_CALLS;
    if (sched_getaffinity(0, sizeof(allowed_cpus), &allowed_cpus) != 0) {
        CPU_ZERO(&allowed_cpus);
        CPU_SET(0, &allowed_cpus);
    }
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &allowed_cpus))
            allowed_cpu_list[allowed_cpu_count++] = cpu;
    int nproc = argc > 2 ? atoi(argv[2]) : allowed_cpu_count;
    if (calls <= 0 || nproc <= 0 || nproc * 2 > MAX_THREADS) {
        fprintf(stderr, "usage: %s [calls-per-thread] [max-threads <= %d]\n",
                argv[0], MAX_THREADS / 2);
        return 2;
    }

    handle_table_init(&table, slots, never_released);
    for (int i = 0; i < nproc * 2; i++) {
        vcpus[i].rip = 0x1000 + (uint64_t)i;
        vcpu_handles[i] = handle_open(&table, HV_HANDLE_VCPU,
                                      HV_RIGHT_READ | HV_RIGHT_RUN, &vcpus[i]);
        if (vcpu_handles[i] < 0) {
            fprintf(stderr, "handle_bench: handle_open failed\n");
            return 1;
        }
    }

    printf("handle_get + read one vcpu field + handle_put, %ld calls per thread,\n"
           "best of %d; wall-clock on this machine (%d CPUs), threads pinned.\n"
           "ns/op = wall time / calls per thread; Mops/s = all threads' calls / wall time\n\n",
           calls, REPEATS, allowed_cpu_count);
    printf("%-20s", "threads");
    for (int v = 0; v < VARIANT_COUNT; v++)
        printf("  %14s ns/op  Mops/s", variant_names[v]);
    printf("\n");

    double base_mops[VARIANT_COUNT] = { 0 }, top_mops[VARIANT_COUNT] = { 0 };
    for (int threads = 1; threads <= nproc * 2;
         threads = threads == nproc ? nproc * 2 : next_thread_count(threads, nproc)) {
        char label[32];
        snprintf(label, sizeof(label), "%d%s", threads,
                 threads > allowed_cpu_count ? " (oversubscribed)" : "");
        printf("%-20s", label);
        for (int v = 0; v < VARIANT_COUNT; v++) {
            double best = 0;
            for (int r = 0; r < REPEATS; r++) {
                double wall = run_once((enum variant)v, threads, calls);
                if (r == 0 || wall < best)
                    best = wall;
            }
            double mops = (double)calls * threads / best / 1e6;
            printf("  %20.1f  %6.1f", best * 1e9 / (double)calls, mops);
            if (threads == 1)
                base_mops[v] = mops;
            if (threads == nproc)
                top_mops[v] = mops;
        }
        printf("\n");
        fflush(stdout);
    }

    printf("\nreading: throughput at %d threads / at 1 thread:", nproc);
    for (int v = 0; v < VARIANT_COUNT; v++)
        printf(" %s %.2fx%s", variant_names[v], top_mops[v] / base_mops[v],
               v + 1 < VARIANT_COUNT ? "," : "");
    printf(" (%d.00x = linear; below 1x = %d threads do less than one)\n",
           nproc, nproc);
    return 0;
}
