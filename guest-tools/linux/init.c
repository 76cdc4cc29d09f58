/*
 * The Linux test guest's /init: a static, freestanding x86-64 program
 * (raw system calls, no libc) that reports what the kernel made of the
 * virtual PC and then powers it off. Every line it prints starts with
 * "init: " so that a test can check them in order:
 *   init: kernel <release> <version>
 *   init: cpus online <list> (<n>), affinity <n>
 *   init: MemTotal <n> kB
 *   init: rtc second = <ms> ms monotonic
 *   init: sleep 1 s = <ms> ms monotonic, <ms> ms tsc, <ms> ms rtc
 *   init: type a line
 *   init: echo <the line typed>
 *   init: powering off
 * With the word `bench` on the kernel command line it powers off right
 * after the first line: `make bench` counts the instructions of a boot
 * to that line (tests/bench.sh).
 * The clocks are checked against each other, not against a fixed rate:
 * the TSC's rate is measured over one RTC second (edge to edge), so a
 * 1 s nanosleep must come out near 1000 ms by all three.
 */
#include <stddef.h>
#include <stdint.h>

/* x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
#define SYS_read              0
#define SYS_write             1
#define SYS_open              2
#define SYS_close             3
#define SYS_dup2              33
#define SYS_nanosleep         35
#define SYS_exit              60
#define SYS_uname             63
#define SYS_mkdir             83
#define SYS_mount             165
#define SYS_reboot            169
#define SYS_clock_gettime     228
#define SYS_sched_getaffinity 204

#define O_RDONLY 0
#define O_RDWR   2
#define CLOCK_MONOTONIC 1

/* reboot(2): the two magic numbers and the power-off command. */
#define LINUX_REBOOT_MAGIC1        0xfee1deadu
#define LINUX_REBOOT_MAGIC2        0x28121969u
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedcu

struct timespec64 {
    int64_t sec;
    int64_t nsec;
};

