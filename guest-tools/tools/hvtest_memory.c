/*
 * SET_MEMORY_REGION's argument checks (abi/README.md section 6): slot and
 * guest range (-HV_ERANGE), alignment and flags (-HV_EINVAL), control
 * range outside the caller's memory (-HV_EFAULT), overlaps (-HV_EEXIST),
 * slots in use (-HV_EBUSY) and deletes of unused slots (-HV_ENOENT). A
 * refusal must change nothing: no frames used, and a guest still sees the
 * mapping it had.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define MIB (1ull << 20)

static uint64_t gpa(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static struct hv_memory_region region(uint32_t slot, uint32_t flags,
                                      uint64_t guest_phys, uint64_t size,
                                      uint64_t control_addr)
{
    struct hv_memory_region r;

    memset(&r, 0, sizeof(r));
    r.slot = slot;
    r.flags = flags;
    r.guest_phys = guest_phys;
    r.size = size;
    r.control_addr = control_addr;
    return r;
}

/* SET_MEMORY_REGION(r) gives want, and GET_STATS does not move. */
static int set_region(long vm, struct hv_memory_region r, long want, const char *what)
{
    struct hv_stats before;

    if (!hvt_stats(&before) || !hvt_err(hv_set_memory_region(vm, &r), want, what))
        return 0;
    return want != 0 ? hvt_stats_unchanged(&before, what) : 1;
}

static long new_vm(void)
{
    long vm = hvt_keep(hv_create_vm(hvt_sys()));

    hvt_ok(vm, "CREATE_VM");
    return vm;
}

static void region_slot_out_of_range_erange(void)
{
    uint64_t page = gpa(page_alloc(PAGE_SIZE));
    static const uint32_t slots[] = { HV_MAX_MEMORY_SLOTS, 33, 1000, 0xffffffffu };
    char what[80];
    long vm = new_vm();

    for (unsigned i = 0; vm > 0 && i < sizeof(slots) / sizeof(slots[0]); i++) {
        snprintf(what, sizeof(what), "SET_MEMORY_REGION slot %u", slots[i]);
        if (!set_region(vm, region(slots[i], 0, 0, PAGE_SIZE, page), -HV_ERANGE, what))
            return;
        snprintf(what, sizeof(what), "SET_MEMORY_REGION deleting slot %u", slots[i]);
        if (!set_region(vm, region(slots[i], 0, 0, 0, 0), -HV_ERANGE, what))
            return;
    }
}

static void region_guest_range_beyond_max_erange(void)
{
    uint64_t page = gpa(page_alloc(2 * PAGE_SIZE));
    long vm = new_vm();

    if (vm < 0 ||
        !set_region(vm, region(1, 0, HV_MAX_GUEST_PHYS, PAGE_SIZE, page), -HV_ERANGE,
                    "guest range starting at HV_MAX_GUEST_PHYS") ||
        !set_region(vm, region(1, 0, HV_MAX_GUEST_PHYS - PAGE_SIZE, 2 * PAGE_SIZE, page),
                    -HV_ERANGE, "guest range crossing HV_MAX_GUEST_PHYS") ||
        !set_region(vm, region(1, 0, 0xfffffffffffff000ull, 2 * PAGE_SIZE, page),
                    -HV_ERANGE, "guest range wrapping around 2^64") ||
        !set_region(vm, region(1, 0, 1ull << 52, PAGE_SIZE, page), -HV_ERANGE,
                    "guest range at 2^52"))
        return;
    /* The last page below the limit is fine. */
    if (set_region(vm, region(1, 0, HV_MAX_GUEST_PHYS - PAGE_SIZE, PAGE_SIZE, page), 0,
                   "guest range ending at HV_MAX_GUEST_PHYS"))
        set_region(vm, region(1, 0, 0, 0, 0), 0, "deleting it");
}

static void region_unaligned_einval(void)
{
    uint64_t page = gpa(page_alloc(2 * PAGE_SIZE));
    long vm = new_vm();

    if (vm < 0 ||
        !set_region(vm, region(1, 0, 0x800, PAGE_SIZE, page), -HV_EINVAL,
                    "guest_phys 0x800") ||
        !set_region(vm, region(1, 0, 0x10000 + 8, PAGE_SIZE, page), -HV_EINVAL,
                    "guest_phys 0x10008") ||
        !set_region(vm, region(1, 0, 0x10000, 0x1800, page), -HV_EINVAL,
                    "size 0x1800") ||
        !set_region(vm, region(1, 0, 0x10000, 1, page), -HV_EINVAL, "size 1") ||
        !set_region(vm, region(1, 0, 0x10000, PAGE_SIZE, page + 0x10), -HV_EINVAL,
                    "control_addr 16 bytes into a page") ||
        !set_region(vm, region(1, 0, 0x10000, PAGE_SIZE, page + 0x800), -HV_EINVAL,
                    "control_addr 2048 bytes into a page"))
        return;
    set_region(vm, region(1, 0, 0x10000, PAGE_SIZE, page), 0, "the aligned region");
}

