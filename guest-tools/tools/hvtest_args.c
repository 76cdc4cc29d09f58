/*
 * Bad arguments other than memory regions: pointer arguments outside the
 * caller's memory, straddling its end, wrapping around or misaligned
 * (abi/README.md section 3), unknown call numbers, CONSOLE_WRITE and
 * CONSOLE_READ lengths
 * and CREATE_VCPU slots. Every refused call must leave GET_STATS as it was.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define WRAPPING_PAGE 0xfffffffffffff000ull

struct struct_call {
    uint64_t nr;
    const char *name;
    uint64_t size;              /* of the structure the pointer names */
    int on_vcpu;                /* else the system or a VM handle */
};

static const struct struct_call struct_calls[] = {
    { HV_CALL_GET_STATS, "GET_STATS", sizeof(struct hv_stats), 0 },
    { HV_CALL_SET_MEMORY_REGION, "SET_MEMORY_REGION",
      sizeof(struct hv_memory_region), 0 },
    { HV_CALL_GET_REGS, "GET_REGS", sizeof(struct hv_regs), 1 },
    { HV_CALL_SET_REGS, "SET_REGS", sizeof(struct hv_regs), 1 },
    { HV_CALL_GET_SREGS, "GET_SREGS", sizeof(struct hv_sregs), 1 },
    { HV_CALL_SET_SREGS, "SET_SREGS", sizeof(struct hv_sregs), 1 },
    { HV_CALL_TRANSLATE, "TRANSLATE", sizeof(struct hv_translation), 1 },
};

/* Calls `nr` on handle with a1 (and a2) and expects `want`, then checks
 * that nothing the hypervisor counts has changed. */
static int refused(uint64_t nr, long handle, uint64_t a1, uint64_t a2, long want,
                   const char *what)
{
    struct hv_stats before;

    if (!hvt_stats(&before) ||
        !hvt_err(hv_call(nr, (uint64_t)handle, a1, a2, 0, 0, 0), want, what))
        return 0;
    return hvt_stats_unchanged(&before, what);
}

static void struct_pointers_checked(void)
{
    uint64_t size_of_memory = hvt_info()->memory_size;
    /* A valid, 8-aligned buffer; +4 and +1 inside it are only misaligned. */
    uint8_t *buffer = page_alloc(PAGE_SIZE);
    char what[128];
    long vm, vcpu;

    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM"))
        return;
    vcpu = hvt_keep(hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE)));
    if (!hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    for (unsigned i = 0; i < sizeof(struct_calls) / sizeof(struct_calls[0]); i++) {
        const struct struct_call *c = &struct_calls[i];
        long handle = c->on_vcpu ? vcpu : c->nr == HV_CALL_GET_STATS ? hvt_sys() : vm;
        const struct { const char *how; uint64_t address; long want; } bad[] = {
            { "4 bytes past 8-byte alignment", (uint64_t)(uintptr_t)buffer + 4,
              -HV_EINVAL },
            { "1 byte past 8-byte alignment", (uint64_t)(uintptr_t)buffer + 1,
              -HV_EINVAL },
            { "at memory_size (just outside)", size_of_memory, -HV_EFAULT },
            { "at memory_size - 8 (straddling the end)", size_of_memory - 8,
              -HV_EFAULT },
            { "one structure short of fitting at the end",
              (size_of_memory - c->size + 8) & ~7ull, -HV_EFAULT },
            { "at 1 GiB past the end", size_of_memory + (1ull << 30), -HV_EFAULT },
            { "at 0xfffffffffffff000 (wrapping)", WRAPPING_PAGE, -HV_EFAULT },
            { "at 0xfffffffffffffff8 (wrapping)", ~7ull, -HV_EFAULT },
            { "at 2^63", 1ull << 63, -HV_EFAULT },
        };
        for (unsigned j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
            snprintf(what, sizeof(what), "%s with its structure %s", c->name,
                     bad[j].how);
            if (!refused(c->nr, handle, bad[j].address, 0, bad[j].want, what))
                return;
        }
    }
}

/* The check is exact: a structure ending at the last byte is inside.
 * SET_REGS only reads it (the top of control-domain memory holds its page
 * tables, which a test must not overwrite). */
static void struct_at_end_of_memory_accepted(void)
{
    uint64_t end = hvt_info()->memory_size;
    long vm, vcpu;

    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM"))
        return;
    vcpu = hvt_keep(hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE)));
    if (hvt_ok(vcpu, "CREATE_VCPU"))
        hvt_err(hv_call(HV_CALL_SET_REGS, (uint64_t)vcpu, end - sizeof(struct hv_regs),
                        0, 0, 0, 0), 0,
                "SET_REGS with its structure ending at the end of memory");
}

