/*
 * What GET_MSRS and SET_MSRS refuse (abi/README.md section 7): processing
 * stops at the first MSR not virtualised or value refused, says where by its
 * result and leaves that MSR as it was; EFER.LME cannot change under
 * paging; an oversize count and an array outside the caller's memory are
 * refused before anything changes.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define POISON 0xa5a5a5a5a5a5a5a5ull
#define NOT_AN_MSR 0x1234u

/* A VM with vcpu 0 and no memory (state calls need none). */
static long new_vcpu(void)
{
    long vm = hvt_keep(hv_create_vm(hvt_sys()));

    if (!hvt_ok(vm, "CREATE_VM"))
        return -1;
    return hvt_keep(hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE)));
}

static void msrs_stop_at_first_unvirtualised(void)
{
    static const uint32_t unvirtualised[] = { NOT_AN_MSR, 0xc0010117 /* VM_HSAVE_PA */,
                                              0x480 /* VMX_BASIC */, 0xffffffff,
                                              HV_MSR_TSC_DEADLINE /* no local APIC */ };
    struct hvt_msr_list *list;
    uint64_t value;
    char what[96];
    long vcpu = new_vcpu();

    if (!hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    for (unsigned i = 0; i < sizeof(unvirtualised) / sizeof(unvirtualised[0]); i++) {
        list = hvt_msr_list();
        hvt_msr_add(list, HV_MSR_STAR, 0x1111);
        hvt_msr_add(list, HV_MSR_LSTAR, 0x2222);
        hvt_msr_add(list, unvirtualised[i], 0);
        hvt_msr_add(list, HV_MSR_CSTAR, 0x3333);
        snprintf(what, sizeof(what), "SET_MSRS with MSR 0x%x third", unvirtualised[i]);
        if (!hvt_err(hv_set_msrs(vcpu, &list->header), 2, what) ||
            !hvt_get_msr(vcpu, HV_MSR_CSTAR, &value, "GET_MSRS of CSTAR") ||
            !hvt_eq(value, 0, "CSTAR, after the MSR that stopped SET_MSRS"))
            return;
        list->entries[0].data = list->entries[1].data = POISON;
        list->entries[2].data = list->entries[3].data = POISON;
        snprintf(what, sizeof(what), "GET_MSRS with MSR 0x%x third", unvirtualised[i]);
        if (!hvt_err(hv_get_msrs(vcpu, &list->header), 2, what) ||
            !hvt_eq(list->entries[1].data, 0x2222, "LSTAR read before the stop") ||
            !hvt_eq(list->entries[2].data, POISON, "data of the MSR that stopped GET_MSRS") ||
            !hvt_eq(list->entries[3].data, POISON, "data after the stop"))
            return;
    }
    list = hvt_msr_list();
    hvt_msr_add(list, NOT_AN_MSR, 0);
    hvt_msr_add(list, HV_MSR_STAR, 0);
    if (hvt_err(hv_set_msrs(vcpu, &list->header), 0, "SET_MSRS with MSR 0x1234 first"))
        hvt_err(hv_get_msrs(vcpu, &list->header), 0, "GET_MSRS with MSR 0x1234 first");
}

/* Values WRMSR would refuse with #GP (or VM entry would fail on). */
static const struct {
    uint32_t index;
    const char *name;
    uint64_t value;
} bad_values[] = {
    { HV_MSR_EFER, "EFER with reserved bit 2", 1ull << 2 },
    { HV_MSR_EFER, "EFER with SVME", 1ull << 12 },
    { HV_MSR_EFER, "EFER with bit 63", 1ull << 63 },
    { HV_MSR_PAT, "PAT with memory type 2", 0x0007040600070402ull },
    { HV_MSR_PAT, "PAT with memory type 8 in entry 7", 0x0807040600070406ull },
    { HV_MSR_FS_BASE, "non-canonical FS_BASE", 0x0000800000000000ull },
    { HV_MSR_GS_BASE, "non-canonical GS_BASE", 0x8000000000000000ull },
    { HV_MSR_KERNEL_GS_BASE, "non-canonical KERNEL_GS_BASE", 0x0001000000000000ull },
    { HV_MSR_LSTAR, "non-canonical LSTAR", 0xfff0800000000000ull },
    { HV_MSR_CSTAR, "non-canonical CSTAR", 0x0000800000001000ull },
    { HV_MSR_SYSENTER_ESP, "non-canonical SYSENTER_ESP", 0x0000900000000000ull },
    { HV_MSR_SYSENTER_EIP, "non-canonical SYSENTER_EIP", 0x7fff800000000000ull },
    { HV_MSR_SYSENTER_CS, "SYSENTER_CS above 32 bits", 1ull << 32 },
    { HV_MSR_SFMASK, "SFMASK above 32 bits", 1ull << 40 },
    { HV_MSR_TSC_AUX, "TSC_AUX above 32 bits", 1ull << 32 },
};

static void set_msrs_refuses_invalid_values(void)
{
    struct hvt_msr_list *list;
    uint64_t before, after;
    char what[96];
    long vcpu = new_vcpu();

    if (!hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    for (unsigned i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        uint32_t index = bad_values[i].index;
        const char *name = bad_values[i].name;

        if (!hvt_get_msr(vcpu, index, &before, "GET_MSRS before"))
            return;
        list = hvt_msr_list();
        hvt_msr_add(list, HV_MSR_STAR, i);
        hvt_msr_add(list, index, bad_values[i].value);
        snprintf(what, sizeof(what), "SET_MSRS with %s second", name);
        if (!hvt_err(hv_set_msrs(vcpu, &list->header), 1, what) ||
            !hvt_get_msr(vcpu, index, &after, "GET_MSRS after"))
            return;
        snprintf(what, sizeof(what), "the MSR after the refused %s", name);
        if (!hvt_eq(after, before, what))
            return;
    }
}

/* EFER.LME cannot change while paging is on, as on a CPU; with it
 * unchanged, EFER is accepted in long mode. */
static void set_msrs_refuses_lme_change_under_paging(void)
{
    struct hv_sregs *sregs = page_alloc(sizeof(*sregs));
    struct hvt_msr_list *list = hvt_msr_list();
    long vcpu = new_vcpu();

    hvt_sregs_flat32(sregs);
    sregs->cs.l = 1;
    sregs->cs.db = 0;
    sregs->cr0 |= 1ull << 31;                     /* PG */
    sregs->cr3 = 0x5000;
    sregs->cr4 = 1ull << 5;                       /* PAE */
    sregs->efer = EFER_LME | EFER_LMA;        /* LMA */
    if (!hvt_ok(vcpu, "CREATE_VCPU") ||
        !hvt_err(hv_set_sregs(vcpu, sregs), 0, "SET_SREGS to long mode"))
        return;
    hvt_msr_add(list, HV_MSR_EFER, EFER_SCE);
    if (!hvt_err(hv_set_msrs(vcpu, &list->header), 0,
                 "SET_MSRS clearing EFER.LME with paging on"))
        return;
    list->entries[0].data = EFER_LME | EFER_NXE;
    if (!hvt_err(hv_set_msrs(vcpu, &list->header), 1,
                 "SET_MSRS of EFER with LME kept, paging on") ||
        !hvt_err(hv_get_sregs(vcpu, sregs), 0, "GET_SREGS"))
        return;
    hvt_eq(sregs->efer, EFER_LME | EFER_LMA | EFER_NXE,
           "EFER after SET_MSRS in long mode (LMA follows LME and PG)");
}

static void msrs_count_above_max_gives_e2big(void)
{
    static const uint32_t counts[] = { HV_MAX_MSRS + 1, 0x80000000u, 0xffffffffu };
    struct hvt_msr_list *list = hvt_msr_list();
    char what[64];
    long vcpu = new_vcpu();

    if (!hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        list->header.count = counts[i];
        snprintf(what, sizeof(what), "GET_MSRS with count %u", counts[i]);
        if (!hvt_err(hv_get_msrs(vcpu, &list->header), -HV_E2BIG, what))
            return;
        snprintf(what, sizeof(what), "SET_MSRS with count %u", counts[i]);
        if (!hvt_err(hv_set_msrs(vcpu, &list->header), -HV_E2BIG, what))
            return;
    }
    list->header.count = 0;
    for (unsigned i = 0; i < HV_MAX_MSRS; i++)
        hvt_msr_add(list, HV_MSR_PAT, 0x0007040600070406ull);
    if (!hvt_err(hv_set_msrs(vcpu, &list->header), HV_MAX_MSRS,
                 "SET_MSRS with HV_MAX_MSRS entries") ||
        !hvt_err(hv_get_msrs(vcpu, &list->header), HV_MAX_MSRS,
                 "GET_MSRS with HV_MAX_MSRS entries"))
        return;
    list->header.count = 0;
    hvt_err(hv_get_msrs(vcpu, &list->header), 0, "GET_MSRS with count 0");
}

/* The array must lie in the caller's memory: placed at the very end of it,
 * a header with one entry fits and one with two does not. The last page of
 * control-domain memory is its last page directory; its final entries are
 * unused (zero) unless the memory ends within 6 MiB of a GiB boundary, and
 * only then is the array built there, and zeroed again after. */
static void msrs_array_outside_memory_gives_efault(void)
{
    uint64_t size = hvt_info()->memory_size, saved[3], star_after_two = 0, star;
    uint64_t *tail = (uint64_t *)(uintptr_t)(size - sizeof(saved));
    struct hvt_msr_list *list = hvt_msr_list();
    long vcpu = new_vcpu(), one, two;

    if (!hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    hvt_msr_add(list, HV_MSR_STAR, 0x77);
    if (!hvt_err(hv_call(HV_CALL_GET_MSRS, (uint64_t)vcpu, hv_gpa(list) + 4, 0, 0, 0, 0),
                 -HV_EINVAL, "GET_MSRS with a misaligned array") ||
        !hvt_err(hv_call(HV_CALL_SET_MSRS, (uint64_t)vcpu, size, 0, 0, 0, 0),
                 -HV_EFAULT, "SET_MSRS at memory_size") ||
        !hvt_err(hv_call(HV_CALL_SET_MSRS, (uint64_t)vcpu, ~7ull, 0, 0, 0, 0),
                 -HV_EFAULT, "SET_MSRS at 0xfffffffffffffff8 (wrapping)"))
        return;
    memcpy(saved, tail, sizeof(saved));
    if (saved[0] | saved[1] | saved[2])
        return;                                    /* in use: leave it alone */
    memcpy(tail, list, sizeof(saved));             /* header and STAR = 0x77 */
    ((struct hv_msrs *)tail)->count = 2;
    two = hv_set_msrs(vcpu, (struct hv_msrs *)tail);
    hvt_get_msr(vcpu, HV_MSR_STAR, &star_after_two, "GET_MSRS of STAR");
    ((struct hv_msrs *)tail)->count = 1;
    one = hv_set_msrs(vcpu, (struct hv_msrs *)tail);
    memcpy(tail, saved, sizeof(saved));
    if (hvt_err(two, -HV_EFAULT, "SET_MSRS with 2 entries, the second past the end") &&
        hvt_eq(star_after_two, 0, "STAR after the refused SET_MSRS (nothing applied)") &&
        hvt_err(one, 1, "SET_MSRS with 1 entry ending at memory_size") &&
        hvt_get_msr(vcpu, HV_MSR_STAR, &star, "GET_MSRS of STAR"))
        hvt_eq(star, 0x77, "STAR after the SET_MSRS that fitted");
}

const struct hvtest_case hvtest_msrs_refused_cases[] = {
    { "msrs_stop_at_first_unvirtualised", msrs_stop_at_first_unvirtualised },
    { "set_msrs_refuses_invalid_values", set_msrs_refuses_invalid_values },
    { "set_msrs_refuses_lme_change_under_paging", set_msrs_refuses_lme_change_under_paging },
    { "msrs_count_above_max_gives_e2big", msrs_count_above_max_gives_e2big },
    { "msrs_array_outside_memory_gives_efault", msrs_array_outside_memory_gives_efault },
    { NULL, NULL },
};
