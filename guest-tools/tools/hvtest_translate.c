/*
 * TRANSLATE (abi/README.md section 7): guest-linear to guest-physical
 * through the vcpu's current paging mode, set with SET_SREGS over page
 * tables built here in guest RAM (the guest never runs): paging off, 32-bit
 * paging with 4 KiB and 4 MiB pages, PAE, and 4-level paging with 4 KiB,
 * 2 MiB and 1 GiB pages. The writeable, usermode and executable bits are
 * those of every level together; an unmapped or non-canonical address, or
 * tables outside guest memory, give valid 0 and success.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define PTE_P  (1ull << 0)
#define PTE_W  (1ull << 1)
#define PTE_U  (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)

/* Expected access, as bits. */
#define W 1u
#define U 2u
#define X 4u
#define UNMAPPED ~0ull

/* Page tables live in the second MiB of the 2 MiB guest, clear of the
 * suite's GDT, stack, code and data. */
#define TABLE(n) (0x100000u + 0x1000u * (n))

static struct hv_translation *tr;

static void put32(struct vm_instance *vm, uint64_t gpa, uint64_t value)
{
    uint32_t v = (uint32_t)value;

    memcpy(vm->ram + gpa, &v, 4);
}

static void put64(struct vm_instance *vm, uint64_t gpa, uint64_t value)
{
    memcpy(vm->ram + gpa, &value, 8);
}

/* TRANSLATE of linear gives phys (UNMAPPED: valid 0) with `access`. */
static int translates(long vcpu, uint64_t linear, uint64_t phys, unsigned access)
{
    char what[96];

    memset(tr, 0xa5, sizeof(*tr));
    tr->linear_address = linear;
    snprintf(what, sizeof(what), "TRANSLATE of 0x%lx", linear);
    if (!hvt_err(hv_translate(vcpu, tr), 0, what) ||
        !hvt_eq(tr->linear_address, linear, "linear_address after TRANSLATE"))
        return 0;
    if (phys == UNMAPPED) {
        snprintf(what, sizeof(what), "valid for unmapped 0x%lx", linear);
        if (!hvt_eq(tr->valid, 0, what))
            return 0;
        snprintf(what, sizeof(what), "physical_address for unmapped 0x%lx", linear);
        return hvt_eq(tr->physical_address, UNMAPPED, what);
    }
    snprintf(what, sizeof(what), "0x%lx: valid", linear);
    if (!hvt_eq(tr->valid, 1, what))
        return 0;
    snprintf(what, sizeof(what), "0x%lx: physical_address", linear);
    if (!hvt_eq(tr->physical_address, phys, what))
        return 0;
    snprintf(what, sizeof(what), "0x%lx: writeable", linear);
    if (!hvt_eq(tr->writeable, (access & W) != 0, what))
        return 0;
    snprintf(what, sizeof(what), "0x%lx: usermode", linear);
    if (!hvt_eq(tr->usermode, (access & U) != 0, what))
        return 0;
    snprintf(what, sizeof(what), "0x%lx: executable", linear);
    return hvt_eq(tr->executable, (access & X) != 0, what);
}

/* A 2 MiB VM whose vcpu has the flat 32-bit segments and these paging
 * registers. Returns the vcpu handle or -1. */
static long paged_vcpu(struct vm_instance *vm, uint64_t cr0, uint64_t cr3,
                       uint64_t cr4, uint64_t efer)
{
    struct hv_sregs *sregs = page_alloc(sizeof(*sregs));

    tr = page_alloc(sizeof(*tr));
    if (hvt_guest_create(vm, "hvtest") < 0)
        return -1;
    hvt_sregs_flat32(sregs);
    sregs->cr0 |= cr0;
    sregs->cr3 = cr3;
    sregs->cr4 = cr4;
    sregs->efer = efer;
    if (efer & EFER_LMA) {
        sregs->cs.l = 1;
        sregs->cs.db = 0;
    }
    if (!hvt_err(hv_set_sregs(vm->vcpu, sregs), 0, "SET_SREGS with paging"))
        return -1;
    return vm->vcpu;
}

