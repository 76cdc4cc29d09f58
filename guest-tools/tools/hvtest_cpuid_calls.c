/*
 * The errors and limits of GET_SUPPORTED_CPUID, GET_CPUID and SET_CPUID
 * (abi/README.md): too little room, bits outside the supported mask, leaves
 * not offered, the entry limit, bad pointers, handle types and rights.
 * Like hvtest_cpuid.c, independent of the backend and the host CPU.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define LEAF1_ECX_MONITOR   (1u << 3)
#define LEAF1_ECX_VMX       (1u << 5)
#define LEAF1_EDX_MTRR      (1u << 12)
#define EXT1_ECX_SVM        (1u << 2)

enum { EAX, EBX, ECX, EDX };

/* Register `reg` (EAX..EDX) of an entry, for the table of bad bits. */
static uint32_t *entry_reg(struct hv_cpuid_entry *e, unsigned reg)
{
    return reg == EAX ? &e->eax : reg == EBX ? &e->ebx : reg == ECX ? &e->ecx : &e->edx;
}

static void check_extension_max_cpuid(void)
{
    hvt_eq((uint64_t)hv_check_extension(hvt_sys(), HV_CAP_MAX_CPUID), HV_MAX_CPUID_ENTRIES,
           "CHECK_EXTENSION(HV_CAP_MAX_CPUID)");
}

/* Too little room: -HV_E2BIG with the count needed written back; then
 * exactly that room, and more, succeed with count = entries. */
static void get_supported_cpuid_too_little_room(void)
{
    struct hv_cpuid *cpuid = hvt_cpuid_buffer();
    cpuid->count = 1;
    if (!hvt_err(hv_get_supported_cpuid(hvt_sys(), cpuid), -HV_E2BIG,
                 "GET_SUPPORTED_CPUID with room for 1 entry"))
        return;
    uint32_t needed = cpuid->count;
    if (!hvt_true(needed > 1 && needed <= HV_MAX_CPUID_ENTRIES,
                  "GET_SUPPORTED_CPUID's E2BIG wrote back a count between 2 and "
                  "HV_MAX_CPUID_ENTRIES"))
        return;
    cpuid->count = 0;
    if (!hvt_err(hv_get_supported_cpuid(hvt_sys(), cpuid), -HV_E2BIG,
                 "GET_SUPPORTED_CPUID with room for 0 entries") ||
        !hvt_eq(cpuid->count, needed, "count written back by the second E2BIG"))
        return;
    cpuid->count = needed;
    if (!hvt_err(hv_get_supported_cpuid(hvt_sys(), cpuid), 0,
                 "GET_SUPPORTED_CPUID with the room it asked for") ||
        !hvt_eq(cpuid->count, needed, "entries written"))
        return;
    cpuid->count = HV_MAX_CPUID_ENTRIES;
    if (hvt_err(hv_get_supported_cpuid(hvt_sys(), cpuid), 0,
                "GET_SUPPORTED_CPUID with more room"))
        hvt_eq(cpuid->count, needed, "entries written with more room");
}

/* A bit outside the mask, or a leaf not offered, is refused and changes
 * nothing; GET_CPUID too small is E2BIG with the count. */
static void set_cpuid_refuses_bits_outside_mask(void)
{
    struct hv_cpuid *supported = hvt_supported_cpuid(), *table = hvt_cpuid_buffer();
    struct vm_instance vm;
    if (!supported || hvt_guest_create(&vm, "hvtest") != 0)
        return;
    static const struct { uint32_t function, reg, bit; const char *what; } bad[] = {
        { 1, ECX, LEAF1_ECX_MONITOR, "SET_CPUID with leaf 1 ECX MONITOR" },
        { 1, ECX, LEAF1_ECX_VMX, "SET_CPUID with leaf 1 ECX VMX" },
        { 1, EDX, LEAF1_EDX_MTRR, "SET_CPUID with leaf 1 EDX MTRR" },
        { 0x80000001, ECX, EXT1_ECX_SVM, "SET_CPUID with 0x80000001 ECX SVM" },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(table, supported, HVT_CPUID_BUFFER_BYTES);
        struct hv_cpuid_entry *e = hvt_cpuid_find(table, bad[i].function, 0);
        if (!e) {
            e = &table->entries[table->count++];
            *e = (struct hv_cpuid_entry){ .function = bad[i].function };
        }
        *entry_reg(e, bad[i].reg) |= bad[i].bit;
        if (!hvt_err(hv_set_cpuid(vm.vcpu, table), -HV_EINVAL, bad[i].what))
            return;
    }
    table->count = 1;
    table->entries[0] = (struct hv_cpuid_entry){ .function = 0x8000000a, .eax = 1 };
    if (!hvt_err(hv_set_cpuid(vm.vcpu, table), -HV_EINVAL,
                 "SET_CPUID of the SVM leaf 0x8000000A"))
        return;
    table->entries[0] = (struct hv_cpuid_entry){ .function = 7, .flags = 0 };
    if (!hvt_err(hv_set_cpuid(vm.vcpu, table), -HV_EINVAL,
                 "SET_CPUID of leaf 7 without SIGNIFICANT_INDEX"))
        return;
    table->count = 1;
    if (!hvt_err(hv_get_cpuid(vm.vcpu, table), -HV_E2BIG, "GET_CPUID with room for 1") ||
        !hvt_eq(table->count, supported->count, "GET_CPUID count after refused SET_CPUIDs"))
        return;
}

