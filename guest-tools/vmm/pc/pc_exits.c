/*
 * What each exit of a PC guest's vcpu does: port I/O (string forms
 * included) and MMIO reach the machine under the device lock, the IOAPIC
 * hears level EOIs, the timed devices catch up, and exits the platform
 * cannot go on from end the run with a report.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/pc/pc_internal.h"
#include "guest-tools/vmm/pc/string_io.h"
#include "guest-tools/vmm/pc/task_switch.h"

#define PAGE 4096ull
#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_LA57 (1ull << 12)
#define CR4_SMAP (1ull << 21)
#define RFLAGS_VM (1ull << 17)
#define VECTOR_PF 14
#define EFER_LMA (1ull << 10)

/* ---- the device lock ----------------------------------------------------- */

uint64_t pc_lock_devices(struct pc_vm *pc)
{
    spin_lock(&pc->lock);
    /* Read inside the lock, so the devices never see time run back. */
    return guest_clock_ns(&pc->clock, __builtin_ia32_rdtsc());
}

void pc_unlock_devices(struct pc_vm *pc)
{
    enum pc_stop_reason stop = pc->machine->stop;
    uint32_t status = pc->machine->exit_status;

    if (pc->input_due) {
        pc->input_due = false;
        pc_machine_queue_input(pc->machine, pc->options.input, pc->options.input_len,
                               guest_clock_ns(&pc->clock, __builtin_ia32_rdtsc()));
    }
    pc->next_event_ns = pc_machine_next_event_ns(pc->machine);
    spin_unlock(&pc->lock);
    if (stop == PC_STOP_DEBUG_EXIT)
        pc_vm_stop(pc, PC_END_EXITED, status, NULL);
    else if (stop == PC_STOP_POWER_OFF)
        pc_vm_stop(pc, PC_END_POWER_OFF, 0, NULL);
    else if (stop == PC_STOP_RESET)
        pc_vm_stop(pc, PC_END_RESET, 0, "reset requested");
}

void pc_service_timers(struct pc_vm *pc)
{
    uint64_t due = __atomic_load_n(&pc->next_event_ns, __ATOMIC_RELAXED);

    if (guest_clock_ns(&pc->clock, __builtin_ia32_rdtsc()) < due)
        return;
    pc_machine_advance(pc->machine, pc_lock_devices(pc));
    pc_unlock_devices(pc);
}

/* ---- port I/O ------------------------------------------------------------ */

/* A port nobody claims: noted once per port, as the demo's VMM does. */
static void note_port(struct vm_instance *vm, uint16_t port, bool is_write, unsigned size)
{
    uint64_t bit = 1ull << (port % 64);

    if (__atomic_fetch_or(&vm->ports_reported[port / 64], bit, __ATOMIC_RELAXED) & bit)
        return;
    ctl_printf("guest %s: %s (size %u) %s unemulated port 0x%x %s (noted once per port)\n",
               vm->name, is_write ? "OUT" : "IN", size, is_write ? "to" : "from", port,
               is_write ? "ignored" : "reads all-ones");
}

static void port_io(struct pc_vm *pc, struct vmm_vcpu *vcpu)
{
    struct hv_run *run = vcpu->run;
    unsigned size = run->io.size;
    uint8_t *data;
    uint32_t value = 0;
    bool claimed, is_write = run->io.direction == HV_IO_OUT;
    uint64_t now;

    /* A bad size or offset would be a hypervisor bug: refuse rather than
     * touch memory outside the run page. */
    if ((size != 1 && size != 2 && size != 4) || run->io.data_offset > HV_RUN_PAGE_SIZE - 4)
        return;
    data = (uint8_t *)run + run->io.data_offset;
    if (is_write)
        for (unsigned i = 0; i < size; i++)
            value |= (uint32_t)data[i] << (8 * i);
    now = pc_lock_devices(pc);
    if (is_write)
        claimed = pc_machine_port_write(pc->machine, run->io.port, size, value, now);
    else
        claimed = pc_machine_port_read(pc->machine, run->io.port, size, now, &value);
    pc_unlock_devices(pc);
    if (!is_write)
        for (unsigned i = 0; i < size; i++)
            data[i] = (uint8_t)(value >> (8 * i));
    if (!claimed)
        note_port(&pc->vm, run->io.port, is_write, size);
}

/* ---- the vcpu's view of memory, for string I/O ---------------------------- */

static enum insn_mode code_mode(const struct hv_sregs *s)
{
    if ((s->efer & EFER_LMA) && s->cs.l)
        return INSN_MODE_64;
    return (s->cr0 & CR0_PE) && s->cs.db ? INSN_MODE_32 : INSN_MODE_16;
}

