// sources: guest-tools/vmm/pc/pc_options.c guest-tools/runtime/cmdline.c
/* Unit tests for a PC guest's module command line
 * (guest-tools/vmm/pc/pc_options.c): defaults, each option, the guest's
 * own words left alone, %XX input escapes, and the errors that name the
 * bad word. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "guest-tools/vmm/pc/pc_options.h"

static struct pc_options o;

static int parse(const char *line)
{
    return pc_options_parse(line, strlen(line), &o);
}

static void test_defaults(void **state)
{
    (void)state;
    assert_int_equal(parse("hello"), 0);
    assert_string_equal(o.name, "hello");
    assert_int_equal(o.ram_mib, PC_DEFAULT_RAM_MIB);
    assert_int_equal(o.cpus, 1);
    assert_int_equal(o.module_count, 0);
    assert_int_equal(o.timeout_seconds, 0);
    assert_int_equal(o.input_len, 0);
    assert_false(o.together);
    assert_false(o.profile);
}

static void test_options(void **state)
{
    (void)state;
    assert_int_equal(parse("  pc_smp mem=64 cpus=4 console=ttyS0 module=initrd "
                           "module=data timeout=30 quiet"), 0);
    assert_string_equal(o.name, "pc_smp");
    assert_int_equal(o.ram_mib, 64);
    assert_int_equal(o.cpus, 4);
    assert_int_equal(o.module_count, 2);
    assert_string_equal(o.modules[0], "initrd");
    assert_string_equal(o.modules[1], "data");
    assert_int_equal(o.timeout_seconds, 30);
    /* The guest's own words, in order, without the name and options:
     * a Linux guest's kernel command line. */
    assert_string_equal(o.guest_cmdline, "console=ttyS0 quiet");
    assert_string_equal(o.initrd, "");
    assert_int_equal(parse("g mem=1G"), 0);
    assert_string_equal(o.guest_cmdline, "");
    assert_int_equal(o.ram_mib, 1024);
    assert_int_equal(parse("linux initrd=rd console=ttyS0 mem=64"), 0);
    assert_string_equal(o.initrd, "rd");
    assert_int_equal(o.ram_mib, 64);
    assert_string_equal(o.guest_cmdline, "console=ttyS0");
    assert_int_equal(parse("g mem=48M cpus=64"), 0);
    assert_int_equal(o.ram_mib, 48);
    assert_int_equal(o.cpus, 64);
    /* together is an option only as the whole word. */
    assert_int_equal(parse("linux together initrd=rd console=ttyS0 together=no profile"), 0);
    assert_true(o.together);
    assert_true(o.profile);
    assert_string_equal(o.guest_cmdline, "console=ttyS0 together=no");
}

static void test_input_escapes(void **state)
{
    (void)state;
    assert_int_equal(parse("g input=ls%20-l%0a%41"), 0);
    assert_int_equal(o.input_len, 7);
    assert_memory_equal(o.input, "ls -l\nA", 7);
    assert_int_equal(parse("g prompt=login:%20 input=root%0d"), 0);
    assert_string_equal(o.prompt, "login: ");
    assert_int_equal(o.input_len, 5);
    assert_int_equal(parse("g prompt="), -HV_EINVAL);
    assert_int_equal(parse("g prompt=a%00b"), -HV_EINVAL);
    assert_int_equal(o.prompt[0], '\0');
    assert_int_equal(parse("g input=%zz"), -HV_EINVAL);
    assert_int_equal(parse("g input=%4"), -HV_EINVAL);
}

static void test_errors(void **state)
{
    (void)state;
    static const char *bad[] = {
        "g mem=0", "g mem=", "g mem=12K", "g mem=12MB", "g mem=99999999999",
        "g cpus=0", "g cpus=65", "g cpus=two", "g cpus=2x", "g timeout=-1",
        "g module=", "g module=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "g initrd=", "g initrd=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(bad[i]), -HV_EINVAL);
        assert_non_null(strstr(o.error, bad[i] + 2));
    }
    /* One initrd only: the second names the word refused. */
    assert_int_equal(parse("g initrd=a initrd=b"), -HV_EINVAL);
    assert_non_null(strstr(o.error, "\"initrd=b\""));
    assert_int_equal(parse(""), -HV_EINVAL);
    assert_int_equal(parse("   "), -HV_EINVAL);
    assert_int_equal(parse("a_name_that_is_far_too_long_for_a_vm"), -HV_EINVAL);
    /* Not terminated within max: only max bytes count. */
    assert_int_equal(pc_options_parse("hello cpus=3", 7, &o), 0);
    assert_int_equal(o.cpus, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_input_escapes),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
