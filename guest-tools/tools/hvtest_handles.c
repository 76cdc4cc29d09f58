/*
 * Handle checks common to every call (abi/README.md sections 3 and 4):
 * values that are not handles (-HV_EBADF), closed handles (-HV_ECLOSED),
 * stale ones whose slot was reused (-HV_ESTALE), the wrong type
 * (-HV_EBADTYPE) and missing rights (-HV_EPERM), each tried on every call
 * the check applies to, with arguments that would be valid otherwise.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define ALL_WRITE_BACK 0x0606060606060606ull  /* PAT: every entry WB */

enum call_class { ON_SYSTEM, ON_VM, ON_VCPU, ON_ANY };

struct call_desc {
    uint64_t nr;
    const char *name;
    enum call_class on;
};

static const struct call_desc calls[] = {
    { HV_CALL_GET_API_VERSION, "GET_API_VERSION", ON_SYSTEM },
    { HV_CALL_CHECK_EXTENSION, "CHECK_EXTENSION", ON_SYSTEM },
    { HV_CALL_CREATE_VM, "CREATE_VM", ON_SYSTEM },
    { HV_CALL_CONSOLE_WRITE, "CONSOLE_WRITE", ON_SYSTEM },
    { HV_CALL_GET_STATS, "GET_STATS", ON_SYSTEM },
    { HV_CALL_WAKE_CPU, "WAKE_CPU", ON_SYSTEM },
    { HV_CALL_CONSOLE_READ, "CONSOLE_READ", ON_SYSTEM },
    { HV_CALL_CREATE_VCPU, "CREATE_VCPU", ON_VM },
    { HV_CALL_SET_MEMORY_REGION, "SET_MEMORY_REGION", ON_VM },
    { HV_CALL_GET_DIRTY_LOG, "GET_DIRTY_LOG", ON_VM },
    { HV_CALL_RUN, "RUN", ON_VCPU },
    { HV_CALL_GET_REGS, "GET_REGS", ON_VCPU },
    { HV_CALL_SET_REGS, "SET_REGS", ON_VCPU },
    { HV_CALL_GET_SREGS, "GET_SREGS", ON_VCPU },
    { HV_CALL_SET_SREGS, "SET_SREGS", ON_VCPU },
    { HV_CALL_GET_MSRS, "GET_MSRS", ON_VCPU },
    { HV_CALL_SET_MSRS, "SET_MSRS", ON_VCPU },
    { HV_CALL_TRANSLATE, "TRANSLATE", ON_VCPU },
    { HV_CALL_INTERRUPT, "INTERRUPT", ON_VCPU },
    { HV_CALL_DEBUG_GUEST, "DEBUG_GUEST", ON_VCPU },
    { HV_CALL_KICK, "KICK", ON_VCPU },
    { HV_CALL_CLOSE, "CLOSE", ON_ANY },
    { HV_CALL_DUP, "DUP", ON_ANY },
};
#define CALL_COUNT (sizeof(calls) / sizeof(calls[0]))

/* Arguments that would be valid for each call, in control-domain memory
 * (page-allocated, so released after the test). */
struct call_args {
    struct hv_stats stats;
    struct hv_memory_region region;
    struct hv_regs regs;
    struct hv_sregs sregs;
    struct hv_msrs msrs;                   /* count 0 */
    struct hv_translation translation;
    struct hv_guest_debug debug;           /* control 0: debugging off */
    uint64_t dirty_bitmap[1];
    char text[16];
};
static struct call_args *args;
static struct hv_run *spare_run;

static void prepare_args(void)
{
    args = page_alloc(sizeof(*args));
    spare_run = page_alloc(HV_RUN_PAGE_SIZE);
    memcpy(args->text, "x\n", 2);
    args->region.slot = 7;                 /* delete of an unused slot */
    args->regs.rflags = 2;
    hvt_sregs_flat32(&args->sregs);
}

