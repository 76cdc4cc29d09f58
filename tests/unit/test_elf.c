// sources: hv/elf.c
/* Unit tests for hv/elf.c on hand-built ELF64 images: a good one, and each
 * way a control-domain image can be malformed or not fit. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "hv/elf.h"

struct header {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static uint8_t file[8192];

/* An image with two PT_LOAD segments at 0x200000 and 0x201000. */
static void build(void)
{
    memset(file, 0, sizeof(file));
    struct header h = {
        .ident = { 0x7f, 'E', 'L', 'F', 2, 1, 1 },
        .type = 2, .machine = 62, .version = 1,
        .entry = 0x200010, .phoff = 64,
        .ehsize = 64, .phentsize = sizeof(struct phdr), .phnum = 3,
    };
    memcpy(file, &h, sizeof(h));
    struct phdr p[3] = {
        { .type = 1, .offset = 0x1000, .paddr = 0x200000, .filesz = 0x100, .memsz = 0x100 },
        { .type = 1, .offset = 0x1100, .paddr = 0x201000, .filesz = 0x80, .memsz = 0x2000 },
        { .type = 4 /* PT_NOTE: ignored */, .offset = 0, .filesz = 8, .memsz = 8 },
    };
    memcpy(file + 64, p, sizeof(p));
}

static struct phdr *phdr(int i) { return (struct phdr *)(file + 64) + i; }
static struct header *header(void) { return (struct header *)file; }

static void test_good_image(void **state)
{
    (void)state;
    build();
    struct elf_image image;
    assert_int_equal(elf_parse(file, sizeof(file), 64 << 20, &image), 0);
    assert_int_equal(image.entry, 0x200010);
    assert_int_equal(image.segment_count, 2);
    assert_int_equal(image.segments[1].load_address, 0x201000);
    assert_int_equal(image.segments[1].file_size, 0x80);
    assert_int_equal(image.segments[1].memory_size, 0x2000);
}

static void test_bad_identity(void **state)
{
    (void)state;
    struct elf_image image;
    build();
    file[1] = 'X';
    assert_int_equal(elf_parse(file, sizeof(file), 64 << 20, &image), -HV_EINVAL);
    build();
    file[4] = 1; /* 32-bit */
    assert_int_equal(elf_parse(file, sizeof(file), 64 << 20, &image), -HV_EINVAL);
    build();
    header()->machine = 3; /* i386 */
    assert_int_equal(elf_parse(file, sizeof(file), 64 << 20, &image), -HV_EINVAL);
    build();
    header()->type = 3; /* shared object */
    assert_int_equal(elf_parse(file, sizeof(file), 64 << 20, &image), -HV_EINVAL);
}

static void test_truncated(void **state)
{
    (void)state;
    struct elf_image image;
    build();
    assert_int_equal(elf_parse(file, 40, 64 << 20, &image), -HV_EINVAL);
    /* program headers past the end of the file */
    assert_int_equal(elf_parse(file, 100, 64 << 20, &image), -HV_EINVAL);
    /* segment data past the end of the file */
    assert_int_equal(elf_parse(file, 0x1100, 64 << 20, &image), -HV_EINVAL);
}

static void test_segment_checks(void **state)
{
    (void)state;
    struct elf_image image;
    build();
    phdr(0)->filesz = 0x200; /* more in the file than in memory */
    assert_int_equal(elf_parse(file, sizeof(file), 64 << 20, &image), -HV_EINVAL);
    build();
    phdr(1)->paddr = 0x200080; /* overlaps segment 0 */
    assert_int_equal(elf_parse(file, sizeof(file), 64 << 20, &image), -HV_EINVAL);
    build();
    phdr(1)->paddr = ~0ull - 0x100; /* wraps */
    assert_int_equal(elf_parse(file, sizeof(file), 64 << 20, &image), -HV_E2BIG);
    build();
    assert_int_equal(elf_parse(file, sizeof(file), 0x202000, &image), -HV_E2BIG);
    build();
    header()->entry = 0x900000; /* not inside any segment */
    assert_int_equal(elf_parse(file, sizeof(file), 64 << 20, &image), -HV_EINVAL);
    build();
    header()->phnum = 1;
    phdr(0)->type = 4; /* no loadable segment at all */
    assert_int_equal(elf_parse(file, sizeof(file), 64 << 20, &image), -HV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_image),
        cmocka_unit_test(test_bad_identity),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_segment_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
