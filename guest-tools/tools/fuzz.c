/*
 * The `fuzz` tool: random hypercalls and call sequences, seeded and
 * reproducible, each result checked against the model of abi/README.md
 * (fuzz.h, fuzz_model.c):
 *   fuzz [seed] [calls] [trace-from] [trace-steps]
 * defaults: seed 1, 100000 calls, no trace, 65536 steps traced.
 * The same seed and count on the same backend make the same steps and
 * calls, whatever the RUNs' exits; every 65536 steps a line gives the
 * generator's state, and trace-steps steps from step trace-from on are
 * each named before they are made: a run that ended after the sequence
 * line of step N is replayed to its end with trace-from N.
 *
 * Each step is one of:
 * - a random call number (known, unknown, documented as coming later)
 *   on a random handle: live, DUPed with fewer rights, closed, stale
 *   (closed, its slot reused), forged, of the wrong type; the common
 *   errors of section 3 must come in their order;
 * - a documented call on a handle that passes, with a structure pointer
 *   misaligned, straddling the end of the caller's memory, past it or
 *   wrapping around: -HV_EINVAL or -HV_EFAULT;
 * - counts and sizes past their limits in valid structures (MSRs, CPUID
 *   entries, XSAVE sizes, XCRs, debug-register and DEBUG_GUEST flags);
 * - a semantic step, whose result the model predicts from what it made:
 *   CREATE_VM up to HV_CAP_MAX_VMS, CREATE_VCPU over every slot and past
 *   them, DUP and CLOSE, SET_MEMORY_REGION and GET_DIRTY_LOG with random
 *   slots, ranges and flags, limits of the argument-only calls, and
 *   random guest states (SET_SREGS from a real-mode, 32-bit or 64-bit
 *   template with random changes, SET_REGS) with random code run through
 *   RUN, also on CPU 1 while CPU 0 calls on the same vcpu (-HV_EBUSY or the
 *   call's own result) and KICKs it. A RUN must never end with
 *   HV_EXIT_FAIL_ENTRY: a state either enters or SET_SREGS refuses it.
 * At the end every handle is closed and GET_STATS must be back at its
 * first figures (frames, objects, VMs, vcpus, handles, nested tables).
 * Every mismatch is printed (the first FUZZ_MAX_REPORTS in full) and the
 * tool fails if there was one.
 *
 * The random code and states include what once crashed QEMU 7.2 itself
 * through the hypervisor (README, known limits), now that the hypervisor
 * keeps it from the emulator: WRMSR (EFER.LME among the MSRs), MOV to
 * CR8 in 64-bit code, code and exceptions at privilege level 3 with the
 * reset TR, EFER.LME without paging, and DEBUG_GUEST hardware breakpoints
 * in the code a RUN executes.
 */
#include <stdarg.h>

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/fuzz.h"
#include "guest-tools/tools/tool.h"

#define FUZZ_MAX_REPORTS 20
#define MAX_HANDLES      600        /* records: live, closed and forged */
#define MAX_LIVE         400        /* well inside the hypervisor's table */
#define MAX_VMS_MODEL    300        /* VM records (live and dead) */
#define RUN_PAGES        700
#define BACKING_BYTES    (4ull << 20)
#define GUEST_RAM        (2ull << 20)
#define MIB2             (2ull << 20)

/* Guest-physical layout of the guest RAM image (the first 2 MiB of the
 * backing, slot 0 of any VM that runs). */
#define GDT_GPA    0x1000u
#define IDT_GPA    0x2000u
#define PML4_GPA   0x3000u
#define PDPT_GPA   0x4000u
#define PD_GPA     0x5000u
#define STACK_TOP  0x8000u
#define CODE_GPA   0x10000u
#define CODE_MAX   192u

#define FUZZ_MAX_RUNS_PER_STATE    3   /* RUNs of one random state */
#define FUZZ_MAX_CALLS_DURING_RUN  6   /* calls on a vcpu CPU 1 runs */
#define FUZZ_SEQUENCE_STEPS        65536   /* steps between sequence lines */

struct fuzz_vm {
    uint8_t live;
    uint8_t lapic;
    uint16_t refs;                /* live handles on it (VM and vcpu) */
    uint64_t vcpus;               /* slots taken */
    uint16_t run_page[HV_MAX_VCPUS];
    uint64_t slot_size[HV_MAX_MEMORY_SLOTS];
    uint64_t slot_gpa[HV_MAX_MEMORY_SLOTS];
    uint32_t slot_flags[HV_MAX_MEMORY_SLOTS];
};

struct fuzz {
    const struct hv_boot_info *info;
    hv_handle_t sys;
    uint64_t rng;
    uint64_t calls, limit;
    uint64_t trace_from;          /* first step printed, 0: none */
    uint64_t trace_steps;         /* how many are printed */
    uint64_t mismatches;
    uint64_t runs, exits[33], sregs_set, sregs_refused, fail_entries;
    uint32_t last_reason;         /* the previous RUN's exit, for reports */
    uint64_t last_rip;
    long max_vms;
    long xsave_size;              /* HV_CAP_XSAVE_SIZE */
    uint64_t deadline_ticks;      /* how long a RUN may sleep: 2 ms */
    struct fuzz_handle h[MAX_HANDLES];
    unsigned handles, live;
    struct fuzz_vm vm[MAX_VMS_MODEL];
    unsigned live_vms;
    uint8_t *run_pages;
    uint16_t run_free[RUN_PAGES];
    unsigned run_free_count;
    uint8_t *backing;             /* BACKING_BYTES, 2 MiB aligned */
    uint8_t *scratch;             /* 64 KiB for structures */
    char what[160];
};

/* ---- randomness --------------------------------------------------------- */

static uint64_t rnd(struct fuzz *f)
{
    /* xorshift64*: tiny, and the same sequence for the same seed anywhere. */
    f->rng ^= f->rng >> 12;
    f->rng ^= f->rng << 25;
    f->rng ^= f->rng >> 27;
    return f->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct fuzz *f, uint64_t n) { return n ? rnd(f) % n : 0; }
static int chance(struct fuzz *f, unsigned percent) { return below(f, 100) < percent; }

/* A value at or near a limit, or random. */
static uint64_t edge_value(struct fuzz *f)
{
    static const uint64_t edges[] = {
        0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256,
        4095, 4096, 4097, 0xffff, 0x10000, 0x7fffffff, 0x80000000ull, 0xffffffffull,
        0x100000000ull, 1ull << 40, 1ull << 47, 1ull << 52, 0x7fffffffffffffffull,
        0x8000000000000000ull, ~0ull, ~0ull - 7,
    };
    if (chance(f, 70))
        return edges[below(f, sizeof(edges) / sizeof(edges[0]))];
    return rnd(f) >> below(f, 64);
}

/* ---- calls and checks ----------------------------------------------------- */

static long call(struct fuzz *f, uint64_t nr, int64_t handle, uint64_t a1, uint64_t a2,
                 uint64_t a3)
{
    f->calls++;
    return hv_call(nr, (uint64_t)handle, a1, a2, a3, 0, 0);
}