static uint64_t gpa(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static long call_with(const struct call_desc *c, long handle)
{
    uint64_t a1 = 0, a2 = 0;

    switch (c->nr) {
    case HV_CALL_CHECK_EXTENSION: a1 = HV_CAP_MAX_VCPUS; break;
    case HV_CALL_CONSOLE_WRITE: a1 = gpa(args->text); a2 = 2; break;
    case HV_CALL_GET_STATS: a1 = gpa(&args->stats); break;
    case HV_CALL_WAKE_CPU: a1 = 0; break;
    case HV_CALL_CONSOLE_READ: a1 = gpa(args->text); a2 = sizeof(args->text); break;
    case HV_CALL_CREATE_VCPU: a1 = 5; a2 = gpa(spare_run); break;
    case HV_CALL_SET_MEMORY_REGION: a1 = gpa(&args->region); break;
    case HV_CALL_GET_DIRTY_LOG: a1 = 7; a2 = gpa(args->dirty_bitmap); break;
    case HV_CALL_GET_REGS: case HV_CALL_SET_REGS: a1 = gpa(&args->regs); break;
    case HV_CALL_GET_SREGS: case HV_CALL_SET_SREGS: a1 = gpa(&args->sregs); break;
    case HV_CALL_GET_MSRS: case HV_CALL_SET_MSRS: a1 = gpa(&args->msrs); break;
    case HV_CALL_TRANSLATE: a1 = gpa(&args->translation); break;
    case HV_CALL_INTERRUPT: a1 = 0x30; break;
    case HV_CALL_DEBUG_GUEST: a1 = gpa(&args->debug); break;
    case HV_CALL_DUP: a1 = HV_RIGHTS_ALL; break;
    default: break;
    }
    return hv_call(c->nr, (uint64_t)handle, a1, a2, 0, 0, 0);
}

/* Every call with `handle` gives `want`; stats stay as they were. */
static int every_call_gives(long handle, long want, const char *label)
{
    struct hv_stats before;
    char what[96];

    if (!hvt_stats(&before))
        return 0;
    for (unsigned i = 0; i < CALL_COUNT; i++) {
        snprintf(what, sizeof(what), "%s with %s", calls[i].name, label);
        if (!hvt_err(call_with(&calls[i], handle), want, what))
            return 0;
    }
    return hvt_stats_unchanged(&before, label);
}

/* A VM and its vcpu 0, both kept. */
static int make_vm_vcpu(long *vm, long *vcpu)
{
    *vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(*vm, "CREATE_VM"))
        return 0;
    *vcpu = hvt_keep(hv_create_vcpu(*vm, 0, page_alloc(HV_RUN_PAGE_SIZE)));
    return hvt_ok(*vcpu, "CREATE_VCPU");
}

static void invalid_handles_give_ebadf(void)
{
    long sys = hvt_sys(), vm, vcpu;
    char label[96];

    prepare_args();
    if (!make_vm_vcpu(&vm, &vcpu))
        return;
    const struct { const char *what; long value; } bad[] = {
        { "handle 0", 0 },
        { "handle -1", -1 },
        { "the most negative handle", (long)(1ull << 63) },
        { "the negated system handle", -sys },
        { "index 0xffff (beyond the table)", (1l << 16) | 0xffff },
        { "index 1024 (just beyond the table)", (1l << 16) | 1024 },
        { "generation 0 of a VM handle's index", vm & 0xffff },
        { "a forged generation of the system handle", sys + (1000l << 16) },
        { "a forged generation of a VM handle", vm + (77l << 16) },
        { "a forged generation of a vcpu handle", vcpu + (1l << 40) },
        { "a generation beyond 31 bits", sys | (1l << 62) },
        { "a never-issued generation in slot 1023", (0x7ffffff0l << 16) | 1023 },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(label, sizeof(label), "%s (0x%lx)", bad[i].what, bad[i].value);
        if (!every_call_gives(bad[i].value, -HV_EBADF, label))
            return;
    }
}

static void closed_handles_give_eclosed(void)
{
    long vm, vcpu, sys_dup;

    prepare_args();
    if (!make_vm_vcpu(&vm, &vcpu))
        return;
    sys_dup = hvt_keep(hv_dup(hvt_sys(), HV_RIGHTS_ALL));
    if (!hvt_ok(sys_dup, "DUP of the system handle"))
        return;
    if (!hvt_err(hv_close(vcpu), 0, "CLOSE vcpu") ||
        !hvt_err(hv_close(vm), 0, "CLOSE VM") ||
        !hvt_err(hv_close(sys_dup), 0, "CLOSE system duplicate"))
        return;
    /* Closed beats wrong type: every call, whatever handle type it takes. */
    if (every_call_gives(vcpu, -HV_ECLOSED, "a closed vcpu handle") &&
        every_call_gives(vm, -HV_ECLOSED, "a closed VM handle"))
        every_call_gives(sys_dup, -HV_ECLOSED, "a closed system handle");
}

