/*
 * Nested page-table pages follow what is mapped (abi/README.md,
 * SET_MEMORY_REGION and GET_STATS' nested_table_pages): deleting a slot
 * gives back the tables only it used, and no table another slot still
 * uses. The churn (region_churn.h) adds and deletes slots over the whole
 * 1 TiB space and checks the count and free_frames after every cycle;
 * then a guest must still reach the memory whose tables the churn slots
 * shared. On two CPUs or more the same runs while a guest on CPU 1 keeps
 * writing that memory and taking MMIO exits, whose instruction fetch reads
 * the nested tables in software. With one CPU that test has nothing to
 * check and passes.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest_concurrency.h"
#include "guest-tools/tools/region_churn.h"

#define KIB4 0x1000ull
#define TIB1 (1ull << 40)
#define CHURN_CYCLES     1200     /* every GiB of the space at least once */
#define CHURN_CYCLES_SMP 240
#define KEPT_VALUE       0x6b657074u
#define MMIO_GPA         0xf0000000u /* never mapped: a load there exits */
#define MMIO_LOAD_LENGTH 5           /* mov eax, [MMIO_GPA] */
#define MMIO_SEEN_FIRST  50u         /* the guest is seen looping before the churn */
#define SETTLE_TICKS     10000000000ull /* seconds under TCG; only a failure waits */

static int region(long vm, uint32_t slot, uint64_t guest_phys, uint64_t size,
                  uint64_t control_addr, const char *what)
{
    struct hv_memory_region r;

    memset(&r, 0, sizeof(r));
    r.slot = slot;
    r.guest_phys = guest_phys;
    r.size = size;
    r.control_addr = control_addr;
    return hvt_err(hv_set_memory_region(vm, &r), 0, what);
}

/* GET_STATS nested_table_pages is base + delta. */
static int tables_are(const struct hv_stats *base, long delta, const char *when)
{
    struct hv_stats now;
    char what[120];

    if (!hvt_stats(&now))
        return 0;
    snprintf(what, sizeof(what), "GET_STATS nested_table_pages %s", when);
    return hvt_eq(now.nested_table_pages, base->nested_table_pages + (uint64_t)delta, what);
}

static void region_delete_frees_nested_tables(void)
{
    uint64_t pages = hv_gpa(page_alloc(2 * KIB4));
    struct hv_stats base, with_vm;
    long vm;

    if (!hvt_stats(&base))
        return;
    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM") || !tables_are(&base, 1, "after CREATE_VM (its root)") ||
        !hvt_stats(&with_vm))
        return;
    /* The last page of the space needs a table at each level below the
     * root; the page before it shares all three. */
    if (!region(vm, 1, TIB1 - KIB4, KIB4, pages, "slot 1 at 1 TiB - 4 KiB") ||
        !tables_are(&base, 4, "after slot 1") ||
        !region(vm, 2, TIB1 - 2 * KIB4, KIB4, pages + KIB4, "slot 2 at 1 TiB - 8 KiB") ||
        !tables_are(&base, 4, "after slot 2 (sharing slot 1's tables)") ||
        !region(vm, 1, 0, 0, 0, "deleting slot 1") ||
        !tables_are(&base, 4, "after deleting slot 1 (slot 2 still uses them)") ||
        !region(vm, 2, 0, 0, 0, "deleting slot 2") ||
        !tables_are(&base, 1, "after deleting slot 2"))
        return;
    hvt_stats_unchanged(&with_vm, "after deleting both slots");
}

/* A VM with 2 MiB of RAM, the kept page holding KEPT_VALUE, and the churn
 * set up on it. 1 when ready. */