static void mismatch(struct fuzz *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mismatch(struct fuzz *f, const char *fmt, ...)
{
    char text[240];
    va_list ap;

    f->mismatches++;
    if (f->mismatches > FUZZ_MAX_REPORTS)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    ctl_printf("fuzz: MISMATCH at call %lu: %s\n", f->calls, text);
}

static const char *result_name(long rc, char *buf, unsigned size)
{
    if (rc >= 0)
        snprintf(buf, size, "%ld", rc);
    else
        snprintf(buf, size, "%s", hv_strerror(rc));
    return buf;
}

/* rc must be want; returns 1 when it is. */
static int expect(struct fuzz *f, long rc, long want, const char *what)
{
    char a[40], b[40];

    if (rc == want)
        return 1;
    mismatch(f, "%s: expected %s, got %s", what, result_name(want, a, sizeof(a)),
             result_name(rc, b, sizeof(b)));
    return 0;
}

/* ---- the handle model ----------------------------------------------------- */

static int slot_live(const struct fuzz *f, int64_t value)
{
    for (unsigned i = 0; i < f->handles; i++)
        if (f->h[i].state == FUZZ_LIVE &&
            fuzz_handle_index(f->h[i].value) == fuzz_handle_index(value))
            return 1;
    return 0;
}

/* Keeps room: a closed or forged record goes first, oldest first. */
static struct fuzz_handle *new_record(struct fuzz *f)
{
    if (f->handles == MAX_HANDLES) {
        unsigned i;
        for (i = 0; i < f->handles && f->h[i].state == FUZZ_LIVE; i++)
            ;
        if (i == f->handles)
            return NULL;
        memmove(&f->h[i], &f->h[i + 1], (f->handles - i - 1) * sizeof(f->h[0]));
        f->handles--;
    }
    struct fuzz_handle *h = &f->h[f->handles++];
    memset(h, 0, sizeof(*h));
    h->vm = -1;
    return h;
}

static void add_live(struct fuzz *f, int64_t value, uint8_t type, uint8_t rights, int vm,
                     uint8_t slot)
{
    struct fuzz_handle *h = new_record(f);

    if (!h)
        return;
    h->value = value;
    h->state = FUZZ_LIVE;
    h->type = type;
    h->rights = rights;
    h->vm = (int16_t)vm;
    h->slot = slot;
    f->live++;
    if (vm >= 0)
        f->vm[vm].refs++;
}

static void vm_release(struct fuzz *f, int v)
{
    struct fuzz_vm *m = &f->vm[v];

    if (--m->refs != 0)
        return;
    /* The last handle: the VM and its vcpus are gone, their run pages free. */
    for (unsigned s = 0; s < HV_MAX_VCPUS; s++)
        if (m->vcpus & (1ull << s))
            f->run_free[f->run_free_count++] = m->run_page[s];
    m->live = 0;
    f->live_vms--;
}

static void mark_closed(struct fuzz *f, struct fuzz_handle *h)
{
    h->state = FUZZ_CLOSED;
    f->live--;
    if (h->vm >= 0)
        vm_release(f, h->vm);
}

/* A random record, or a forged value made up now (returned in *tmp). */
static struct fuzz_handle *pick_handle(struct fuzz *f, struct fuzz_handle *tmp)
{
    if (f->handles == 0 || chance(f, 12)) {
        static const int64_t forged[] = { 0, -1, -4096, 1ll << 50, 1ll << 47, 0x3ff,
                                          (1ll << 16) | 1023, (1ll << 16) | 1024,
                                          (1ll << 16) | 0xffff, 0x7fffffffffff0001ll };
        memset(tmp, 0, sizeof(*tmp));
        tmp->state = FUZZ_FORGED;
        tmp->vm = -1;
        if (f->handles > 0 && chance(f, 50)) {
            /* A generation never issued on a slot that exists. */
            tmp->value = f->h[below(f, f->handles)].value + (1000000ll << 16);
        } else {
            tmp->value = forged[below(f, sizeof(forged) / sizeof(forged[0]))];
        }
        /* Index 1023 with generation 1 may be a real handle by now. */
        for (unsigned i = 0; i < f->handles; i++)
            if (f->h[i].value == tmp->value)
                return &f->h[i];
        return tmp;
    }
    return &f->h[below(f, f->handles)];
}

/* A live handle of `type` (any type for NONE), or NULL. */
static struct fuzz_handle *pick_live(struct fuzz *f, uint8_t type)
{
    if (f->live == 0)
        return NULL;
    for (unsigned tries = 0; tries < 16; tries++) {
        struct fuzz_handle *h = &f->h[below(f, f->handles)];
        if (h->state == FUZZ_LIVE && (type == HV_HANDLE_NONE || h->type == type))
            return h;
    }
    for (unsigned i = 0; i < f->handles; i++)
        if (f->h[i].state == FUZZ_LIVE && (type == HV_HANDLE_NONE || f->h[i].type == type))
            return &f->h[i];
    return NULL;
}

/* ---- pointers ----------------------------------------------------------- */

/* A structure pointer that must be refused, and the error it must give. */
static uint64_t bad_pointer(struct fuzz *f, uint64_t size, uint64_t align, long *want)
{
    uint64_t mem = f->info->memory_size, gpa;

    switch (below(f, 6)) {
    case 0:
        gpa = hv_gpa(f->scratch) + 1 + below(f, align > 1 ? align - 1 : 1);
        break;
    case 1:
        gpa = (mem - size + 8) & ~7ull;            /* straddles the end */
        break;
    case 2:
        gpa = mem + 8 * below(f, 4096);            /* past the end */
        break;
    case 3:
        gpa = ~0ull - 7 - 8 * below(f, 8);         /* wraps around */
        break;
    case 4:
        gpa = 1ull << (40 + below(f, 23));
        break;
    default:
        gpa = mem + (rnd(f) & ~7ull);
        break;
    }
    *want = fuzz_expected_pointer(gpa, size, align, mem);
    return gpa;
}

/* ---- step: a random call on a random handle ------------------------------ */

static void step_random_call(struct fuzz *f)
{
    static const uint64_t wild[] = { 10, 11, 15, 19, 31, 60, 63, 66, 79, 255, 1000,
                                     0xffffffffull, (1ull << 32) | HV_CALL_CREATE_VM,
                                     1ull << 63, ~0ull };
    struct fuzz_handle tmp, *h;
    uint64_t nr;

    nr = chance(f, 85) ? below(f, 66) : wild[below(f, sizeof(wild) / sizeof(wild[0]))];
    h = pick_handle(f, &tmp);
    long want = fuzz_expected_common(nr, h, h->state == FUZZ_CLOSED && slot_live(f, h->value));
    const struct fuzz_call *c = fuzz_call_of(nr);

    if (want == 0 && !c->pointer_align)
        return;          /* passes the handle checks: the semantic steps cover it */
    uint64_t a1 = edge_value(f), a2 = edge_value(f);
    if (want == 0)
        a1 = bad_pointer(f, c->pointer_size, c->pointer_align, &want);
    long rc = call(f, nr, h->value, a1, a2, edge_value(f));
    if (c->maybe_missing && rc == -HV_ENOSYS)
        return;
    if (c->maybe_missing && (want == -HV_EPERM || want == -HV_EINVAL || want == -HV_EFAULT))
        return;          /* its rights and arguments are not documented yet */
    snprintf(f->what, sizeof(f->what), "%s (%lu) on handle 0x%lx (%s%s, rights 0x%x), "
             "argument 0x%lx", c->name ? c->name : "unknown call", nr, h->value,
             h->state == FUZZ_LIVE ? "live" : h->state == FUZZ_CLOSED ? "closed" : "forged",
             h->state == FUZZ_LIVE ? (h->type == HV_HANDLE_VM ? " VM" :
                                      h->type == HV_HANDLE_VCPU ? " vcpu" : " system") : "",
             h->rights, a1);
    expect(f, rc, want, f->what);
}

/* ---- step: VMs, vcpus, DUP, CLOSE ----------------------------------------- */

static int new_vm_record(struct fuzz *f)
{
    for (int v = 0; v < MAX_VMS_MODEL; v++)
        if (!f->vm[v].live && f->vm[v].refs == 0)
            return v;
    return -1;
}

static void step_create_vm(struct fuzz *f)
{
    struct fuzz_handle *sys = pick_live(f, HV_HANDLE_SYSTEM);
    /* Every valid combination, or anything. */
    uint64_t flags = chance(f, 90) ? below(f, HV_VM_FLAGS_VALID + 1) : edge_value(f);
    int v = new_vm_record(f);
    long want = 0;

    if (!sys || v < 0 || f->live >= MAX_LIVE)
        return;
    if (!(sys->rights & HV_RIGHT_CREATE))
        want = -HV_EPERM;
    else if (flags & ~(uint64_t)HV_VM_FLAGS_VALID)
        want = -HV_EINVAL;
    else if (f->live_vms >= (unsigned)f->max_vms)
        want = -HV_ENOSPC;
    long rc = call(f, HV_CALL_CREATE_VM, sys->value, flags, 0, 0);
    if (rc >= 0 && want == 0) {
        memset(&f->vm[v], 0, sizeof(f->vm[v]));
        f->vm[v].live = 1;
        f->vm[v].lapic = flags & HV_VM_LAPIC;
        f->live_vms++;
        add_live(f, rc, HV_HANDLE_VM, HV_RIGHTS_ALL, v, 0);
        return;
    }
    snprintf(f->what, sizeof(f->what), "CREATE_VM flags 0x%lx with %u VMs live", flags,
             f->live_vms);
    if (expect(f, rc, want, f->what) == 0 && rc >= 0)
        call(f, HV_CALL_CLOSE, rc, 0, 0, 0);
}

/* VMs to the limit and back: every CREATE_VM up to HV_CAP_MAX_VMS succeeds,
 * the next is -HV_ENOSPC. */
static void step_vms_to_limit(struct fuzz *f)
{
    long made[MAX_VMS_MODEL];
    unsigned count = 0;

    if (f->live + (unsigned)f->max_vms + 1 > MAX_LIVE + 200)
        return;
    while (f->live_vms + count < (unsigned)f->max_vms && count < MAX_VMS_MODEL) {
        long rc = call(f, HV_CALL_CREATE_VM, f->sys, 0, 0, 0);
        if (!expect(f, rc >= 0, 1, "CREATE_VM below HV_CAP_MAX_VMS succeeds"))
            break;
        made[count++] = rc;
    }
    snprintf(f->what, sizeof(f->what), "CREATE_VM with HV_CAP_MAX_VMS (%ld) live",
             f->max_vms);
    long rc = call(f, HV_CALL_CREATE_VM, f->sys, HV_VM_LAPIC, 0, 0);
    if (!expect(f, rc, -HV_ENOSPC, f->what) && rc >= 0)
        call(f, HV_CALL_CLOSE, rc, 0, 0, 0);
    while (count > 0)
        expect(f, call(f, HV_CALL_CLOSE, made[--count], 0, 0, 0), 0, "CLOSE of a VM");
}

static void step_create_vcpu(struct fuzz *f)
{
    struct fuzz_handle *vm = pick_live(f, HV_HANDLE_VM);
    uint64_t slot;
    long want = 0;

    if (!vm || f->run_free_count == 0 || f->live >= MAX_LIVE)
        return;
    struct fuzz_vm *m = &f->vm[vm->vm];
    slot = chance(f, 85) ? below(f, HV_MAX_VCPUS) : edge_value(f);
    uint16_t page = f->run_free[f->run_free_count - 1];
    uint64_t run = hv_gpa(f->run_pages + (uint64_t)page * 4096);
    int bad_run = chance(f, 8) && slot < HV_MAX_VCPUS && !(m->vcpus & (1ull << slot));
    if (bad_run)
        run = bad_pointer(f, HV_RUN_PAGE_SIZE, HV_RUN_PAGE_SIZE, &want);
    if (!(vm->rights & HV_RIGHT_CREATE))
        want = -HV_EPERM;
    else if (slot >= HV_MAX_VCPUS)
        want = -HV_ERANGE;
    else if (!bad_run && (m->vcpus & (1ull << slot)))
        want = -HV_EEXIST;
    long rc = call(f, HV_CALL_CREATE_VCPU, vm->value, slot, run, 0);
    if (rc >= 0 && want == 0) {
        f->run_free_count--;
        m->vcpus |= 1ull << slot;
        m->run_page[slot] = page;
        add_live(f, rc, HV_HANDLE_VCPU, HV_RIGHTS_ALL, vm->vm, (uint8_t)slot);
        return;
    }
    snprintf(f->what, sizeof(f->what), "CREATE_VCPU slot %lu (slots taken 0x%lx), run page "
             "0x%lx", slot, m->vcpus, run);
    if (!expect(f, rc, want, f->what) && rc >= 0)
        call(f, HV_CALL_CLOSE, rc, 0, 0, 0);
}

/* Every slot of a fresh VM, then one past them and one taken. */
static void step_vcpus_to_limit(struct fuzz *f)
{
    long vm, vcpu[HV_MAX_VCPUS];
    unsigned made = 0;

    if (f->run_free_count < HV_MAX_VCPUS + 1 || f->live + HV_MAX_VCPUS + 1 >= MAX_LIVE ||
        f->live_vms >= (unsigned)f->max_vms)
        return;
    vm = call(f, HV_CALL_CREATE_VM, f->sys, below(f, 2), 0, 0);
    if (!expect(f, vm >= 0, 1, "CREATE_VM for the vcpu limit"))
        return;
    for (unsigned s = 0; s < HV_MAX_VCPUS; s++) {
        uint64_t run = hv_gpa(f->run_pages + (uint64_t)f->run_free[f->run_free_count - 1 - s] * 4096);
        long rc = call(f, HV_CALL_CREATE_VCPU, vm, s, run, 0);
        if (!expect(f, rc >= 0, 1, "CREATE_VCPU of every slot"))
            break;
        vcpu[made++] = rc;
    }
    uint64_t spare = hv_gpa(f->run_pages + (uint64_t)f->run_free[0] * 4096);
    expect(f, call(f, HV_CALL_CREATE_VCPU, vm, HV_MAX_VCPUS, spare, 0), -HV_ERANGE,
           "CREATE_VCPU slot HV_MAX_VCPUS");
    expect(f, call(f, HV_CALL_CREATE_VCPU, vm, below(f, HV_MAX_VCPUS), spare, 0), -HV_EEXIST,
           "CREATE_VCPU of a taken slot");
    expect(f, call(f, HV_CALL_CLOSE, vm, 0, 0, 0), 0, "CLOSE of the VM before its vcpus");
    while (made > 0)
        expect(f, call(f, HV_CALL_CLOSE, vcpu[--made], 0, 0, 0), 0, "CLOSE of a vcpu");
}

static void step_dup(struct fuzz *f)
{
    struct fuzz_handle *h = pick_live(f, HV_HANDLE_NONE);
    uint64_t rights = chance(f, 85) ? below(f, 32) : edge_value(f);
    long want = 0;

    if (!h || f->live >= MAX_LIVE)
        return;
    if (!(h->rights & HV_RIGHT_DUP))
        want = -HV_EPERM;
    else if (rights & ~(uint64_t)HV_RIGHTS_ALL)
        want = -HV_EINVAL;
    else if (rights & ~(uint64_t)h->rights)
        want = -HV_EPERM;
    long rc = call(f, HV_CALL_DUP, h->value, rights, 0, 0);
    if (rc >= 0 && want == 0) {
        /* Copy what the record says before add_live may move records. */
        uint8_t type = h->type, slot = h->slot;
        int vm = h->vm;
        add_live(f, rc, type, (uint8_t)rights, vm, slot);
        return;
    }
    snprintf(f->what, sizeof(f->what), "DUP of 0x%lx (rights 0x%x) with rights 0x%lx",
             h->value, h->rights, rights);
    if (!expect(f, rc, want, f->what) && rc >= 0)
        call(f, HV_CALL_CLOSE, rc, 0, 0, 0);
}

static void step_close(struct fuzz *f)
{
    struct fuzz_handle *h = pick_live(f, HV_HANDLE_NONE);

    /* The system handle stays: the fuzzer has no other. */
    if (!h || h->value == f->sys)
        return;
    snprintf(f->what, sizeof(f->what), "CLOSE of live handle 0x%lx", h->value);
    if (expect(f, call(f, HV_CALL_CLOSE, h->value, 0, 0, 0), 0, f->what))
        mark_closed(f, h);
}

/* ---- step: memory slots -------------------------------------------------- */

static int ranges_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
    return a < b + bs && b < a + as;
}