struct guest_view {
    struct pc_vm *pc;
    struct vmm_vcpu *vcpu;
    bool paging;
    uint64_t cached_page, cached_phys;   /* the last translation */
    bool cached, cached_writable, cached_user;
    uint64_t now;
};

static int view_translate(void *ctx, uint64_t linear, uint64_t *phys, bool *writable,
                          bool *user)
{
    struct guest_view *v = ctx;
    struct hv_translation t = { .linear_address = linear };

    if (!v->paging) {
        *phys = linear & 0xffffffffull;
        *writable = *user = true;
        return 1;
    }
    if (!v->cached || (linear & ~(PAGE - 1)) != v->cached_page) {
        if (hv_translate(v->vcpu->handle, &t) < 0)
            return -1;
        if (!t.valid)
            return 0;
        v->cached = true;
        v->cached_page = linear & ~(PAGE - 1);
        v->cached_phys = t.physical_address & ~(PAGE - 1);
        v->cached_writable = t.writeable;
        v->cached_user = t.usermode;
    }
    *phys = v->cached_phys | (linear & (PAGE - 1));
    *writable = v->cached_writable;
    *user = v->cached_user;
    return 1;
}

static bool view_memory(void *ctx, uint64_t phys, void *bytes, unsigned len, bool write)
{
    struct guest_view *v = ctx;
    uint8_t *ram = vmm_guest_ram(&v->pc->vm, phys, len);

    if (ram == NULL)
        return false;
    if (write)
        memcpy(ram, bytes, len);
    else
        memcpy(bytes, ram, len);
    return true;
}

static uint32_t view_port_in(void *ctx, uint16_t port, unsigned size)
{
    struct guest_view *v = ctx;
    uint32_t value;

    if (!pc_machine_port_read(v->pc->machine, port, size, v->now, &value))
        note_port(&v->pc->vm, port, false, size);
    return value;
}

static void view_port_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    struct guest_view *v = ctx;

    if (!pc_machine_port_write(v->pc->machine, port, size, value, v->now))
        note_port(&v->pc->vm, port, true, size);
}

/* The instruction at CS:RIP, up to 15 bytes (fewer if its page ends the
 * VM's memory). Returns how many bytes were read. */
static unsigned fetch_instruction(struct guest_view *v, const struct hv_sregs *s,
                                  uint64_t rip, enum insn_mode mode, uint8_t *bytes)
{
    uint64_t linear = mode == INSN_MODE_64 ? rip : (s->cs.base + rip) & 0xffffffffull;
    unsigned n = 0;

    while (n < INSN_MAX_LENGTH) {
        uint64_t phys;
        bool writable, user;
        unsigned chunk = (unsigned)(PAGE - ((linear + n) & (PAGE - 1)));

        if (chunk > INSN_MAX_LENGTH - n)
            chunk = INSN_MAX_LENGTH - n;
        if (view_translate(v, linear + n, &phys, &writable, &user) <= 0 ||
            !view_memory(v, phys, bytes + n, chunk, false))
            break;
        n += chunk;
    }
    return n;
}

/* CPL: 3 in virtual-8086 mode, 0 in real mode, else SS's DPL (as KVM
 * reads it on both backends). */
static uint8_t guest_cpl(const struct hv_sregs *s, uint64_t rflags)
{
    if (!(s->cr0 & CR0_PE))
        return 0;
    return rflags & RFLAGS_VM ? 3 : s->ss.dpl & 3;
}

/* An exception for the guest as the CPU raises it in an instruction the
 * VMM emulated (string I/O, a task switch): for #PF, CR2 first (through
 * SET_SREGS), then the exception with its error code (SET_VCPU_EVENTS,
 * as KVM's VMMs queue one), with the NMI blocking `events` holds (from
 * before any SET_SREGS, which ends it). */
static bool inject_exception(struct vmm_vcpu *vcpu, struct hv_sregs *sregs,
                             struct hv_vcpu_events *events, uint8_t vector,
                             bool has_error_code, uint32_t error_code, uint64_t cr2)
{
    long err = 0;

    if (vector == VECTOR_PF) {
        sregs->cr2 = cr2;
        err = hv_set_sregs(vcpu->handle, sregs);
    }
    if (!err) {
        events->flags = HV_VCPUEVENT_VALID_NMI | HV_VCPUEVENT_VALID_EXCEPTION;
        events->exception.injected = 1;
        events->exception.pending = 0;
        events->exception.nr = vector;
        events->exception.has_error_code = has_error_code;
        events->exception.error_code = error_code;
        err = hv_set_vcpu_events(vcpu->handle, events);
    }
    if (err)
        ctl_printf("guest %s: exception %u for an emulated instruction not injected: "
                   "error %ld\n", vcpu->label, vector, err);
    return !err;
}

