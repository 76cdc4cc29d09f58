/*
 * Dirty logging (abi/README.md, GET_DIRTY_LOG and SET_MEMORY_REGION's
 * HV_MEM_LOG_DIRTY): a guest writes to some pages of a logged slot and
 * reports on a port; GET_DIRTY_LOG must name exactly the pages written
 * since the previous call, reads must not count, and the writes must land
 * in the memory behind the slot. Then the call's errors.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define LOG_SLOT   1
#define LOG_GPA    0x40000000u           /* 1 GiB: outside the guest's RAM */
#define LOG_PAGES  100u                  /* two bitmap words, the second partial */
#define LOG_WORDS  ((LOG_PAGES + 63) / 64)
#define PAGE_VALUE(page) (0xd1e70000u + (page))

static uint64_t gpa(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* A guest with a dirty-logged slot of LOG_PAGES pages at LOG_GPA, backed
 * by *backing. */
static int logged_guest(struct vm_instance *vm, uint32_t **backing)
{
    struct hv_memory_region *r = page_alloc(sizeof(*r));

    *backing = page_alloc(LOG_PAGES * PAGE_SIZE);
    if (hvt_guest_create(vm, "hvtest") < 0)
        return 0;
    memset(r, 0, sizeof(*r));
    r->slot = LOG_SLOT;
    r->flags = HV_MEM_LOG_DIRTY;
    r->guest_phys = LOG_GPA;
    r->size = LOG_PAGES * PAGE_SIZE;
    r->control_addr = gpa(*backing);
    return hvt_err(hv_set_memory_region(vm->vm, r), 0,
                   "SET_MEMORY_REGION with HV_MEM_LOG_DIRTY");
}

/* Guest code: store PAGE_VALUE(page) at byte 8 of the page. */
static void store_page(struct hvt_code *code, uint32_t page)
{
    hvt_mov_eax_imm(code, PAGE_VALUE(page));
    hvt_store_eax(code, LOG_GPA + page * PAGE_SIZE + 8);
}

/* Guest code: OUT `phase` to HVT_PORT_VALUE; returns the OUT's address. */
static uint32_t report(struct hvt_code *code, uint32_t phase)
{
    hvt_mov_eax_imm(code, phase);
    return hvt_out_imm(code, HVT_PORT_VALUE, 4);
}

/* GET_DIRTY_LOG of the logged slot equals `want` (LOG_WORDS words). */
static int log_is(long vm, const uint64_t *want, const char *when)
{
    uint64_t *bitmap = page_alloc(PAGE_SIZE);
    char what[96];

    memset(bitmap, 0xa5, LOG_WORDS * 8);
    snprintf(what, sizeof(what), "GET_DIRTY_LOG %s", when);
    if (!hvt_err(hv_get_dirty_log(vm, LOG_SLOT, bitmap), 0, what))
        return 0;
    for (unsigned w = 0; w < LOG_WORDS; w++) {
        snprintf(what, sizeof(what), "bitmap word %u %s", w, when);
        if (!hvt_eq(bitmap[w], want[w], what))
            return 0;
    }
    return 1;
}

static void set_bit(uint64_t *bits, uint32_t page)
{
    bits[page / 64] |= 1ull << (page % 64);
}

/* The guest writes every third page and reads others; then one page; then
 * rewrites page 0 (write-protected again by the first call). */
static void dirty_log_reports_written_pages(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t *backing, out[3];
    uint64_t want[LOG_WORDS] = { 0 }, none[LOG_WORDS] = { 0 };

    if (!logged_guest(&vm, &backing))
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    for (uint32_t page = 0; page < LOG_PAGES; page += 3) {
        store_page(&code, page);
        set_bit(want, page);
    }
    hvt_load_eax(&code, LOG_GPA + 1 * PAGE_SIZE);
    hvt_load_eax(&code, LOG_GPA + 98 * PAGE_SIZE);
    out[0] = report(&code, 1);
    store_page(&code, 50);
    out[1] = report(&code, 2);
    hvt_load_eax(&code, LOG_GPA + 50 * PAGE_SIZE);
    hvt_load_eax(&code, LOG_GPA + 2 * PAGE_SIZE);
    store_page(&code, 0);
    out[2] = report(&code, 3);
    hvt_hlt(&code);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 1, out[0], "phase 1 (every third page)") ||
        !log_is(vm.vm, want, "after every third page") ||
        !log_is(vm.vm, none, "a second time"))
        return;
    for (uint32_t page = 0; page < LOG_PAGES; page++) {
        uint32_t expect = page % 3 == 0 ? PAGE_VALUE(page) : 0;
        if (!hvt_eq(backing[page * (PAGE_SIZE / 4) + 2], expect,
                    "the VMM's view of what the guest wrote"))
            return;
    }
    memset(want, 0, sizeof(want));
    set_bit(want, 50);
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 2, out[1], "phase 2 (page 50)") ||
        !log_is(vm.vm, want, "after writing page 50") ||
        !hvt_eq(backing[50 * (PAGE_SIZE / 4) + 2], PAGE_VALUE(50), "page 50 in memory"))
        return;
    memset(want, 0, sizeof(want));
    set_bit(want, 0);
    backing[2] = 0;
    if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 3, out[2], "phase 3 (page 0 again)") ||
        !log_is(vm.vm, want, "after rewriting page 0") ||
        !hvt_eq(backing[2], PAGE_VALUE(0), "page 0 rewritten in memory"))
        return;
    log_is(vm.vm, none, "at the end");
}