static void region_unknown_flags_einval(void)
{
    uint64_t page = gpa(page_alloc(PAGE_SIZE));
    static const uint32_t flags[] = {
        1u << 2, 1u << 7, 1u << 31, HV_MEM_READONLY | (1u << 3),
    };
    char what[80];
    long vm = new_vm();

    for (unsigned i = 0; vm > 0 && i < sizeof(flags) / sizeof(flags[0]); i++) {
        snprintf(what, sizeof(what), "SET_MEMORY_REGION with flags 0x%x", flags[i]);
        if (!set_region(vm, region(1, flags[i], 0x10000, PAGE_SIZE, page), -HV_EINVAL,
                        what))
            return;
    }
}

static void region_control_range_outside_efault(void)
{
    uint64_t end = hvt_info()->memory_size;
    long vm = new_vm();

    if (vm < 0 ||
        !set_region(vm, region(1, 0, 0x10000, PAGE_SIZE, end), -HV_EFAULT,
                    "control_addr at memory_size") ||
        !set_region(vm, region(1, 0, 0x10000, PAGE_SIZE, end + (1ull << 30)), -HV_EFAULT,
                    "control_addr 1 GiB past the end") ||
        !set_region(vm, region(1, 0, 0x100000, MIB, end - PAGE_SIZE), -HV_EFAULT,
                    "control range [memory_size - 4 KiB, +1 MiB) covering hypervisor "
                    "memory") ||
        !set_region(vm, region(1, 0, 0x100000, MIB, 0xfffffffffff00000ull), -HV_EFAULT,
                    "control range wrapping around 2^64") ||
        !set_region(vm, region(1, 0, 0x10000, PAGE_SIZE, 1ull << 63), -HV_EFAULT,
                    "control_addr 2^63"))
        return;
    /* The last page of the caller's memory is its own (read-only here: it
     * holds the control domain's page tables). */
    if (set_region(vm, region(1, HV_MEM_READONLY, 0x10000, PAGE_SIZE, end - PAGE_SIZE),
                   0, "control range ending at memory_size"))
        set_region(vm, region(1, 0, 0, 0, 0), 0, "deleting it");
}

static void region_overlap_eexist(void)
{
    uint8_t *ram = page_alloc_aligned(2 * MIB, 2 * MIB);
    uint8_t *big = page_alloc(4 * MIB);
    uint64_t page = gpa(page_alloc(2 * PAGE_SIZE));
    long vm = new_vm();

    if (vm < 0 || ram == NULL || big == NULL ||
        !set_region(vm, region(0, 0, 0, 2 * MIB, gpa(ram)), 0, "slot 0 at [0, 2 MiB)"))
        return;
    if (!set_region(vm, region(1, 0, MIB, PAGE_SIZE, page), -HV_EEXIST,
                    "slot 1 inside slot 0") ||
        !set_region(vm, region(1, 0, 2 * MIB - PAGE_SIZE, 2 * PAGE_SIZE, page), -HV_EEXIST,
                    "slot 1 across the end of slot 0") ||
        !set_region(vm, region(1, 0, 0, 4 * MIB, gpa(big)), -HV_EEXIST,
                    "slot 1 covering all of slot 0") ||
        !set_region(vm, region(1, HV_MEM_READONLY, 0, PAGE_SIZE, page), -HV_EEXIST,
                    "read-only slot 1 over slot 0's first page"))
        return;
    /* Adjacent is not overlapping. */
    set_region(vm, region(1, 0, 2 * MIB, PAGE_SIZE, page), 0, "slot 1 right after slot 0");
}

static void region_slot_in_use_ebusy(void)
{
    uint64_t page = gpa(page_alloc(2 * PAGE_SIZE));
    long vm = new_vm();

    if (vm < 0 || !set_region(vm, region(4, 0, 0x10000, PAGE_SIZE, page), 0, "slot 4"))
        return;
    if (!set_region(vm, region(4, 0, 0x800000, PAGE_SIZE, page + PAGE_SIZE), -HV_EBUSY,
                    "slot 4 again elsewhere") ||
        !set_region(vm, region(4, HV_MEM_READONLY, 0x10000, PAGE_SIZE, page), -HV_EBUSY,
                    "slot 4 again with a new flag") ||
        !set_region(vm, region(4, 0, 0, 0, 0), 0, "deleting slot 4"))
        return;
    set_region(vm, region(4, 0, 0x800000, PAGE_SIZE, page + PAGE_SIZE), 0,
               "slot 4 after the delete");
}

