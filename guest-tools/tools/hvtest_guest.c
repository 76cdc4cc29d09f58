/*
 * Guests for the tests: small VMs built with the vmm library, a 32-bit
 * flat protected-mode start state with a real GDT (so that a guest can
 * take an exception through an IDT gate), a byte assembler for the few
 * instructions the tiny guests need, and run loops that check exits.
 *
 * Guest code is assembled as bytes because the guests run in 32-bit mode
 * while this file is compiled for 64-bit; each emitter writes one
 * instruction's encoding (Intel SDM vol. 2) into guest RAM.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/cmdline.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define CR0_PE 0x01u
#define CR0_ET 0x10u
#define RFLAGS_FIXED 0x2u
#define TYPE_CODE_EXEC_READ_ACCESSED  0xb
#define TYPE_DATA_READ_WRITE_ACCESSED 0x3
#define TYPE_TSS_32_BUSY 0xb
#define GATE_INTERRUPT_32 0x8e      /* present, DPL 0, 32-bit interrupt gate */
#define IDT_GATES 256
#define COM1_BASE 0x3f8
#define COM1_LSR  (COM1_BASE + 5)
#define COM1_LSR_EMPTY 0x60
#define DEBUG_EXIT_PORT 0xf4
#define HELLO_STATUS 0x10
#define SERVICED_MAX_EXITS 100000

/* Flat 4 GiB ring-0 descriptors: base 0, limit 0xfffff pages, G and D/B. */
static const uint64_t gdt_entries[3] = {
    0,
    0x00cf9b000000ffffull,          /* 0x08: code, execute/read, accessed */
    0x00cf93000000ffffull,          /* 0x10: data, read/write, accessed */
};

int hvt_guest_create(struct vm_instance *vm, const char *name)
{
    return hvt_guest_create_flags(vm, name, 0);
}

int hvt_guest_create_flags(struct vm_instance *vm, const char *name, uint32_t flags)
{
    int rc = vmm_create_with(vm, hvt_sys(), name, HVT_GUEST_RAM_MIB, 1, flags);

    if (!hvt_ok(rc, "vmm_create of a 2 MiB VM with vcpu 0"))
        return rc;
    hvt_keep(vm->vcpu);
    hvt_keep(vm->vm);
    return 0;
}

void hvt_flat_segment(struct hv_segment *seg, uint16_t selector, uint8_t type, bool long_code)
{
    memset(seg, 0, sizeof(*seg));
    seg->limit = 0xffffffffu;
    seg->selector = selector;
    seg->type = type;
    seg->present = 1;
    seg->s = 1;
    seg->l = long_code;
    seg->db = !long_code;
    seg->g = 1;
}

static void flat_segment(struct hv_segment *seg, uint16_t selector, uint8_t type)
{
    hvt_flat_segment(seg, selector, type, false);
}

void hvt_sregs_flat32(struct hv_sregs *sregs)
{
    memset(sregs, 0, sizeof(*sregs));
    flat_segment(&sregs->cs, HVT_SELECTOR_CODE, TYPE_CODE_EXEC_READ_ACCESSED);
    flat_segment(&sregs->ds, HVT_SELECTOR_DATA, TYPE_DATA_READ_WRITE_ACCESSED);
    flat_segment(&sregs->es, HVT_SELECTOR_DATA, TYPE_DATA_READ_WRITE_ACCESSED);
    flat_segment(&sregs->fs, HVT_SELECTOR_DATA, TYPE_DATA_READ_WRITE_ACCESSED);
    flat_segment(&sregs->gs, HVT_SELECTOR_DATA, TYPE_DATA_READ_WRITE_ACCESSED);
    flat_segment(&sregs->ss, HVT_SELECTOR_DATA, TYPE_DATA_READ_WRITE_ACCESSED);
    /* Entry needs a present busy TSS in TR even if nothing uses it. */
    sregs->tr.limit = 0x67;
    sregs->tr.type = TYPE_TSS_32_BUSY;
    sregs->tr.present = 1;
    sregs->ldt.unusable = 1;
    sregs->gdt.base = HVT_GDT_GPA;
    sregs->gdt.limit = sizeof(gdt_entries) - 1;
    sregs->idt.base = HVT_IDT_GPA;
    sregs->idt.limit = 0;             /* any exception is a triple fault */
    sregs->cr0 = CR0_PE | CR0_ET;
}