static long expected_region(const struct fuzz *f, const struct fuzz_vm *m,
                            const struct hv_memory_region *r)
{
    if (r->slot >= HV_MAX_MEMORY_SLOTS)
        return -HV_ERANGE;
    if ((r->flags & ~(uint32_t)(HV_MEM_READONLY | HV_MEM_LOG_DIRTY)) ||
        ((r->flags & HV_MEM_READONLY) && (r->flags & HV_MEM_LOG_DIRTY)))
        return -HV_EINVAL;
    if (r->size == 0)
        return m->slot_size[r->slot] ? 0 : -HV_ENOENT;
    if ((r->guest_phys | r->size | r->control_addr) & 4095)
        return -HV_EINVAL;
    if (r->guest_phys + r->size < r->guest_phys || r->guest_phys + r->size > HV_MAX_GUEST_PHYS)
        return -HV_ERANGE;
    if (r->control_addr + r->size < r->control_addr ||
        r->control_addr + r->size > f->info->memory_size)
        return -HV_EFAULT;
    if (m->slot_size[r->slot])
        return -HV_EBUSY;
    for (unsigned i = 0; i < HV_MAX_MEMORY_SLOTS; i++)
        if (m->slot_size[i] && ranges_overlap(m->slot_gpa[i], m->slot_size[i], r->guest_phys,
                                              r->size))
            return -HV_EEXIST;
    return 0;
}

/* A region outside the backing maps the domain's own image, stack or page
 * tables (the pages at free_end and above): a random guest writing there
 * would overwrite the fuzzer and its address space, so such a region goes
 * to the child read-only. */
static int inside_backing(const struct fuzz *f, uint64_t control_addr, uint64_t size)
{
    uint64_t start = hv_gpa(f->backing);
    return control_addr >= start && size <= BACKING_BYTES &&
           control_addr - start <= BACKING_BYTES - size;
}

static void random_region(struct fuzz *f, struct hv_memory_region *r)
{
    static const uint64_t sizes[] = { 0x1000, 0x2000, 0x5000, 0x10000, MIB2, 2 * MIB2,
                                      MIB2 - 0x1000, 0x3000 };
    memset(r, 0, sizeof(*r));
    r->slot = chance(f, 92) ? (uint32_t)below(f, 8) : (uint32_t)edge_value(f);
    r->flags = chance(f, 90) ? (uint32_t)below(f, 3) : (uint32_t)edge_value(f);
    r->size = chance(f, 20) ? 0 : sizes[below(f, sizeof(sizes) / sizeof(sizes[0]))];
    switch (below(f, 5)) {
    case 0: r->guest_phys = below(f, 64) << 12; break;
    case 1: r->guest_phys = below(f, 1024) << 30 | below(f, 512) << 21; break;
    case 2: r->guest_phys = HV_MAX_GUEST_PHYS - (below(f, 4) << 12); break;
    case 3: r->guest_phys = (1ull << 30) - (below(f, 4) << 12); break;
    default: r->guest_phys = edge_value(f); break;
    }
    if (chance(f, 90))
        r->control_addr = hv_gpa(f->backing) + (below(f, (BACKING_BYTES - 2 * MIB2) >> 12) << 12);
    else
        r->control_addr = chance(f, 50) ? f->info->memory_size - (below(f, 4) << 12)
                                        : edge_value(f);
    if (chance(f, 3))
        r->size = edge_value(f);
    if (!(r->flags & ~(uint32_t)(HV_MEM_READONLY | HV_MEM_LOG_DIRTY)) &&
        !inside_backing(f, r->control_addr, r->size))
        r->flags = HV_MEM_READONLY;
}

