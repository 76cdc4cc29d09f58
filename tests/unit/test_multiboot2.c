// sources: hv/multiboot.c
/* Unit tests for multiboot2_parse (hv/multiboot.c) on hand-built information
 * structures. The structure comes from the boot loader and is treated as
 * untrusted: every malformed variant here must be refused without reading
 * past the buffer (AddressSanitizer watches the reads). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "hv/multiboot.h"

/* Builder for a multiboot2 information structure: an 8-byte header
 * (total_size, reserved) then tags, each starting 8-byte aligned. */
struct mb2 {
    uint8_t *buf;
    size_t cap, len;
};

static void mb2_begin(struct mb2 *b, size_t cap)
{
    b->buf = aligned_alloc(8, cap);
    assert_non_null(b->buf);
    memset(b->buf, 0, cap);
    b->cap = cap;
    b->len = 8;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Appends a tag whose size field says `size` and whose payload (after the
 * 8-byte tag header) is `payload_len` bytes; returns the tag. */
static uint8_t *mb2_tag_sized(struct mb2 *b, uint32_t type, uint32_t size,
                              const void *payload, size_t payload_len)
{
    assert_true(b->len + 8 + payload_len + 8 <= b->cap);
    uint8_t *tag = b->buf + b->len;
    put32(tag, type);
    put32(tag + 4, size);
    if (payload_len)
        memcpy(tag + 8, payload, payload_len);
    b->len += (8 + payload_len + 7) & ~(size_t)7;
    return tag;
}

static uint8_t *mb2_tag(struct mb2 *b, uint32_t type, const void *payload,
                        size_t payload_len)
{
    return mb2_tag_sized(b, type, (uint32_t)(8 + payload_len), payload,
                         payload_len);
}

static void mb2_string(struct mb2 *b, uint32_t type, const char *s)
{
    mb2_tag(b, type, s, strlen(s) + 1);
}

static void mb2_module(struct mb2 *b, uint32_t start, uint32_t end,
                       const char *cmdline)
{
    uint8_t payload[256];
    size_t n = strlen(cmdline) + 1;
    assert_true(8 + n <= sizeof(payload));
    put32(payload, start);
    put32(payload + 4, end);
    memcpy(payload + 8, cmdline, n);
    mb2_tag(b, 3, payload, 8 + n);
}

struct mmap_entry { uint64_t base, length; uint32_t type; };

static void mb2_mmap(struct mb2 *b, const struct mmap_entry *e, size_t count,
                     uint32_t entry_size)
{
    size_t bytes = 8 + count * entry_size;
    /* Room for whole 24-byte entries even when entry_size is smaller. */
    uint8_t *payload = calloc(1, 8 + count * 24 + bytes);
    assert_non_null(payload);
    put32(payload, entry_size);
    put32(payload + 4, 0); /* entry_version */
    for (size_t i = 0; i < count; i++) {
        uint8_t *p = payload + 8 + i * entry_size;
        put64(p, e[i].base);
        put64(p + 8, e[i].length);
        put32(p + 16, e[i].type);
    }
    mb2_tag(b, 6, payload, bytes);
    free(payload);
}

/* An RSDP copy as the ACPI tags carry it; the parser only keeps a pointer,
 * so the content just needs to be recognisable. */
static void mb2_acpi(struct mb2 *b, uint32_t type, uint8_t revision)
{
    uint8_t rsdp[36] = "RSD PTR ";
    rsdp[15] = revision;
    mb2_tag(b, type, rsdp, revision >= 2 ? 36 : 20);
}

/* Appends the end tag and stores total_size. */
static void mb2_end(struct mb2 *b)
{
    mb2_tag(b, 0, NULL, 0);
    put32(b->buf, (uint32_t)b->len);
}

static void test_good_structure(void **state)
{
    (void)state;
    struct mb2 b;
    mb2_begin(&b, 4096);
    mb2_string(&b, 1, "loglevel=debug console=com1");
    mb2_string(&b, 2, "GRUB 2.06");
    mb2_module(&b, 0x200000, 0x280000, "ctl.elf root=/dev/vda");
    mb2_module(&b, 0x300000, 0x300000, "");
    const struct mmap_entry map[] = {
        { 0x0, 0x9fc00, 1 },
        { 0x9fc00, 0x400, 2 },
        { 0x100000, 0x3fee0000, 1 },
        { 0xfffc0000, 0x40000, 2 },
    };
    mb2_mmap(&b, map, 4, 24);
    uint8_t fb[24] = { 0 };
    put64(fb, 0xfd000000);
    put32(fb + 8, 4096);                     /* pitch */
    put32(fb + 12, 1024), put32(fb + 16, 768); /* width, height */
    fb[20] = 32, fb[21] = 1;                 /* bpp, RGB */
    mb2_tag(&b, 8, fb, sizeof(fb));
    mb2_tag(&b, 21, "\0\0\0\0", 4); /* load base address: ignored */
    mb2_end(&b);

    struct boot_info bi;
    memset(&bi, 0xa5, sizeof(bi));
    assert_int_equal(multiboot2_parse(b.buf, b.len, &bi), 0);
    assert_int_equal(bi.loader_version, 2);
    assert_string_equal(bi.cmdline, "loglevel=debug console=com1");
    assert_string_equal(bi.loader_name, "GRUB 2.06");
    /* Strings point into the structure, which the caller keeps reserved. */
    assert_true((const uint8_t *)bi.cmdline > b.buf &&
                (const uint8_t *)bi.cmdline < b.buf + b.len);
    assert_int_equal(bi.info_start, (uintptr_t)b.buf);
    assert_int_equal(bi.info_end, (uintptr_t)b.buf + b.len);

    assert_int_equal(bi.module_count, 2);
    assert_int_equal(bi.modules_dropped, 0);
    assert_int_equal(bi.modules[0].start, 0x200000);
    assert_int_equal(bi.modules[0].end, 0x280000);
    assert_string_equal(bi.modules[0].cmdline, "ctl.elf root=/dev/vda");
    assert_int_equal(bi.modules[1].start, 0x300000);
    assert_string_equal(bi.modules[1].cmdline, "");

    assert_int_equal(bi.memory_count, 4);
    assert_int_equal(bi.memory_dropped, 0);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(bi.memory[i].base, map[i].base);
        assert_int_equal(bi.memory[i].length, map[i].length);
        assert_int_equal(bi.memory[i].type, map[i].type);
    }

    assert_int_equal(bi.framebuffer.kind, FRAMEBUFFER_RGB);
    assert_int_equal(bi.framebuffer.address, 0xfd000000);
    assert_int_equal(bi.framebuffer.pitch, 4096);
    assert_int_equal(bi.framebuffer.width, 1024);
    assert_int_equal(bi.framebuffer.height, 768);
    assert_int_equal(bi.framebuffer.bpp, 32);
    assert_null(bi.rsdp); /* no ACPI tag given */
    free(b.buf);
}

