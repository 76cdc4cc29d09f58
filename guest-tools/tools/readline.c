/*
 * readline: reads lines typed at the hypervisor's console (COM1) through
 * CONSOLE_READ and echoes each, the control domain's half of the console
 * input system test (tests/system/console_input_tests.sh). Between reads
 * it sleeps in HLT, which the hypervisor ends when input arrives: the
 * count of wake-ups it prints shows that it slept instead of spinning.
 * Argument: the number of lines (1 by default), or "hold": read nothing
 * for HOLD_SECONDS while the test types more than the hypervisor keeps,
 * then drain and report what was kept and what was dropped.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/tool.h"

#define LINE_MAX 128
#define HOLD_SECONDS 5

/* Reads one line (CR or LF ends it; an empty line is skipped, so CR LF
 * counts once) into line[LINE_MAX], NUL-terminated with unprintable bytes
 * shown as '?'. Returns its length, or a negative error of CONSOLE_READ. */
static long read_line(hv_handle_t sys, char *line, uint64_t *wakeups)
{
    static uint8_t chunk[64];
    long length = 0;
    for (;;) {
        long n = hv_console_read(sys, hv_gpa(chunk), sizeof(chunk));
        if (n < 0)
            return n;
        if (n == 0) {
            __asm__ volatile("hlt");
            (*wakeups)++;
            continue;
        }
        /* Bytes after the line's end are dropped: one line per prompt. */
        for (long i = 0; i < n; i++) {
            uint8_t c = chunk[i];
            if (c == '\r' || c == '\n') {
                if (length == 0)
                    continue;
                line[length] = 0;
                return length;
            }
            if (length < LINE_MAX - 1)
                line[length++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
    }
}

static int print_stats(hv_handle_t sys)
{
    struct hv_stats stats;
    if (hv_get_stats(sys, &stats) != 0)
        return 1;
    ctl_printf("readline: GET_STATS console_input_bytes %lu, console_input_dropped %lu\n",
               stats.console_input_bytes, stats.console_input_dropped);
    return 0;
}

/* The ring fills while nobody reads; the hypervisor drops the excess
 * and goes on. */
static int hold_then_drain(hv_handle_t sys)
{
    static uint8_t chunk[HV_CONSOLE_READ_MAX];
    long khz = hv_check_extension(sys, HV_CAP_TSC_KHZ), n;
    uint64_t kept = 0;

    if (khz <= 0)
        return 1;
    ctl_printf("readline: not reading for %u s: type now\n", HOLD_SECONDS);
    uint64_t end = __builtin_ia32_rdtsc() + (uint64_t)khz * 1000 * HOLD_SECONDS;
    while (__builtin_ia32_rdtsc() < end)
        __builtin_ia32_pause();
    while ((n = hv_console_read(sys, hv_gpa(chunk), sizeof(chunk))) > 0)
        kept += (uint64_t)n;
    if (n < 0)
        return 1;
    ctl_printf("readline: after the hold %lu bytes were waiting\n", kept);
    return print_stats(sys);
}

int readline_main(const struct hv_boot_info *info, int argc, char **argv)
{
    hv_handle_t sys = info->system_handle;
    unsigned lines = 1;
    if (argc > 1 && strcmp(argv[1], "hold") == 0)
        return hold_then_drain(sys);
    if (argc > 1) {
        lines = 0;
        for (const char *p = argv[1]; *p >= '0' && *p <= '9'; p++)
            lines = lines * 10 + (unsigned)(*p - '0');
    }
    char line[LINE_MAX];
    for (unsigned i = 1; i <= lines; i++) {
        uint64_t wakeups = 0;
        ctl_printf("readline: waiting for line %u on the console\n", i);
        long length = read_line(sys, line, &wakeups);
        if (length < 0) {
            ctl_printf("readline: CONSOLE_READ failed (%ld)\n", length);
            return 1;
        }
        ctl_printf("readline: line %u: '%s' (%ld bytes, %lu wake-ups)\n", i, line,
                   length, wakeups);
    }
    return print_stats(sys);
}
