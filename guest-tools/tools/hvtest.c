/*
 * hvtest: the runner and the checks every test uses. A test is a function
 * that makes calls and checks their results with hvt_ok / hvt_err / hvt_eq;
 * the first failed check's message becomes the test's FAIL line. Around
 * each test the runner restores control-domain memory, closes the handles
 * the test kept, and compares GET_STATS before and after.
 *
 * Usage: hvtest [pattern]: only tests whose name contains pattern.
 */
#include <stdarg.h>
#include <stddef.h>

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"
#include "guest-tools/tools/tool.h"

#define MESSAGE_MAX 320
#define KEPT_MAX    512

static const struct hvtest_case *const areas[] = {
    hvtest_calls_cases,
    hvtest_user_mode_cases,
    hvtest_state_cases,
    hvtest_sregs_cases,
    hvtest_sregs_sweep_cases,
    hvtest_run_cases,
    hvtest_exits_cases,
    hvtest_guest_insn_cases,
    hvtest_handles_cases,
    hvtest_args_cases,
    hvtest_memory_cases,
    hvtest_region_churn_cases,
    hvtest_lifecycle_cases,
    hvtest_hostile_cases,
    hvtest_msrs_cases,
    hvtest_msrs_refused_cases,
    hvtest_msr_switch_cases,
    hvtest_cr2_cases,
    hvtest_speculation_cases,
    hvtest_translate_cases,
    hvtest_kick_cases,
    hvtest_dirty_cases,
    hvtest_interrupt_cases,
    hvtest_page_walk_cases,
    hvtest_debug_cases,
    hvtest_cpuid_cases,
    hvtest_cpuid_calls_cases,
    hvtest_debugregs_cases,
    hvtest_debugregs_guest_cases,
    hvtest_smp_cases,
    hvtest_nmi_cases,
    hvtest_concurrency_flush_cases,
    hvtest_concurrency_cases,
    hvtest_concurrency_close_cases,
    hvtest_fpu_cases,
    hvtest_lapic_cases,
    hvtest_events_cases,
    hvtest_events_guest_cases,
    hvtest_msr_exits_cases,
    hvtest_mmio_exits_cases,
    hvtest_fault_cases,
    hvtest_fuzz_found_cases,
    hvtest_emulator_guards_cases,
    hvtest_ports_cases,
    hvtest_high_gprs_cases,
    hvtest_code_walk_cases,
    hvtest_migrate_cases,
    hvtest_watchdog_cases,
};

/* State of the running test. */
static const struct hv_boot_info *boot_info;
static struct hv_stats stats_at_start;
static char message[MESSAGE_MAX];      /* first failure; empty while passing */
static long kept[KEPT_MAX];            /* handles to close after the test */
static unsigned kept_count;

const struct hv_stats *hvt_stats_at_start(void)
{
    return &stats_at_start;
}

const struct hv_boot_info *hvt_info(void)
{
    return boot_info;
}

hv_handle_t hvt_sys(void)
{
    return boot_info->system_handle;
}