/* Checks which RSDP copy is kept when the ACPI tags come in this order. */
static void check_rsdp_preference(const uint32_t *types, size_t n,
                                  uint8_t expected_revision)
{
    struct mb2 b;
    mb2_begin(&b, 1024);
    for (size_t i = 0; i < n; i++)
        mb2_acpi(&b, types[i], types[i] == 15 ? 2 : 0);
    mb2_end(&b);
    struct boot_info bi;
    assert_int_equal(multiboot2_parse(b.buf, b.len, &bi), 0);
    assert_non_null(bi.rsdp);
    const uint8_t *r = bi.rsdp;
    assert_memory_equal(r, "RSD PTR ", 8);
    assert_int_equal(r[15], expected_revision);
    free(b.buf);
}

static void test_rsdp_prefers_acpi2_copy(void **state)
{
    (void)state;
    /* Tag 15 (ACPI 2.0, XSDT address) wins whichever order they come in. */
    check_rsdp_preference((const uint32_t[]){ 14, 15 }, 2, 2);
    check_rsdp_preference((const uint32_t[]){ 15, 14 }, 2, 2);
    check_rsdp_preference((const uint32_t[]){ 14 }, 1, 0);
    check_rsdp_preference((const uint32_t[]){ 15 }, 1, 2);
}

/* A minimal valid structure: a cmdline tag and the end tag. */
static void build_minimal(struct mb2 *b)
{
    mb2_begin(b, 256);
    mb2_string(b, 1, "x");
    mb2_end(b);
}

static void expect_einval(struct mb2 *b, size_t available)
{
    struct boot_info bi;
    memset(&bi, 0xa5, sizeof(bi));
    assert_int_equal(multiboot2_parse(b->buf, available, &bi), -HV_EINVAL);
    /* Even on failure the strings must be usable, never NULL. */
    assert_non_null(bi.cmdline);
    assert_non_null(bi.loader_name);
    free(b->buf);
}