static void apply_region(struct fuzz_vm *m, const struct hv_memory_region *r)
{
    m->slot_size[r->slot] = r->size;
    m->slot_gpa[r->slot] = r->guest_phys;
    m->slot_flags[r->slot] = r->flags;
}

static void step_region(struct fuzz *f)
{
    struct fuzz_handle *vm = pick_live(f, HV_HANDLE_VM);
    struct hv_memory_region *r = (struct hv_memory_region *)f->scratch;

    if (!vm)
        return;
    struct fuzz_vm *m = &f->vm[vm->vm];
    random_region(f, r);
    long want = vm->rights & HV_RIGHT_WRITE ? expected_region(f, m, r) : -HV_EPERM;
    struct hv_memory_region copy = *r;
    long rc = call(f, HV_CALL_SET_MEMORY_REGION, vm->value, hv_gpa(r), 0, 0);
    snprintf(f->what, sizeof(f->what), "SET_MEMORY_REGION slot %u flags 0x%x gpa 0x%lx size "
             "0x%lx control 0x%lx", copy.slot, copy.flags, copy.guest_phys, copy.size,
             copy.control_addr);
    if (rc == 0 && want == 0) {
        apply_region(m, &copy);
        return;
    }
    if (rc == -HV_ENOMEM && want == 0)
        return;          /* the hypervisor may run out; nothing changed */
    if (!expect(f, rc, want, f->what) && rc == 0)
        apply_region(m, &copy);
}

static void step_dirty_log(struct fuzz *f)
{
    struct fuzz_handle *vm = pick_live(f, HV_HANDLE_VM);
    uint64_t slot = chance(f, 90) ? below(f, 8) : edge_value(f);
    long want = 0;

    if (!vm)
        return;
    struct fuzz_vm *m = &f->vm[vm->vm];
    uint64_t bytes = slot < HV_MAX_MEMORY_SLOTS ? HV_DIRTY_LOG_BYTES(m->slot_size[slot]) : 8;
    uint64_t bitmap = hv_gpa(f->scratch);
    int bad = chance(f, 20);
    long pointer_error = 0;
    if (bad)
        bitmap = bad_pointer(f, bytes ? bytes : 8, 8, &pointer_error);
    if (!(vm->rights & HV_RIGHT_READ))
        want = -HV_EPERM;
    else if (slot >= HV_MAX_MEMORY_SLOTS)
        want = -HV_ERANGE;
    else if (!m->slot_size[slot] || !(m->slot_flags[slot] & HV_MEM_LOG_DIRTY))
        want = -HV_ENOENT;
    else if (bad)
        want = pointer_error;
    if (bytes > 65536)
        return;
    long rc = call(f, HV_CALL_GET_DIRTY_LOG, vm->value, slot, bitmap, 0);
    snprintf(f->what, sizeof(f->what), "GET_DIRTY_LOG slot %lu (size 0x%lx, flags 0x%x) "
             "bitmap 0x%lx", slot, slot < HV_MAX_MEMORY_SLOTS ? m->slot_size[slot] : 0,
             slot < HV_MAX_MEMORY_SLOTS ? m->slot_flags[slot] : 0, bitmap);
    expect(f, rc, want, f->what);
}

/* ---- step: argument-only calls at their limits -------------------------- */

static void step_system_args(struct fuzz *f)
{
    uint64_t cpus = f->info->cpu_count, arg = edge_value(f);
    long rc;

    switch (below(f, 6)) {
    case 0:
        expect(f, call(f, HV_CALL_GET_API_VERSION, f->sys, arg, 0, 0), HV_API_VERSION,
               "GET_API_VERSION");
        break;
    case 1:
        rc = call(f, HV_CALL_CHECK_EXTENSION, f->sys, arg, 0, 0);
        snprintf(f->what, sizeof(f->what), "CHECK_EXTENSION 0x%lx", arg);
        if (arg == HV_CAP_MAX_VCPUS)
            expect(f, rc, HV_MAX_VCPUS, f->what);
        else if (arg == HV_CAP_MAX_MEMORY_SLOTS)
            expect(f, rc, HV_MAX_MEMORY_SLOTS, f->what);
        else if (arg == HV_CAP_MAX_VMS)
            expect(f, rc, f->max_vms, f->what);
        else if (arg == 0 || arg > HV_CAP_DECODED_MMIO) /* the last capability */
            expect(f, rc, 0, f->what);
        else
            expect(f, rc >= 0, 1, f->what);
        break;
    case 2:
        snprintf(f->what, sizeof(f->what), "WAKE_CPU %lu of %lu CPUs", arg, cpus);
        expect(f, call(f, HV_CALL_WAKE_CPU, f->sys, arg, 0, 0), arg < cpus ? 0 : -HV_ERANGE,
               f->what);
        break;
    case 3:
        if (arg < cpus && chance(f, 90))
            arg += cpus;     /* NMIs are counted, not needed: few valid ones */
        snprintf(f->what, sizeof(f->what), "SEND_NMI %lu of %lu CPUs", arg, cpus);
        expect(f, call(f, HV_CALL_SEND_NMI, f->sys, arg, 0, 0), arg < cpus ? 0 : -HV_ERANGE,
               f->what);
        break;
    case 4:
        snprintf(f->what, sizeof(f->what), "CONSOLE_WRITE of %lu bytes at 0x%lx", arg,
                 f->info->memory_size);
        rc = call(f, HV_CALL_CONSOLE_WRITE, f->sys, f->info->memory_size, arg, 0);
        expect(f, rc, arg > 4096 ? -HV_E2BIG : arg == 0 ? 0 : -HV_EFAULT, f->what);
        break;
    default:
        snprintf(f->what, sizeof(f->what), "FAULT_INJECT %lu without the option", arg);
        expect(f, call(f, HV_CALL_FAULT_INJECT, f->sys, arg, 0, 0), -HV_EPERM, f->what);
        break;
    }
}

static void step_vcpu_args(struct fuzz *f)
{
    struct fuzz_handle *h = pick_live(f, HV_HANDLE_VCPU);
    uint64_t arg = edge_value(f);

    if (!h)
        return;
    int lapic = f->vm[h->vm].lapic;
    long rc;
    switch (below(f, 5)) {
    case 0:
        if (!(h->rights & HV_RIGHT_WRITE))
            return;
        rc = call(f, HV_CALL_INTERRUPT, h->value, arg, 0, 0);
        snprintf(f->what, sizeof(f->what), "INTERRUPT vector 0x%lx", arg);
        if (arg > HV_MAX_INTERRUPT_VECTOR)
            expect(f, rc, -HV_EINVAL, f->what);
        else if (rc != -HV_EBUSY)
            expect(f, rc, 0, f->what);
        break;
    case 1:
        if (!(h->rights & HV_RIGHT_WRITE))
            return;
        rc = call(f, HV_CALL_SET_MP_STATE, h->value, arg, 0, 0);
        snprintf(f->what, sizeof(f->what), "SET_MP_STATE %lu (%s)", arg,
                 lapic ? "APICs" : "no APICs");
        expect(f, rc, !lapic ? -HV_ENODEV : arg > HV_MP_STATE_HALTED ? -HV_EINVAL : 0, f->what);
        break;
    case 2:
        if (!(h->rights & HV_RIGHT_READ))
            return;
        rc = call(f, HV_CALL_GET_MP_STATE, h->value, hv_gpa(f->scratch), 0, 0);
        expect(f, rc, lapic ? 0 : -HV_ENODEV, "GET_MP_STATE");
        break;
    case 3:
        if (!(h->rights & HV_RIGHT_WRITE))
            return;
        rc = call(f, HV_CALL_SIGNAL_MSI, h->value, chance(f, 50) ? arg : 0xfee00000ull, 0x30, 0);
        snprintf(f->what, sizeof(f->what), "SIGNAL_MSI address 0x%lx", arg);
        if (!lapic)
            expect(f, rc, -HV_ENODEV, f->what);
        else if (rc < 0)
            expect(f, rc, -HV_EINVAL, f->what);
        break;
    default:
        if (!(h->rights & HV_RIGHT_RUN))
            return;
        expect(f, call(f, HV_CALL_KICK, h->value, 0, 0, 0), 0, "KICK");
        break;
    }
}

/* ---- step: guest states and code ----------------------------------------- */

static void flat(struct hv_segment *s, uint16_t sel, uint8_t type, int code64)
{
    memset(s, 0, sizeof(*s));
    s->limit = 0xffffffffu;
    s->selector = sel;
    s->type = type;
    s->present = 1;
    s->s = 1;
    s->l = (uint8_t)code64;
    s->db = (uint8_t)!code64;
    s->g = 1;
}

