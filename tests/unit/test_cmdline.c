// sources: hv/cmdline.c
/* Unit tests for hv/cmdline.c: the hypervisor command line and parse_size.
 * The line comes from the boot loader's config, so typos must be reported
 * without disturbing the options that were understood. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "hv/cmdline.h"

/* Options filled with garbage, so that a default the parser forgets to set
 * shows up as a wrong value rather than a lucky zero. */
static struct hv_options dirty_options(void)
{
    struct hv_options o;
    memset(&o, 0xa5, sizeof(o));
    return o;
}

static void assert_defaults(const struct hv_options *o)
{
    assert_int_equal(o->log_level, LOG_INFO);
    assert_int_equal(o->consoles, CONSOLE_COM1 | CONSOLE_VGA);
    assert_int_equal(o->ctl_mem, CTL_MEM_DEFAULT);
    assert_false(o->acpi_dump);
    assert_int_equal(o->qemu_x87_guard, GUARD_AUTO);
    assert_false(o->no_apicv);
    assert_int_equal(o->unknown_count, 0);
}

static void test_defaults(void **state)
{
    (void)state;
    struct hv_options o = dirty_options();
    assert_int_equal(cmdline_parse("", &o), 0);
    assert_defaults(&o);

    o = dirty_options();
    assert_int_equal(cmdline_parse(NULL, &o), 0);
    assert_defaults(&o);

    o = dirty_options();
    assert_int_equal(cmdline_parse(" \t  ", &o), 0);
    assert_defaults(&o);
}

static void test_loglevel(void **state)
{
    (void)state;
    static const struct { const char *line; enum log_level level; } cases[] = {
        { "loglevel=error", LOG_ERROR }, { "loglevel=warn", LOG_WARN },
        { "loglevel=info", LOG_INFO },   { "loglevel=debug", LOG_DEBUG },
        { "loglevel=0", LOG_ERROR },     { "loglevel=1", LOG_WARN },
        { "loglevel=2", LOG_INFO },      { "loglevel=3", LOG_DEBUG },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hv_options o = dirty_options();
        assert_int_equal(cmdline_parse(cases[i].line, &o), 0);
        assert_int_equal(o.log_level, cases[i].level);
        assert_int_equal(o.unknown_count, 0);
    }
}