static void test_truncated_input(void **state)
{
    (void)state;
    struct mb2 b;
    build_minimal(&b);
    struct boot_info bi;
    /* total_size says more than may be read: refused, not read. */
    assert_int_equal(multiboot2_parse(b.buf, b.len - 1, &bi), -HV_EINVAL);
    assert_int_equal(multiboot2_parse(b.buf, 4, &bi), -HV_EINVAL);
    assert_int_equal(multiboot2_parse(NULL, 4096, &bi), -HV_EINVAL);
    assert_non_null(bi.cmdline);
    /* total_size too small to hold the header and an end tag. */
    put32(b.buf, 8);
    expect_einval(&b, 256);
}

static void test_tag_runs_past_total_size(void **state)
{
    (void)state;
    struct mb2 b;
    mb2_begin(&b, 256);
    /* The tag says 200 bytes, but the structure ends well before. */
    mb2_tag_sized(&b, 1, 200, "abc", 4);
    mb2_end(&b);
    expect_einval(&b, 256);
}

static void test_tag_smaller_than_header(void **state)
{
    (void)state;
    /* Sizes below 8 would make the walk loop in place or go backwards. */
    for (uint32_t size = 0; size < 8; size++) {
        struct mb2 b;
        mb2_begin(&b, 256);
        mb2_tag_sized(&b, 1, size, NULL, 0);
        mb2_end(&b);
        expect_einval(&b, 256);
    }
}

static void test_missing_end_tag(void **state)
{
    (void)state;
    struct mb2 b;
    mb2_begin(&b, 256);
    mb2_string(&b, 1, "no end");
    put32(b.buf, (uint32_t)b.len);
    expect_einval(&b, 256);
}

static void test_strings_and_module_bounds(void **state)
{
    (void)state;
    struct mb2 b;
    /* cmdline tag whose size excludes the NUL (the byte after the tag,
     * padding, is zero: the parser must not use it). */
    mb2_begin(&b, 256);
    mb2_tag(&b, 1, "abcdefg", 7);
    mb2_end(&b);
    expect_einval(&b, 256);

    mb2_begin(&b, 256);
    mb2_tag(&b, 2, "GRUB", 4);
    mb2_end(&b);
    expect_einval(&b, 256);

    /* Module tag whose string has no NUL. */
    mb2_begin(&b, 256);
    uint8_t mod[12] = { 0 };
    put32(mod + 4, 0x1000);
    memcpy(mod + 8, "ctl!", 4);
    mb2_tag(&b, 3, mod, sizeof(mod));
    mb2_end(&b);
    expect_einval(&b, 256);

    /* A module that ends before it starts. */
    mb2_begin(&b, 256);
    mb2_module(&b, 0x200000, 0x100000, "backwards");
    mb2_end(&b);
    expect_einval(&b, 256);
}

static void test_mmap_entry_size_too_small(void **state)
{
    (void)state;
    const struct mmap_entry map[] = { { 0x100000, 0x100000, 1 } };
    struct mb2 b;
    mb2_begin(&b, 256);
    mb2_mmap(&b, map, 1, 16);
    mb2_end(&b);
    expect_einval(&b, 256);

    /* Larger entries (future versions) are fine: fields are read at the
     * start of each entry and the rest skipped. */
    mb2_begin(&b, 256);
    const struct mmap_entry two[] = { { 0x1000, 0x2000, 1 }, { 0x5000, 0x1000, 2 } };
    mb2_mmap(&b, two, 2, 32);
    mb2_end(&b);
    struct boot_info bi;
    assert_int_equal(multiboot2_parse(b.buf, b.len, &bi), 0);
    assert_int_equal(bi.memory_count, 2);
    assert_int_equal(bi.memory[1].base, 0x5000);
    assert_int_equal(bi.memory[1].type, 2);
    free(b.buf);
}

/* An entry size so large that offset + size wraps around 32 bits: no entry
 * fits, and nothing past the tag is read (ASan). Found by fuzzing. */
static void test_mmap_entry_size_wrapping(void **state)
{
    (void)state;
    uint8_t payload[8 + 24] = { 0 };
    struct mb2 b;
    struct boot_info bi;

    put32(payload, 0xfffffff8u);            /* entry_size: 16 + it wraps to 8 */
    put64(payload + 8, 0x100000);
    put64(payload + 16, 0x100000);
    put32(payload + 24, 1);
    mb2_begin(&b, 256);
    mb2_tag(&b, 6, payload, sizeof(payload));
    mb2_end(&b);
    /* Exactly the bytes of the structure: a read past it is an overflow. */
    uint8_t *exact = malloc(b.len);
    assert_non_null(exact);
    memcpy(exact, b.buf, b.len);
    assert_int_equal(multiboot2_parse(exact, b.len, &bi), 0);
    assert_int_equal(bi.memory_count, 0);
    free(exact);
    free(b.buf);
}