static int churn_vm(struct vm_instance *vm, struct region_churn *c, uint32_t **kept)
{
    void *backing = page_alloc_aligned(REGION_CHURN_BACKING, REGION_CHURN_BACKING);

    *kept = page_alloc(KIB4);
    if (!hvt_true(backing != NULL && *kept != NULL, "no control memory for the churn") ||
        hvt_guest_create(vm, "hvtest") < 0)
        return 0;
    (*kept)[0] = KEPT_VALUE;
    memset(c, 0, sizeof(*c));
    c->sys = hvt_sys();
    c->vm = vm->vm;
    c->kept_page = hv_gpa(*kept);
    c->backing = hv_gpa(backing);
    c->check_every = 1;
    if (region_churn_setup(c) != 0) {
        hvt_fail("%s", c->failure);
        return 0;
    }
    return 1;
}

static void region_churn_returns_tables_and_frames(void)
{
    struct vm_instance vm;
    struct region_churn c;
    struct hvt_code code;
    uint32_t *kept, out;

    if (!churn_vm(&vm, &c, &kept))
        return;
    if (region_churn_run(&c, 0, CHURN_CYCLES) != 0) {
        hvt_fail("%s", c.failure);
        return;
    }
    /* The tables the churn slots shared with the RAM and the kept page
     * are still there: the guest reads the page and writes it back. */
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_load_eax(&code, (uint32_t)REGION_CHURN_KEPT_GPA);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_mov_eax_imm(&code, ~KEPT_VALUE);
    hvt_store_eax(&code, (uint32_t)REGION_CHURN_KEPT_GPA);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, KEPT_VALUE, out,
                            "guest load from the kept page after the churn") ||
        !hvt_run(&vm) || !hvt_exit_is(&vm, HV_EXIT_HLT, "after the guest's store") ||
        !hvt_eq(kept[0], ~KEPT_VALUE, "kept page after the guest's store"))
        return;
    /* Its own PD and PT go with it; the RAM's PDPT stays. */
    if (region(vm.vm, REGION_CHURN_KEPT_SLOT, 0, 0, 0, "deleting the kept page"))
        tables_are(&c.base, -2, "after deleting the kept page");
}

/* ---- the same with a guest running on CPU 1 ---------------------------- */

/* The guest on CPU 1: `inc dword [kept]; mov eax, [MMIO_GPA]; jmp back`;
 * its job completes each MMIO exit by stepping over the load. */
struct looping_guest {
    hv_handle_t vcpu;
    struct hv_run *run;
    uint32_t stop;
    uint64_t mmio_exits;
    char failure[CONC_FAILURE_MAX];
} __attribute__((aligned(64)));

static struct looping_guest looper;

static int mmio_exit_ok(struct looping_guest *g)
{
    const struct hv_run *run = g->run;
    static const uint8_t load[MMIO_LOAD_LENGTH] = { 0xa1, MMIO_GPA & 0xff, (MMIO_GPA >> 8) & 0xff,
                                     (MMIO_GPA >> 16) & 0xff, MMIO_GPA >> 24 };

    /* The bytes come from the hypervisor's own walk of the nested tables,
     * racing with the churn on CPU 0: they must be the load all the same. */
    if (run->mmio.phys_addr != MMIO_GPA || run->mmio.insn_length < sizeof(load) ||
        memcmp(run->mmio.insn_bytes, load, sizeof(load)) != 0) {
        conc_job_fail(g->failure, "MMIO exit at 0x%lx with %u instruction bytes "
                      "(%02x %02x ...), expected the load from 0x%x",
                      run->mmio.phys_addr, run->mmio.insn_length,
                      run->mmio.insn_bytes[0], run->mmio.insn_bytes[1], MMIO_GPA);
        return 0;
    }
    return 1;
}