int hvt_guest_flat32(struct vm_instance *vm, uint32_t entry)
{
    struct hv_sregs sregs;
    struct hv_regs regs;

    memcpy(vm->ram + HVT_GDT_GPA, gdt_entries, sizeof(gdt_entries));
    hvt_sregs_flat32(&sregs);
    if (!hvt_ok(hv_set_sregs(vm->vcpu, &sregs), "SET_SREGS (flat 32-bit)"))
        return -1;
    memset(&regs, 0, sizeof(regs));
    regs.rip = entry;
    regs.rsp = HVT_STACK_TOP;
    regs.rflags = RFLAGS_FIXED;
    if (!hvt_ok(hv_set_regs(vm->vcpu, &regs), "SET_REGS (flat 32-bit)"))
        return -1;
    return 0;
}

int hvt_guest_catch_vector(struct vm_instance *vm, unsigned vector)
{
    struct hvt_code code;
    struct hv_sregs sregs;
    uint32_t handler = HVT_HANDLER_GPA + vector * 16;
    uint8_t *gate = vm->ram + HVT_IDT_GPA + vector * 8;
    static const uint8_t halt_loop[] = { 0xf4, 0xeb, 0xfd }; /* hlt; jmp hlt */

    hvt_code_start(&code, vm, handler);
    hvt_mov_eax_imm(&code, vector);
    hvt_out_imm(&code, HVT_PORT_VECTOR, 4);
    hvt_bytes(&code, halt_loop, sizeof(halt_loop));

    gate[0] = (uint8_t)handler;
    gate[1] = (uint8_t)(handler >> 8);
    gate[2] = HVT_SELECTOR_CODE;
    gate[3] = 0;
    gate[4] = 0;
    gate[5] = GATE_INTERRUPT_32;
    gate[6] = (uint8_t)(handler >> 16);
    gate[7] = (uint8_t)(handler >> 24);

    if (!hvt_ok(hv_get_sregs(vm->vcpu, &sregs), "GET_SREGS"))
        return -1;
    sregs.idt.base = HVT_IDT_GPA;
    sregs.idt.limit = IDT_GATES * 8 - 1;
    if (!hvt_ok(hv_set_sregs(vm->vcpu, &sregs), "SET_SREGS (IDT)"))
        return -1;
    return 0;
}

/* ---- the byte assembler -------------------------------------------- */

void hvt_code_start(struct hvt_code *code, struct vm_instance *vm, uint32_t at)
{
    code->ram = vm->ram;
    code->at = at;
}

uint32_t hvt_bytes(struct hvt_code *code, const uint8_t *bytes, unsigned n)
{
    uint32_t start = code->at;

    memcpy(code->ram + code->at, bytes, n);
    code->at += n;
    return start;
}

/* Opcode bytes followed by a little-endian immediate of imm_size bytes. */
static uint32_t emit(struct hvt_code *code, const uint8_t *op, unsigned op_len,
                     uint32_t imm, unsigned imm_size)
{
    uint8_t insn[8];

    memcpy(insn, op, op_len);
    for (unsigned i = 0; i < imm_size; i++)
        insn[op_len + i] = (uint8_t)(imm >> (8 * i));
    return hvt_bytes(code, insn, op_len + imm_size);
}

uint32_t hvt_mov_eax_imm(struct hvt_code *code, uint32_t value)
{
    static const uint8_t op[] = { 0xb8 };
    return emit(code, op, 1, value, 4);
}

uint32_t hvt_mov_dx_imm(struct hvt_code *code, uint16_t value)
{
    static const uint8_t op[] = { 0x66, 0xba };
    return emit(code, op, 2, value, 2);
}

uint32_t hvt_load_eax(struct hvt_code *code, uint32_t address)
{
    static const uint8_t op[] = { 0xa1 };
    return emit(code, op, 1, address, 4);
}