/* Template 0 real mode, 1 flat 32-bit protected, 2 64-bit. */
static void template_sregs(struct hv_sregs *s, unsigned which)
{
    memset(s, 0, sizeof(*s));
    if (which == 0) {
        struct hv_segment *segs[] = { &s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss };
        for (unsigned i = 0; i < 6; i++) {
            segs[i]->selector = (uint16_t)(CODE_GPA >> 4);
            segs[i]->base = CODE_GPA;
            segs[i]->limit = 0xffff;
            segs[i]->type = i == 0 ? 0xb : 0x3;
            segs[i]->present = 1;
            segs[i]->s = 1;
        }
        s->cr0 = 0x60000010;
    } else {
        int l = which == 2;
        flat(&s->cs, 0x08, 0xb, l);
        flat(&s->ds, 0x10, 0x3, 0);
        flat(&s->es, 0x10, 0x3, 0);
        flat(&s->fs, 0x10, 0x3, 0);
        flat(&s->gs, 0x10, 0x3, 0);
        flat(&s->ss, 0x10, 0x3, 0);
        s->cr0 = l ? 0x80010031ull : 0x11;
        if (l) {
            s->cr3 = PML4_GPA;
            s->cr4 = 1u << 5;
            s->efer = (1u << 8) | (1u << 10);
        }
    }
    s->tr.limit = 0x67;
    s->tr.type = 0xb;
    s->tr.present = 1;
    s->ldt.unusable = 1;
    s->ldt.type = 2;
    s->gdt.base = GDT_GPA;
    s->gdt.limit = 0x2f;
    s->idt.base = IDT_GPA;
    s->apic_base = 0xfee00900ull;
}

/* A few changes, some the CPU refuses: SET_SREGS must refuse those. */
static void mutate_sregs(struct fuzz *f, struct hv_sregs *s, unsigned which)
{
    static const uint8_t cr4_bits[] = { 2, 3, 4, 7, 9, 10, 11, 12, 13, 16, 17, 18, 20, 21,
                                        22, 25, 28, 31 };
    static const uint8_t cr0_bits[] = { 1, 2, 3, 5, 16, 18, 29, 30, 40 };
    struct hv_segment *data[] = { &s->ds, &s->es, &s->fs, &s->gs };
    unsigned n = (unsigned)below(f, 3);

    for (unsigned i = 0; i < n; i++) {
        switch (below(f, 10)) {
        case 0:
            if (which != 2 || chance(f, 70))
                s->cr4 ^= 1ull << cr4_bits[below(f, sizeof(cr4_bits))];
            break;
        case 1:
            s->cr0 ^= 1ull << cr0_bits[below(f, sizeof(cr0_bits))];
            break;
        case 2:
            s->efer ^= chance(f, 50) ? 1ull << 11 : chance(f, 50) ? 1 : 2;
            break;
        case 3: {
            struct hv_segment *d = data[below(f, 4)];
            d->type = (uint8_t)below(f, 16);
            d->s = (uint8_t)below(f, 2);
            d->present = (uint8_t)(chance(f, 80));
            d->unusable = (uint8_t)chance(f, 20);
            break;
        }
        case 4:
            data[below(f, 4)]->g ^= 1;
            break;
        case 5:
            s->tr.type = chance(f, 50) ? 3 : (uint8_t)below(f, 16);
            s->tr.s = (uint8_t)chance(f, 10);
            break;
        case 6:
            s->ldt.unusable = (uint8_t)chance(f, 50);
            s->ldt.present = 1;
            s->ldt.type = chance(f, 70) ? 2 : (uint8_t)below(f, 16);
            break;
        case 7:
            if (which == 2)
                s->cs.db = 1;        /* L and D together: refused */
            else
                s->cs.limit = (uint32_t)edge_value(f);
            break;
        case 8:
            /* Privilege level 3: the code and stack segments' DPL and
             * selectors' RPL (a guest without an IDT then faults from
             * CPL 3 through the reset TR, as in cpl3_exception_with_reset_tr). */
            if (which != 0) {
                s->cs.dpl = s->ss.dpl = 3;
                s->cs.selector |= 3;
                s->ss.selector |= 3;
            }
            break;
        default:
            s->cr3 |= below(f, 2) ? 0x18 : (1ull << (52 + below(f, 12)));
            break;
        }
    }
    /* EFER.LME with paging off, the first step into long mode. */
    if (which == 1 && chance(f, 5))
        s->efer |= 1u << 8;
}

/* Random instructions from a list that means the same in 16, 32 and 64-bit
 * code as far as it matters, and in 64-bit code (template 2) MOV to CR8. */
static unsigned random_code(struct fuzz *f, uint8_t *code, unsigned which)
{
    unsigned len = 0;
    unsigned count = 1 + (unsigned)below(f, 12);

    /* HLTs after the code, not an earlier run's bytes: code decoded out of
     * step (a jump back into an instruction, a prefix that means another
     * thing in this mode) would otherwise run on into old instructions,
     * among them the 0f 22 c0 of a MOV to CR8, a MOV to CR0 of a random
     * RAX, which QEMU's TCG takes whatever its value (README, known
     * limits) and VMRUN then refuses. */
    memset(code, 0xf4, CODE_MAX);

    for (unsigned i = 0; i < count && len < CODE_MAX - 16; i++) {
        uint32_t imm = (uint32_t)edge_value(f);
        switch (below(f, 22)) {
        case 0: code[len++] = 0x90; break;                                /* nop */
        case 1: code[len++] = 0xf4; break;                                /* hlt */
        case 2: code[len++] = 0xe6; code[len++] = (uint8_t)imm; break;    /* out imm8, al */
        case 3: code[len++] = 0xe4; code[len++] = (uint8_t)imm; break;    /* in al, imm8 */
        case 4: code[len++] = 0x0f; code[len++] = 0xa2; break;            /* cpuid */
        case 5:
            code[len++] = 0x0f; code[len++] = 0x01;                       /* vmmcall/vmcall */
            code[len++] = hv_backend() == HV_BACKEND_SVM ? 0xd9 : 0xc1;
            break;
        case 6: code[len++] = 0xcc; break;                                /* int3 */
        case 7: code[len++] = 0x0f; code[len++] = 0x0b; break;            /* ud2 */
        case 8: code[len++] = 0x0f; code[len++] = 0x31; break;            /* rdtsc */
        case 9: code[len++] = 0xfa; break;                                /* cli */
        case 10: code[len++] = 0xfb; break;                               /* sti */
        case 11:                                                          /* mov eax, imm */
            code[len++] = 0xb8;
            memcpy(code + len, &imm, 4);
            len += 4;
            break;
        case 12: {                                                        /* mov ebx, addr */
            static const uint32_t addrs[] = { 0x9000, 0x40000000u, 0xfee00000u, 0xfee00080u,
                                              0xfee00300u, 0xfec00000u, 0x1ff000u };
            uint32_t a = addrs[below(f, sizeof(addrs) / sizeof(addrs[0]))];
            code[len++] = 0xbb;
            memcpy(code + len, &a, 4);
            len += 4;
            break;
        }
        case 13: code[len++] = 0x89; code[len++] = 0x03; break;           /* mov [ebx], eax */
        case 14: code[len++] = 0x8b; code[len++] = 0x03; break;           /* mov eax, [ebx] */
        case 15: code[len++] = 0xb9; memcpy(code + len, &imm, 4); len += 4; break; /* mov ecx */
        case 16: code[len++] = 0x0f; code[len++] = 0x32; break;           /* rdmsr */
        case 17: code[len++] = 0x50; code[len++] = 0x58; break;           /* push/pop */
        case 18: code[len++] = 0xf3; code[len++] = 0x90; break;           /* pause */
        case 19:
            if (chance(f, 50)) {                                          /* mov ecx, EFER */
                uint32_t efer = 0xc0000080u;
                code[len++] = 0xb9;
                memcpy(code + len, &efer, 4);
                len += 4;
            }
            code[len++] = 0x0f; code[len++] = 0x30;                       /* wrmsr */
            break;
        case 20:
            if (which == 2) {                                             /* mov cr8, rax */
                code[len++] = 0x44; code[len++] = 0x0f; code[len++] = 0x22; code[len++] = 0xc0;
            }
            break;
        default: code[len++] = 0xeb; code[len++] = (uint8_t)(0xfe - below(f, 3)); break;
        }
    }
    code[len++] = 0xf4;
    return len;
}

static void write_guest_image(struct fuzz *f)
{
    static const uint64_t gdt[6] = { 0, 0x00af9b000000ffffull, 0x00cf93000000ffffull,
                                     0x00cf9b000000ffffull, 0, 0 };
    uint64_t pml4e = PDPT_GPA | 7, pdpte = PD_GPA | 7, pde = 0x87;
    uint8_t *ram = f->backing;

    memset(ram + GDT_GPA, 0, 5 * 4096);
    memcpy(ram + GDT_GPA, gdt, sizeof(gdt));
    memcpy(ram + PML4_GPA, &pml4e, 8);
    memcpy(ram + PDPT_GPA, &pdpte, 8);
    memcpy(ram + PD_GPA, &pde, 8);
}