static void stale_handles_give_estale(void)
{
    long vm, vcpu, sys_dup, fresh[8];

    prepare_args();
    if (!make_vm_vcpu(&vm, &vcpu))
        return;
    sys_dup = hvt_keep(hv_dup(hvt_sys(), HV_RIGHTS_ALL));
    if (!hvt_ok(sys_dup, "DUP of the system handle") ||
        !hvt_err(hv_close(vcpu), 0, "CLOSE vcpu") ||
        !hvt_err(hv_close(vm), 0, "CLOSE VM") ||
        !hvt_err(hv_close(sys_dup), 0, "CLOSE system duplicate"))
        return;
    /* Slots are reused newest-closed first: these take the three above. */
    for (unsigned i = 0; i < 8; i++) {
        fresh[i] = hvt_keep(hv_create_vm(hvt_sys()));
        if (!hvt_ok(fresh[i], "CREATE_VM reusing the closed slots"))
            return;
    }
    if (!every_call_gives(vcpu, -HV_ESTALE, "a stale vcpu handle") ||
        !every_call_gives(vm, -HV_ESTALE, "a stale VM handle") ||
        !every_call_gives(sys_dup, -HV_ESTALE, "a stale system handle"))
        return;
    /* Once the new owners close, the slots are empty again. */
    for (unsigned i = 0; i < 8; i++) {
        if (!hvt_err(hv_close(fresh[i]), 0, "CLOSE of a new VM"))
            return;
    }
    if (hvt_err(hv_run(vcpu), -HV_ECLOSED, "RUN with the old vcpu handle, slot empty again"))
        hvt_err(hv_close(vm), -HV_ECLOSED, "CLOSE with the old VM handle, slot empty again");
}

/* Every call that does not take `type` gives -HV_EBADTYPE with handle. */
static int wrong_type_everywhere(long handle, enum call_class type, const char *label)
{
    struct hv_stats before;
    char what[96];

    if (!hvt_stats(&before))
        return 0;
    for (unsigned i = 0; i < CALL_COUNT; i++) {
        if (calls[i].on == type || calls[i].on == ON_ANY)
            continue;
        snprintf(what, sizeof(what), "%s with %s", calls[i].name, label);
        if (!hvt_err(call_with(&calls[i], handle), -HV_EBADTYPE, what))
            return 0;
    }
    return hvt_stats_unchanged(&before, label);
}

static void wrong_type_gives_ebadtype(void)
{
    long vm, vcpu, bare;

    prepare_args();
    if (!make_vm_vcpu(&vm, &vcpu))
        return;
    if (!wrong_type_everywhere(hvt_sys(), ON_SYSTEM, "the system handle") ||
        !wrong_type_everywhere(vm, ON_VM, "a VM handle") ||
        !wrong_type_everywhere(vcpu, ON_VCPU, "a vcpu handle"))
        return;
    /* Type is checked before rights: a handle with no rights at all. */
    bare = hvt_keep(hv_dup(vcpu, 0));
    if (hvt_ok(bare, "DUP of the vcpu with no rights"))
        wrong_type_everywhere(bare, ON_VCPU, "a vcpu handle without rights");
}

/* DUP of handle without `right`; the call then gives -HV_EPERM. */
static long without(long handle, uint32_t right)
{
    long dup = hvt_keep(hv_dup(handle, HV_RIGHTS_ALL & ~right));

    hvt_ok(dup, "DUP with fewer rights");
    return dup;
}