static void test_too_many_modules(void **state)
{
    (void)state;
    struct mb2 b;
    mb2_begin(&b, 8192);
    for (unsigned i = 0; i < BOOT_MAX_MODULES + 4; i++)
        mb2_module(&b, 0x100000 * (i + 1), 0x100000 * (i + 1) + 0x1000, "m");
    mb2_end(&b);
    struct boot_info bi;
    assert_int_equal(multiboot2_parse(b.buf, b.len, &bi), 0);
    assert_int_equal(bi.module_count, BOOT_MAX_MODULES);
    assert_int_equal(bi.modules_dropped, 4);
    /* The first ones are kept, in order. */
    assert_int_equal(bi.modules[BOOT_MAX_MODULES - 1].start,
                     0x100000ull * BOOT_MAX_MODULES);
    free(b.buf);
}

static void test_too_many_memory_ranges(void **state)
{
    (void)state;
    enum { N = BOOT_MAX_MEMORY_RANGES + 22 };
    struct mmap_entry map[N];
    for (unsigned i = 0; i < N; i++)
        map[i] = (struct mmap_entry){ 0x100000ull * i, 0x80000, 1 + i % 2 };
    struct mb2 b;
    mb2_begin(&b, 8192);
    mb2_mmap(&b, map, N, 24);
    mb2_end(&b);
    struct boot_info bi;
    assert_int_equal(multiboot2_parse(b.buf, b.len, &bi), 0);
    assert_int_equal(bi.memory_count, BOOT_MAX_MEMORY_RANGES);
    assert_int_equal(bi.memory_dropped, 22);
    assert_int_equal(bi.memory[BOOT_MAX_MEMORY_RANGES - 1].base,
                     0x100000ull * (BOOT_MAX_MEMORY_RANGES - 1));
    free(b.buf);
}

static void test_mmap_kept_as_given(void **state)
{
    (void)state;
    /* Overlaps are not resolved here (the frame allocator does that);
     * empty entries are dropped; an entry wrapping past 2^64 is clipped. */
    const struct mmap_entry map[] = {
        { 0x100000, 0x400000, 1 },
        { 0x200000, 0x100000, 2 },
        { 0x800000, 0, 1 },
        { 0xfffffffffffff000ull, 0x3000, 2 },
    };
    struct mb2 b;
    mb2_begin(&b, 512);
    mb2_mmap(&b, map, 4, 24);
    mb2_end(&b);
    struct boot_info bi;
    assert_int_equal(multiboot2_parse(b.buf, b.len, &bi), 0);
    assert_int_equal(bi.memory_count, 3);
    assert_int_equal(bi.memory_dropped, 0);
    assert_int_equal(bi.memory[0].base, 0x100000);
    assert_int_equal(bi.memory[0].length, 0x400000);
    assert_int_equal(bi.memory[1].base, 0x200000);
    assert_int_equal(bi.memory[1].length, 0x100000);
    assert_int_equal(bi.memory[1].type, MEMORY_RESERVED);
    assert_int_equal(bi.memory[2].base, 0xfffffffffffff000ull);
    assert_int_equal(bi.memory[2].length, 0x1000);
    free(b.buf);
}

static void test_short_acpi_and_framebuffer_tags(void **state)
{
    (void)state;
    struct mb2 b;
    mb2_begin(&b, 256);
    mb2_tag(&b, 14, "RSD PTR ", 8); /* an RSDP is at least 20 bytes */
    mb2_end(&b);
    expect_einval(&b, 256);

    mb2_begin(&b, 256);
    mb2_tag(&b, 8, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
    mb2_end(&b);
    expect_einval(&b, 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_structure),
        cmocka_unit_test(test_rsdp_prefers_acpi2_copy),
        cmocka_unit_test(test_truncated_input),
        cmocka_unit_test(test_tag_runs_past_total_size),
        cmocka_unit_test(test_tag_smaller_than_header),
        cmocka_unit_test(test_missing_end_tag),
        cmocka_unit_test(test_strings_and_module_bounds),
        cmocka_unit_test(test_mmap_entry_size_too_small),
        cmocka_unit_test(test_mmap_entry_size_wrapping),
        cmocka_unit_test(test_too_many_modules),
        cmocka_unit_test(test_too_many_memory_ranges),
        cmocka_unit_test(test_mmap_kept_as_given),
        cmocka_unit_test(test_short_acpi_and_framebuffer_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