/* Gives the vcpu's VM the guest RAM image in slot 0 if it can take it. */
static int ensure_ram(struct fuzz *f, struct fuzz_handle *vcpu, int64_t vm_handle)
{
    struct fuzz_vm *m = &f->vm[vcpu->vm];
    struct hv_memory_region *r = (struct hv_memory_region *)f->scratch;

    if (m->slot_size[0] == GUEST_RAM && m->slot_gpa[0] == 0)
        return 1;
    if (vm_handle < 0 || m->slot_size[0])
        return 0;
    memset(r, 0, sizeof(*r));
    r->size = GUEST_RAM;
    r->control_addr = hv_gpa(f->backing);
    if (expected_region(f, m, r) != 0)
        return 0;
    struct hv_memory_region copy = *r;
    long rc = call(f, HV_CALL_SET_MEMORY_REGION, vm_handle, hv_gpa(r), 0, 0);
    if (!expect(f, rc, 0, "SET_MEMORY_REGION of the guest RAM"))
        return 0;
    apply_region(m, &copy);
    return 1;
}

static int64_t vm_handle_of(struct fuzz *f, int vm)
{
    for (unsigned i = 0; i < f->handles; i++)
        if (f->h[i].state == FUZZ_LIVE && f->h[i].type == HV_HANDLE_VM && f->h[i].vm == vm &&
            (f->h[i].rights & HV_RIGHT_WRITE))
            return f->h[i].value;
    return -1;
}