static void missing_rights_on_system_handle_give_eperm(void)
{
    struct hv_stats *stats = page_alloc(sizeof(*stats)), before;
    long sys = hvt_sys(), h;

    if (!hvt_stats(&before))
        return;
    h = without(sys, HV_RIGHT_CREATE);
    if (h < 0 || !hvt_err(hv_create_vm(h), -HV_EPERM, "CREATE_VM without CREATE"))
        return;
    h = without(sys, HV_RIGHT_WRITE);
    if (h < 0 || !hvt_err(hv_console_write(h, gpa("x\n"), 2), -HV_EPERM,
                          "CONSOLE_WRITE without WRITE"))
        return;
    h = without(sys, HV_RIGHT_READ);
    memset(stats, 0xa5, sizeof(*stats));
    if (h < 0 || !hvt_err(hv_get_stats(h, stats), -HV_EPERM, "GET_STATS without READ") ||
        !hvt_eq(stats->vms, 0xa5a5a5a5a5a5a5a5ull, "stats buffer after refused GET_STATS"))
        return;
    /* Rights are checked before pointers and sizes. */
    if (!hvt_err(hv_call(HV_CALL_GET_STATS, (uint64_t)h, 3, 0, 0, 0, 0), -HV_EPERM,
                 "GET_STATS without READ at a misaligned address") ||
        !hvt_err(hv_console_read(h, gpa(stats), 8), -HV_EPERM, "CONSOLE_READ without READ") ||
        !hvt_eq(stats->vms, 0xa5a5a5a5a5a5a5a5ull, "buffer after refused CONSOLE_READ") ||
        !hvt_err(hv_console_read(h, ~0ull, ~0ull), -HV_EPERM,
                 "CONSOLE_READ without READ of ~0 bytes at ~0"))
        return;
    /* GET_API_VERSION, CHECK_EXTENSION and CLOSE need no right. */
    h = hvt_keep(hv_dup(sys, 0));
    if (!hvt_ok(h, "DUP with no rights") ||
        !hvt_eq((uint64_t)hv_get_api_version(h), HV_API_VERSION,
                "GET_API_VERSION with no rights") ||
        !hvt_eq((uint64_t)hv_check_extension(h, HV_CAP_MAX_VCPUS), HV_MAX_VCPUS,
                "CHECK_EXTENSION with no rights") ||
        !hvt_err(hv_close(h), 0, "CLOSE with no rights"))
        return;
    if (hvt_stats(stats))
        hvt_eq(stats->vms, before.vms, "GET_STATS vms after the refused CREATE_VM");
}

static void missing_rights_on_vm_handle_give_eperm(void)
{
    uint8_t *mem = page_alloc(PAGE_SIZE);
    struct hv_memory_region *region = page_alloc(sizeof(*region));
    struct hv_stats before;
    long vm, h;

    vm = hvt_keep(hv_create_vm(hvt_sys()));
    if (!hvt_ok(vm, "CREATE_VM"))
        return;
    h = without(vm, HV_RIGHT_CREATE);
    if (h < 0 || !hvt_stats(&before) || !hvt_err(hv_create_vcpu(h, 0, page_alloc(HV_RUN_PAGE_SIZE)), -HV_EPERM,
                          "CREATE_VCPU without CREATE") ||
        !hvt_stats_unchanged(&before, "after the refused CREATE_VCPU"))
        return;
    h = without(vm, HV_RIGHT_READ);
    if (h < 0 || !hvt_err(hv_get_dirty_log(h, 0, (uint64_t *)mem), -HV_EPERM,
                          "GET_DIRTY_LOG without READ"))
        return;
    h = without(vm, HV_RIGHT_WRITE);
    region->slot = 0;
    region->size = PAGE_SIZE;
    region->control_addr = gpa(mem);
    if (h < 0 || !hvt_err(hv_set_memory_region(h, region), -HV_EPERM,
                          "SET_MEMORY_REGION without WRITE"))
        return;
    /* Nothing was added: the full handle can fill slot 0 now. */
    hvt_err(hv_set_memory_region(vm, region), 0,
            "SET_MEMORY_REGION slot 0 with the full handle after the refusal");
}