uint32_t hvt_store_eax(struct hvt_code *code, uint32_t address)
{
    static const uint8_t op[] = { 0xa3 };
    return emit(code, op, 1, address, 4);
}

/* Port I/O with an 8-bit port: E6/E4 for bytes, E7/E5 for dwords, and the
 * operand-size prefix 66 turns E7/E5 into the word forms. */
uint32_t hvt_out_imm(struct hvt_code *code, uint8_t port, unsigned size)
{
    static const uint8_t byte_op[] = { 0xe6 }, word_op[] = { 0x66, 0xe7 },
                         dword_op[] = { 0xe7 };
    if (size == 1)
        return emit(code, byte_op, 1, port, 1);
    if (size == 2)
        return emit(code, word_op, 2, port, 1);
    return emit(code, dword_op, 1, port, 1);
}

uint32_t hvt_in_imm(struct hvt_code *code, uint8_t port, unsigned size)
{
    static const uint8_t byte_op[] = { 0xe4 }, word_op[] = { 0x66, 0xe5 },
                         dword_op[] = { 0xe5 };
    if (size == 1)
        return emit(code, byte_op, 1, port, 1);
    if (size == 2)
        return emit(code, word_op, 2, port, 1);
    return emit(code, dword_op, 1, port, 1);
}

uint32_t hvt_out_dx(struct hvt_code *code, unsigned size)
{
    static const uint8_t byte_op[] = { 0xee }, word_op[] = { 0x66, 0xef },
                         dword_op[] = { 0xef };
    if (size == 1)
        return hvt_bytes(code, byte_op, 1);
    if (size == 2)
        return hvt_bytes(code, word_op, 2);
    return hvt_bytes(code, dword_op, 1);
}

uint32_t hvt_hlt(struct hvt_code *code)
{
    static const uint8_t op[] = { 0xf4 };
    return hvt_bytes(code, op, 1);
}

/* The backend's hypercall instruction: VMMCALL on SVM, VMCALL on VMX. */
uint32_t hvt_vmmcall(struct hvt_code *code)
{
    static const uint8_t vmmcall[] = { 0x0f, 0x01, 0xd9 }, vmcall[] = { 0x0f, 0x01, 0xc1 };
    return hvt_bytes(code, hv_backend() == HV_BACKEND_VMX ? vmcall : vmmcall, 3);
}

uint32_t hvt_jmp_self(struct hvt_code *code)
{
    static const uint8_t op[] = { 0xeb, 0xfe };
    return hvt_bytes(code, op, 2);
}

/* ---- running and checking exits ------------------------------------ */

const char *hvt_exit_name(uint32_t reason)
{
    switch (reason) {
    case HV_EXIT_UNKNOWN:        return "HV_EXIT_UNKNOWN";
    case HV_EXIT_EXCEPTION:      return "HV_EXIT_EXCEPTION";
    case HV_EXIT_IO:             return "HV_EXIT_IO";
    case HV_EXIT_HYPERCALL:      return "HV_EXIT_HYPERCALL";
    case HV_EXIT_DEBUG:          return "HV_EXIT_DEBUG";
    case HV_EXIT_HLT:            return "HV_EXIT_HLT";
    case HV_EXIT_MMIO:           return "HV_EXIT_MMIO";
    case HV_EXIT_IRQ_WINDOW_OPEN: return "HV_EXIT_IRQ_WINDOW_OPEN";
    case HV_EXIT_SHUTDOWN:       return "HV_EXIT_SHUTDOWN";
    case HV_EXIT_FAIL_ENTRY:     return "HV_EXIT_FAIL_ENTRY";
    case HV_EXIT_INTR:           return "HV_EXIT_INTR";
    case HV_EXIT_INTERNAL_ERROR: return "HV_EXIT_INTERNAL_ERROR";
    case HV_EXIT_IOAPIC_EOI:     return "HV_EXIT_IOAPIC_EOI";
    case HV_EXIT_X86_RDMSR:      return "HV_EXIT_X86_RDMSR";
    case HV_EXIT_X86_WRMSR:      return "HV_EXIT_X86_WRMSR";
    case HV_EXIT_DEADLINE:       return "HV_EXIT_DEADLINE";
    default:                     return "an unknown exit reason";
    }
}