static void create_vcpu_run_page_checked(void)
{
    uint64_t end = hvt_info()->memory_size;
    uint8_t *page = page_alloc(HV_RUN_PAGE_SIZE);
    const struct { const char *how; uint64_t address; long want; } bad[] = {
        { "8 bytes into a page", (uint64_t)(uintptr_t)page + 8, -HV_EINVAL },
        { "2048 bytes into a page", (uint64_t)(uintptr_t)page + 2048, -HV_EINVAL },
        { "at address 1", 1, -HV_EINVAL },
        { "at memory_size", end, -HV_EFAULT },
        { "at 1 GiB past the end", end + (1ull << 30), -HV_EFAULT },
        { "at 0xfffffffffffff000 (wrapping)", WRAPPING_PAGE, -HV_EFAULT },
        { "at 2^63", 1ull << 63, -HV_EFAULT },
    };
    char what[96];
    long vm;

    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM"))
        return;
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(what, sizeof(what), "CREATE_VCPU with the run page %s", bad[i].how);
        if (!refused(HV_CALL_CREATE_VCPU, vm, 0, bad[i].address, bad[i].want, what))
            return;
    }
    /* Slot 0 is still free after all that. */
    hvt_ok(hvt_keep(hv_create_vcpu(vm, 0, (struct hv_run *)page)),
           "CREATE_VCPU slot 0 after the refusals");
}

static void create_vcpu_slot_checked(void)
{
    struct hv_run *run = page_alloc(HV_RUN_PAGE_SIZE);
    uint64_t run_gpa = (uint64_t)(uintptr_t)run;
    long vm;

    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM") ||
        !refused(HV_CALL_CREATE_VCPU, vm, HV_MAX_VCPUS, run_gpa, -HV_ERANGE,
                 "CREATE_VCPU slot 64") ||
        !refused(HV_CALL_CREATE_VCPU, vm, 1000, run_gpa, -HV_ERANGE,
                 "CREATE_VCPU slot 1000") ||
        !refused(HV_CALL_CREATE_VCPU, vm, 1ull << 32, run_gpa, -HV_ERANGE,
                 "CREATE_VCPU slot 2^32 (slot 0 if cut to 32 bits)") ||
        !refused(HV_CALL_CREATE_VCPU, vm, ~0ull, run_gpa, -HV_ERANGE,
                 "CREATE_VCPU slot ~0"))
        return;
    if (!hvt_ok(hvt_keep(hv_create_vcpu(vm, 3, run)), "CREATE_VCPU slot 3"))
        return;
    refused(HV_CALL_CREATE_VCPU, vm, 3, (uint64_t)(uintptr_t)page_alloc(PAGE_SIZE),
            -HV_EEXIST, "CREATE_VCPU slot 3 a second time");
}

static void console_write_checked(void)
{
    uint64_t end = hvt_info()->memory_size;
    char *text = page_alloc(2 * PAGE_SIZE);
    uint64_t text_gpa = (uint64_t)(uintptr_t)text;
    long sys = hvt_sys();

    memset(text, '.', 2 * PAGE_SIZE);
    if (!refused(HV_CALL_CONSOLE_WRITE, sys, text_gpa, 4097, -HV_E2BIG,
                 "CONSOLE_WRITE of 4097 bytes") ||
        !refused(HV_CALL_CONSOLE_WRITE, sys, text_gpa, 1ull << 32, -HV_E2BIG,
                 "CONSOLE_WRITE of 2^32 bytes") ||
        !refused(HV_CALL_CONSOLE_WRITE, sys, text_gpa, ~0ull, -HV_E2BIG,
                 "CONSOLE_WRITE of ~0 bytes"))
        return;
    if (!refused(HV_CALL_CONSOLE_WRITE, sys, end, 1, -HV_EFAULT,
                 "CONSOLE_WRITE of text at memory_size") ||
        !refused(HV_CALL_CONSOLE_WRITE, sys, end - 4, 8, -HV_EFAULT,
                 "CONSOLE_WRITE of text straddling the end") ||
        !refused(HV_CALL_CONSOLE_WRITE, sys, ~15ull, 32, -HV_EFAULT,
                 "CONSOLE_WRITE of text wrapping around") ||
        !refused(HV_CALL_CONSOLE_WRITE, sys, 1ull << 63, 4, -HV_EFAULT,
                 "CONSOLE_WRITE of text at 2^63"))
        return;
    memcpy(text, "[ctl] CONSOLE_WRITE works after the refusals\n", 45);
    hvt_eq((uint64_t)hv_console_write(sys, text_gpa, 45), 45,
           "CONSOLE_WRITE after the refusals");
}