static void missing_rights_on_vcpu_handle_give_eperm(void)
{
    struct vm_instance vm;
    struct hv_regs *regs = page_alloc(sizeof(*regs)), before;
    struct hv_sregs *sregs = page_alloc(sizeof(*sregs));
    struct hv_msrs *msrs = page_alloc(sizeof(*msrs) + sizeof(struct hv_msr_entry));
    struct hv_translation *translation = page_alloc(sizeof(*translation));
    long h;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    vm.ram[HVT_CODE_GPA] = 0xf4;                      /* hlt */
    vm.run->exit_reason = 0x7777;
    h = without(vm.vcpu, HV_RIGHT_RUN);
    if (h < 0 || !hvt_err(hv_run(h), -HV_EPERM, "RUN without RUN") ||
        !hvt_eq(vm.run->exit_reason, 0x7777, "run page exit_reason after refused RUN"))
        return;
    h = without(vm.vcpu, HV_RIGHT_READ);
    memset(regs, 0xa5, sizeof(*regs));
    msrs->count = 1;
    msrs->entries[0] = (struct hv_msr_entry){ HV_MSR_PAT, 0, 0xa5 };
    if (h < 0 || !hvt_err(hv_get_regs(h, regs), -HV_EPERM, "GET_REGS without READ") ||
        !hvt_err(hv_get_sregs(h, sregs), -HV_EPERM, "GET_SREGS without READ") ||
        !hvt_err(hv_get_msrs(h, msrs), -HV_EPERM, "GET_MSRS without READ") ||
        !hvt_eq(msrs->entries[0].data, 0xa5, "MSR data after refused GET_MSRS") ||
        !hvt_err(hv_translate(h, translation), -HV_EPERM, "TRANSLATE without READ") ||
        !hvt_eq(regs->rip, 0xa5a5a5a5a5a5a5a5ull, "regs buffer after refused GET_REGS") ||
        !hvt_err(hv_run(h), 0, "RUN with the handle lacking only READ"))
        return;
    h = without(vm.vcpu, HV_RIGHT_WRITE);
    if (h < 0 || !hvt_err(hv_get_regs(vm.vcpu, &before), 0, "GET_REGS"))
        return;
    *regs = before;
    regs->rip = 0x1234;
    hvt_sregs_flat32(sregs);
    msrs->entries[0].data = ALL_WRITE_BACK;       /* a valid PAT */
    if (!hvt_err(hv_set_regs(h, regs), -HV_EPERM, "SET_REGS without WRITE") ||
        !hvt_err(hv_set_sregs(h, sregs), -HV_EPERM, "SET_SREGS without WRITE") ||
        !hvt_err(hv_set_msrs(h, msrs), -HV_EPERM, "SET_MSRS without WRITE") ||
        !hvt_err(hv_get_msrs(h, msrs), 1, "GET_MSRS with the handle lacking WRITE") ||
        !hvt_true(msrs->entries[0].data != ALL_WRITE_BACK,
                  "PAT after the refused SET_MSRS: set all the same") ||
        !hvt_err(hv_get_regs(h, regs), 0, "GET_REGS with the handle lacking WRITE"))
        return;
    hvt_eq(regs->rip, before.rip, "RIP after the refused SET_REGS");
}

static void dup_rights_rules(void)
{
    long vm, vcpu, reader, rc;

    if (!make_vm_vcpu(&vm, &vcpu))
        return;
    reader = hvt_keep(hv_dup(vcpu, HV_RIGHT_READ | HV_RIGHT_DUP));
    if (!hvt_ok(reader, "DUP with READ|DUP") ||
        !hvt_err(hv_dup(reader, HV_RIGHT_READ | HV_RIGHT_WRITE), -HV_EPERM,
                 "DUP asking for WRITE from a READ|DUP handle") ||
        !hvt_err(hv_dup(reader, HV_RIGHTS_ALL), -HV_EPERM,
                 "DUP asking for all rights from a READ|DUP handle"))
        return;
    rc = hvt_keep(hv_dup(reader, HV_RIGHT_READ));
    if (!hvt_ok(rc, "DUP asking for a subset (READ)") ||
        !hvt_err(hv_dup(rc, 0), -HV_EPERM, "DUP of a handle without DUP (0 rights)") ||
        !hvt_err(hv_dup(rc, HV_RIGHT_READ), -HV_EPERM, "DUP of a handle without DUP"))
        return;
    /* Unknown rights bits are malformed, whoever asks. */
    if (!hvt_err(hv_dup(hvt_sys(), 1u << 5), -HV_EINVAL, "DUP with rights bit 5") ||
        !hvt_err(hv_dup(hvt_sys(), HV_RIGHTS_ALL | (1u << 31)), -HV_EINVAL,
                 "DUP with all rights and bit 31") ||
        !hvt_err(hv_call(HV_CALL_DUP, (uint64_t)hvt_sys(), 1ull << 32, 0, 0, 0, 0),
                 -HV_EINVAL, "DUP with rights bit 32"))
        return;
    hvt_err(hv_dup(reader, 1u << 6), -HV_EINVAL, "DUP with bit 6 from a READ|DUP handle");
}

const struct hvtest_case hvtest_handles_cases[] = {
    { "invalid_handles_give_ebadf", invalid_handles_give_ebadf },
    { "closed_handles_give_eclosed", closed_handles_give_eclosed },
    { "stale_handles_give_estale", stale_handles_give_estale },
    { "wrong_type_gives_ebadtype", wrong_type_gives_ebadtype },
    { "missing_rights_on_system_handle_give_eperm",
      missing_rights_on_system_handle_give_eperm },
    { "missing_rights_on_vm_handle_give_eperm", missing_rights_on_vm_handle_give_eperm },
    { "missing_rights_on_vcpu_handle_give_eperm",
      missing_rights_on_vcpu_handle_give_eperm },
    { "dup_rights_rules", dup_rights_rules },
    { NULL, NULL },
};