static void looping_job(unsigned cpu, void *arg)
{
    struct looping_guest *g = arg;
    struct hv_regs regs;
    long rc;

    (void)cpu;
    while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
        rc = hv_run(g->vcpu);
        if (rc != 0) {
            conc_job_fail(g->failure, "RUN failed (%ld)", rc);
            return;
        }
        if (g->run->exit_reason == HV_EXIT_INTR)
            continue;
        if (g->run->exit_reason != HV_EXIT_MMIO) {
            conc_job_fail(g->failure, "RUN ended with %s, expected MMIO or INTR",
                          hvt_exit_name(g->run->exit_reason));
            return;
        }
        if (!mmio_exit_ok(g))
            return;
        rc = hv_get_regs(g->vcpu, &regs);
        regs.rip += MMIO_LOAD_LENGTH;
        rc = rc ?: hv_set_regs(g->vcpu, &regs);
        if (rc != 0) {
            conc_job_fail(g->failure, "GET_REGS/SET_REGS failed (%ld)", rc);
            return;
        }
        __atomic_add_fetch(&g->mmio_exits, 1, __ATOMIC_RELEASE);
    }
}

/* Waits (bounded) until the guest has made `more` MMIO exits and written
 * the kept page since the counts given. */
static int guest_progresses(const volatile uint32_t *kept, uint64_t exits, unsigned more,
                            const char *when)
{
    uint32_t writes = *kept;
    uint64_t until = conc_tsc() + SETTLE_TICKS;

    while (__atomic_load_n(&looper.mmio_exits, __ATOMIC_ACQUIRE) < exits + more ||
           *kept == writes) {
        if (looper.failure[0] != '\0') {
            hvt_fail("%s: on CPU 1: %s", when, looper.failure);
            return 0;
        }
        if (conc_tsc() > until) {
            hvt_fail("%s: the guest on CPU 1 stopped (%lu MMIO exits, kept page %s)",
                     when, __atomic_load_n(&looper.mmio_exits, __ATOMIC_ACQUIRE),
                     *kept == writes ? "unchanged" : "written");
            return 0;
        }
        __asm__ volatile("pause");
    }
    return 1;
}

static void region_churn_while_guest_runs_on_other_cpu(void)
{
    struct vm_instance vm;
    struct region_churn c;
    struct hvt_code code;
    uint32_t *kept, loop;

    if (conc_cpus() < 2 || !churn_vm(&vm, &c, &kept))
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    const uint32_t at = (uint32_t)REGION_CHURN_KEPT_GPA;
    const uint8_t inc[] = { 0xff, 0x05, at & 0xff, (at >> 8) & 0xff, (at >> 16) & 0xff,
                            at >> 24 };
    loop = hvt_bytes(&code, inc, sizeof(inc));
    hvt_load_eax(&code, MMIO_GPA);
    const uint8_t back[] = { 0xeb, (uint8_t)(loop - (code.at + 2)) };
    hvt_bytes(&code, back, sizeof(back));
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    memset(&looper, 0, sizeof(looper));
    looper.vcpu = vm.vcpu;
    looper.run = vm.run;
    smp_call(1, looping_job, &looper);

    int ready = guest_progresses(kept, 0, MMIO_SEEN_FIRST, "before the churn");
    int churned = ready && region_churn_run(&c, 0, CHURN_CYCLES_SMP) == 0;
    uint64_t exits = __atomic_load_n(&looper.mmio_exits, __ATOMIC_ACQUIRE);
    int after = churned && guest_progresses(kept, exits, MMIO_SEEN_FIRST,
                                            "after the churn");

    __atomic_store_n(&looper.stop, 1, __ATOMIC_RELEASE);
    hv_kick(looper.vcpu);
    smp_wait(1);
    if (ready && !churned)
        hvt_fail("%s", c.failure);
    if (!after || !conc_job_passed(looper.failure, 1))
        return;
    region_churn_check_base(&c, "after the guest stopped");
    if (c.failure[0] != '\0')
        hvt_fail("%s", c.failure);
}

const struct hvtest_case hvtest_region_churn_cases[] = {
    { "region_delete_frees_nested_tables", region_delete_frees_nested_tables },
    { "region_churn_returns_tables_and_frames", region_churn_returns_tables_and_frames },
    { "region_churn_while_guest_runs_on_other_cpu",
      region_churn_while_guest_runs_on_other_cpu },
    { NULL, NULL },
};
