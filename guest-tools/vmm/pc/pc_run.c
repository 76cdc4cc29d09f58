/*
 * Running a PC guest's vcpus on the control domain's CPUs (see pc_vm.h;
 * which CPU runs which vcpus, and beside which other guests, is
 * pc_group.c's).
 *
 * Runner r owns vcpus r, r + n, r + 2n, ... on one control-domain CPU. A
 * runner alone on its CPU with one vcpu runs it until the machine stops:
 * RUN sleeps in the hypervisor while the guest halts, so an idle guest
 * costs no CPU. A runner that shares its CPU (several vcpus, its own or
 * other guests') time-shares: each RUN gets a deadline at the end of the
 * vcpu's quantum, shorter for a vcpu last seen halted or waiting for SIPI
 * (it only needs a look, as the IPIs and MSIs for a vcpu no CPU runs wait
 * in its APIC until its next RUN).
 *
 * Runner 0 (the BSP's) keeps the devices' time: each of its RUNs ends by
 * the machine's next timed event (PIT, RTC, UART timeout, PM timer), and
 * it brings the devices up to date then; the other CPUs sleep undisturbed
 * while their vcpus halt. A runner whose device access moved the next
 * event earlier than runner 0's deadline kicks runner 0. The 8259's INTR
 * reaches only the BSP (ExtINT through its LINT0), and INTERRUPT needs the
 * BSP's own runner: a runner that raised INTR sets bsp_attention and
 * kicks what runner 0 runs, and runner 0 then injects the vector as a
 * CPU's acknowledge cycle would, when the guest can take it (else it asks
 * for the interrupt window).
 *
 * Runner 0 also takes typed console input (pc_console.c): the hypervisor
 * ends its RUN with HV_EXIT_INTR when input arrives for its CPU.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/pc/pc_internal.h"

#define QUANTUM_US        4000   /* a runnable vcpu's turn when time-sharing */
#define IDLE_QUANTUM_US   500    /* a halted one's look */
#define LINT0_RECHECK_US  1000   /* INTR up but LINT0 refusing it: look again */
#define MIN_RUN_US        100    /* the guest's least time in a RUN with a deadline */
#define APIC_BASE_ENABLE  (1ull << 11)
#define LAPIC_TPR         0x80
#define LAPIC_PPR         0xa0
#define LAPIC_ISR         0x100
#define LAPIC_IRR         0x200
#define LAPIC_LVT_LINT0   0x350
#define LVT_MASKED        (1u << 16)
#define LVT_DELIVERY(lvt) (((lvt) >> 8) & 7)
#define DELIVERY_EXTINT   7

static uint64_t rdtsc(void)
{
    return __builtin_ia32_rdtsc();
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
    if (a == 0)
        return b;
    return b != 0 && b < a ? b : a;
}

static uint64_t tsc_after_us(const struct pc_vm *pc, uint64_t us)
{
    return rdtsc() + us * pc->clock.tsc_khz / 1000;
}

bool pc_stopping(const struct pc_vm *pc)
{
    return __atomic_load_n(&pc->stopping, __ATOMIC_ACQUIRE) != 0;
}

