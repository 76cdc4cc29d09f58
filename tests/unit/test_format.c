// sources: hv/format.c
/* Unit tests for hv/format.c, the console's vsnprintf. Every expectation is
 * what C's snprintf prints for the same format, except %p (always "0x" and
 * 16 digits, by design) and unknown conversions (echoed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/format.h"

/* Calls format_string without the printf attribute, so that formats GCC
 * would warn about (on purpose: unknown conversions, '0' with '-') can be
 * exercised under -Werror. */
static int format_raw(char *buf, size_t size, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int n = format_string(buf, size, fmt, args);
    va_end(args);
    return n;
}

/* Formats into a roomy buffer and checks both text and returned length. */
#define EXPECT(text, ...)                                                  \
    do {                                                                   \
        char buf_[128];                                                    \
        memset(buf_, 'Z', sizeof(buf_));                                   \
        int n_ = format(buf_, sizeof(buf_), __VA_ARGS__);                  \
        assert_string_equal(buf_, text);                                   \
        assert_int_equal(n_, strlen(text));                                \
    } while (0)

static void test_plain_text_and_percent(void **state)
{
    (void)state;
    EXPECT("", "%s", "");
    EXPECT("hello", "hello");
    EXPECT("100%", "100%%");
    EXPECT("a%b", "a%%b");
}

static void test_signed_decimal(void **state)
{
    (void)state;
    EXPECT("0", "%d", 0);
    EXPECT("42", "%d", 42);
    EXPECT("-42", "%d", -42);
    EXPECT("-7", "%i", -7);
    EXPECT("2147483647", "%d", INT32_MAX);
    EXPECT("-2147483648", "%d", INT32_MIN);
    /* The magnitude of INT64_MIN does not fit int64_t: the negation must be
     * done unsigned or it overflows. */
    EXPECT("-9223372036854775808", "%lld", (long long)INT64_MIN);
    EXPECT("9223372036854775807", "%ld", (long)INT64_MAX);
    EXPECT("-1", "%zd", (ptrdiff_t)-1);
}

static void test_unsigned_and_hex(void **state)
{
    (void)state;
    EXPECT("4294967295", "%u", UINT32_MAX);
    EXPECT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
    EXPECT("18446744073709551615", "%lu", (unsigned long)UINT64_MAX);
    EXPECT("123456", "%zu", (size_t)123456);
    EXPECT("deadbeef", "%x", 0xdeadbeefu);
    EXPECT("DEADBEEF", "%X", 0xdeadbeefu);
    EXPECT("0", "%x", 0u);
    EXPECT("fedcba9876543210", "%llx", 0xfedcba9876543210ull);
    EXPECT("FEDCBA9876543210", "%lX", 0xfedcba9876543210ul);
}

static void test_int_argument_is_not_read_as_64_bit(void **state)
{
    (void)state;
    /* Without a length modifier only 32 bits are consumed: -1 is
     * 0xffffffff as %x and 4294967295 as %u, and the next argument still
     * lines up. */
    EXPECT("ffffffff 4294967295 z", "%x %u %c", -1, -1, 'z');
    EXPECT("1 2 3", "%d %lld %d", 1, 2ll, 3);
}

static void test_chars_strings_pointers(void **state)
{
    (void)state;
    EXPECT("x", "%c", 'x');
    EXPECT("[  x]", "[%3c]", 'x');
    EXPECT("[x  ]", "[%-3c]", 'x');
    EXPECT("abc def", "%s %s", "abc", "def");
    /* A NULL string prints as "(null)" instead of faulting; format_raw
     * because GCC rejects a literal NULL for %s at compile time. */
    char nb[16];
    assert_int_equal(format_raw(nb, sizeof(nb), "%s", (const char *)NULL), 6);
    assert_string_equal(nb, "(null)");
    EXPECT("0x00000000deadbeef", "%p", (void *)(uintptr_t)0xdeadbeef);
    EXPECT("0x0000000000000000", "%p", (void *)NULL);
    EXPECT("0xffff800000001000", "%p", (void *)(uintptr_t)0xffff800000001000ull);
}

static void test_width_and_padding(void **state)
{
    (void)state;
    EXPECT("[   42]", "[%5d]", 42);
    EXPECT("[00042]", "[%05d]", 42);
    EXPECT("[42   ]", "[%-5d]", 42);
    EXPECT("[  -42]", "[%5d]", -42);
    /* Zero padding goes between the sign and the digits. */
    EXPECT("[-0042]", "[%05d]", -42);
    EXPECT("[-42  ]", "[%-5d]", -42);
    EXPECT("[000000ff]", "[%08x]", 0xffu);
    EXPECT("[0000000000001000]", "[%016llx]", 0x1000ull);
    EXPECT("[  hi]", "[%4s]", "hi");
    EXPECT("[hi  ]", "[%-4s]", "hi");
    /* A width smaller than the text never truncates. */
    EXPECT("[123456]", "[%3d]", 123456);
    EXPECT("[hello]", "[%2s]", "hello");
}

static void test_left_align_overrides_zero(void **state)
{
    (void)state;
    char buf[32];
    /* As in C: '-' wins over '0', the padding is spaces on the right. */
    assert_int_equal(format_raw(buf, sizeof(buf), "[%-05d]", 42), 7);
    assert_string_equal(buf, "[42   ]");
    assert_int_equal(format_raw(buf, sizeof(buf), "[%0-5x]", 0xabu), 7);
    assert_string_equal(buf, "[ab   ]");
}

static void test_unknown_conversion_and_trailing_percent(void **state)
{
    (void)state;
    char buf[32];
    /* An unknown conversion is shown as written, so a typo is visible. */
    assert_int_equal(format_raw(buf, sizeof(buf), "a%qb"), 4);
    assert_string_equal(buf, "a%qb");
    /* A lone '%' at the end must not read past the terminating NUL. */
    assert_int_equal(format_raw(buf, sizeof(buf), "end%"), 3);
    assert_string_equal(buf, "end");
}

static void test_truncation(void **state)
{
    (void)state;
    char buf[8];
    memset(buf, 'Z', sizeof(buf));
    /* Returns the full length; writes size-1 characters and a NUL. */
    assert_int_equal(format(buf, 6, "%s-%d", "abcdef", 12345), 12);
    assert_string_equal(buf, "abcde");
    assert_int_equal(buf[6], 'Z'); /* nothing written past size */

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(format(buf, 1, "xyz"), 3);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'Z');

    /* Exactly fitting: 7 characters and the NUL in 8 bytes. */
    assert_int_equal(format(buf, 8, "%07d", 5), 7);
    assert_string_equal(buf, "0000005");

    /* One character too long: the last one is dropped. */
    assert_int_equal(format(buf, 8, "%08x", 0x1234u), 8);
    assert_string_equal(buf, "0000123");
}

static void test_size_zero_writes_nothing(void **state)
{
    (void)state;
    char guard = 'G';
    /* size 0 is used to measure; the buffer must not be touched at all. */
    assert_int_equal(format(&guard, 0, "%d apples", 12), 9);
    assert_int_equal(guard, 'G');
    assert_int_equal(format(NULL, 0, "%s", "measure me"), 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_and_percent),
        cmocka_unit_test(test_signed_decimal),
        cmocka_unit_test(test_unsigned_and_hex),
        cmocka_unit_test(test_int_argument_is_not_read_as_64_bit),
        cmocka_unit_test(test_chars_strings_pointers),
        cmocka_unit_test(test_width_and_padding),
        cmocka_unit_test(test_left_align_overrides_zero),
        cmocka_unit_test(test_unknown_conversion_and_trailing_percent),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_size_zero_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