/* HV_MAX_CPUID_ENTRIES entries are taken (zeros for leaves not offered),
 * one more is -HV_E2BIG. */
static void set_cpuid_entry_count_limit(void)
{
    struct hv_cpuid *table = hvt_cpuid_buffer();
    struct vm_instance vm;
    if (hvt_guest_create(&vm, "hvtest") != 0)
        return;
    for (uint32_t i = 0; i <= HV_MAX_CPUID_ENTRIES; i++)
        table->entries[i] = (struct hv_cpuid_entry){ .function = 0xc0000000 + i };
    table->count = HV_MAX_CPUID_ENTRIES + 1;
    if (!hvt_err(hv_set_cpuid(vm.vcpu, table), -HV_E2BIG, "SET_CPUID of 129 entries"))
        return;
    table->count = HV_MAX_CPUID_ENTRIES;
    if (!hvt_err(hv_set_cpuid(vm.vcpu, table), 0, "SET_CPUID of 128 entries"))
        return;
    table->count = HV_MAX_CPUID_ENTRIES;
    if (hvt_err(hv_get_cpuid(vm.vcpu, table), 0, "GET_CPUID of 128 entries"))
        hvt_eq(table->count, HV_MAX_CPUID_ENTRIES, "GET_CPUID count");
    table->count = 0;
    hvt_err(hv_set_cpuid(vm.vcpu, table), 0, "SET_CPUID of no entries");
}

static void cpuid_calls_check_pointers(void)
{
    uint64_t end = hvt_info()->memory_size;
    uint64_t misaligned = (uint64_t)(uintptr_t)hvt_cpuid_buffer() + 4;
    struct vm_instance vm;
    if (hvt_guest_create(&vm, "hvtest") != 0)
        return;
    const struct { uint64_t address; long want; const char *how; } bad[] = {
        { misaligned, -HV_EINVAL, "misaligned" },
        { end, -HV_EFAULT, "at memory_size" },
        { 1ull << 63, -HV_EFAULT, "at 2^63" },
        { ~7ull, -HV_EFAULT, "wrapping" },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (!hvt_err(hv_call(HV_CALL_GET_SUPPORTED_CPUID, (uint64_t)hvt_sys(), bad[i].address,
                             0, 0, 0, 0), bad[i].want, bad[i].how) ||
            !hvt_err(hv_call(HV_CALL_GET_CPUID, (uint64_t)vm.vcpu, bad[i].address, 0, 0, 0, 0),
                     bad[i].want, bad[i].how) ||
            !hvt_err(hv_call(HV_CALL_SET_CPUID, (uint64_t)vm.vcpu, bad[i].address, 0, 0, 0, 0),
                     bad[i].want, bad[i].how))
            return;
    }
}

static void cpuid_calls_check_handle_type_and_rights(void)
{
    struct hv_cpuid *cpuid = hvt_cpuid_buffer();
    struct vm_instance vm;
    uint64_t p = (uint64_t)(uintptr_t)cpuid;
    if (hvt_guest_create(&vm, "hvtest") != 0)
        return;
    cpuid->count = HV_MAX_CPUID_ENTRIES;
    if (!hvt_err(hv_call(HV_CALL_GET_SUPPORTED_CPUID, (uint64_t)vm.vcpu, p, 0, 0, 0, 0),
                 -HV_EBADTYPE, "GET_SUPPORTED_CPUID on a vcpu handle") ||
        !hvt_err(hv_call(HV_CALL_GET_CPUID, (uint64_t)hvt_sys(), p, 0, 0, 0, 0), -HV_EBADTYPE,
                 "GET_CPUID on the system handle") ||
        !hvt_err(hv_call(HV_CALL_SET_CPUID, (uint64_t)vm.vm, p, 0, 0, 0, 0), -HV_EBADTYPE,
                 "SET_CPUID on a VM handle"))
        return;
    long read_only = hvt_keep(hv_dup(vm.vcpu, HV_RIGHT_READ));
    long write_only = hvt_keep(hv_dup(vm.vcpu, HV_RIGHT_WRITE));
    long sys_no_read = hvt_keep(hv_dup(hvt_sys(), HV_RIGHTS_ALL & ~HV_RIGHT_READ));
    if (!hvt_ok(read_only, "DUP read-only") || !hvt_ok(write_only, "DUP write-only") ||
        !hvt_ok(sys_no_read, "DUP of the system handle without READ"))
        return;
    cpuid->count = 0;
    if (hvt_err(hv_set_cpuid(read_only, cpuid), -HV_EPERM, "SET_CPUID without WRITE") &&
        hvt_err(hv_get_cpuid(write_only, cpuid), -HV_EPERM, "GET_CPUID without READ"))
        hvt_err(hv_get_supported_cpuid(sys_no_read, cpuid), -HV_EPERM,
                "GET_SUPPORTED_CPUID without READ");
}

const struct hvtest_case hvtest_cpuid_calls_cases[] = {
    { "check_extension_max_cpuid", check_extension_max_cpuid },
    { "get_supported_cpuid_too_little_room", get_supported_cpuid_too_little_room },
    { "set_cpuid_refuses_bits_outside_mask", set_cpuid_refuses_bits_outside_mask },
    { "set_cpuid_entry_count_limit", set_cpuid_entry_count_limit },
    { "cpuid_calls_check_pointers", cpuid_calls_check_pointers },
    { "cpuid_calls_check_handle_type_and_rights", cpuid_calls_check_handle_type_and_rights },
    { NULL, NULL },
};