static void test_console(void **state)
{
    (void)state;
    static const struct { const char *line; unsigned consoles; } cases[] = {
        { "console=com1", CONSOLE_COM1 },
        { "console=serial", CONSOLE_COM1 },
        { "console=vga", CONSOLE_VGA },
        { "console=com1,vga", CONSOLE_COM1 | CONSOLE_VGA },
        { "console=vga,com1", CONSOLE_COM1 | CONSOLE_VGA },
        { "console=none", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hv_options o = dirty_options();
        assert_int_equal(cmdline_parse(cases[i].line, &o), 0);
        assert_int_equal(o.consoles, cases[i].consoles);
    }
}

static void test_fault_inject(void **state)
{
    (void)state;
    struct hv_options o = dirty_options();
    assert_int_equal(cmdline_parse("loglevel=info fault_inject", &o), 0);
    assert_true(o.fault_inject);
    assert_int_equal(cmdline_parse("loglevel=info", &o), 0);
    assert_false(o.fault_inject); /* off unless asked for */
    /* The word takes no value: a value is malformed and enables nothing. */
    assert_int_equal(cmdline_parse("fault_inject=1", &o), -HV_EINVAL);
    assert_false(o.fault_inject);
}

static void test_lost_slice_interrupts(void **state)
{
    (void)state;
    struct hv_options o = dirty_options();
    assert_int_equal(cmdline_parse("console=com1 lost_slice_interrupts", &o), 0);
    assert_true(o.lost_slice_interrupts);
    assert_int_equal(cmdline_parse("console=com1", &o), 0);
    assert_false(o.lost_slice_interrupts); /* a test option: off unless asked for */
    assert_int_equal(cmdline_parse("lost_slice_interrupts=on", &o), -HV_EINVAL);
    assert_false(o.lost_slice_interrupts);
}

static void test_qemu_x87_guard(void **state)
{
    (void)state;
    struct hv_options o = dirty_options();
    assert_int_equal(cmdline_parse("console=com1", &o), 0);
    assert_int_equal(o.qemu_x87_guard, GUARD_AUTO);
    assert_int_equal(cmdline_parse("qemu_x87_guard=off", &o), 0);
    assert_int_equal(o.qemu_x87_guard, GUARD_OFF);
    assert_int_equal(cmdline_parse("qemu_x87_guard=on loglevel=debug", &o), 0);
    assert_int_equal(o.qemu_x87_guard, GUARD_ON);
    assert_int_equal(cmdline_parse("qemu_x87_guard=auto", &o), 0);
    assert_int_equal(o.qemu_x87_guard, GUARD_AUTO);
    /* Malformed: reported, and the default stays. */
    assert_int_equal(cmdline_parse("qemu_x87_guard=yes", &o), -HV_EINVAL);
    assert_int_equal(o.qemu_x87_guard, GUARD_AUTO);
    assert_int_equal(cmdline_parse("qemu_x87_guard", &o), -HV_EINVAL);
    assert_int_equal(o.qemu_x87_guard, GUARD_AUTO);
}

static void test_apicv(void **state)
{
    (void)state;
    struct hv_options o = dirty_options();
    assert_int_equal(cmdline_parse("apicv=off", &o), 0);
    assert_true(o.no_apicv);
    assert_int_equal(cmdline_parse("apicv=on", &o), 0);
    assert_false(o.no_apicv);
    assert_int_equal(cmdline_parse("apicv=no", &o), -HV_EINVAL);
    assert_false(o.no_apicv);
    assert_int_equal(cmdline_parse("apicv", &o), -HV_EINVAL);
}

static void test_ctl_mem_and_acpi_dump(void **state)
{
    (void)state;
    struct hv_options o = dirty_options();
    assert_int_equal(cmdline_parse("ctl_mem=512M acpi_dump", &o), 0);
    assert_int_equal(o.ctl_mem, 512ull << 20);
    assert_true(o.acpi_dump);

    assert_int_equal(cmdline_parse("ctl_mem=2G", &o), 0);
    assert_int_equal(o.ctl_mem, 2ull << 30);
    assert_false(o.acpi_dump); /* defaults are restored on every parse */

    /* 4 MiB is the smallest accepted control domain. */
    assert_int_equal(cmdline_parse("ctl_mem=4096K", &o), 0);
    assert_int_equal(o.ctl_mem, 4ull << 20);
}

static void test_all_options_with_tabs(void **state)
{
    (void)state;
    struct hv_options o = dirty_options();
    const char *line = "\tloglevel=debug  console=com1\tctl_mem=256M acpi_dump ";
    assert_int_equal(cmdline_parse(line, &o), 0);
    assert_int_equal(o.log_level, LOG_DEBUG);
    assert_int_equal(o.consoles, CONSOLE_COM1);
    assert_int_equal(o.ctl_mem, 256ull << 20);
    assert_true(o.acpi_dump);
    assert_int_equal(o.unknown_count, 0);
}

/* Parses a line that holds exactly one bad word and checks that the word is
 * reported (as a pointer into the line, at `offset`) and that every option
 * kept its default: a rejected value must not be half-applied. */
static void check_rejected(const char *line, size_t offset, size_t word_len)
{
    struct hv_options o = dirty_options();
    assert_int_equal(cmdline_parse(line, &o), -HV_EINVAL);
    assert_int_equal(o.unknown_count, 1);
    assert_ptr_equal(o.unknown[0], line + offset);
    char c = o.unknown[0][word_len];
    assert_true(c == '\0' || c == ' ' || c == '\t');
    assert_int_equal(o.log_level, LOG_INFO);
    assert_int_equal(o.consoles, CONSOLE_COM1 | CONSOLE_VGA);
    assert_int_equal(o.ctl_mem, CTL_MEM_DEFAULT);
    assert_false(o.acpi_dump);
}

static void test_bad_values(void **state)
{
    (void)state;
    check_rejected("loglevel=verbose", 0, 16);
    check_rejected("loglevel=4", 0, 10);
    check_rejected("loglevel=", 0, 9);
    check_rejected("loglevel", 0, 8);
    check_rejected("loglevel=debugx", 0, 15);
    check_rejected("console=com2", 0, 12);
    check_rejected("console=com1,,vga", 0, 17);
    check_rejected("ctl_mem=lots", 0, 12);
    check_rejected("ctl_mem=", 0, 8);
    check_rejected("ctl_mem=12T", 0, 11);
    /* Below the 4 MiB minimum: rejected and the default kept. */
    check_rejected("ctl_mem=1M", 0, 10);
    check_rejected("ctl_mem=0", 0, 9);
    /* acpi_dump takes no value. */
    check_rejected("acpi_dump=1", 0, 11);
    check_rejected("  frobnicate", 2, 10);
    check_rejected("LOGLEVEL=debug", 0, 14);
}

static void test_good_words_survive_bad_ones(void **state)
{
    (void)state;
    struct hv_options o = dirty_options();
    const char *line = "loglevel=warn bogus console=vga ctl_mem=x acpi_dump";
    assert_int_equal(cmdline_parse(line, &o), -HV_EINVAL);
    assert_int_equal(o.log_level, LOG_WARN);
    assert_int_equal(o.consoles, CONSOLE_VGA);
    assert_int_equal(o.ctl_mem, CTL_MEM_DEFAULT);
    assert_true(o.acpi_dump);
    assert_int_equal(o.unknown_count, 2);
    assert_ptr_equal(o.unknown[0], strstr(line, "bogus"));
    assert_ptr_equal(o.unknown[1], strstr(line, "ctl_mem=x"));
}

static void test_unknown_list_is_bounded(void **state)
{
    (void)state;
    /* More bad words than the list holds: the first ones are kept, the
     * rest only make the result an error; nothing is written past the end. */
    const char *line = "a b c d e f g h i j k";
    struct hv_options o = dirty_options();
    assert_int_equal(cmdline_parse(line, &o), -HV_EINVAL);
    assert_int_equal(o.unknown_count, CMDLINE_MAX_UNKNOWN);
    for (unsigned i = 0; i < CMDLINE_MAX_UNKNOWN; i++)
        assert_ptr_equal(o.unknown[i], line + 2 * i);
}

/* parse_size over a whole C string. */
static bool size_of(const char *s, uint64_t *out)
{
    return parse_size(s, s + strlen(s), out);
}

static void test_parse_size_suffixes(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_true(size_of("0", &v));
    assert_int_equal(v, 0);
    assert_true(size_of("4096", &v));
    assert_int_equal(v, 4096);
    assert_true(size_of("64K", &v));
    assert_int_equal(v, 64ull << 10);
    assert_true(size_of("64k", &v));
    assert_int_equal(v, 64ull << 10);
    assert_true(size_of("3M", &v));
    assert_int_equal(v, 3ull << 20);
    assert_true(size_of("3m", &v));
    assert_int_equal(v, 3ull << 20);
    assert_true(size_of("5G", &v));
    assert_int_equal(v, 5ull << 30);
    assert_true(size_of("5g", &v));
    assert_int_equal(v, 5ull << 30);
    assert_true(size_of("18446744073709551615", &v));
    assert_int_equal(v, UINT64_MAX);

    /* `end` bounds the parse: "12K" read up to the K is plain 12. */
    const char *s = "12K";
    assert_true(parse_size(s, s + 2, &v));
    assert_int_equal(v, 12);
}

static void test_parse_size_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                      /* empty */
        "K", "M", "G",           /* a suffix without a number */
        "12KB", "12T", "1.5G",   /* junk after the number or suffix */
        "-1", "+1", " 1", "0x10",
        "18446744073709551616",  /* 2^64: decimal overflow */
        "99999999999999999999",
        "17179869184G",          /* 2^34 G = 2^64: overflow by the shift */
        "18014398509481984K",    /* 2^54 K = 2^64 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0x1234;
        if (size_of(bad[i], &v))
            fail_msg("parse_size accepted \"%s\" as %llu", bad[i],
                     (unsigned long long)v);
        /* A failed parse leaves the output alone. */
        assert_int_equal(v, 0x1234);
    }
    /* The largest values that still fit are accepted. */
    uint64_t v;
    assert_true(size_of("17179869183G", &v));
    assert_int_equal(v, 17179869183ull << 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_fault_inject),
        cmocka_unit_test(test_lost_slice_interrupts),
        cmocka_unit_test(test_qemu_x87_guard),
        cmocka_unit_test(test_apicv),
        cmocka_unit_test(test_loglevel),
        cmocka_unit_test(test_console),
        cmocka_unit_test(test_ctl_mem_and_acpi_dump),
        cmocka_unit_test(test_all_options_with_tabs),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_good_words_survive_bad_ones),
        cmocka_unit_test(test_unknown_list_is_bounded),
        cmocka_unit_test(test_parse_size_suffixes),
        cmocka_unit_test(test_parse_size_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