void pc_vm_stop(struct pc_vm *pc, enum pc_end end, uint32_t status, const char *why)
{
    int expected = 0;

    if (!__atomic_compare_exchange_n(&pc->stopping, &expected, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;          /* decided already: the first end is the one reported */
    if (pc->profile.on)
        pc_profile_end(&pc->profile, pc->vm.sys);
    pc->result = (struct pc_result){ .end = end, .exit_status = status, .why = why };
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (unsigned k = 0; k < pc->vm.vcpu_count; k++)
        hv_kick(pc->vm.vcpus[k].handle);
}

/* Is the machine's next event due before `deadline` (0: none)? */
static bool event_before(const struct pc_vm *pc, uint64_t deadline)
{
    uint64_t event = guest_clock_tsc(&pc->clock, __atomic_load_n(&pc->next_event_ns,
                                                                 __ATOMIC_SEQ_CST));

    return event != UINT64_MAX && (deadline == 0 || event < deadline);
}

void pc_notify_runner0(struct pc_vm *pc, const struct pc_runner *runner)
{
    const struct pc_runner *r0 = &pc->runners[0];
    uint64_t deadline;
    int current;

    if (runner == r0)
        return;          /* runner 0 looks before its next RUN anyway */
    /* The new next_event_ns (stored before the device unlock) is seen
     * before runner 0's deadline is read: x86 may otherwise let this load
     * pass that store (pairs with the check in run_turn). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    current = __atomic_load_n(&r0->current, __ATOMIC_ACQUIRE);
    if (current < 0)
        return;          /* not running yet (or any more) */
    deadline = __atomic_load_n(&r0->deadline, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&pc->bsp_attention, __ATOMIC_ACQUIRE) || event_before(pc, deadline))
        hv_kick(pc->vm.vcpus[current].handle);
}

/* Does the BSP's local APIC take the 8259's INTR now? Through LINT0 in
 * ExtINT mode and unmasked, or directly when the APIC is disabled
 * (IA32_APIC_BASE.EN clear), as on a PC. */
static bool bsp_takes_extint(struct pc_vm *pc, const struct vmm_vcpu *bsp)
{
    struct hv_sregs sregs;
    uint32_t lint0;

    if (hv_get_sregs(bsp->handle, &sregs) < 0)
        return false;
    if (!(sregs.apic_base & APIC_BASE_ENABLE))
        return true;
    if (hv_get_lapic(bsp->handle, &pc->bsp_lapic) < 0)
        return false;
    memcpy(&lint0, pc->bsp_lapic.regs + LAPIC_LVT_LINT0, sizeof(lint0));
    return LVT_DELIVERY(lint0) == DELIVERY_EXTINT && !(lint0 & LVT_MASKED);
}

/* Before the BSP's RUN: the 8259's vector, if INTR is up and the guest can
 * take it; else the interrupt window, or a deadline to look again.
 * Returns that deadline (0: none). */
static uint64_t offer_pic_interrupt(struct pc_vm *pc, struct vmm_vcpu *bsp)
{
    struct hv_run *run = bsp->run;
    bool intr;
    uint8_t vector;

    __atomic_store_n(&pc->bsp_attention, 0, __ATOMIC_RELEASE);
    pc_lock_devices(pc);
    intr = pc_machine_intr(pc->machine);
    pc_unlock_devices(pc);
    run->request_interrupt_window = 0;
    if (!intr)
        return 0;
    if (!bsp_takes_extint(pc, bsp))
        return tsc_after_us(pc, LINT0_RECHECK_US);
    if (!run->ready_for_interrupt_injection) {
        run->request_interrupt_window = 1;
        return 0;
    }
    /* The acknowledge cycle, now that the CPU will take the interrupt: a
     * request that went away meanwhile gives the spurious vector. */
    pc_lock_devices(pc);
    vector = pc_machine_acknowledge(pc->machine);
    pc_unlock_devices(pc);
    if (hv_interrupt(bsp->handle, vector) < 0)
        run->request_interrupt_window = 1;
    return 0;
}

/* The deadline of the vcpu's next RUN: the machine's next event (runner
 * 0's RUNs only), the end of its turn, the guest's timeout, whichever
 * comes first (0: none). Never
 * sooner than MIN_RUN_US from now: a guest that programs a timer faster
 * than the VMM can serve it still runs between the ticks (which then
 * come late and merge, as on a PC whose CPU cannot keep up), instead of
 * every RUN ending before it enters the guest. */
static uint64_t run_deadline(struct pc_vm *pc, const struct pc_runner *r, uint64_t turn_end,
                             uint64_t recheck)
{
    uint64_t event = r != &pc->runners[0] ? UINT64_MAX
                     : guest_clock_tsc(&pc->clock, __atomic_load_n(&pc->next_event_ns,
                                                                   __ATOMIC_RELAXED));
    uint64_t deadline = event == UINT64_MAX ? 0 : event, soonest;

    deadline = earliest(earliest(deadline, turn_end), earliest(pc->timeout_tsc, recheck));
    soonest = tsc_after_us(pc, MIN_RUN_US);
    return deadline != 0 && deadline < soonest ? soonest : deadline;
}

/* One turn of vcpu k on this runner: RUNs until its quantum ends (when
 * time-sharing), the machine stops, or the BSP needs runner 0. */
void pc_run_turn(struct pc_vm *pc, struct pc_runner *r, unsigned k)
{
    struct vmm_vcpu *vcpu = &pc->vm.vcpus[k];
    bool shared = r->shared, timekeeper = r == &pc->runners[0];
    uint64_t turn_end = shared ? tsc_after_us(pc, pc->mp_idle[k] ? IDLE_QUANTUM_US
                                                                  : QUANTUM_US) : 0;
    uint32_t mp_state, exit_reason = 0;
    uint64_t exit_tsc = 0;       /* the profile's: when RUN returned (0: none yet) */
    bool entered = false;        /* and whether an exit ended that RUN */

    __atomic_store_n(&r->current, (int)k, __ATOMIC_RELEASE);
    while (!pc_stopping(pc)) {
        uint64_t recheck = k == 0 ? offer_pic_interrupt(pc, vcpu) : 0;
        long rc;

        vcpu->run->deadline_tsc = run_deadline(pc, r, turn_end, recheck);
        __atomic_store_n(&r->deadline, vcpu->run->deadline_tsc, __ATOMIC_SEQ_CST);
        /* A device event another runner moved earlier between the read
         * above and the store: that runner may have read the old deadline
         * and not kicked, so look once more (a later move sees the new
         * deadline, pc_notify_runner0). */
        if (timekeeper && event_before(pc, vcpu->run->deadline_tsc)) {
            vcpu->run->deadline_tsc = run_deadline(pc, r, turn_end, recheck);
            __atomic_store_n(&r->deadline, vcpu->run->deadline_tsc, __ATOMIC_SEQ_CST);
        }
        if (exit_tsc != 0)
            pc_profile_exit(&pc->profile, exit_reason, entered, rdtsc() - exit_tsc);
        uint64_t exits_before = vcpu->run->exit_count;
        rc = hv_run(vcpu->handle);
        if (pc->profile.on) {
            exit_tsc = rdtsc();
            exit_reason = vcpu->run->exit_reason;
            entered = vcpu->run->exit_count != exits_before;
        }
        if (rc < 0) {
            ctl_printf("guest %s: RUN failed: %s\n", vcpu->label, hv_strerror(rc));
            pc_vm_stop(pc, PC_END_STOPPED, 0, "run failed");
            break;
        }
        /* Typed input ends runner 0's RUN this way (CONSOLE_READ). */
        if (timekeeper && vcpu->run->exit_reason == HV_EXIT_INTR)
            pc_console_poll(pc, r);
        if (pc_handle_exit(pc, r, vcpu) == PC_STOP)
            break;
        if (pc->timeout_tsc != 0 && rdtsc() >= pc->timeout_tsc)
            pc_vm_stop(pc, PC_END_TIMEOUT, 0, NULL);
        if (shared && rdtsc() >= turn_end)
            break;
        if (timekeeper && k != 0 && __atomic_load_n(&pc->bsp_attention, __ATOMIC_ACQUIRE))
            break;
    }
    if (shared && hv_get_mp_state(vcpu->handle, &mp_state) == 0)
        pc->mp_idle[k] = mp_state != HV_MP_STATE_RUNNABLE;
    if (exit_tsc != 0)
        pc_profile_exit(&pc->profile, exit_reason, entered, rdtsc() - exit_tsc);
}

unsigned pc_next_vcpu(struct pc_vm *pc, struct pc_runner *r)
{
    unsigned k;

    if (r == &pc->runners[0] && r->count > 1 && __atomic_load_n(&pc->bsp_attention, __ATOMIC_ACQUIRE))
        return 0;
    k = r->first + r->next * r->stride;
    r->next = (r->next + 1) % r->count;
    return k;
}

/* The highest vector set in one of the APIC's 256-bit registers (IRR,
 * ISR) at `offset`, -1 when none: eight 32-bit words 16 bytes apart. */
static int lapic_highest(const struct hv_lapic_state *lapic, unsigned offset)
{
    for (int word = 7; word >= 0; word--) {
        uint32_t bits;

        memcpy(&bits, lapic->regs + offset + 16 * (unsigned)word, sizeof(bits));
        if (bits != 0)
            return word * 32 + 31 - __builtin_clz(bits);
    }
    return -1;
}

/* Where each vcpu was when the timeout stopped the guest, and what its
 * APIC held: a hung guest's first clue (a vcpu halted with a vector in
 * IRR above its PPR is a lost wake-up; one spinning with IF clear waits
 * for another). The runners are done, so every vcpu is idle. */
static void report_vcpus_at_timeout(struct pc_vm *pc)
{
    for (unsigned k = 0; k < pc->vm.vcpu_count; k++) {
        hv_handle_t handle = pc->vm.vcpus[k].handle;
        struct hv_regs regs;
        uint32_t mp_state = 0, tpr = 0, ppr = 0;

        if (hv_get_regs(handle, &regs) < 0)
            continue;
        hv_get_mp_state(handle, &mp_state);
        ctl_printf("guest %s: at the timeout RIP 0x%lx RSP 0x%lx RFLAGS 0x%lx mp_state %u\n",
                   pc->vm.vcpus[k].label, regs.rip, regs.rsp, regs.rflags, mp_state);
        if (hv_get_lapic(handle, &pc->bsp_lapic) < 0)
            continue;
        memcpy(&tpr, pc->bsp_lapic.regs + LAPIC_TPR, sizeof(tpr));
        memcpy(&ppr, pc->bsp_lapic.regs + LAPIC_PPR, sizeof(ppr));
        ctl_printf("guest %s: its APIC: IRR top %d, ISR top %d, TPR 0x%x, PPR 0x%x\n",
                   pc->vm.vcpus[k].label, lapic_highest(&pc->bsp_lapic, LAPIC_IRR),
                   lapic_highest(&pc->bsp_lapic, LAPIC_ISR), tpr, ppr);
    }
}

void pc_prepare_run(struct pc_vm *pc, unsigned first_cpu, unsigned cpus, bool shared)
{
    unsigned vcpus = pc->vm.vcpu_count, n = cpus < vcpus ? cpus : vcpus;

    pc->runner_count = n;
    for (unsigned r = 0; r < n; r++)
        pc->runners[r] = (struct pc_runner){
            .pc = pc, .cpu = first_cpu + r, .first = r, .stride = n,
            .count = (vcpus - r + n - 1) / n, .current = -1,
        };
    for (unsigned r = 0; r < n; r++)
        pc->runners[r].shared = shared || pc->runners[r].count > 1;
    pc->timeout_tsc = pc->options.timeout_seconds == 0 ? 0
                      : rdtsc() + pc->options.timeout_seconds * pc->clock.tsc_khz * 1000;
    pc_lock_devices(pc);
    pc_unlock_devices(pc);           /* the first next_event_ns */
    pc->profile.on = pc->options.profile;
    if (pc->profile.on)
        pc_profile_start(&pc->profile, pc->vm.sys);
    if (pc->options.input_len != 0 && pc->options.prompt[0] != '\0')
        pc->input_held = true;
    else if (pc->options.input_len != 0)
        vmm_pc_console_input(pc, pc->options.input, pc->options.input_len);
}

void pc_finish_run(struct pc_vm *pc, struct pc_result *result)
{
    for (unsigned r = 0; r < pc->runner_count; r++)
        __atomic_store_n(&pc->runners[r].current, -1, __ATOMIC_RELEASE);
    spin_lock(&pc->lock);
    guest_console_flush(&pc->com1_line);   /* its last words before the verdict */
    spin_unlock(&pc->lock);
    *result = pc->result;
    if (result->end == PC_END_TIMEOUT)
        report_vcpus_at_timeout(pc);
    if (pc->profile.on) {
        uint64_t exits = 0;

        for (unsigned k = 0; k < pc->vm.vcpu_count; k++)
            exits += pc->vm.vcpus[k].run->exit_count;
        pc_profile_report(&pc->profile, pc->vm.name, exits);
    }
}