static enum pc_exit_action string_io(struct pc_vm *pc, struct vmm_vcpu *vcpu)
{
    struct hv_run *run = vcpu->run;
    struct guest_view view = { .pc = pc, .vcpu = vcpu };
    struct string_io_ops ops = { view_translate, view_memory, view_port_in, view_port_out, &view };
    struct hv_regs regs;
    struct hv_sregs sregs;
    struct string_io_cpu cpu;
    enum string_io_status status;
    uint8_t insn[INSN_MAX_LENGTH];
    unsigned n;

    if (hv_get_regs(vcpu->handle, &regs) < 0 || hv_get_sregs(vcpu->handle, &sregs) < 0)
        return PC_CONTINUE;
    view.paging = (sregs.cr0 & CR0_PG) != 0;
    cpu = (struct string_io_cpu){
        .mode = code_mode(&sregs), .rip = regs.rip, .rflags = regs.rflags,
        .rcx = regs.rcx, .rsi = regs.rsi, .rdi = regs.rdi,
        .segment_base = { sregs.es.base, sregs.cs.base, sregs.ss.base, sregs.ds.base,
                          sregs.fs.base, sregs.gs.base },
        .cpl = guest_cpl(&sregs, regs.rflags),
        .write_protect = (sregs.cr0 & CR0_WP) != 0,
        .smap = (sregs.cr4 & CR4_SMAP) != 0,
        .la57 = (sregs.cr4 & CR4_LA57) != 0,
    };
    n = fetch_instruction(&view, &sregs, regs.rip, cpu.mode, insn);
    view.now = pc_lock_devices(pc);
    status = string_io_execute(insn, n, run->io.port, run->io.direction == HV_IO_OUT,
                               run->io.size, &ops, &cpu);
    pc_unlock_devices(pc);
    if (status == STRING_IO_NOT_STRING_IO)
        return PC_CONTINUE;   /* rewritten meanwhile: the guest runs what is there */
    regs.rip = cpu.rip;
    regs.rcx = cpu.rcx;
    regs.rsi = cpu.rsi;
    regs.rdi = cpu.rdi;
    hv_set_regs(vcpu->handle, &regs);
    if (status == STRING_IO_GUEST_FAULT) {
        struct hv_vcpu_events events;
        if (hv_get_vcpu_events(vcpu->handle, &events) == 0 &&
            inject_exception(vcpu, &sregs, &events, cpu.fault_vector, true, cpu.fault_error,
                             cpu.fault_address))
            return PC_CONTINUE;
        /* Re-entered, the instruction would fault again, for ever. */
        pc_vm_stop(pc, PC_END_STOPPED, 0, "string I/O fault not injected");
        return PC_STOP;
    }
    if (status == STRING_IO_FAULT) {
        ctl_printf("guest %s: string I/O on port 0x%x reached memory outside its RAM (or "
                   "its translation failed) at rip 0x%lx\n", vcpu->label, run->io.port, regs.rip);
        pc_vm_stop(pc, PC_END_STOPPED, 0, "string I/O outside RAM");
        return PC_STOP;
    }
    return PC_CONTINUE;
}

/* ---- task switches (VMX) ----------------------------------------------------- */

struct task_view {
    struct guest_view view;
    struct hv_sregs *sregs;
};

/* The task switch's implicit supervisor accesses: a write to a page its
 * tables make read-only faults only with CR0.WP set (SDM 3A 4.6.1). */
static int task_memory(void *ctx, uint64_t linear, void *bytes, unsigned len, bool write,
                       uint32_t *pf_error)
{
    struct task_view *t = ctx;
    uint8_t *p = bytes;

    while (len) {
        uint64_t phys;
        bool writable, user;
        unsigned chunk = (unsigned)(PAGE - (linear & (PAGE - 1)));
        int present = view_translate(&t->view, linear, &phys, &writable, &user);

        if (chunk > len)
            chunk = len;
        if (present < 0)
            return -1;
        if (!present || (write && !writable && (t->sregs->cr0 & CR0_WP))) {
            *pf_error = (present ? 1u : 0u) | (write ? 2u : 0u);
            return 0;
        }
        if (!view_memory(&t->view, phys, p, chunk, write))
            return -1;
        linear = (linear + chunk) & 0xffffffffull;
        p += chunk;
        len -= chunk;
    }
    return 1;
}

/* The new task's paging for the accesses after the commit point:
 * TRANSLATE walks the vcpu's current tables. */
