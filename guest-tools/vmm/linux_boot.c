/*
 * The x86 boot protocol for a bzImage (see linux_boot.h). Everything is
 * checked and placed first (plan_*), so that a refused image leaves the
 * RAM as it was; then the pieces are written.
 */
#include "abi/hv_errno.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/e820.h"
#include "guest-tools/vmm/linux_boot.h"

#define SECTOR            512u
#define DEFAULT_SETUP_SECTS 4u          /* setup_sects 0 means 4 (boot.rst) */
#define PAGE_MASK         0xfffull
#define PTE_PRESENT_WRITE 0x3ull
#define PDE_LARGE         0x80ull       /* 2 MiB page */
#define GDT_CODE_64       0x00af9b000000ffffull  /* L=1, D=0, exec/read, accessed */
#define GDT_CODE_32       0x00cf9b000000ffffull  /* D=1, 4 GiB flat */
#define GDT_DATA          0x00cf93000000ffffull  /* read/write, 4 GiB flat */

static uint16_t get16(const uint8_t *p, unsigned off)
{
    return (uint16_t)(p[off] | p[off + 1] << 8);
}

static uint32_t get32(const uint8_t *p, unsigned off)
{
    return (uint32_t)get16(p, off) | (uint32_t)get16(p, off + 2) << 16;
}

static uint64_t get64(const uint8_t *p, unsigned off)
{
    return (uint64_t)get32(p, off) | (uint64_t)get32(p, off + 4) << 32;
}

