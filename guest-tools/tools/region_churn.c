/*
 * Memory-slot churn (region_churn.h), and the `region_churn` tool:
 *   region_churn [cycles]     default 1000000
 * which makes its own VM (2 MiB of RAM in slot 0, no vcpu), runs the
 * cycles with GET_STATS checks every 1024 and at the end, and prints the
 * figures before and after.
 */
#include "guest-tools/tools/region_churn.h"

#include <stdarg.h>

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/tool.h"

#define KIB4 0x1000ull
#define MIB2 0x200000ull
#define GIB1 0x40000000ull
#define SPACE_GIB (HV_MAX_GUEST_PHYS / GIB1)
#define KEPT_GIB (REGION_CHURN_KEPT_GPA / GIB1)

/* One cycle's slot and the tables its add must take. */
struct churn_shape {
    struct hv_memory_region region;
    uint64_t tables_min, tables_max;
};

static int churn_fail(struct region_churn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int churn_fail(struct region_churn *c, const char *fmt, ...)
{
    va_list ap;

    if (c->failure[0] == '\0') {
        va_start(ap, fmt);
        vsnprintf(c->failure, sizeof(c->failure), fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A GiB no mapping but the churn slot uses: not slot 0's, not the kept
 * page's, inside the space. */
static int gib_unused(uint64_t gib)
{
    return gib != 0 && gib != KEPT_GIB && gib < SPACE_GIB;
}

/* The cycle's GiB (and the next one too if `two`): 389 is odd, so
 * successive cycles visit every GiB of the space before one comes back. */
static uint64_t fresh_gib(uint64_t cycle, int two)
{
    uint64_t gib = (cycle * 389 + 7) % SPACE_GIB;

    while (!gib_unused(gib) || (two && !gib_unused(gib + 1)))
        gib = (gib + 1) % SPACE_GIB;
    return gib;
}

static void churn_shape(const struct region_churn *c, uint64_t cycle,
                        struct churn_shape *s)
{
    uint64_t in_gib = ((cycle * 97) / 7) % 511 * MIB2;   /* not the last 2 MiB */
    uint64_t in_2m = (cycle * 13) % 500 * KIB4;          /* room for 16 KiB */
    uint64_t gib = fresh_gib(cycle, cycle % REGION_CHURN_SHAPES == 2);
    struct hv_memory_region *r = &s->region;

    memset(r, 0, sizeof(*r));
    r->slot = REGION_CHURN_SLOT;
    r->control_addr = c->backing + (cycle % 256) * KIB4;
    r->size = KIB4;
    switch (cycle % REGION_CHURN_SHAPES) {
    case 0:
        r->guest_phys = gib * GIB1 + in_gib + in_2m;
        s->tables_min = s->tables_max = 2;
        break;
    case 1:
        r->guest_phys = gib * GIB1 + in_gib + MIB2 - 2 * KIB4;
        r->size = 4 * KIB4;
        s->tables_min = s->tables_max = 3;
        break;
    case 2:
        r->guest_phys = (gib + 1) * GIB1 - 2 * KIB4;
        r->size = 4 * KIB4;
        s->tables_min = s->tables_max = 4;
        break;
    case 3:
        r->guest_phys = gib * GIB1 + in_gib + in_2m;
        r->size = 2 * KIB4;
        r->flags = HV_MEM_LOG_DIRTY;
        s->tables_min = s->tables_max = 2;
        break;
    case 4:
        /* Mapped by one 2 MiB leaf where the backing allows it. */
        r->guest_phys = gib * GIB1 + in_gib;
        r->size = MIB2;
        r->control_addr = c->backing;
        s->tables_min = 1;
        s->tables_max = 2;
        break;
    default:
        if ((cycle / REGION_CHURN_SHAPES) % 2 == 0) {
            r->guest_phys = REGION_CHURN_KEPT_GPA + KIB4 * (1 + cycle % 511);
            s->tables_min = s->tables_max = 0;
        } else {
            r->guest_phys = MIB2 * (1 + cycle % 511) + in_2m;
            s->tables_min = s->tables_max = 1;
        }
        break;
    }
    if (r->guest_phys + r->size > HV_MAX_GUEST_PHYS / 2) {
        s->tables_min++;
        s->tables_max++;
    }
}

static int get_stats(struct region_churn *c, struct hv_stats *stats)
{
    long rc = hv_get_stats(c->sys, stats);

    if (rc != 0)
        return churn_fail(c, "GET_STATS failed (%ld)", rc);
    if (stats->nested_table_pages > c->most_tables)
        c->most_tables = stats->nested_table_pages;
    return 0;
}

int region_churn_check_base(struct region_churn *c, const char *when)
{
    struct hv_stats now;

    if (get_stats(c, &now) != 0)
        return -1;
    if (now.nested_table_pages != c->base.nested_table_pages)
        return churn_fail(c, "%s: GET_STATS nested_table_pages expected %lu, got %lu",
                          when, c->base.nested_table_pages, now.nested_table_pages);
    if (now.free_frames != c->base.free_frames)
        return churn_fail(c, "%s: GET_STATS free_frames expected %lu, got %lu", when,
                          c->base.free_frames, now.free_frames);
    return 0;
}

int region_churn_setup(struct region_churn *c)
{
    struct hv_memory_region kept;
    long rc;

    c->failure[0] = '\0';
    c->cycles = 0;
    c->most_tables = 0;
    memset(&kept, 0, sizeof(kept));
    kept.slot = REGION_CHURN_KEPT_SLOT;
    kept.guest_phys = REGION_CHURN_KEPT_GPA;
    kept.size = KIB4;
    kept.control_addr = c->kept_page;
    rc = hv_set_memory_region(c->vm, &kept);
    if (rc != 0)
        return churn_fail(c, "SET_MEMORY_REGION of the kept page failed (%ld)", rc);
    return get_stats(c, &c->base);
}

/* One add and delete; with `check`, the tables they take and give back. */
static int churn_cycle(struct region_churn *c, uint64_t cycle, int check)
{
    struct churn_shape shape;
    struct hv_memory_region gone;
    struct hv_stats added;
    char when[96];
    long rc;

    churn_shape(c, cycle, &shape);
    rc = hv_set_memory_region(c->vm, &shape.region);
    if (rc != 0)
        return churn_fail(c, "cycle %lu: SET_MEMORY_REGION of %lu bytes at 0x%lx "
                          "failed (%ld)", cycle, shape.region.size,
                          shape.region.guest_phys, rc);
    if (check && get_stats(c, &added) != 0)
        return -1;
    memset(&gone, 0, sizeof(gone));
    gone.slot = REGION_CHURN_SLOT;
    rc = hv_set_memory_region(c->vm, &gone);
    if (rc != 0)
        return churn_fail(c, "cycle %lu: deleting the slot at 0x%lx failed (%ld)", cycle,
                          shape.region.guest_phys, rc);
    if (!check)
        return 0;
    uint64_t taken = added.nested_table_pages - c->base.nested_table_pages;
    if (added.nested_table_pages < c->base.nested_table_pages ||
        taken < shape.tables_min || taken > shape.tables_max)
        return churn_fail(c, "cycle %lu: the slot of %lu bytes at 0x%lx took %ld "
                          "nested table pages, expected %lu to %lu", cycle,
                          shape.region.size, shape.region.guest_phys, (long)taken,
                          shape.tables_min, shape.tables_max);
    snprintf(when, sizeof(when), "cycle %lu: after deleting the slot at 0x%lx", cycle,
             shape.region.guest_phys);
    return region_churn_check_base(c, when);
}

int region_churn_run(struct region_churn *c, uint64_t first, uint64_t count)
{
    uint64_t every = c->check_every ? c->check_every : 1;

    for (uint64_t cycle = first; cycle < first + count; cycle++) {
        if (churn_cycle(c, cycle, cycle % every == every - 1 || cycle + 1 == first + count))
            return -1;
        c->cycles++;
    }
    return 0;
}

/* ---- the tool ----------------------------------------------------------- */

static uint64_t parse_count(const char *text, uint64_t fallback)
{
    uint64_t value = 0;

    if (text == NULL || *text == '\0')
        return fallback;
    for (; *text >= '0' && *text <= '9'; text++)
        value = value * 10 + (uint64_t)(*text - '0');
    return *text == '\0' && value > 0 ? value : fallback;
}

int region_churn_main(const struct hv_boot_info *info, int argc, char **argv)
{
    uint64_t cycles = parse_count(argc > 1 ? argv[1] : NULL, 1000000);
    struct region_churn c;
    struct hv_memory_region ram;
    struct hv_stats start;
    void *memory = page_alloc_aligned(2 * REGION_CHURN_BACKING, REGION_CHURN_BACKING);
    void *kept = page_alloc(KIB4);
    int status = 1;

    memset(&c, 0, sizeof(c));
    c.sys = info->system_handle;
    if (memory == NULL || kept == NULL || hv_get_stats(c.sys, &start) != 0) {
        ctl_printf("region_churn: no memory for the VM, or GET_STATS failed\n");
        return 1;
    }
    c.vm = hv_create_vm(c.sys);
    memset(&ram, 0, sizeof(ram));
    ram.size = REGION_CHURN_BACKING;
    ram.control_addr = hv_gpa(memory);
    c.kept_page = hv_gpa(kept);
    c.backing = hv_gpa(memory) + REGION_CHURN_BACKING;
    c.check_every = 1024;
    if (c.vm < 0 || hv_set_memory_region(c.vm, &ram) != 0) {
        ctl_printf("region_churn: CREATE_VM or its RAM slot failed (%ld)\n", c.vm);
        return 1;
    }
    if (region_churn_setup(&c) == 0) {
        ctl_printf("region_churn: %lu cycles; before: %lu free frames, %lu nested "
                   "table pages\n", cycles, c.base.free_frames,
                   c.base.nested_table_pages);
        if (region_churn_run(&c, 0, cycles) == 0 &&
            region_churn_check_base(&c, "after the last cycle") == 0)
            status = 0;
    }
    struct hv_stats end;
    hv_get_stats(c.sys, &end);
    ctl_printf("region_churn: %lu cycles done; after: %lu free frames, %lu nested "
               "table pages (at most %lu at the checks)\n", c.cycles, end.free_frames,
               end.nested_table_pages, c.most_tables);
    if (status != 0)
        ctl_printf("region_churn: FAIL %s\n", c.failure);
    hv_close(c.vm);
    hv_get_stats(c.sys, &end);
    if (end.free_frames != start.free_frames ||
        end.nested_table_pages != start.nested_table_pages) {
        ctl_printf("region_churn: FAIL after closing the VM: %lu free frames, %lu nested "
                   "table pages (at start %lu, %lu)\n", end.free_frames,
                   end.nested_table_pages, start.free_frames, start.nested_table_pages);
        status = 1;
    }
    ctl_printf("region_churn: %s\n", status == 0 ? "PASS" : "FAIL");
    return status;
}
