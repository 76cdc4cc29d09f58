/*
 * Allocation failures (FAULT_INJECT, a test option of the hypervisor's
 * `fault_inject` command-line word). Each walk arms k = 1, 2, ... before
 * one call on the VM, vcpu, handle and region paths: while the armed
 * allocation is one the call makes, the call must fail with -HV_ENOMEM and
 * GET_STATS must be as before it; the first k past the call's last
 * allocation lets it succeed, which ends the walk. Each walk prints how
 * many allocations it went through (the system test checks them).
 *
 * On a hypervisor started without the option the call is refused
 * (-HV_EPERM) and the walks only check that.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define WALK_MAX 64   /* no call makes that many allocations */

/* One call under test: does it (returns its result) and undoes a success
 * (closes or deletes what it made). */
struct walk {
    const char *name;
    long (*call)(void *ctx);
    void (*undo)(void *ctx, long result);
    void *ctx;
    int success_keeps;   /* a success keeps hypervisor memory (SET_CPUID's page) */
};

/* 1 when FAULT_INJECT is enabled; 0 (after checking the refusal) when not. */
static int fault_inject_enabled(void)
{
    long rc = hv_fault_inject(hvt_sys(), 0);

    if (rc == -HV_EPERM)
        return 0;
    hvt_true(rc >= 0, "FAULT_INJECT(0) neither refused nor a count");
    return rc >= 0;
}

static void walk(const struct walk *w)
{
    struct hv_stats before;
    char what[120];

    if (!fault_inject_enabled() || !hvt_stats(&before))
        return;
    for (uint64_t k = 1; k <= WALK_MAX; k++) {
        if (!hvt_ok(hv_fault_inject(hvt_sys(), k), "FAULT_INJECT(k)"))
            return;
        long rc = w->call(w->ctx);
        long counted = hv_fault_inject(hvt_sys(), 0);
        if (!hvt_ok(counted, "FAULT_INJECT(0)"))
            return;
        if ((uint64_t)counted < k) {
            /* The call made fewer than k allocations: none failed. */
            snprintf(what, sizeof(what), "%s with allocation %lu armed, past its %ld",
                     w->name, k, counted);
            if (!hvt_ok(rc, what))
                return;
            w->undo(w->ctx, rc);
            snprintf(what, sizeof(what), "%s undone after the walk", w->name);
            if (w->success_keeps || hvt_stats_unchanged(&before, what))
                ctl_printf("hvtest: fault walk %s: %lu allocations, each made "
                           "to fail: HV_ENOMEM, nothing lost\n", w->name, k - 1);
            return;
        }
        snprintf(what, sizeof(what), "%s with its allocation %lu failing", w->name, k);
        if (!hvt_err(rc, -HV_ENOMEM, what)) {
            if (rc >= 0)
                w->undo(w->ctx, rc);
            return;
        }
        snprintf(what, sizeof(what), "after %s failed at allocation %lu", w->name, k);
        if (!hvt_stats_unchanged(&before, what))
            return;
    }
    hvt_fail("%s: more than %u allocations", w->name, WALK_MAX);
}

static void undo_close(void *ctx, long result)
{
    (void)ctx;
    hv_close(result);
}

static long call_create_vm(void *ctx)
{
    return hv_create_vm_flags(hvt_sys(), *(uint32_t *)ctx);
}

static void fault_walk_create_vm(void)
{
    uint32_t flags = 0;
    struct walk w = { "CREATE_VM", call_create_vm, undo_close, &flags, 0 };

    walk(&w);
}

static void fault_walk_create_vm_lapic(void)
{
    uint32_t flags = HV_VM_LAPIC;
    struct walk w = { "CREATE_VM(HV_VM_LAPIC)", call_create_vm, undo_close, &flags, 0 };

    walk(&w);
}

struct vcpu_ctx {
    long vm;
    struct hv_run *run;
};

static long call_create_vcpu(void *ctx)
{
    struct vcpu_ctx *c = ctx;

    return hv_create_vcpu(c->vm, 3, c->run);
}

static void walk_create_vcpu(uint32_t flags, const char *name)
{
    struct vcpu_ctx c = { hvt_keep(hv_create_vm_flags(hvt_sys(), flags)),
                          page_alloc(HV_RUN_PAGE_SIZE) };
    /* A vcpu lives until its VM does: closing its handle gives nothing back. */
    struct walk w = { name, call_create_vcpu, undo_close, &c, 1 };

    if (!hvt_ok(c.vm, "CREATE_VM"))
        return;
    walk(&w);
}

static void fault_walk_create_vcpu(void) { walk_create_vcpu(0, "CREATE_VCPU"); }
static void fault_walk_create_vcpu_lapic(void)
{
    walk_create_vcpu(HV_VM_LAPIC, "CREATE_VCPU(HV_VM_LAPIC)");
}

static long call_dup(void *ctx)
{
    return hv_dup(*(long *)ctx, HV_RIGHTS_ALL);
}