/* Nothing is typed while the suite runs, so a valid read returns 0 and
 * leaves the buffer alone; the refusals come before any byte moves. */
static void console_read_checked(void)
{
    uint64_t end = hvt_info()->memory_size;
    uint8_t *buffer = page_alloc(2 * PAGE_SIZE);
    uint64_t buffer_gpa = (uint64_t)(uintptr_t)buffer;
    long sys = hvt_sys();

    memset(buffer, 0x5a, 2 * PAGE_SIZE);
    if (!refused(HV_CALL_CONSOLE_READ, sys, buffer_gpa, HV_CONSOLE_READ_MAX + 1, -HV_E2BIG,
                 "CONSOLE_READ of 4097 bytes") ||
        !refused(HV_CALL_CONSOLE_READ, sys, buffer_gpa, 1ull << 32, -HV_E2BIG,
                 "CONSOLE_READ of 2^32 bytes") ||
        !refused(HV_CALL_CONSOLE_READ, sys, buffer_gpa, ~0ull, -HV_E2BIG,
                 "CONSOLE_READ of ~0 bytes") ||
        !refused(HV_CALL_CONSOLE_READ, sys, end, 1, -HV_EFAULT,
                 "CONSOLE_READ into memory_size") ||
        !refused(HV_CALL_CONSOLE_READ, sys, end - 4, 8, -HV_EFAULT,
                 "CONSOLE_READ into a buffer straddling the end") ||
        !refused(HV_CALL_CONSOLE_READ, sys, ~15ull, 32, -HV_EFAULT,
                 "CONSOLE_READ into a buffer wrapping around") ||
        !refused(HV_CALL_CONSOLE_READ, sys, 1ull << 63, 4, -HV_EFAULT,
                 "CONSOLE_READ into 2^63"))
        return;
    if (!hvt_err(hv_console_read(sys, end, 0), 0, "CONSOLE_READ of 0 bytes (no pointer use)") ||
        !hvt_err(hv_console_read(sys, buffer_gpa, HV_CONSOLE_READ_MAX), 0,
                 "CONSOLE_READ of 4096 bytes with nothing typed"))
        return;
    for (unsigned i = 0; i < 2 * PAGE_SIZE; i++)
        if (buffer[i] != 0x5a) {
            hvt_fail("CONSOLE_READ changed byte %u of its buffer with nothing typed", i);
            return;
        }
}

static void unknown_calls_give_enosys(void)
{
    /* Gaps and values that become valid calls if the hypervisor cut the
     * number to 32 or 8 bits. */
    static const uint64_t unknown[] = {
        10, 15, 19, 31, 60, 63, 66, 67, 255, 1000, 0xffffffffull,
        1ull << 32, (1ull << 32) | HV_CALL_CREATE_VM, 0x100 | HV_CALL_CREATE_VM,
        1ull << 63, ~0ull,
    };
    char what[96];
    long vm, vcpu;

    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM"))
        return;
    vcpu = hvt_keep(hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE)));
    if (!hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        const struct { const char *name; long handle; } on[] = {
            { "the system handle", hvt_sys() }, { "a VM handle", vm },
            { "a vcpu handle", vcpu }, { "handle 0 (unknown call beats bad handle)", 0 },
            /* bits no handle has: the fast path's check gives up on them */
            { "handle -1 (unknown call beats a forged handle)", -1 },
            { "handle 1 << 50 (unknown call beats a forged handle)", 1l << 50 },
        };
        for (unsigned j = 0; j < sizeof(on) / sizeof(on[0]); j++) {
            snprintf(what, sizeof(what), "call number 0x%lx on %s", unknown[i],
                     on[j].name);
            if (!refused(unknown[i], on[j].handle, 0, 0, -HV_ENOSYS, what))
                return;
        }
    }
}

const struct hvtest_case hvtest_args_cases[] = {
    { "struct_pointers_checked", struct_pointers_checked },
    { "struct_at_end_of_memory_accepted", struct_at_end_of_memory_accepted },
    { "create_vcpu_run_page_checked", create_vcpu_run_page_checked },
    { "create_vcpu_slot_checked", create_vcpu_slot_checked },
    { "console_write_checked", console_write_checked },
    { "console_read_checked", console_read_checked },
    { "unknown_calls_give_enosys", unknown_calls_give_enosys },
    { NULL, NULL },
};
