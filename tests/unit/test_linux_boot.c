// sources: guest-tools/vmm/linux_boot.c guest-tools/vmm/e820.c
/* Unit tests for the bzImage loader (guest-tools/vmm/linux_boot.c): a
 * synthetic image with a boot protocol header is loaded into a RAM buffer
 * and boot_params, the placement of kernel and initrd, the command line,
 * the GDT and the identity page tables are read back as the kernel reads
 * them; bad images and sizes are refused with the RAM left untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hv_errno.h"
#include "guest-tools/vmm/e820.h"
#include "guest-tools/vmm/linux_boot.h"

#define MIB (1ull << 20)
#define RAM_SIZE (64 * MIB)
#define SETUP_SECTS 4
#define PM_SIZE (256 * 1024)
#define IMAGE_SIZE ((SETUP_SECTS + 1) * 512 + PM_SIZE)

static uint8_t *ram, *image, *initrd;

static void set16(uint8_t *p, unsigned off, uint16_t v) { memcpy(p + off, &v, 2); }
static void set32(uint8_t *p, unsigned off, uint32_t v) { memcpy(p + off, &v, 4); }
static void set64(uint8_t *p, unsigned off, uint64_t v) { memcpy(p + off, &v, 8); }
static uint32_t at32(const uint8_t *p, uint64_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static uint64_t at64(const uint8_t *p, uint64_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }

/* An image shaped like Debian's 6.1 bzImage: protocol 2.15, 64-bit,
 * relocatable, decompressing at 16 MiB into 8 MiB. */
static void make_image(uint16_t protocol, uint16_t xloadflags)
{
    memset(image, 0, IMAGE_SIZE);
    image[BP_SETUP_SECTS] = SETUP_SECTS;
    set32(image, BP_SYSSIZE, PM_SIZE / 16);
    set16(image, BP_BOOT_FLAG, LINUX_BOOT_FLAG);
    image[BP_JUMP] = 0xeb;
    image[BP_JUMP + 1] = 0x6a;                       /* header ends at 0x26c */
    set32(image, BP_HEADER, LINUX_HEADER_MAGIC);
    set16(image, BP_VERSION, protocol);
    image[BP_LOADFLAGS] = LOADFLAGS_LOADED_HIGH;
    set32(image, BP_CODE32_START, 0x100000);
    set32(image, BP_INITRD_ADDR_MAX, 0x7fffffff);
    set32(image, BP_KERNEL_ALIGNMENT, 0x200000);
    image[BP_RELOCATABLE_KERNEL] = 1;
    set16(image, BP_XLOADFLAGS, xloadflags);
    set32(image, BP_CMDLINE_SIZE, 2047);
    set64(image, BP_PREF_ADDRESS, 0x1000000);
    set32(image, BP_INIT_SIZE, 8 * MIB);
    for (unsigned i = 0; i < PM_SIZE; i++)
        image[(SETUP_SECTS + 1) * 512 + i] = (uint8_t)(i * 7 + 1);
}

static struct linux_boot_input input(uint64_t initrd_size, const char *cmdline)
{
    return (struct linux_boot_input){
        .ram = ram, .ram_below_4g = RAM_SIZE, .kernel = image, .kernel_size = IMAGE_SIZE,
        .initrd = initrd_size ? initrd : NULL, .initrd_size = initrd_size,
        .cmdline = cmdline, .rsdp_address = 0xe0000,
    };
}

static int setup(void **state)
{
    (void)state;
    ram = calloc(1, RAM_SIZE);
    image = malloc(IMAGE_SIZE);
    initrd = malloc(RAM_SIZE);
    memset(initrd, 0x5a, RAM_SIZE);
    make_image(0x20f, XLF_KERNEL_64);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(ram);
    free(image);
    free(initrd);
    return 0;
}

static int ram_is_zero(void)
{
    for (uint64_t i = 0; i < RAM_SIZE; i += 8)
        if (at64(ram, i) != 0)
            return 0;
    return 1;
}