/* A 2 MiB-aligned slot, which a plain slot would map with one large page:
 * logged, it is mapped page by page, so two writes give two bits. */
static void dirty_log_large_slot_logs_single_pages(void)
{
    enum { PAGES = 512, WORDS = PAGES / 64 };
    struct hv_memory_region *r = page_alloc(sizeof(*r));
    uint64_t *bitmap = page_alloc(PAGE_SIZE);
    uint8_t *backing = page_alloc_aligned(PAGES * PAGE_SIZE, PAGES * PAGE_SIZE);
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t out;

    if (backing == NULL || hvt_guest_create(&vm, "hvtest") < 0)
        return;
    memset(r, 0, sizeof(*r));
    r->slot = LOG_SLOT;
    r->flags = HV_MEM_LOG_DIRTY;
    r->guest_phys = LOG_GPA;
    r->size = PAGES * PAGE_SIZE;
    r->control_addr = gpa(backing);
    if (!hvt_err(hv_set_memory_region(vm.vm, r), 0, "a logged 2 MiB slot"))
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    store_page(&code, 1);
    store_page(&code, 511);
    out = report(&code, 1);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 1, out, "writes to pages 1 and 511") ||
        !hvt_err(hv_get_dirty_log(vm.vm, LOG_SLOT, bitmap), 0, "GET_DIRTY_LOG"))
        return;
    for (unsigned w = 0; w < WORDS; w++) {
        uint64_t want = w == 0 ? 2 : w == WORDS - 1 ? 1ull << 63 : 0;
        if (!hvt_eq(bitmap[w], want, "bitmap word of the 2 MiB slot"))
            return;
    }
}

/* Deleting a logged slot frees its bitmap and ends its log. */
static void dirty_log_deleted_slot_enoent(void)
{
    struct vm_instance vm;
    struct hv_memory_region *r = page_alloc(sizeof(*r));
    uint64_t *bitmap = page_alloc(PAGE_SIZE);
    uint32_t *backing;

    if (!logged_guest(&vm, &backing) ||
        !hvt_err(hv_get_dirty_log(vm.vm, LOG_SLOT, bitmap), 0, "GET_DIRTY_LOG"))
        return;
    memset(r, 0, sizeof(*r));
    r->slot = LOG_SLOT;
    if (!hvt_err(hv_set_memory_region(vm.vm, r), 0, "deleting the logged slot"))
        return;
    hvt_err(hv_get_dirty_log(vm.vm, LOG_SLOT, bitmap), -HV_ENOENT,
            "GET_DIRTY_LOG of the deleted slot");
}