static uint64_t rdtsc_now(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* DEBUG_GUEST with a hardware execute breakpoint on one of the code's
 * bytes (an instruction's start or not; a linear address, so with CS.base
 * CODE_GPA in real mode), or DEBUG_GUEST off. */
static int arm_breakpoint(struct fuzz *f, int64_t vcpu, unsigned len)
{
    struct hv_guest_debug *g = (struct hv_guest_debug *)(f->scratch + 3072);
    unsigned slot = (unsigned)below(f, 4);

    memset(g, 0, sizeof(*g));
    if (chance(f, 80)) {
        g->control = HV_GUESTDBG_ENABLE | HV_GUESTDBG_USE_HW_BP |
                     (chance(f, 10) ? HV_GUESTDBG_SINGLESTEP : 0);
        g->debugreg[slot] = CODE_GPA + below(f, len);
        g->debugreg[7] = 0x400 | (1ull << (2 * slot));
    }
    snprintf(f->what, sizeof(f->what), "DEBUG_GUEST control 0x%x, breakpoint 0x%lx",
             g->control, g->debugreg[slot]);
    return expect(f, call(f, HV_CALL_DEBUG_GUEST, vcpu, hv_gpa(g), 0, 0), 0, f->what);
}

/* After a failed entry: which segment or event the state that entered
 * (SET_SREGS' `set`) changed into, as GET_SREGS and GET_VCPU_EVENTS read
 * it, and after how many RUNs. */
static void report_state_at_failure(struct fuzz *f, int64_t vcpu, const struct hv_sregs *set,
                                    unsigned runs_before)
{
    struct hv_sregs *now = (struct hv_sregs *)(f->scratch + 4096);
    struct hv_vcpu_events *e = (struct hv_vcpu_events *)(f->scratch + 6144);
    const struct hv_segment *a[] = { &set->cs, &set->ds, &set->es, &set->fs, &set->gs, &set->ss };
    const struct hv_segment *b[] = { &now->cs, &now->ds, &now->es, &now->fs, &now->gs, &now->ss };
    static const char names[] = "CDEFGS";

    if (hv_get_sregs(vcpu, now) != 0 || hv_get_vcpu_events(vcpu, e) != 0)
        return;
    const uint8_t *code = f->backing + CODE_GPA;
    ctl_printf("fuzz:   code %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x; "
               "the RUN before: exit %u at rip 0x%lx\n", code[0], code[1], code[2], code[3],
               code[4], code[5], code[6], code[7], code[8], code[9], code[10], code[11],
               f->last_reason, f->last_rip);
    ctl_printf("fuzz:   after %u RUNs; cr0 0x%lx efer 0x%lx; exception %u (injected %u "
               "pending %u), nmi %u/%u, interrupt %u/%u, shadow %u\n", runs_before, now->cr0,
               now->efer, e->exception.nr, e->exception.injected, e->exception.pending,
               e->nmi.injected, e->nmi.pending, e->interrupt.injected, e->interrupt.nr,
               e->interrupt.shadow);
    for (unsigned k = 0; k < 6; k++)
        ctl_printf("fuzz:   %cS set: sel 0x%x type %u s %u dpl %u p %u unusable %u "
                   "limit 0x%x; now: sel 0x%x type %u s %u dpl %u p %u unusable %u "
                   "limit 0x%x\n", names[k], a[k]->selector, a[k]->type, a[k]->s, a[k]->dpl,
                   a[k]->present, a[k]->unusable, a[k]->limit, b[k]->selector, b[k]->type,
                   b[k]->s, b[k]->dpl, b[k]->present, b[k]->unusable, b[k]->limit);
}

static void step_state_and_run(struct fuzz *f)
{
    struct fuzz_handle *v = pick_live(f, HV_HANDLE_VCPU);
    struct hv_sregs *s = (struct hv_sregs *)(f->scratch + 1024);
    struct hv_regs *r = (struct hv_regs *)(f->scratch + 2048);

    if (!v || (v->rights & (HV_RIGHT_WRITE | HV_RIGHT_RUN)) != (HV_RIGHT_WRITE | HV_RIGHT_RUN))
        return;
    int64_t vcpu = v->value;
    int vm = v->vm;
    uint8_t slot = v->slot;
    if (!ensure_ram(f, v, vm_handle_of(f, vm)))
        return;
    struct hv_run *run = (struct hv_run *)(f->run_pages + (uint64_t)f->vm[vm].run_page[slot] * 4096);
    unsigned which = (unsigned)below(f, 3);
    write_guest_image(f);
    template_sregs(s, which);
    mutate_sregs(f, s, which);
    struct hv_sregs set = *s;
    long rc = call(f, HV_CALL_SET_SREGS, vcpu, hv_gpa(s), 0, 0);
    f->sregs_set++;
    if (rc == -HV_EINVAL || rc == -HV_ENOTSUP) {
        f->sregs_refused++;
        return;
    }
    if (!expect(f, rc, 0, "SET_SREGS of a template state"))
        return;
    unsigned len = random_code(f, f->backing + CODE_GPA, which);
    if (chance(f, 10) && !arm_breakpoint(f, vcpu, len))
        return;
    memset(r, 0, sizeof(*r));
    r->rip = which == 0 ? 0 : CODE_GPA;
    r->rsp = STACK_TOP;
    r->rflags = 2 | (chance(f, 30) ? 0x200 : 0);
    r->rax = rnd(f);
    if (!expect(f, call(f, HV_CALL_SET_REGS, vcpu, hv_gpa(r), 0, 0), 0, "SET_REGS"))
        return;
    /* How a RUN ends depends on timing (a deadline, the slice, an exit),
     * so everything random about the RUNs is drawn before the first: the
     * steps after them are then the same for a seed whatever the exits. */
    struct { uint8_t immediate_exit, window, stop_at_mmio; } plan[FUZZ_MAX_RUNS_PER_STATE];
    unsigned planned = 1 + (unsigned)below(f, FUZZ_MAX_RUNS_PER_STATE);
    for (unsigned i = 0; i < planned; i++) {
        plan[i].immediate_exit = (uint8_t)chance(f, 5);
        plan[i].window = (uint8_t)chance(f, 5);
        plan[i].stop_at_mmio = (uint8_t)chance(f, 50);
    }
    for (unsigned i = 0; i < planned; i++) {
        run->immediate_exit = plan[i].immediate_exit;
        run->request_interrupt_window = plan[i].window;
        run->deadline_tsc = rdtsc_now() + f->deadline_ticks;
        rc = call(f, HV_CALL_RUN, vcpu, 0, 0, 0);
        f->runs++;
        if (!expect(f, rc, 0, "RUN"))
            return;
        uint32_t reason = run->exit_reason;
        f->exits[reason < 33 ? reason : 0]++;
        if (reason != HV_EXIT_FAIL_ENTRY) {
            f->last_reason = reason;
            f->last_rip = run->exit_rip;
        }
        if (reason == HV_EXIT_FAIL_ENTRY) {
            f->fail_entries++;
            mismatch(f, "HV_EXIT_FAIL_ENTRY (hardware reason 0x%lx) after an accepted "
                     "SET_SREGS: template %u, cr0 0x%lx cr3 0x%lx cr4 0x%lx efer 0x%lx, "
                     "tr type %u s %u, ldt unusable %u, code %u bytes", run->fail_entry
                     .hardware_entry_failure_reason, which, set.cr0, set.cr3, set.cr4,
                     set.efer, set.tr.type, set.tr.s, set.ldt.unusable, len);
            report_state_at_failure(f, vcpu, &set, i);
            return;
        }
        if (reason == HV_EXIT_SHUTDOWN)
            return;
        if (reason == HV_EXIT_MMIO && plan[i].stop_at_mmio)
            return;
    }
}

/* A RUN on CPU 1 while CPU 0 makes calls on the same vcpu: each gives
 * -HV_EBUSY, or (before RUN took the vcpu or after it gave it back) its
 * own result; KICK ends the RUN, which must come back without an error or
 * a failed entry. */
struct cross_run {
    int64_t vcpu;
    long rc;
    uint32_t reason;
    struct hv_run *run;
};

static void cross_run_job(unsigned cpu, void *arg)
{
    struct cross_run *c = arg;

    (void)cpu;
    c->rc = hv_run(c->vcpu);
    c->reason = c->run->exit_reason;
}

static void step_cross_cpu_run(struct fuzz *f)
{
    static const uint64_t during[] = { HV_CALL_GET_REGS, HV_CALL_SET_REGS, HV_CALL_GET_SREGS,
                                       HV_CALL_GET_FPU, HV_CALL_GET_DEBUGREGS,
                                       HV_CALL_TRANSLATE };
    struct fuzz_handle *v = pick_live(f, HV_HANDLE_VCPU);
    struct hv_sregs *s = (struct hv_sregs *)(f->scratch + 1024);
    struct hv_regs *r = (struct hv_regs *)(f->scratch + 2048);
    static struct cross_run c;

    if (f->info->cpu_count < 2 || !v ||
        (v->rights & (HV_RIGHT_READ | HV_RIGHT_WRITE | HV_RIGHT_RUN)) !=
            (HV_RIGHT_READ | HV_RIGHT_WRITE | HV_RIGHT_RUN))
        return;
    int vm = v->vm;
    c.vcpu = v->value;
    c.run = (struct hv_run *)(f->run_pages + (uint64_t)f->vm[vm].run_page[v->slot] * 4096);
    if (!ensure_ram(f, v, vm_handle_of(f, vm)))
        return;
    write_guest_image(f);
    template_sregs(s, 1);
    f->backing[CODE_GPA] = 0xeb;           /* jmp $: only a KICK, the slice or */
    f->backing[CODE_GPA + 1] = 0xfe;       /* the deadline ends it */
    memset(r, 0, sizeof(*r));
    r->rip = CODE_GPA;
    r->rsp = STACK_TOP;
    r->rflags = 2;
    if (!expect(f, call(f, HV_CALL_SET_SREGS, c.vcpu, hv_gpa(s), 0, 0), 0,
                "SET_SREGS of the flat 32-bit template") ||
        !expect(f, call(f, HV_CALL_SET_REGS, c.vcpu, hv_gpa(r), 0, 0), 0, "SET_REGS"))
        return;
    /* The calls are drawn before CPU 1 is asked: it may refuse. */
    uint64_t nrs[FUZZ_MAX_CALLS_DURING_RUN];
    unsigned count = 1 + (unsigned)below(f, FUZZ_MAX_CALLS_DURING_RUN);
    for (unsigned i = 0; i < count; i++)
        nrs[i] = during[below(f, sizeof(during) / sizeof(during[0]))];
    c.run->immediate_exit = 0;
    c.run->request_interrupt_window = 0;
    c.run->deadline_tsc = rdtsc_now() + 10 * f->deadline_ticks;
    c.rc = 1;
    if (!smp_call(1, cross_run_job, &c))
        return;
    f->calls++;
    for (unsigned i = 0; i < count; i++) {
        uint64_t nr = nrs[i];
        uint8_t *buf = f->scratch + 8192;
        if (nr == HV_CALL_SET_REGS)
            memcpy(buf, r, sizeof(*r));
        else
            memset(buf, 0, 1024);
        long rc = call(f, nr, c.vcpu, hv_gpa(buf), 0, 0);
        if (rc != -HV_EBUSY) {
            snprintf(f->what, sizeof(f->what), "%s while CPU 1 may run the vcpu",
                     fuzz_call_of(nr)->name);
            expect(f, rc, 0, f->what);
        }
    }
    expect(f, call(f, HV_CALL_KICK, c.vcpu, 0, 0, 0), 0, "KICK of a vcpu running on CPU 1");
    smp_wait(1);
    f->runs++;
    /* A RUN that starts while CPU 0's call holds the vcpu finds it busy:
     * abi/README.md names only a running vcpu for RUN's -HV_EBUSY, but
     * any call holds the vcpu while it works (section 1). */
    if (c.rc == -HV_EBUSY)
        return;
    if (expect(f, c.rc, 0, "RUN on CPU 1") && c.reason == HV_EXIT_FAIL_ENTRY)
        mismatch(f, "HV_EXIT_FAIL_ENTRY on CPU 1 after an accepted SET_SREGS (flat 32-bit)");
}

/* GET calls into the scratch buffer on live vcpus: each must succeed. */
static void step_vcpu_gets(struct fuzz *f)
{
    static const uint64_t gets[] = { HV_CALL_GET_REGS, HV_CALL_GET_SREGS, HV_CALL_GET_FPU,
                                     HV_CALL_GET_XCRS, HV_CALL_GET_DEBUGREGS };
    struct fuzz_handle *v = pick_live(f, HV_HANDLE_VCPU);

    if (!v || !(v->rights & HV_RIGHT_READ))
        return;
    uint64_t nr = gets[below(f, sizeof(gets) / sizeof(gets[0]))];
    snprintf(f->what, sizeof(f->what), "%s on a live vcpu", fuzz_call_of(nr)->name);
    expect(f, call(f, nr, v->value, hv_gpa(f->scratch), 0, 0), 0, f->what);
}

/* Counts and sizes past their documented limits, on structures that are
 * themselves valid: the call's own size error. */
static void step_size_limits(struct fuzz *f)
{
    struct fuzz_handle *v = pick_live(f, HV_HANDLE_VCPU);
    uint8_t *buf = f->scratch;
    uint64_t over = 1 + (chance(f, 50) ? below(f, 4) : below(f, 1u << 20));
    long rc;

    if (!v || (v->rights & (HV_RIGHT_READ | HV_RIGHT_WRITE)) != (HV_RIGHT_READ | HV_RIGHT_WRITE))
        return;
    memset(buf, 0, 4096);
    switch (below(f, 8)) {
    case 0:
    case 1: {
        uint64_t nr = below(f, 2) ? HV_CALL_GET_MSRS : HV_CALL_SET_MSRS;
        ((struct hv_msrs *)buf)->count = (uint32_t)(HV_MAX_MSRS + over);
        snprintf(f->what, sizeof(f->what), "%s with count %lu", fuzz_call_of(nr)->name,
                 HV_MAX_MSRS + over);
        expect(f, call(f, nr, v->value, hv_gpa(buf), 0, 0), -HV_E2BIG, f->what);
        break;
    }
    case 2:
        ((struct hv_cpuid *)buf)->count = (uint32_t)(HV_MAX_CPUID_ENTRIES + over);
        snprintf(f->what, sizeof(f->what), "SET_CPUID with count %lu", HV_MAX_CPUID_ENTRIES + over);
        expect(f, call(f, HV_CALL_SET_CPUID, v->value, hv_gpa(buf), 0, 0), -HV_E2BIG, f->what);
        break;
    case 3: {
        /* Too little room: -HV_E2BIG with the count needed written back,
         * and that count then suffices. */
        int supported = chance(f, 50);
        uint64_t nr = supported ? HV_CALL_GET_SUPPORTED_CPUID : HV_CALL_GET_CPUID;
        int64_t h = supported ? f->sys : v->value;
        struct hv_cpuid *c = (struct hv_cpuid *)buf;
        c->count = 0;
        rc = call(f, nr, h, hv_gpa(c), 0, 0);
        snprintf(f->what, sizeof(f->what), "%s with room for no entry",
                 fuzz_call_of(nr)->name);
        if (!expect(f, rc, -HV_E2BIG, f->what))
            break;
        uint32_t needed = c->count;
        if (needed == 0 || needed > HV_MAX_CPUID_ENTRIES) {
            mismatch(f, "%s wrote back count %u", fuzz_call_of(nr)->name, needed);
            break;
        }
        snprintf(f->what, sizeof(f->what), "%s with the %u entries it asked for",
                 fuzz_call_of(nr)->name, needed);
        expect(f, call(f, nr, h, hv_gpa(c), 0, 0), 0, f->what);
        break;
    }
    case 4: {
        uint64_t size = chance(f, 50) ? (uint64_t)f->xsave_size - below(f, (uint64_t)f->xsave_size + 1)
                                      : HV_MAX_XSAVE_SIZE + over;
        uint64_t nr = below(f, 2) ? HV_CALL_GET_XSAVE : HV_CALL_SET_XSAVE;
        long want = size > HV_MAX_XSAVE_SIZE ? -HV_E2BIG
                    : size < (uint64_t)f->xsave_size ? -HV_EINVAL : 0;
        if (want == 0)
            nr = HV_CALL_GET_XSAVE;     /* a SET of zeros is not an image */
        snprintf(f->what, sizeof(f->what), "%s of %lu bytes (HV_CAP_XSAVE_SIZE %ld)",
                 fuzz_call_of(nr)->name, size, f->xsave_size);
        expect(f, call(f, nr, v->value, hv_gpa(buf), size, 0), want, f->what);
        break;
    }
    case 5: {
        struct hv_xcrs *x = (struct hv_xcrs *)buf;
        int bad_flags = chance(f, 50);
        x->flags = bad_flags ? (uint32_t)(1 + below(f, 0xffffffffu)) : 0;
        x->nr_xcrs = bad_flags ? 0 : (uint32_t)(HV_MAX_XCRS + over);
        snprintf(f->what, sizeof(f->what), "SET_XCRS with flags 0x%x, nr_xcrs %u", x->flags,
                 x->nr_xcrs);
        expect(f, call(f, HV_CALL_SET_XCRS, v->value, hv_gpa(x), 0, 0),
               bad_flags ? -HV_EINVAL : -HV_E2BIG, f->what);
        break;
    }
    case 6: {
        struct hv_debugregs *d = (struct hv_debugregs *)buf;
        if (chance(f, 50))
            d->flags = 1 + below(f, 1000);
        else if (chance(f, 50))
            d->dr7 = 0x400 | (1ull << (32 + below(f, 32)));
        else
            d->dr6 = 0xffff0ff0 | (1ull << (32 + below(f, 32)));
        expect(f, call(f, HV_CALL_SET_DEBUGREGS, v->value, hv_gpa(d), 0, 0), -HV_EINVAL,
               "SET_DEBUGREGS with flags or DR6/DR7 bits 63:32");
        break;
    }
    default: {
        struct hv_guest_debug *g = (struct hv_guest_debug *)buf;
        g->control = HV_GUESTDBG_VALID + 1 + (uint32_t)below(f, 0xffff);
        if (!(g->control & ~HV_GUESTDBG_VALID))
            g->control |= 8;
        g->control &= ~HV_GUESTDBG_USE_HW_BP;
        snprintf(f->what, sizeof(f->what), "DEBUG_GUEST control 0x%x", g->control);
        expect(f, call(f, HV_CALL_DEBUG_GUEST, v->value, hv_gpa(g), 0, 0), -HV_EINVAL, f->what);
        break;
    }
    }
}

/* ---- the run ----------------------------------------------------------- */

static uint64_t parse_number(const char *text, uint64_t fallback)
{
    uint64_t value = 0;

    if (text == NULL || *text == '\0')
        return fallback;
    for (; *text >= '0' && *text <= '9'; text++)
        value = value * 10 + (uint64_t)(*text - '0');
    return *text == '\0' ? value : fallback;
}

/* Each kind of step with its share of the draws (out of 1000). */
static const struct {
    unsigned below;               /* taken when the draw is below this */
    void (*run)(struct fuzz *f);
    const char *name;
} step_kinds[] = {
    { 400, step_random_call, "random call" },
    { 460, step_create_vm, "CREATE_VM" },
    { 560, step_create_vcpu, "CREATE_VCPU" },
    { 620, step_dup, "DUP" },
    { 700, step_close, "CLOSE" },
    { 790, step_region, "SET_MEMORY_REGION" },
    { 820, step_dirty_log, "GET_DIRTY_LOG" },
    { 860, step_system_args, "system call arguments" },
    { 900, step_vcpu_args, "vcpu call arguments" },
    { 920, step_vcpu_gets, "vcpu GETs" },
    { 940, step_size_limits, "size limits" },
    { 990, step_state_and_run, "guest state and RUN" },
    { 998, step_cross_cpu_run, "RUN on CPU 1 with calls from CPU 0" },
    { 999, step_vcpus_to_limit, "vcpus to the limit" },
    { 1000, step_vms_to_limit, "VMs to the limit" },
};

static void step(struct fuzz *f, uint64_t number)
{
    uint64_t pick = below(f, 1000);
    unsigned k = 0;

    while (pick >= step_kinds[k].below)
        k++;
    /* Printed before the step: if the machine dies in it, the serial log
     * ends with the step that killed it. */
    if (f->trace_from && number >= f->trace_from && number - f->trace_from < f->trace_steps)
        ctl_printf("fuzz: step %lu: %s (call %lu)\n", number, step_kinds[k].name, f->calls + 1);
    step_kinds[k].run(f);
}

static int stats_equal(struct fuzz *f, const struct hv_stats *a, const struct hv_stats *b)
{
    if (a->free_frames == b->free_frames && a->vms == b->vms && a->vcpus == b->vcpus &&
        a->handles == b->handles && a->objects == b->objects &&
        a->nested_table_pages == b->nested_table_pages)
        return 1;
    mismatch(f, "GET_STATS after closing everything: free_frames %lu vms %lu vcpus %lu "
             "handles %lu objects %lu nested_table_pages %lu; at start %lu %lu %lu %lu %lu "
             "%lu", b->free_frames, b->vms, b->vcpus, b->handles, b->objects,
             b->nested_table_pages, a->free_frames, a->vms, a->vcpus, a->handles,
             a->objects, a->nested_table_pages);
    return 0;
}

int fuzz_main(const struct hv_boot_info *info, int argc, char **argv)
{
    static struct fuzz fz;
    struct fuzz *f = &fz;
    struct hv_stats start, end;
    uint64_t seed = parse_number(argc > 1 ? argv[1] : NULL, 1);

    memset(f, 0, sizeof(*f));
    f->info = info;
    f->sys = info->system_handle;
    f->limit = parse_number(argc > 2 ? argv[2] : NULL, 100000);
    f->trace_from = parse_number(argc > 3 ? argv[3] : NULL, 0);
    f->trace_steps = parse_number(argc > 4 ? argv[4] : NULL, FUZZ_SEQUENCE_STEPS);
    f->rng = seed * 0x9e3779b97f4a7c15ull + 1;
    f->run_pages = page_alloc_aligned(RUN_PAGES * 4096ull, 4096);
    f->backing = page_alloc_aligned(BACKING_BYTES, MIB2);
    f->scratch = page_alloc_aligned(65536, 4096);
    f->max_vms = hv_check_extension(f->sys, HV_CAP_MAX_VMS);
    f->xsave_size = hv_check_extension(f->sys, HV_CAP_XSAVE_SIZE);
    f->deadline_ticks = 2 * (uint64_t)hv_check_extension(f->sys, HV_CAP_TSC_KHZ);
    if (!f->run_pages || !f->backing || !f->scratch || f->max_vms <= 0 ||
        hv_get_stats(f->sys, &start) != 0) {
        ctl_printf("fuzz: no memory, or CHECK_EXTENSION/GET_STATS failed\n");
        return 1;
    }
    for (unsigned i = 0; i < RUN_PAGES; i++)
        f->run_free[i] = (uint16_t)(RUN_PAGES - 1 - i);
    f->run_free_count = RUN_PAGES;
    add_live(f, f->sys, HV_HANDLE_SYSTEM, HV_RIGHTS_ALL, -1, 0);
    ctl_printf("fuzz: seed %lu, %lu calls, %s backend, %u CPUs, HV_CAP_MAX_VMS %ld\n", seed,
               f->limit, hv_backend_name(hv_backend()), info->cpu_count, f->max_vms);

    uint64_t next_report = 100000;
    for (uint64_t steps = 1; f->calls < f->limit; steps++) {
        step(f, steps);
        /* The generator's state counts the draws so far: equal lines from
         * two runs of a seed say that they made the same steps, whatever
         * their RUNs' exits (a run that ended early can be replayed). */
        if (steps % FUZZ_SEQUENCE_STEPS == 0)
            ctl_printf("fuzz: step %lu, sequence 0x%016lx\n", steps, f->rng);
        if (f->calls >= next_report) {
            ctl_printf("fuzz: %lu calls, %lu mismatches, %u live handles, %u live VMs\n",
                       f->calls, f->mismatches, f->live, f->live_vms);
            next_report += 100000;
        }
    }
    /* Close everything (the system handle stays) and compare. */
    for (unsigned i = 0; i < f->handles; i++)
        if (f->h[i].state == FUZZ_LIVE && f->h[i].value != f->sys) {
            expect(f, call(f, HV_CALL_CLOSE, f->h[i].value, 0, 0, 0), 0, "final CLOSE");
            mark_closed(f, &f->h[i]);
        }
    if (hv_get_stats(f->sys, &end) != 0)
        mismatch(f, "GET_STATS at the end failed");
    else
        stats_equal(f, &start, &end);
    ctl_printf("fuzz: %lu calls done; %lu RUNs (exits: io %lu, hypercall %lu, hlt %lu, "
               "mmio %lu, shutdown %lu, intr %lu, deadline %lu, fail_entry %lu), "
               "SET_SREGS %lu (%lu refused)\n", f->calls, f->runs, f->exits[HV_EXIT_IO],
               f->exits[HV_EXIT_HYPERCALL], f->exits[HV_EXIT_HLT], f->exits[HV_EXIT_MMIO],
               f->exits[HV_EXIT_SHUTDOWN], f->exits[HV_EXIT_INTR], f->exits[HV_EXIT_DEADLINE],
               f->fail_entries, f->sregs_set, f->sregs_refused);
    ctl_printf("fuzz: GET_STATS at the end: %lu free frames, %lu objects (at start %lu, "
               "%lu)\n", end.free_frames, end.objects, start.free_frames, start.objects);
    ctl_printf("fuzz: %lu mismatches\n", f->mismatches);
    ctl_printf("fuzz: %s\n", f->mismatches == 0 ? "PASS" : "FAIL");
    return f->mismatches == 0 ? 0 : 1;
}