static void test_loads_a_64_bit_kernel(void **state)
{
    struct linux_boot_input in = input(100000, "console=ttyS0 quiet");
    struct linux_boot_plan plan;
    const uint8_t *bp = ram + LINUX_BOOT_PARAMS_ADDRESS;
    struct e820_entry map[E820_MAX_ENTRIES];
    unsigned count = e820_build(RAM_SIZE, 0, map);
    (void)state;

    assert_true(linux_is_bzimage(image, IMAGE_SIZE));
    assert_int_equal(linux_boot_load(&in, &plan), 0);
    assert_true(plan.entry_64);
    assert_int_equal(plan.protocol, 0x20f);
    assert_int_equal(plan.entry, 0x100200);
    assert_int_equal(plan.kernel_end, 0x1000000 + 8 * MIB);
    /* The protected-mode part at 1 MiB, byte for byte. */
    assert_memory_equal(ram + 0x100000, image + (SETUP_SECTS + 1) * 512, PM_SIZE);
    /* The initrd page-aligned at the top of RAM. */
    assert_int_equal(plan.initrd_address, (RAM_SIZE - 100000) & ~0xfffull);
    assert_int_equal(at32(bp, BP_RAMDISK_IMAGE), plan.initrd_address);
    assert_int_equal(at32(bp, BP_RAMDISK_SIZE), 100000);
    assert_memory_equal(ram + plan.initrd_address, initrd, 100000);
    /* The header copied, the loader's fields filled. */
    assert_int_equal(at32(bp, BP_HEADER), LINUX_HEADER_MAGIC);
    assert_int_equal(at32(bp, BP_INIT_SIZE), 8 * MIB);
    assert_int_equal(bp[BP_TYPE_OF_LOADER], 0xff);
    assert_int_equal(at32(bp, BP_CMD_LINE_PTR), LINUX_CMDLINE_ADDRESS);
    assert_string_equal((const char *)ram + LINUX_CMDLINE_ADDRESS, "console=ttyS0 quiet");
    assert_int_equal(at64(bp, BP_ACPI_RSDP_ADDR), 0xe0000);
    /* Nothing past the header's end came from the image's setup code. */
    assert_int_equal(bp[0x26c], 0);
    /* The e820 map as the VM's slots give it. */
    assert_int_equal(bp[BP_E820_ENTRIES], count);
    for (unsigned i = 0; i < count; i++) {
        assert_int_equal(at64(bp, BP_E820_TABLE + 20 * i), map[i].address);
        assert_int_equal(at64(bp, BP_E820_TABLE + 20 * i + 8), map[i].length);
        assert_int_equal(at32(bp, BP_E820_TABLE + 20 * i + 16), map[i].type);
    }
    /* GDT: __BOOT_CS a 64-bit code segment, __BOOT_DS flat data. */
    assert_int_equal(at64(ram, LINUX_GDT_ADDRESS + LINUX_BOOT_CS), 0x00af9b000000ffffull);
    assert_int_equal(at64(ram, LINUX_GDT_ADDRESS + LINUX_BOOT_DS), 0x00cf93000000ffffull);
}

/* Walks the loader's page tables as the CPU would. */
static uint64_t translate(uint64_t cr3, uint64_t va)
{
    uint64_t pml4e = at64(ram, cr3 + 8 * ((va >> 39) & 511));
    uint64_t pdpte, pde;

    if (!(pml4e & 1))
        return ~0ull;
    pdpte = at64(ram, (pml4e & ~0xfffull) + 8 * ((va >> 30) & 511));
    if (!(pdpte & 1))
        return ~0ull;
    pde = at64(ram, (pdpte & ~0xfffull) + 8 * ((va >> 21) & 511));
    if (!(pde & 1) || !(pde & 0x80))
        return ~0ull;
    return (pde & ~0x1fffffull) + (va & 0x1fffff);
}

static void test_identity_maps_the_low_4_gib(void **state)
{
    struct linux_boot_input in = input(4096, "");
    struct linux_boot_plan plan;
    (void)state;

    assert_int_equal(linux_boot_load(&in, &plan), 0);
    assert_int_equal(plan.cr3, LINUX_PAGE_TABLES_ADDRESS);
    assert_int_equal(translate(plan.cr3, 0x100200), 0x100200);
    assert_int_equal(translate(plan.cr3, LINUX_BOOT_PARAMS_ADDRESS), LINUX_BOOT_PARAMS_ADDRESS);
    assert_int_equal(translate(plan.cr3, 0xfee00000), 0xfee00000);
    assert_int_equal(translate(plan.cr3, 0xffffffffull), 0xffffffffull);
    assert_int_equal(translate(plan.cr3, 0x100000000ull), ~0ull);
}

static void test_32_bit_entry_without_xlf_kernel_64(void **state)
{
    struct linux_boot_input in = input(0, "");
    struct linux_boot_plan plan;
    (void)state;

    make_image(0x20c, 0);
    assert_int_equal(linux_boot_load(&in, &plan), 0);
    assert_false(plan.entry_64);
    assert_int_equal(plan.entry, 0x100000);
    assert_int_equal(plan.cr3, 0);
    assert_int_equal(at64(ram, LINUX_GDT_ADDRESS + LINUX_BOOT_CS), 0x00cf9b000000ffffull);
    /* Protocol 2.12 has no acpi_rsdp_addr: the kernel scans the BIOS area. */
    assert_int_equal(at64(ram + LINUX_BOOT_PARAMS_ADDRESS, BP_ACPI_RSDP_ADDR), 0);
    assert_int_equal(at32(ram + LINUX_BOOT_PARAMS_ADDRESS, BP_RAMDISK_SIZE), 0);
}