static void translate_paging_off_is_identity(void)
{
    struct vm_instance vm;

    tr = page_alloc(sizeof(*tr));
    /* The reset state: real mode, no paging. */
    if (hvt_guest_create(&vm, "hvtest") < 0 ||
        !translates(vm.vcpu, 0x12345, 0x12345, W | U | X) ||
        !translates(vm.vcpu, 0xfffff000, 0xfffff000, W | U | X) ||
        hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    /* Protected mode without paging: the same. */
    translates(vm.vcpu, 0x1fffff, 0x1fffff, W | U | X);
}

static void translate_32bit_paging(void)
{
    struct vm_instance vm;
    uint64_t pd = TABLE(0), pt = TABLE(1);
    long vcpu = paged_vcpu(&vm, CR0_PG, pd, CR4_PSE, 0);

    if (vcpu < 0)
        return;
    put32(&vm, pd + 1 * 4, pt | PTE_P | PTE_W | PTE_U);          /* 0x400000 */
    put32(&vm, pd + 2 * 4, 0xc00000 | PTE_PS | PTE_P | PTE_W);   /* 4 MiB */
    put32(&vm, pd + 3 * 4, pt | PTE_P);                          /* read-only */
    put32(&vm, pt + 5 * 4, 0x50000 | PTE_P | PTE_W | PTE_U);
    put32(&vm, pt + 6 * 4, 0x51000 | PTE_P);
    if (translates(vcpu, 0x405abc, 0x50abc, W | U | X) &&
        translates(vcpu, 0x406010, 0x51010, X) &&
        translates(vcpu, 0x407000, UNMAPPED, 0) &&
        translates(vcpu, 0x801234, 0xc01234, W | X) &&
        translates(vcpu, 0xc05008, 0x50008, X) &&
        translates(vcpu, 0xc0000000, UNMAPPED, 0))
        translates(vcpu, 0x1000, UNMAPPED, 0);
}

static void translate_pae_paging(void)
{
    struct vm_instance vm;
    uint64_t pdpt = TABLE(0), pd = TABLE(1), pt = TABLE(2);
    long vcpu = paged_vcpu(&vm, CR0_PG, pdpt, CR4_PAE, EFER_NXE);

    if (vcpu < 0)
        return;
    put64(&vm, pdpt, pd | PTE_P);                                 /* 0 - 1 GiB */
    put64(&vm, pd + 2 * 8, pt | PTE_P | PTE_W | PTE_U);           /* 0x400000 */
    put64(&vm, pd + 3 * 8, 0x1e00000 | PTE_PS | PTE_P);           /* 2 MiB */
    put64(&vm, pt + 5 * 8, 0x50000 | PTE_P | PTE_W | PTE_U | PTE_NX);
    put64(&vm, pt + 6 * 8, 0x51000 | PTE_P | PTE_W | PTE_U);
    if (translates(vcpu, 0x405abc, 0x50abc, W | U) &&
        translates(vcpu, 0x406abc, 0x51abc, W | U | X) &&
        translates(vcpu, 0x612345, 0x1e12345, X) &&
        translates(vcpu, 0x407000, UNMAPPED, 0))
        translates(vcpu, 0xc0000000, UNMAPPED, 0);
}

/* User half through PML4 entry 0, kernel half through entry 256. */
static void build_4level(struct vm_instance *vm)
{
    uint64_t pml4 = TABLE(0), pdpt_k = TABLE(1), pd_k = TABLE(2), pt_k = TABLE(3);
    uint64_t pdpt_u = TABLE(4), pd_u = TABLE(5), pt_u = TABLE(6);
    const uint64_t all = PTE_P | PTE_W | PTE_U;

    put64(vm, pml4, pdpt_u | all);
    put64(vm, pdpt_u, pd_u | all);
    put64(vm, pdpt_u + 8, 0x80000000 | PTE_PS | all);             /* 1 GiB */
    put64(vm, pd_u, pt_u | all);
    put64(vm, pd_u + 8, 0x200000 | PTE_PS | all | PTE_NX);        /* 2 MiB */
    put64(vm, pt_u + 0x10 * 8, 0x10000 | PTE_P | PTE_U);
    put64(vm, pt_u + 0x11 * 8, 0x11000 | all);
    put64(vm, pml4 + 256 * 8, pdpt_k | PTE_P | PTE_W);            /* supervisor */
    put64(vm, pdpt_k, pd_k | all);
    put64(vm, pd_k + 8, pt_k | all);
    put64(vm, pt_k + 3 * 8, 0x60000 | all);
}

static void translate_4level_paging(void)
{
    struct vm_instance vm;
    long vcpu = paged_vcpu(&vm, CR0_PG, TABLE(0), CR4_PAE,
                           EFER_LME | EFER_LMA | EFER_NXE);

    if (vcpu < 0)
        return;
    build_4level(&vm);
    if (translates(vcpu, 0x10123, 0x10123, U | X) &&
        translates(vcpu, 0x11ff8, 0x11ff8, W | U | X) &&
        translates(vcpu, 0x12000, UNMAPPED, 0) &&
        translates(vcpu, 0x2abcde, 0x2abcde, W | U) &&
        translates(vcpu, 0x40001234, 0x80001234, W | U | X) &&
        translates(vcpu, 0xffff800000203456ull, 0x60456, W | X) &&
        translates(vcpu, 0x00007f0000000000ull, UNMAPPED, 0) &&
        /* Non-canonical: no translation, not an error. */
        translates(vcpu, 0x0000800000000000ull, UNMAPPED, 0))
        translates(vcpu, 0xffff000000000000ull, UNMAPPED, 0);
}

/* Tables the walk cannot read (CR3 beyond guest memory): no translation. */
static void translate_tables_outside_memory_give_invalid(void)
{
    struct vm_instance vm;
    long vcpu = paged_vcpu(&vm, CR0_PG, 0x40000000, CR4_PAE,
                           EFER_LME | EFER_LMA | EFER_NXE);

    if (vcpu >= 0)
        translates(vcpu, 0x1000, UNMAPPED, 0);
}

const struct hvtest_case hvtest_translate_cases[] = {
    { "translate_paging_off_is_identity", translate_paging_off_is_identity },
    { "translate_32bit_paging", translate_32bit_paging },
    { "translate_pae_paging", translate_pae_paging },
    { "translate_4level_paging", translate_4level_paging },
    { "translate_tables_outside_memory_give_invalid",
      translate_tables_outside_memory_give_invalid },
    { NULL, NULL },
};