int hvt_run(struct vm_instance *vm)
{
    return hvt_err(hv_run(vm->vcpu), 0, "RUN");
}

int hvt_exit_is(const struct vm_instance *vm, uint32_t reason, const char *what)
{
    const struct hv_run *run = vm->run;

    if (run->exit_reason == reason)
        return 1;
    if (run->exit_reason == HV_EXIT_IO)
        hvt_fail("%s: expected %s, got HV_EXIT_IO (%s port 0x%x) at rip 0x%lx",
                 what, hvt_exit_name(reason),
                 run->io.direction == HV_IO_OUT ? "OUT to" : "IN from",
                 run->io.port, run->exit_rip);
    else if (run->exit_reason == HV_EXIT_MMIO)
        hvt_fail("%s: expected %s, got HV_EXIT_MMIO (guest-physical 0x%lx) "
                 "at rip 0x%lx", what, hvt_exit_name(reason),
                 run->mmio.phys_addr, run->exit_rip);
    else
        hvt_fail("%s: expected %s, got %s (%u) at rip 0x%lx", what,
                 hvt_exit_name(reason), hvt_exit_name(run->exit_reason),
                 run->exit_reason, run->exit_rip);
    /* An unexpected triple fault says where its last exception pointed:
     * CR2 at gate 8 of the IDT is QEMU's page walk failing on intact
     * tables (README, known limits), not the test's guest. */
    struct hv_sregs sregs;
    if (run->exit_reason == HV_EXIT_SHUTDOWN && hv_get_sregs(vm->vcpu, &sregs) == 0)
        ctl_printf("hvtest: info the guest's triple fault: cr2 0x%lx idt 0x%lx/0x%x cr0 0x%lx "
                   "cr3 0x%lx cr4 0x%lx\n", sregs.cr2, sregs.idt.base, sregs.idt.limit,
                   sregs.cr0, sregs.cr3, sregs.cr4);
    return 0;
}

/* RUN again past time-slice ends (HV_EXIT_INTR): an emulator with several
 * CPUs on fewer host cores can take longer than a slice for a few guest
 * instructions, and a slice is not what these callers wait for. */
int hvt_run_past_slices(struct vm_instance *vm)
{
    for (unsigned slices = 0; slices < 1000; slices++) {
        if (!hvt_run(vm))
            return 0;
        if (vm->run->exit_reason != HV_EXIT_INTR || vm->run->immediate_exit)
            return 1;
    }
    return 1;
}

int hvt_run_expect_out(struct vm_instance *vm, uint16_t port, unsigned size,
                       uint32_t value, uint32_t insn, const char *what)
{
    return hvt_run_past_slices(vm) && hvt_exit_is_out(vm, port, size, value, insn, what);
}

int hvt_exit_is_out(const struct vm_instance *vm, uint16_t port, unsigned size,
                    uint32_t value, uint32_t insn, const char *what)
{
    const struct hv_run *run = vm->run;
    uint32_t data = 0;

    if (!hvt_exit_is(vm, HV_EXIT_IO, what))
        return 0;
    if (run->io.direction != HV_IO_OUT || run->io.port != port ||
        run->io.size != size || run->io.count != 1 || run->io.string != 0) {
        hvt_fail("%s: expected OUT of %u bytes to port 0x%x, got %s of %u "
                 "bytes to port 0x%x (count %u, string %u)", what, size, port,
                 run->io.direction == HV_IO_OUT ? "OUT" : "IN", run->io.size,
                 run->io.port, run->io.count, run->io.string);
        return 0;
    }
    if (run->io.data_offset != HV_RUN_IO_DATA_OFFSET) {
        hvt_fail("%s: I/O data_offset expected 0x%x (HV_RUN_IO_DATA_OFFSET), got "
                 "0x%lx", what, HV_RUN_IO_DATA_OFFSET, run->io.data_offset);
        return 0;
    }
    memcpy(&data, (const uint8_t *)run + run->io.data_offset, size);
    if (data != value) {
        hvt_fail("%s: OUT data expected 0x%x, got 0x%x", what, value, data);
        return 0;
    }
    if (run->exit_rip != insn) {
        hvt_fail("%s: exit_rip expected 0x%x (the OUT), got 0x%lx", what,
                 insn, run->exit_rip);
        return 0;
    }
    return 1;
}