static bool task_load_paging(void *ctx, const struct hv_sregs *sregs)
{
    struct task_view *t = ctx;

    t->view.cached = false;
    t->view.paging = (sregs->cr0 & CR0_PG) != 0;
    return hv_set_sregs(t->view.vcpu->handle, sregs) == 0;
}

/* NMI blocking as the switch leaves it (SET_SREGS ended it): an NMI
 * delivered through a task gate blocks NMIs until the handler's IRET, an
 * IRET ends the blocking (SDM 3A 6.7.1), here where it switches tasks
 * too, and any other switch keeps what was. */
static void task_switch_nmi_blocking(struct hv_vcpu_events *events, const struct hv_run *run)
{
    if (run->task_switch.source == HV_TASK_SWITCH_GATE &&
        run->task_switch.event == HV_TASK_SWITCH_EVENT_NMI)
        events->nmi.masked = 1;
    else if (run->task_switch.source == HV_TASK_SWITCH_IRET)
        events->nmi.masked = 0;
}

static enum pc_exit_action task_switch_exit(struct pc_vm *pc, struct vmm_vcpu *vcpu)
{
    struct hv_run *run = vcpu->run;
    struct hv_regs regs;
    struct hv_sregs sregs;
    struct task_view t = { .view = { .pc = pc, .vcpu = vcpu }, .sregs = &sregs };
    struct task_switch_ops ops = { task_memory, task_load_paging, &t };
    struct task_switch_fault fault;
    const char *why = NULL;

    if (!__atomic_exchange_n(&pc->task_switch_noted, true, __ATOMIC_RELAXED))
        ctl_printf("guest %s: its task switches done by the VMM (HV_EXIT_TASK_SWITCH)\n",
                   pc->vm.name);
    if (hv_get_regs(vcpu->handle, &regs) < 0 || hv_get_sregs(vcpu->handle, &sregs) < 0)
        return PC_CONTINUE;
    t.view.paging = (sregs.cr0 & CR0_PG) != 0;
    uint64_t exit_rip = regs.rip;
    regs.rip = (regs.rip + run->task_switch.insn_length) & 0xffffffffull;
    struct task_switch_request request = {
        .selector = run->task_switch.selector,
        .source = run->task_switch.source,
        .has_error_code = run->task_switch.has_error_code != 0,
        .error_code = run->task_switch.error_code,
    };
    struct hv_vcpu_events events;
    if (hv_get_vcpu_events(vcpu->handle, &events) < 0)
        return PC_CONTINUE;
    task_switch_nmi_blocking(&events, run);
    switch (task_switch(&regs, &sregs, &request, &ops, &fault)) {
    case TASK_SWITCH_DONE:
        events.flags = HV_VCPUEVENT_VALID_NMI;
        if (hv_set_regs(vcpu->handle, &regs) < 0 || hv_set_sregs(vcpu->handle, &sregs) < 0 ||
            hv_set_vcpu_events(vcpu->handle, &events) < 0)
            why = "task switch: the new task's state refused";
        break;
    case TASK_SWITCH_GUEST_FAULT:
        if (!fault.in_new_task)
            regs.rip = exit_rip;
        if (hv_set_regs(vcpu->handle, &regs) < 0 || hv_set_sregs(vcpu->handle, &sregs) < 0 ||
            !inject_exception(vcpu, &sregs, &events, fault.vector, fault.has_error_code,
                              fault.error_code, fault.cr2))
            why = "task switch: its fault not injected";
        break;
    case TASK_SWITCH_FAULT:
        why = "task switch: a TSS or descriptor outside RAM";
        break;
    }
    if (!why)
        return PC_CONTINUE;
    ctl_printf("guest %s: %s (selector 0x%x, source %u, rip 0x%lx)\n", vcpu->label, why,
               run->task_switch.selector, run->task_switch.source, exit_rip);
    pc_vm_stop(pc, PC_END_STOPPED, 0, why);
    return PC_STOP;
}

/* ---- MMIO --------------------------------------------------------------------- */

static void note_mmio(struct pc_vm *pc, uint64_t address, bool is_write)
{
    uint64_t page = address & ~(PAGE - 1);
    bool note = false;

    spin_lock(&pc->lock);
    if (pc->noted_mmio_count < PC_NOTED_MMIO_PAGES) {
        note = true;
        for (unsigned i = 0; i < pc->noted_mmio_count; i++)
            note &= pc->noted_mmio[i] != page;
        if (note)
            pc->noted_mmio[pc->noted_mmio_count++] = page;
    }
    spin_unlock(&pc->lock);
    if (note)
        ctl_printf("guest %s: MMIO %s at 0x%lx: nothing there (%s; noted once per page)\n",
                   pc->vm.name, is_write ? "write" : "read", address,
                   is_write ? "ignored" : "reads all-ones");
}