/* A whole VM with a logged, written slot leaves nothing behind. */
static void dirty_log_vm_lifetime_no_leak(void)
{
    struct hv_stats before;
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t *backing, out;

    if (!hvt_stats(&before) || !logged_guest(&vm, &backing))
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    store_page(&code, 7);
    out = report(&code, 1);
    if (hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 1, out, "a logged write") ||
        !hvt_err(hv_close(vm.vcpu), 0, "CLOSE vcpu") ||
        !hvt_err(hv_close(vm.vm), 0, "CLOSE VM"))
        return;
    hvt_stats_unchanged(&before, "after a VM with a logged slot");
}

static void dirty_log_argument_errors(void)
{
    struct vm_instance vm;
    uint64_t *bitmap = page_alloc(PAGE_SIZE);
    uint64_t end = hvt_info()->memory_size;
    uint32_t *backing;

    if (!logged_guest(&vm, &backing))
        return;
    if (!hvt_err(hv_get_dirty_log(vm.vm, HV_MAX_MEMORY_SLOTS, bitmap), -HV_ERANGE,
                 "slot HV_MAX_MEMORY_SLOTS") ||
        !hvt_err(hv_get_dirty_log(vm.vm, 0xffffffffu, bitmap), -HV_ERANGE,
                 "slot 0xffffffff") ||
        !hvt_err(hv_call(HV_CALL_GET_DIRTY_LOG, (uint64_t)vm.vm, 1ull << 32 | LOG_SLOT,
                         gpa(bitmap), 0, 0, 0), -HV_ERANGE, "slot 2^32 + 1") ||
        !hvt_err(hv_get_dirty_log(vm.vm, 5, bitmap), -HV_ENOENT, "unused slot 5") ||
        !hvt_err(hv_get_dirty_log(vm.vm, 0, bitmap), -HV_ENOENT,
                 "slot 0, without HV_MEM_LOG_DIRTY") ||
        !hvt_err(hv_get_dirty_log(vm.vm, LOG_SLOT, (uint64_t *)((uint8_t *)bitmap + 4)),
                 -HV_EINVAL, "bitmap 4 bytes into a word") ||
        !hvt_err(hv_get_dirty_log(vm.vm, LOG_SLOT, (uint64_t *)(uintptr_t)end),
                 -HV_EFAULT, "bitmap at memory_size") ||
        !hvt_err(hv_get_dirty_log(vm.vm, LOG_SLOT, (uint64_t *)(uintptr_t)(end - 8)),
                 -HV_EFAULT, "bitmap of 16 bytes in the last 8 of memory") ||
        !hvt_err(hv_get_dirty_log(vm.vm, LOG_SLOT, (uint64_t *)(uintptr_t)(1ull << 63)),
                 -HV_EFAULT, "bitmap at 2^63"))
        return;
    hvt_err(hv_get_dirty_log(vm.vm, LOG_SLOT, bitmap), 0, "a valid call after them");
}

static void dirty_log_handle_type_and_rights(void)
{
    struct vm_instance vm;
    uint64_t *bitmap = page_alloc(PAGE_SIZE);
    uint32_t *backing;
    long reader, writer;

    if (!logged_guest(&vm, &backing) ||
        !hvt_err(hv_get_dirty_log(vm.vcpu, LOG_SLOT, bitmap), -HV_EBADTYPE,
                 "GET_DIRTY_LOG on a vcpu handle") ||
        !hvt_err(hv_get_dirty_log(hvt_sys(), LOG_SLOT, bitmap), -HV_EBADTYPE,
                 "GET_DIRTY_LOG on the system handle"))
        return;
    writer = hvt_keep(hv_dup(vm.vm, HV_RIGHTS_ALL & ~HV_RIGHT_READ));
    reader = hvt_keep(hv_dup(vm.vm, HV_RIGHT_READ));
    if (hvt_ok(writer, "DUP without READ") && hvt_ok(reader, "DUP with READ only") &&
        hvt_err(hv_get_dirty_log(writer, LOG_SLOT, bitmap), -HV_EPERM,
                "GET_DIRTY_LOG without READ"))
        hvt_err(hv_get_dirty_log(reader, LOG_SLOT, bitmap), 0,
                "GET_DIRTY_LOG with READ only");
}