static void put32(uint8_t *p, unsigned off, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[off + i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, unsigned off, uint64_t v)
{
    put32(p, off, (uint32_t)v);
    put32(p, off + 4, (uint32_t)(v >> 32));
}

bool linux_is_bzimage(const uint8_t *image, uint64_t size)
{
    return size >= BP_VERSION + 2 && get16(image, BP_BOOT_FLAG) == LINUX_BOOT_FLAG &&
           get32(image, BP_HEADER) == LINUX_HEADER_MAGIC;
}

static int refuse(struct linux_boot_plan *plan, int error, const char *why)
{
    plan->error = why;
    return error;
}

/* Where the setup code ends and the protected-mode kernel starts. */
static uint64_t setup_bytes(const uint8_t *image)
{
    unsigned sects = image[BP_SETUP_SECTS];

    return (uint64_t)(sects == 0 ? DEFAULT_SETUP_SECTS : sects) * SECTOR + SECTOR;
}

/* The header's own claims checked against the file and the protocol. */
static int check_header(const struct linux_boot_input *in, struct linux_boot_plan *plan)
{
    const uint8_t *k = in->kernel;
    uint64_t setup, header_end;

    if (!linux_is_bzimage(k, in->kernel_size))
        return refuse(plan, -HV_EINVAL, "not a bzImage (no boot protocol header)");
    /* Every field read below lies in the setup code, which is at least
     * 5 sectors: checking that the file holds it first keeps them in it. */
    setup = setup_bytes(k);
    if (setup >= in->kernel_size)
        return refuse(plan, -HV_EINVAL, "image shorter than its setup code (truncated)");
    plan->protocol = get16(k, BP_VERSION);
    if (plan->protocol < LINUX_MIN_PROTOCOL)
        return refuse(plan, -HV_EINVAL, "boot protocol older than 2.06");
    if (!(k[BP_LOADFLAGS] & LOADFLAGS_LOADED_HIGH))
        return refuse(plan, -HV_EINVAL, "a zImage (loaded low), not a bzImage");
    header_end = BP_HEADER + (uint64_t)k[BP_JUMP + 1];
    if (header_end > setup || header_end < BP_CMDLINE_SIZE + 4)
        return refuse(plan, -HV_EINVAL, "setup header inconsistent with the setup code");
    /* syssize counts the protected-mode part in 16-byte paragraphs: a
     * shorter file is a truncated one. */
    if ((uint64_t)get32(k, BP_SYSSIZE) * 16 > in->kernel_size - setup)
        return refuse(plan, -HV_EINVAL, "image shorter than its header says (truncated)");
    plan->entry_64 = (get16(k, BP_XLOADFLAGS) & XLF_KERNEL_64) != 0;
    return 0;
}

/* The kernel at 1 MiB; it decompresses to pref_address (its
 * LOAD_PHYSICAL_ADDR, where a kernel that is not relocatable must run, and
 * the least a relocatable one moves to) or where it was loaded, if higher,
 * and needs init_size bytes from there. Both come from the untrusted
 * header: the checks are written so that no sum or difference wraps. */
static int place_kernel(const struct linux_boot_input *in, struct linux_boot_plan *plan)
{
    const uint8_t *k = in->kernel;
    uint64_t pm_size = in->kernel_size - setup_bytes(k);
    uint64_t start = LINUX_KERNEL_ADDRESS, need = pm_size;

    if (plan->protocol >= 0x20a) {
        uint64_t pref = get64(k, BP_PREF_ADDRESS);
        uint32_t init_size = get32(k, BP_INIT_SIZE);

        if (pref > start)
            start = pref;
        if (init_size > need)
            need = init_size;
    }
    if (in->ram_below_4g < LINUX_KERNEL_ADDRESS + pm_size || start > in->ram_below_4g ||
        in->ram_below_4g - start < need)
        return refuse(plan, -HV_ERANGE, "the kernel does not fit in the guest's RAM");
    plan->entry = LINUX_KERNEL_ADDRESS + (plan->entry_64 ? 0x200 : 0);
    plan->kernel_end = start + need;
    return 0;
}

/* The initrd as high as initrd_addr_max and RAM allow, page-aligned,
 * above everything the kernel occupies. */
static int place_initrd(const struct linux_boot_input *in, struct linux_boot_plan *plan)
{
    uint64_t top = (uint64_t)get32(in->kernel, BP_INITRD_ADDR_MAX) + 1;

    plan->initrd_address = plan->initrd_size = 0;
    if (in->initrd == NULL)
        return 0;
    if (top > in->ram_below_4g)
        top = in->ram_below_4g;
    if (in->initrd_size == 0 || in->initrd_size > top ||
        ((top - in->initrd_size) & ~PAGE_MASK) < plan->kernel_end)
        return refuse(plan, -HV_ERANGE,
                      "the initrd does not fit in the guest's RAM beside the kernel");
    plan->initrd_address = (top - in->initrd_size) & ~PAGE_MASK;
    plan->initrd_size = in->initrd_size;
    return 0;
}

static void write_boot_params(const struct linux_boot_input *in, const struct linux_boot_plan *plan)
{
    uint8_t *bp = in->ram + LINUX_BOOT_PARAMS_ADDRESS;
    uint64_t header_end = BP_HEADER + (uint64_t)in->kernel[BP_JUMP + 1];
    struct e820_entry map[E820_MAX_ENTRIES];
    unsigned count = e820_build(in->ram_below_4g, in->ram_above_4g, map);

    memset(bp, 0, BP_SIZE);
    memcpy(bp + BP_SETUP_HEADER, in->kernel + BP_SETUP_HEADER, header_end - BP_SETUP_HEADER);
    bp[BP_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
    put32(bp, BP_CMD_LINE_PTR, LINUX_CMDLINE_ADDRESS);
    put32(bp, BP_RAMDISK_IMAGE, (uint32_t)plan->initrd_address);
    put32(bp, BP_RAMDISK_SIZE, (uint32_t)plan->initrd_size);
    put32(bp, BP_CODE32_START, LINUX_KERNEL_ADDRESS);
    if (plan->protocol >= 0x209)
        put64(bp, BP_SETUP_DATA, 0);
    /* Protocol 2.14 carries the RSDP's address; older kernels find it by
     * scanning the BIOS area, where the VMM's tables are as well. */
    if (plan->protocol >= 0x20e && in->rsdp_address != 0)
        put64(bp, BP_ACPI_RSDP_ADDR, in->rsdp_address);
    bp[BP_E820_ENTRIES] = (uint8_t)count;
    for (unsigned i = 0; i < count; i++) {
        uint8_t *e = bp + BP_E820_TABLE + 20 * i;

        put64(e, 0, map[i].address);
        put64(e, 8, map[i].length);
        put32(e, 16, map[i].type);
    }
}

/* The boot protocol's GDT, and for the 64-bit entry page tables mapping
 * the low 4 GiB one to one with 2 MiB pages: the kernel, boot_params,
 * the command line and the initrd all lie there. */
static void write_entry_tables(const struct linux_boot_input *in, struct linux_boot_plan *plan)
{
    uint8_t *gdt = in->ram + LINUX_GDT_ADDRESS;
    uint8_t *pml4 = in->ram + LINUX_PAGE_TABLES_ADDRESS;
    uint8_t *pdpt = pml4 + 0x1000;

    memset(gdt, 0, LINUX_GDT_LIMIT + 1);
    put64(gdt, LINUX_BOOT_CS, plan->entry_64 ? GDT_CODE_64 : GDT_CODE_32);
    put64(gdt, LINUX_BOOT_DS, GDT_DATA);
    plan->cr3 = 0;
    if (!plan->entry_64)
        return;
    memset(pml4, 0, 6 * 0x1000);
    put64(pml4, 0, (LINUX_PAGE_TABLES_ADDRESS + 0x1000) | PTE_PRESENT_WRITE);
    for (unsigned g = 0; g < 4; g++) {
        uint64_t pd_address = LINUX_PAGE_TABLES_ADDRESS + 0x2000 + 0x1000 * g;
        uint8_t *pd = in->ram + pd_address;

        put64(pdpt, 8 * g, pd_address | PTE_PRESENT_WRITE);
        for (unsigned i = 0; i < 512; i++)
            put64(pd, 8 * i, ((uint64_t)g << 30 | (uint64_t)i << 21) |
                                 PDE_LARGE | PTE_PRESENT_WRITE);
    }
    plan->cr3 = LINUX_PAGE_TABLES_ADDRESS;
}

int linux_boot_load(const struct linux_boot_input *in, struct linux_boot_plan *plan)
{
    size_t cmdline_len = strlen(in->cmdline);
    uint64_t setup;
    int rc;

    memset(plan, 0, sizeof(*plan));
    if ((rc = check_header(in, plan)) < 0)
        return rc;
    if (plan->protocol >= 0x206 && cmdline_len > get32(in->kernel, BP_CMDLINE_SIZE))
        return refuse(plan, -HV_ERANGE, "command line longer than the kernel accepts");
    if (cmdline_len >= LINUX_CMDLINE_MAX)
        return refuse(plan, -HV_ERANGE, "command line longer than 2047 bytes");
    if ((rc = place_kernel(in, plan)) < 0 || (rc = place_initrd(in, plan)) < 0)
        return rc;

    setup = setup_bytes(in->kernel);
    memcpy(in->ram + LINUX_KERNEL_ADDRESS, in->kernel + setup, in->kernel_size - setup);
    if (plan->initrd_size != 0)
        memcpy(in->ram + plan->initrd_address, in->initrd, plan->initrd_size);
    memcpy(in->ram + LINUX_CMDLINE_ADDRESS, in->cmdline, cmdline_len + 1);
    write_boot_params(in, plan);
    write_entry_tables(in, plan);
    return 0;
}