/* The hypervisor decodes the access (HV_VM_DECODED_MMIO: the forms
 * drivers use on device registers) and completes the instruction at the
 * next RUN, with a read's value from the run page: no GET_REGS, SET_REGS
 * or decoder here. What it leaves undecoded (a string move or a
 * read-modify-write on MMIO, a MOV of RSP) no device of this PC needs:
 * the VM stops with the instruction's bytes in the report. */
static enum pc_exit_action mmio(struct pc_vm *pc, struct vmm_vcpu *vcpu)
{
    struct hv_run *run = vcpu->run;
    uint64_t value = 0, now;
    bool claimed;

    if (!run->mmio.decoded) {
        struct vmm_result result = { .stop = VMM_STOP_MMIO, .rip = run->exit_rip };
        vmm_report_stop(vcpu, &result);
        pc_vm_stop(pc, PC_END_STOPPED, 0, "MMIO instruction not emulated");
        return PC_STOP;
    }
    now = pc_lock_devices(pc);
    if (run->mmio.is_write)
        claimed = pc_machine_mmio_write(pc->machine, run->mmio.phys_addr, run->mmio.len,
                                        run->mmio.data, now);
    else
        claimed = pc_machine_mmio_read(pc->machine, run->mmio.phys_addr, run->mmio.len, now,
                                       &value);
    pc_unlock_devices(pc);
    if (!run->mmio.is_write)
        run->mmio.data = value;
    if (!claimed)
        note_mmio(pc, run->mmio.phys_addr, run->mmio.is_write);
    return PC_CONTINUE;
}

/* ---- the dispatch ---------------------------------------------------------- */

/* An exit the platform cannot go on from: the vcpu's report, then the end. */
static enum pc_exit_action stop_vcpu(struct pc_vm *pc, struct vmm_vcpu *vcpu,
                                     enum vmm_stop stop)
{
    struct vmm_result result = { .stop = stop, .rip = vcpu->run->exit_rip,
                                 .exit_reason = vcpu->run->exit_reason };
    vmm_report_stop(vcpu, &result);
    pc_vm_stop(pc, PC_END_STOPPED, 0, vmm_stop_name(stop));
    return PC_STOP;
}

enum pc_exit_action pc_handle_exit(struct pc_vm *pc, const struct pc_runner *runner,
                                   struct vmm_vcpu *vcpu)
{
    struct hv_run *run = vcpu->run;
    enum pc_exit_action action = PC_CONTINUE;

    switch (run->exit_reason) {
    case HV_EXIT_IO:
        if (run->io.string)
            action = string_io(pc, vcpu);
        else
            port_io(pc, vcpu);
        break;
    case HV_EXIT_MMIO:
        action = mmio(pc, vcpu);
        break;
    case HV_EXIT_TASK_SWITCH:
        action = task_switch_exit(pc, vcpu);
        break;
    case HV_EXIT_IOAPIC_EOI:
        /* The EOI is done in the guest's APIC; the remote IRR is ours. */
        pc_lock_devices(pc);
        pc_machine_eoi(pc->machine, run->eoi.vector);
        pc_unlock_devices(pc);
        break;
    case HV_EXIT_X86_RDMSR:
    case HV_EXIT_X86_WRMSR:
        run->msr.error = 1;      /* no platform MSRs: #GP, as for an unknown MSR */
        break;
    case HV_EXIT_INTR:
    case HV_EXIT_DEADLINE:
    case HV_EXIT_IRQ_WINDOW_OPEN:
    case HV_EXIT_HLT:
        break;                   /* time, a kick, or the window: see below */
    case HV_EXIT_SHUTDOWN: {
        struct vmm_result result = { .stop = VMM_STOP_SHUTDOWN, .rip = run->exit_rip };
        vmm_report_stop(vcpu, &result);
        pc_vm_stop(pc, PC_END_RESET, 0, "triple fault");   /* a PC resets */
        return PC_STOP;
    }
    case HV_EXIT_HYPERCALL:
        return stop_vcpu(pc, vcpu, VMM_STOP_HYPERCALL);
    case HV_EXIT_FAIL_ENTRY:
        return stop_vcpu(pc, vcpu, VMM_STOP_FAIL_ENTRY);
    default:
        return stop_vcpu(pc, vcpu, VMM_STOP_UNHANDLED);
    }
    pc_service_timers(pc);
    pc_notify_runner0(pc, runner);
    return action;
}