static void dirty_log_flag_rules(void)
{
    struct hv_memory_region *r = page_alloc(sizeof(*r));
    uint8_t *mem = page_alloc(PAGE_SIZE);
    long vm = hvt_keep(hv_create_vm(hvt_sys()));

    if (!hvt_eq((uint64_t)hv_check_extension(hvt_sys(), HV_CAP_DIRTY_LOG), 1,
                "CHECK_EXTENSION(HV_CAP_DIRTY_LOG)") ||
        !hvt_ok(vm, "CREATE_VM"))
        return;
    memset(r, 0, sizeof(*r));
    r->slot = 2;
    r->flags = HV_MEM_READONLY | HV_MEM_LOG_DIRTY;
    r->guest_phys = 0x10000;
    r->size = PAGE_SIZE;
    r->control_addr = gpa(mem);
    if (!hvt_err(hv_set_memory_region(vm, r), -HV_EINVAL,
                 "SET_MEMORY_REGION with HV_MEM_READONLY | HV_MEM_LOG_DIRTY"))
        return;
    r->flags = HV_MEM_LOG_DIRTY;
    hvt_err(hv_set_memory_region(vm, r), 0, "SET_MEMORY_REGION with HV_MEM_LOG_DIRTY");
}

/* A software interrupt (INT n, INT3, INTO) whose delivery faults on a
 * stack page the dirty log write-protects: the hypervisor takes the nested
 * fault (the page logged, made writable) and the interrupt must then be
 * delivered once, its handler returning after the instruction. On SVM
 * such an event was put back in EVENTINJ as it came in EXITINTINFO, with
 * RIP still at the instruction and no next RIP: QEMU pushed RIP, so the
 * handler returned to the INT and ran twice (a CPU with next-RIP save
 * would push the NextRIP the exit left, 0). Now the instruction runs
 * again instead, as KVM does for INT3 and INTO. */
static void soft_interrupt_faulting_on_a_logged_stack_runs_once(void)
{
    static const struct {
        uint8_t vector;
        uint8_t insn[4];
        unsigned length;
        const char *name;
    } cases[] = {
        { 0x41, { 0xcd, 0x41 }, 2, "INT 0x41" },
        { 3, { 0xcc }, 1, "INT3" },
        { 4, { 0xb0, 0x7f, 0x04, 0x01 }, 4, "INTO" },   /* mov al, 0x7f; add al, 1 (OF) */
    };
    static const uint8_t into = 0xce;
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t *backing, out[3];
    volatile uint32_t *count;

    if (!logged_guest(&vm, &backing) || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        hvt_guest_catch_vector(&vm, 13) < 0)
        return;
    count = (volatile uint32_t *)(vm.ram + HVT_DATA_GPA);
    for (unsigned i = 0; i < 3; i++) {
        /* The handler: one more in its count, IRET. */
        uint32_t handler = HVT_HANDLER_GPA + 0x800 + i * 16;
        uint8_t inc_iret[7] = { 0xff, 0x05, 0, 0, 0, 0, 0xcf };   /* inc dword [count]; iret */
        uint32_t at = HVT_DATA_GPA + i * 4;
        memcpy(inc_iret + 2, &at, 4);
        hvt_code_start(&code, &vm, handler);
        hvt_bytes(&code, inc_iret, sizeof(inc_iret));
        uint8_t gate[8] = { (uint8_t)handler, (uint8_t)(handler >> 8), HVT_SELECTOR_CODE, 0,
                            0, 0xee, (uint8_t)(handler >> 16), (uint8_t)(handler >> 24) };
        memcpy(vm.ram + HVT_IDT_GPA + cases[i].vector * 8, gate, sizeof(gate));
        count[i] = 0;
    }
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    for (unsigned i = 0; i < 3; i++) {
        /* mov esp, the top of logged page i: the first push faults. */
        uint8_t set_esp[5] = { 0xbc };
        uint32_t top = LOG_GPA + (i + 1) * PAGE_SIZE;
        memcpy(set_esp + 1, &top, 4);
        hvt_bytes(&code, set_esp, sizeof(set_esp));
        hvt_bytes(&code, cases[i].insn, cases[i].length);
        if (cases[i].vector == 4)
            hvt_bytes(&code, &into, 1);
        hvt_load_eax(&code, HVT_DATA_GPA + i * 4);
        out[i] = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    }
    hvt_hlt(&code);
    for (unsigned i = 0; i < 3; i++) {
        char what[64];
        snprintf(what, sizeof(what), "%s delivered once (its handler's count)", cases[i].name);
        if (!hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 1, out[i], what))
            return;
    }
}