/* One COM1 access of a polling guest: collect transmitted bytes, report
 * an empty transmitter, read every other register as 0. */
static void service_com1(struct hv_run *run, char *out, unsigned out_size,
                         unsigned *out_len)
{
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    if (run->io.direction == HV_IO_OUT) {
        if (run->io.port == COM1_BASE && *out_len + 1 < out_size) {
            out[(*out_len)++] = (char)data[0];
            out[*out_len] = '\0';
        }
        return;
    }
    memset(data, 0, run->io.size);
    if (run->io.port == COM1_LSR)
        data[0] = COM1_LSR_EMPTY;
}

long hvt_run_serviced(struct vm_instance *vm, char *out, unsigned out_size,
                      unsigned max_intr)
{
    struct hv_run *run = vm->run;
    unsigned out_len = 0, intr = 0;

    if (out_size > 0)
        out[0] = '\0';
    for (unsigned i = 0; i < SERVICED_MAX_EXITS; i++) {
        long rc = hv_run(vm->vcpu);

        if (rc < 0)
            return rc;
        if (run->exit_reason == HV_EXIT_IO && !run->io.string &&
            run->io.port >= COM1_BASE && run->io.port < COM1_BASE + 8 &&
            run->io.data_offset <= HV_RUN_PAGE_SIZE - 4) {
            service_com1(run, out, out_size, &out_len);
            continue;
        }
        if (run->exit_reason == HV_EXIT_INTR && ++intr <= max_intr)
            continue;
        return 0;
    }
    hvt_fail("guest %s made %u exits without stopping", vm->name,
             SERVICED_MAX_EXITS);
    return -HV_EAGAIN;
}

int hvt_module_guest(struct vm_instance *vm, const char *name)
{
    const struct hv_boot_module *mod = module_find(hvt_info(), name);

    if (mod == NULL) {
        hvt_fail("guest module \"%s\" was not given to the control domain "
                 "(build the ISO with it in GUESTS)", name);
        return -HV_ENOENT;
    }
    if (hvt_guest_create(vm, name) < 0)
        return -1;
    return hvt_ok(vmm_load_module(vm, mod), "loading the guest module") ? 0 : -1;
}

static int contains(const char *text, const char *word)
{
    size_t len = strlen(word);

    for (; *text != '\0'; text++) {
        if (strncmp(text, word, len) == 0)
            return 1;
    }
    return 0;
}

int hvt_hello_still_runs(const char *after)
{
    static char out[512];
    struct vm_instance hello;
    const struct hv_run *run;
    uint32_t status = 0;
    long rc;

    if (hvt_module_guest(&hello, "hello") < 0)
        return 0;
    run = hello.run;
    rc = hvt_run_serviced(&hello, out, sizeof(out), 50);
    if (!hvt_err(rc, 0, "RUN of hello"))
        return 0;
    if (run->exit_reason != HV_EXIT_IO || run->io.port != DEBUG_EXIT_PORT ||
        run->io.direction != HV_IO_OUT) {
        hvt_fail("after %s, a second VM running hello: expected its exit OUT "
                 "to port 0x%x, got %s", after, DEBUG_EXIT_PORT,
                 hvt_exit_name(run->exit_reason));
        return 0;
    }
    memcpy(&status, (const uint8_t *)run + run->io.data_offset, run->io.size);
    if (status != HELLO_STATUS) {
        hvt_fail("after %s, hello's exit status expected 0x%x, got 0x%x",
                 after, HELLO_STATUS, status);
        return 0;
    }
    if (!contains(out, "Hello from the test guest")) {
        hvt_fail("after %s, hello exited 0x%x but its greeting was missing "
                 "(printed \"%.60s\")", after, status, out);
        return 0;
    }
    hv_close(hello.vcpu);
    hv_close(hello.vm);
    return 1;
}