static void region_delete_unused_enoent(void)
{
    uint64_t page = gpa(page_alloc(PAGE_SIZE));
    long vm = new_vm();

    if (vm < 0 ||
        !set_region(vm, region(5, 0, 0, 0, 0), -HV_ENOENT, "deleting never-used slot 5") ||
        !set_region(vm, region(31, 0, 0, 0, 0), -HV_ENOENT, "deleting never-used slot 31") ||
        !set_region(vm, region(6, 0, 0x10000, PAGE_SIZE, page), 0, "slot 6") ||
        !set_region(vm, region(6, 0, 0, 0, 0), 0, "deleting slot 6"))
        return;
    set_region(vm, region(6, 0, 0, 0, 0), -HV_ENOENT, "deleting slot 6 a second time");
}

static void region_all_32_slots_usable(void)
{
    uint32_t *pages = page_alloc(HV_MAX_MEMORY_SLOTS * PAGE_SIZE);
    struct vm_instance vm;
    struct hvt_code code;
    char what[64];
    uint32_t out;

    if (pages == NULL || hvt_guest_create(&vm, "hvtest") < 0)
        return;
    /* Slot 0 is the guest's RAM; slots 1..31 one page each at 1 GiB + n MiB. */
    for (uint32_t slot = 1; slot < HV_MAX_MEMORY_SLOTS; slot++) {
        uint32_t *page = pages + slot * (PAGE_SIZE / 4);

        page[0] = 0x510700 + slot;
        snprintf(what, sizeof(what), "SET_MEMORY_REGION slot %u", slot);
        if (!set_region(vm.vm, region(slot, 0, (1ull << 30) + slot * MIB, PAGE_SIZE,
                                      gpa(page)), 0, what))
            return;
    }
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_load_eax(&code, (1u << 30) + 31 * MIB);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) == 0)
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x510700 + 31, out,
                           "guest load from slot 31");
}

static void region_refusals_leave_mapping_intact(void)
{
    uint32_t *data = page_alloc(PAGE_SIZE), *other = page_alloc(PAGE_SIZE);
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t out;

    if (hvt_guest_create(&vm, "hvtest") < 0 ||
        !set_region(vm.vm, region(1, 0, 0x40000000, PAGE_SIZE, gpa(data)), 0, "slot 1"))
        return;
    data[0] = 0x1111aaaa;
    other[0] = 0x2222bbbb;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    hvt_load_eax(&code, 0x40000000);
    out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x1111aaaa, out, "first load"))
        return;
    if (!set_region(vm.vm, region(1, 0, 0x40000000, PAGE_SIZE, gpa(other)), -HV_EBUSY,
                    "slot 1 again over another page") ||
        !set_region(vm.vm, region(2, 0, 0x40000000, PAGE_SIZE, gpa(other)), -HV_EEXIST,
                    "slot 2 at slot 1's address") ||
        !set_region(vm.vm, region(2, 0, 0x40000000, PAGE_SIZE,
                                  hvt_info()->memory_size), -HV_EFAULT,
                    "slot 2 at slot 1's address from outside memory") ||
        !set_region(vm.vm, region(1, 4, 0x40000000, PAGE_SIZE, gpa(other)), -HV_EINVAL,
                    "slot 1 with an unknown flag") ||
        hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x1111aaaa, out,
                       "load after the refused calls (mapping changed?)");
}

const struct hvtest_case hvtest_memory_cases[] = {
    { "region_slot_out_of_range_erange", region_slot_out_of_range_erange },
    { "region_guest_range_beyond_max_erange", region_guest_range_beyond_max_erange },
    { "region_unaligned_einval", region_unaligned_einval },
    { "region_unknown_flags_einval", region_unknown_flags_einval },
    { "region_control_range_outside_efault", region_control_range_outside_efault },
    { "region_overlap_eexist", region_overlap_eexist },
    { "region_slot_in_use_ebusy", region_slot_in_use_ebusy },
    { "region_delete_unused_enoent", region_delete_unused_enoent },
    { "region_all_32_slots_usable", region_all_32_slots_usable },
    { "region_refusals_leave_mapping_intact", region_refusals_leave_mapping_intact },
    { NULL, NULL },
};