/* An NMI whose delivery faults on a stack page the dirty log
 * write-protects: delivered again once the fault is taken, its handler
 * run once. On VMX the exit leaves blocking by NMI set, which an entry
 * that injects an NMI refuses (SDM 3C 26.3.1.5): it is cleared for the
 * re-injection, whose delivery sets it again (as KVM does). */
static void nmi_faulting_on_a_logged_stack_runs_once(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t *backing;
    struct hv_vcpu_events *events = page_alloc(sizeof(*events));

    if (!logged_guest(&vm, &backing) || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0 ||
        hvt_guest_catch_vector(&vm, 13) < 0)
        return;
    uint32_t handler = HVT_HANDLER_GPA + 0x880;
    uint8_t inc_iret[7] = { 0xff, 0x05, 0, 0, 0, 0, 0xcf };   /* inc dword [count]; iret */
    uint32_t at = HVT_DATA_GPA;
    memcpy(inc_iret + 2, &at, 4);
    hvt_code_start(&code, &vm, handler);
    hvt_bytes(&code, inc_iret, sizeof(inc_iret));
    uint8_t gate[8] = { (uint8_t)handler, (uint8_t)(handler >> 8), HVT_SELECTOR_CODE, 0,
                        0, 0x8e, (uint8_t)(handler >> 16), (uint8_t)(handler >> 24) };
    memcpy(vm.ram + HVT_IDT_GPA + 2 * 8, gate, sizeof(gate));
    *(volatile uint32_t *)(vm.ram + HVT_DATA_GPA) = 0;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    uint8_t set_esp[5] = { 0xbc };                       /* mov esp, the top of logged page 5 */
    uint32_t top = LOG_GPA + 6 * PAGE_SIZE;
    memcpy(set_esp + 1, &top, 4);
    hvt_bytes(&code, set_esp, sizeof(set_esp));
    uint32_t out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);  /* the VMM sends the NMI here */
    hvt_load_eax(&code, HVT_DATA_GPA);
    uint32_t counted = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_hlt(&code);
    if (!hvt_run_past_slices(&vm) || !hvt_exit_is(&vm, HV_EXIT_IO, "the OUT before the NMI") ||
        !hvt_eq(vm.run->exit_rip, out, "the OUT's address"))
        return;
    memset(events, 0, sizeof(*events));
    events->flags = HV_VCPUEVENT_VALID_NMI;
    events->nmi.injected = 1;
    if (!hvt_ok(hv_set_vcpu_events(vm.vcpu, events), "SET_VCPU_EVENTS of an NMI"))
        return;
    hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 1, counted, "NMI delivered once (its handler's count)");
}

const struct hvtest_case hvtest_dirty_cases[] = {
    { "dirty_log_reports_written_pages", dirty_log_reports_written_pages },
    { "dirty_log_large_slot_logs_single_pages", dirty_log_large_slot_logs_single_pages },
    { "dirty_log_deleted_slot_enoent", dirty_log_deleted_slot_enoent },
    { "dirty_log_vm_lifetime_no_leak", dirty_log_vm_lifetime_no_leak },
    { "dirty_log_argument_errors", dirty_log_argument_errors },
    { "dirty_log_handle_type_and_rights", dirty_log_handle_type_and_rights },
    { "dirty_log_flag_rules", dirty_log_flag_rules },
    { "soft_interrupt_faulting_on_a_logged_stack_runs_once",
      soft_interrupt_faulting_on_a_logged_stack_runs_once },
    { "nmi_faulting_on_a_logged_stack_runs_once", nmi_faulting_on_a_logged_stack_runs_once },
    { NULL, NULL },
};