static void fault_walk_dup(void)
{
    long vm = hvt_keep(hv_create_vm(hvt_sys()));
    long vcpu = hvt_keep(hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE)));
    struct walk wvm = { "DUP(VM handle)", call_dup, undo_close, &vm, 0 };
    struct walk wvcpu = { "DUP(vcpu handle)", call_dup, undo_close, &vcpu, 0 };

    if (!hvt_ok(vm, "CREATE_VM") || !hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    walk(&wvm);
    if (!hvt_failed())
        walk(&wvcpu);
}

struct region_ctx {
    long vm;
    struct hv_memory_region region;
};

static long call_set_region(void *ctx)
{
    struct region_ctx *c = ctx;

    return hv_set_memory_region(c->vm, &c->region);
}

static void undo_region(void *ctx, long result)
{
    struct region_ctx *c = ctx;
    struct hv_memory_region gone = { .slot = c->region.slot };

    (void)result;
    hv_set_memory_region(c->vm, &gone);
}

/* A slot in a VM that already has RAM in slot 0, so that some of the
 * tables are shared and some new. */
static void walk_region(const char *name, uint64_t guest_phys, uint64_t size,
                        uint32_t flags)
{
    void *backing = page_alloc_aligned(2ull << 20, 2ull << 20);
    struct region_ctx c = { hvt_keep(hv_create_vm(hvt_sys())), { 0 } };
    struct hv_memory_region ram = { .slot = 0, .size = 2ull << 20,
                                    .control_addr = hv_gpa(backing) };
    struct walk w = { name, call_set_region, undo_region, &c, 0 };

    if (!hvt_ok(c.vm, "CREATE_VM") || backing == NULL ||
        !hvt_ok(hv_set_memory_region(c.vm, &ram), "SET_MEMORY_REGION of the RAM"))
        return;
    c.region = (struct hv_memory_region){ .slot = 1, .flags = flags,
                                          .guest_phys = guest_phys, .size = size,
                                          .control_addr = hv_gpa(backing) };
    walk(&w);
}

static void fault_walk_region_small(void)
{
    walk_region("SET_MEMORY_REGION(16 KiB across 1 GiB)", (1ull << 30) - 0x2000, 0x4000, 0);
}

static void fault_walk_region_high(void)
{
    walk_region("SET_MEMORY_REGION(2 MiB at 768 GiB)", 768ull << 30, 2ull << 20, 0);
}

static void fault_walk_region_dirty(void)
{
    walk_region("SET_MEMORY_REGION(dirty-logged, 64 KiB at 5 GiB)", 5ull << 30, 0x10000,
                HV_MEM_LOG_DIRTY);
}

struct cpuid_ctx {
    long vcpu;
    struct hv_cpuid *table;
};

static long call_set_cpuid(void *ctx)
{
    struct cpuid_ctx *c = ctx;

    return hv_set_cpuid(c->vcpu, c->table);
}

static void undo_nothing(void *ctx, long result)
{
    (void)ctx, (void)result;
}

static void fault_walk_set_cpuid(void)
{
    struct cpuid_ctx c;
    long vm = hvt_keep(hv_create_vm(hvt_sys()));
    struct walk w = { "SET_CPUID", call_set_cpuid, undo_nothing, &c, 1 };

    c.vcpu = hvt_keep(hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE)));
    c.table = page_alloc(sizeof(struct hv_cpuid) +
                         HV_MAX_CPUID_ENTRIES * sizeof(struct hv_cpuid_entry));
    if (!hvt_ok(vm, "CREATE_VM") || !hvt_ok(c.vcpu, "CREATE_VCPU") || c.table == NULL)
        return;
    c.table->count = HV_MAX_CPUID_ENTRIES;
    if (!hvt_ok(hv_get_cpuid(c.vcpu, c.table), "GET_CPUID"))
        return;
    walk(&w);
}

/* Without the option the call is refused, and never on the wrong handle. */
static void fault_inject_refused_by_default(void)
{
    long vm = hvt_keep(hv_create_vm(hvt_sys()));

    if (!hvt_ok(vm, "CREATE_VM"))
        return;
    hvt_err(hv_call1(HV_CALL_FAULT_INJECT, (uint64_t)vm, 1), -HV_EBADTYPE,
            "FAULT_INJECT on a VM handle");
    hvt_err(hv_fault_inject(hvt_sys(), 1), -HV_EPERM,
            "FAULT_INJECT without the fault_inject option");
    hvt_err(hv_fault_inject(hvt_sys(), 0), -HV_EPERM,
            "FAULT_INJECT(0) without the fault_inject option");
}

const struct hvtest_case hvtest_fault_cases[] = {
    { "fault_inject_refused_by_default", fault_inject_refused_by_default },
    { "fault_walk_create_vm", fault_walk_create_vm },
    { "fault_walk_create_vm_lapic", fault_walk_create_vm_lapic },
    { "fault_walk_create_vcpu", fault_walk_create_vcpu },
    { "fault_walk_create_vcpu_lapic", fault_walk_create_vcpu_lapic },
    { "fault_walk_dup", fault_walk_dup },
    { "fault_walk_region_small", fault_walk_region_small },
    { "fault_walk_region_high", fault_walk_region_high },
    { "fault_walk_region_dirty", fault_walk_region_dirty },
    { "fault_walk_set_cpuid", fault_walk_set_cpuid },
    { NULL, NULL },
};