void hvt_fail(const char *fmt, ...)
{
    va_list ap;

    if (message[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (message[0] == '\0')
        strlcpy(message, "failed", sizeof(message));
}

int hvt_failed(void)
{
    return message[0] != '\0';
}

const char *hvt_result_name(long rc, char *buf, unsigned size)
{
    if (rc >= 0)
        snprintf(buf, size, "success (%ld)", rc);
    else if (strcmp(hv_strerror(rc), "HV_E?") == 0)
        snprintf(buf, size, "unknown error %ld", rc);
    else
        snprintf(buf, size, "%s", hv_strerror(rc));
    return buf;
}

int hvt_ok(long rc, const char *what)
{
    char got[48];

    if (rc >= 0)
        return 1;
    hvt_fail("%s: expected success, got %s", what,
             hvt_result_name(rc, got, sizeof(got)));
    return 0;
}

/* After a call the hypervisor refused, it must still answer. */
static int still_answers(const char *after)
{
    long version = hv_get_api_version(hvt_sys());
    char got[48];

    if (version == HV_API_VERSION)
        return 1;
    hvt_fail("after %s: GET_API_VERSION expected success (%d), got %s", after,
             HV_API_VERSION, hvt_result_name(version, got, sizeof(got)));
    return 0;
}

int hvt_err(long rc, long want, const char *what)
{
    char got[48], wanted[48];

    if (rc != want) {
        if (want == 0)
            strlcpy(wanted, "success (0)", sizeof(wanted));
        else
            hvt_result_name(want, wanted, sizeof(wanted));
        hvt_fail("%s: expected %s, got %s", what, wanted,
                 hvt_result_name(rc, got, sizeof(got)));
        return 0;
    }
    return want >= 0 || still_answers(what);
}

int hvt_eq(uint64_t got, uint64_t want, const char *what)
{
    if (got == want)
        return 1;
    hvt_fail("%s: expected 0x%lx, got 0x%lx", what, want, got);
    return 0;
}

int hvt_true(int cond, const char *what)
{
    if (cond)
        return 1;
    hvt_fail("%s", what);
    return 0;
}

long hvt_keep(long handle)
{
    if (handle <= 0)
        return handle;
    if (kept_count == KEPT_MAX) {
        hvt_fail("test keeps more than %u handles", KEPT_MAX);
        return handle;
    }
    kept[kept_count++] = handle;
    return handle;
}

int hvt_stats(struct hv_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    return hvt_ok(hv_get_stats(hvt_sys(), stats), "GET_STATS");
}

int hvt_stats_unchanged(const struct hv_stats *before, const char *when)
{
    /* The counters of what a test may leak (not the NMI and machine-check
     * counts, which other causes move). */
    static const struct {
        const char *name;
        unsigned offset;
    } fields[] = {
        { "free_frames", offsetof(struct hv_stats, free_frames) },
        { "vms", offsetof(struct hv_stats, vms) },
        { "vcpus", offsetof(struct hv_stats, vcpus) },
        { "handles", offsetof(struct hv_stats, handles) },
        { "objects", offsetof(struct hv_stats, objects) },
        { "nested_table_pages", offsetof(struct hv_stats, nested_table_pages) },
    };
    struct hv_stats now;

    if (!hvt_stats(&now))
        return 0;
    for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        uint64_t a = *(const uint64_t *)((const char *)before + fields[i].offset);
        uint64_t b = *(const uint64_t *)((const char *)&now + fields[i].offset);
        if (a != b) {
            hvt_fail("%s: GET_STATS %s expected %lu, got %lu", when, fields[i].name,
                     a, b);
            return 0;
        }
    }
    return 1;
}

/* Closes what the test kept, newest first (vcpus before their VM). */
static void close_kept(void)
{
    while (kept_count > 0)
        hv_close(kept[--kept_count]);
}

/* Runs one test; 1 when it passed. */
static int run_case(const struct hvtest_case *test)
{
    struct page_mark mark = page_alloc_mark();
    struct hv_stats before;
    int have_before;

    message[0] = '\0';
    kept_count = 0;
    have_before = hv_get_stats(hvt_sys(), &before) == 0;
    test->run();
    close_kept();
    page_alloc_release(mark);
    if (!have_before)
        hvt_fail("GET_STATS before the test failed");
    else if (!hvt_failed())
        hvt_stats_unchanged(&before, "after the test and its clean-up");

    if (hvt_failed()) {
        ctl_printf("hvtest: FAIL %s: %s\n", test->name, message);
        return 0;
    }
    ctl_printf("hvtest: PASS %s\n", test->name);
    return 1;
}

/* Substring match for the optional name filter. */
static int name_matches(const char *name, const char *pattern)
{
    size_t len = strlen(pattern);

    for (; *name != '\0'; name++) {
        if (strncmp(name, pattern, len) == 0)
            return 1;
    }
    return len == 0;
}

int hvtest_main(const struct hv_boot_info *info, int argc, char **argv)
{
    const char *pattern = argc > 1 ? argv[1] : "";
    unsigned passed = 0, failed = 0;

    boot_info = info;
    if (hv_get_stats(info->system_handle, &stats_at_start) < 0)
        memset(&stats_at_start, 0, sizeof(stats_at_start));
    ctl_printf("hvtest suite: %s backend, %u CPUs, %lu MiB control-domain RAM, "
               "%u modules%s%s\n", hv_backend_name(hv_backend()),
               info->cpu_count, info->memory_size >> 20, info->module_count,
               argc > 1 ? ", tests matching " : "", pattern);
    for (unsigned a = 0; a < sizeof(areas) / sizeof(areas[0]); a++) {
        for (const struct hvtest_case *t = areas[a]; t->name != NULL; t++) {
            if (!name_matches(t->name, pattern))
                continue;
            if (run_case(t))
                passed++;
            else
                failed++;
        }
    }
    ctl_printf("hvtest: %u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