static void expect_refused(const struct linux_boot_input *in, int error, const char *why)
{
    struct linux_boot_plan plan;

    assert_int_equal(linux_boot_load(in, &plan), error);
    assert_non_null(strstr(plan.error, why));
    assert_true(ram_is_zero());
}

static void test_refuses_what_is_not_a_bzimage(void **state)
{
    struct linux_boot_input in = input(0, "");
    (void)state;

    for (unsigned i = 0; i < IMAGE_SIZE; i++)
        image[i] = (uint8_t)(rand() >> 7);
    assert_false(linux_is_bzimage(image, IMAGE_SIZE));
    expect_refused(&in, -HV_EINVAL, "not a bzImage");
    make_image(0x20f, XLF_KERNEL_64);
    in.kernel_size = 0x200;                /* too short for the header */
    expect_refused(&in, -HV_EINVAL, "not a bzImage");
}

static void test_refuses_an_old_protocol_or_a_zimage(void **state)
{
    struct linux_boot_input in = input(0, "");
    (void)state;

    make_image(0x205, XLF_KERNEL_64);
    expect_refused(&in, -HV_EINVAL, "older than 2.06");
    make_image(0x20f, XLF_KERNEL_64);
    image[BP_LOADFLAGS] = 0;
    expect_refused(&in, -HV_EINVAL, "zImage");
}

static void test_refuses_a_truncated_image(void **state)
{
    struct linux_boot_input in = input(0, "");
    (void)state;

    make_image(0x20f, XLF_KERNEL_64);
    in.kernel_size = IMAGE_SIZE - 16;
    expect_refused(&in, -HV_EINVAL, "truncated");
    in.kernel_size = 3 * 512;               /* cut inside the setup code */
    expect_refused(&in, -HV_EINVAL, "truncated");
    in.kernel_size = IMAGE_SIZE;
    image[BP_JUMP + 1] = 0xff;              /* a longer header, to 0x301: */
    image[BP_SETUP_SECTS] = 0;              /* the default 4 sectors hold it */
    assert_int_equal(linux_boot_load(&in, &(struct linux_boot_plan){ 0 }), 0);
}

static void test_refuses_what_does_not_fit(void **state)
{
    struct linux_boot_input in = input(RAM_SIZE - 20 * MIB, "");
    char long_line[3000];
    (void)state;

    make_image(0x20f, XLF_KERNEL_64);
    expect_refused(&in, -HV_ERANGE, "initrd does not fit");
    in = input(0, "");
    set32(image, BP_INIT_SIZE, (uint32_t)(RAM_SIZE - 15 * MIB));
    expect_refused(&in, -HV_ERANGE, "kernel does not fit");
    make_image(0x20f, XLF_KERNEL_64);
    memset(long_line, 'x', sizeof(long_line) - 1);
    long_line[sizeof(long_line) - 1] = '\0';
    in = input(0, long_line);
    expect_refused(&in, -HV_ERANGE, "command line");
    set32(image, BP_CMDLINE_SIZE, 255);
    long_line[300] = '\0';
    expect_refused(&in, -HV_ERANGE, "command line");
    /* pref_address past the RAM, or so high that a sum would wrap, and a
     * kernel that is not relocatable decompressing where its init_size
     * does not fit: refused (each was once accepted, the first two
     * putting the initrd over the kernel). */
    in = input(0, "");
    make_image(0x20f, XLF_KERNEL_64);
    set64(image, BP_PREF_ADDRESS, RAM_SIZE + 32 * MIB);
    expect_refused(&in, -HV_ERANGE, "kernel does not fit");
    set64(image, BP_PREF_ADDRESS, 0xfffffffffff00000ull);
    expect_refused(&in, -HV_ERANGE, "kernel does not fit");
    make_image(0x20f, XLF_KERNEL_64);
    image[BP_RELOCATABLE_KERNEL] = 0;
    set64(image, BP_PREF_ADDRESS, 48 * MIB);
    set32(image, BP_INIT_SIZE, 24 * MIB);
    expect_refused(&in, -HV_ERANGE, "kernel does not fit");
    /* The initrd just fits below initrd_addr_max's limit. */
    make_image(0x20f, XLF_KERNEL_64);
    set32(image, BP_INITRD_ADDR_MAX, 48 * MIB - 1);
    in = input(48 * MIB - 24 * MIB, "");
    struct linux_boot_plan plan;
    assert_int_equal(linux_boot_load(&in, &plan), 0);
    assert_int_equal(plan.initrd_address, 24 * MIB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loads_a_64_bit_kernel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_maps_the_low_4_gib, setup, teardown),
        cmocka_unit_test_setup_teardown(test_32_bit_entry_without_xlf_kernel_64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_what_is_not_a_bzimage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_an_old_protocol_or_a_zimage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_a_truncated_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_what_does_not_fit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