struct utsname {
    char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

static long syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;

    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define SYS3(n, a, b, c) syscall6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static size_t length(const char *s)
{
    size_t n = 0;

    while (s[n] != '\0')
        n++;
    return n;
}

static void put(const char *s)
{
    SYS3(SYS_write, 1, s, length(s));
}

static void put_number(uint64_t v)
{
    char digits[24];
    int i = sizeof(digits) - 1;

    digits[i] = '\0';
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(digits + i);
}

/* The first line of a small file, NUL-terminated, newline dropped; the
 * length, or -1. */
static long read_first_line(const char *path, char *buf, size_t size)
{
    long fd = SYS3(SYS_open, path, O_RDONLY, 0), n;

    if (fd < 0)
        return -1;
    n = SYS3(SYS_read, fd, buf, size - 1);
    SYS3(SYS_close, fd, 0, 0);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    for (long i = 0; i < n; i++)
        if (buf[i] == '\n') {
            buf[i] = '\0';
            return i;
        }
    return n;
}

static uint64_t parse_number(const char **p)
{
    uint64_t v = 0;

    while (**p >= '0' && **p <= '9')
        v = v * 10 + (uint64_t)(*(*p)++ - '0');
    return v;
}

static uint64_t monotonic_ns(void)
{
    struct timespec64 ts;

    SYS3(SYS_clock_gettime, CLOCK_MONOTONIC, &ts, 0);
    return (uint64_t)ts.sec * 1000000000ull + (uint64_t)ts.nsec;
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static void sleep_ns(int64_t ns)
{
    struct timespec64 ts = { ns / 1000000000, ns % 1000000000 };

    SYS3(SYS_nanosleep, &ts, 0, 0);
}

/* Seconds since the epoch by the RTC driver (rtc_cmos), or 0. */
static uint64_t rtc_seconds(void)
{
    char buf[32];
    const char *p = buf;

    if (read_first_line("/sys/class/rtc/rtc0/since_epoch", buf, sizeof(buf)) <= 0)
        return 0;
    return parse_number(&p);
}

/* Waits for the RTC's next second to begin (polling every ms, so that
 * the edge is known to 1 ms); returns that second, 0 if the RTC is
 * missing or does not tick within 3 s. */
static uint64_t rtc_next_edge(void)
{
    uint64_t start = rtc_seconds(), now;

    if (start == 0)
        return 0;
    for (int i = 0; i < 3000; i++) {
        now = rtc_seconds();
        if (now != start)
            return now;
        sleep_ns(1000000);
    }
    return 0;
}

static void report_kernel(void)
{
    struct utsname u;

    if (SYS3(SYS_uname, &u, 0, 0) < 0) {
        put("init: uname failed\n");
        return;
    }
    put("init: kernel ");
    put(u.release);
    put(" ");
    put(u.version);
    put("\n");
}

/* "0-1,3" -> 3 */
static unsigned count_cpu_list(const char *p)
{
    unsigned count = 0;

    while (*p >= '0' && *p <= '9') {
        uint64_t first = parse_number(&p), last = first;

        if (*p == '-') {
            p++;
            last = parse_number(&p);
        }
        count += (unsigned)(last - first + 1);
        if (*p == ',')
            p++;
    }
    return count;
}

static void report_cpus(void)
{
    char list[128];
    uint64_t mask[16] = { 0 };
    long bytes = SYS3(SYS_sched_getaffinity, 0, sizeof(mask), mask);
    unsigned affinity = 0;

    for (long i = 0; i < bytes / 8; i++)
        for (uint64_t m = mask[i]; m != 0; m &= m - 1)
            affinity++;
    if (read_first_line("/sys/devices/system/cpu/online", list, sizeof(list)) <= 0) {
        put("init: /sys/devices/system/cpu/online unreadable\n");
        return;
    }
    put("init: cpus online ");
    put(list);
    put(" (");
    put_number(count_cpu_list(list));
    put("), affinity ");
    put_number(affinity);
    put("\n");
}

static void report_memory(void)
{
    char buf[64];
    const char *p = buf;

    if (read_first_line("/proc/meminfo", buf, sizeof(buf)) <= 0) {
        put("init: /proc/meminfo unreadable\n");
        return;
    }
    while (*p != '\0' && (*p < '0' || *p > '9'))
        p++;
    put("init: MemTotal ");
    put_number(parse_number(&p));
    put(" kB\n");
}

static void check_time(void)
{
    uint64_t second, mono0, tsc0, mono1, tsc1, tsc_per_second, rtc0, rtc1;

    second = rtc_next_edge();
    mono0 = monotonic_ns();
    tsc0 = rdtsc();
    if (second == 0 || rtc_next_edge() == 0) {
        put("init: the RTC does not tick\n");
        return;
    }
    mono1 = monotonic_ns();
    tsc1 = rdtsc();
    tsc_per_second = tsc1 - tsc0;
    put("init: rtc second = ");
    put_number((mono1 - mono0 + 500000) / 1000000);
    put(" ms monotonic\n");

    /* The sleep starts on an RTC edge, so the RTC's count of whole
     * seconds across it says 1 when the sleep lasted 1 s to within the
     * polling's millisecond. */
    rtc0 = rtc_seconds();
    mono0 = monotonic_ns();
    tsc0 = rdtsc();
    sleep_ns(1000000000);
    mono1 = monotonic_ns();
    tsc1 = rdtsc();
    rtc1 = rtc_seconds();
    put("init: sleep 1 s = ");
    put_number((mono1 - mono0 + 500000) / 1000000);
    put(" ms monotonic, ");
    put_number(((tsc1 - tsc0) * 1000 + tsc_per_second / 2) / tsc_per_second);
    put(" ms tsc, ");
    put_number((rtc1 - rtc0) * 1000);
    put(" ms rtc\n");
}

/* A line from the console (the tty is in canonical mode: one read
 * returns one line). */
static void echo_line(void)
{
    char line[128];
    long n;

    put("init: type a line\n");
    n = SYS3(SYS_read, 0, line, sizeof(line) - 1);
    if (n < 0)
        n = 0;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    line[n] = '\0';
    put("init: echo ");
    put(line);
    put("\n");
}

/* The initramfs holds no device nodes (the build makes it without root):
 * devtmpfs supplies /dev/console. */
static void set_up_console(void)
{
    long fd;

    SYS3(SYS_mkdir, "/dev", 0755, 0);
    SYS3(SYS_mkdir, "/proc", 0555, 0);
    SYS3(SYS_mkdir, "/sys", 0555, 0);
    syscall6(SYS_mount, (long)"devtmpfs", (long)"/dev", (long)"devtmpfs", 0, 0, 0);
    syscall6(SYS_mount, (long)"proc", (long)"/proc", (long)"proc", 0, 0, 0);
    syscall6(SYS_mount, (long)"sysfs", (long)"/sys", (long)"sysfs", 0, 0, 0);
    fd = SYS3(SYS_open, "/dev/console", O_RDWR, 0);
    if (fd >= 0) {
        for (long i = 0; i < 3; i++)
            if (fd != i)
                SYS3(SYS_dup2, fd, i, 0);
        if (fd > 2)
            SYS3(SYS_close, fd, 0, 0);
    }
}

/* Is `bench` a word of the kernel's command line? */
static int bench_mode(void)
{
    char line[256];
    long n = read_first_line("/proc/cmdline", line, sizeof(line));

    for (long at = 0; at + 5 <= n; at++)
        if ((at == 0 || line[at - 1] == ' ') && line[at] == 'b' && line[at + 1] == 'e' &&
            line[at + 2] == 'n' && line[at + 3] == 'c' && line[at + 4] == 'h' &&
            (line[at + 5] == ' ' || line[at + 5] == '\0' || line[at + 5] == '\n'))
            return 1;
    return 0;
}

static void power_off(void)
{
    syscall6(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
             LINUX_REBOOT_CMD_POWER_OFF, 0, 0, 0);
}

void init_main(void);
void init_main(void)
{
    set_up_console();
    report_kernel();
    if (bench_mode())
        power_off();
    report_cpus();
    report_memory();
    check_time();
    echo_line();
    put("init: powering off\n");
    power_off();
    put("init: power-off failed\n");
    /* init must not exit: the kernel would panic. */
    for (;;)
        sleep_ns(1000000000);
}

/* The kernel enters with RSP 16-byte aligned on argc; a call pushes the
 * return address, as the ABI expects at a function's entry. */
__asm__(".globl _start\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"
        "    call init_main\n"
        "    hlt\n");
