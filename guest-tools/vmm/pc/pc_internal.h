/*
 * The PC platform's state shared by pc_vm.c (life cycle), pc_run.c (the
 * CPUs running vcpus) and pc_exits.c (what an exit does); not for users.
 *
 * Locking: `lock` is the device lock. It covers the machine (every device
 * and bus), the COM1 line and next_event_ns; it is held only around
 * device calls, never across RUN. The vcpus' own state (run page, regs)
 * belongs to the runner running them. `stopping` and `bsp_attention` are
 * atomics. Lock order: device lock, then the console's lock (COM1 lines
 * are printed under the device lock).
 */
#ifndef GUEST_TOOLS_VMM_PC_PC_INTERNAL_H
#define GUEST_TOOLS_VMM_PC_PC_INTERNAL_H

#include "guest-tools/runtime/spinlock.h"
#include "guest-tools/runtime/stacks.h"
#include "guest-tools/vmm/guest_console.h"
#include "guest-tools/vmm/pc/guest_clock.h"
#include "guest-tools/vmm/pc/pc_machine.h"
#include "guest-tools/vmm/pc/pc_profile.h"
#include "guest-tools/vmm/pc/pc_vm.h"
#include "guest-tools/vmm/vmm_internal.h"

#define PC_NOTED_MMIO_PAGES 16

/* One control-domain CPU's share of the vcpus: first, first + stride, ...
 * Runner 0 (first 0, the BSP's) keeps the devices' time (pc_run.c). */
struct pc_runner {
    struct pc_vm *pc;
    unsigned cpu;
    unsigned first, stride, count;
    bool shared;                 /* its CPU runs other vcpus too: quanta */
    unsigned next;               /* round-robin position */
    int current;                 /* vcpu in hand (atomic; -1 none) */
    uint64_t deadline;           /* of the RUN it makes (atomic; 0 none) */
} __attribute__((aligned(64)));

struct pc_vm {
    struct vm_instance vm;
    struct pc_options options;
    struct page_mark mark;       /* allocator state before this VM */
    struct pc_machine *machine;
    struct guest_clock clock;
    uint64_t wall_clock_seconds; /* the host RTC at guest time 0 */
    bool wall_clock_known;       /* false: no host RTC answered */
    uint64_t timeout_tsc;        /* 0: none */

    struct spinlock lock;        /* the device lock */
    uint64_t next_event_ns;      /* the machine's next timed event */
    struct guest_console_line com1_line;
    bool input_held;             /* options.input waits for options.prompt */
    bool input_due;              /* the prompt came: type it at the unlock */
    char prefix[VMM_NAME_MAX + 10];
    uint64_t noted_mmio[PC_NOTED_MMIO_PAGES];   /* pages reported once */
    unsigned noted_mmio_count;
    int msi_refusal_noted;

    struct console_switch *console;  /* typed input's routing; NULL: none */
    unsigned console_number;     /* this guest's number for the switch */
    bool console_dropped_noted;  /* said once that input is not ours */
    bool task_switch_noted;      /* said once that the VMM switches its tasks
                                    (atomic: any runner) */

    int bsp_attention;           /* the 8259 raised INTR: the BSP must look */
    int stopping;                /* set once: the end is decided */
    struct pc_result result;     /* written by whoever set stopping */
    unsigned runner_count;
    struct pc_runner runners[CTL_MAX_CPUS];
    uint8_t *mp_idle;            /* per vcpu: last seen not runnable (runner's) */
    struct hv_lapic_state bsp_lapic;  /* GET_LAPIC scratch, the BSP's runner's */
    struct pc_profile profile;   /* the profile option's counts */
};

enum pc_exit_action {
    PC_CONTINUE,
    PC_STOP,
};

/* pc_run.c: runners for CPUs first_cpu .. first_cpu + cpus - 1 (vcpu k
 * on the (k % n)-th), each told whether its CPU runs other guests too
 * (`shared`); the timeout starts, input= is queued or held. */
void pc_prepare_run(struct pc_vm *pc, unsigned first_cpu, unsigned cpus, bool shared);

/* pc_run.c: one turn of vcpu k (pc_next_vcpu) on its runner's CPU: RUNs
 * until the quantum ends (a shared runner), the machine stops, or the
 * BSP needs runner 0. */
void pc_run_turn(struct pc_vm *pc, struct pc_runner *r, unsigned k);
unsigned pc_next_vcpu(struct pc_vm *pc, struct pc_runner *r);

/* pc_run.c: has the end been decided? */
bool pc_stopping(const struct pc_vm *pc);

/* pc_run.c: after every runner has returned: the result, the COM1 line
 * flushed, and where each vcpu was at a timeout. */
void pc_finish_run(struct pc_vm *pc, struct pc_result *result);

/* pc_run.c: decides the end (the first caller wins) and kicks every vcpu
 * out of RUN. */
void pc_vm_stop(struct pc_vm *pc, enum pc_end end, uint32_t status, const char *why);

/* pc_exits.c: handles the exit in the vcpu's run page. */
enum pc_exit_action pc_handle_exit(struct pc_vm *pc, const struct pc_runner *runner,
                                   struct vmm_vcpu *vcpu);

/* pc_exits.c: takes the device lock and returns guest time; the unlock
 * notes the machine's next event and acts on a stop it requested. */
uint64_t pc_lock_devices(struct pc_vm *pc);
void pc_unlock_devices(struct pc_vm *pc);

/* pc_exits.c: brings the timed devices to now if an event is due. */
void pc_service_timers(struct pc_vm *pc);

/* pc_console.c: on runner 0 (the console's reader CPU), takes typed
 * input and queues it on the COM1 of the guest it is for (this one or
 * another attached guest, console_switch.h); `runner` is pc's. */
void pc_console_poll(struct pc_vm *pc, const struct pc_runner *runner);

/* pc_console.c: the guest takes no more input (before it is destroyed). */
void pc_console_detach(struct pc_vm *pc);

/* pc_run.c: after device work by `runner` (NULL: not a runner), bring
 * runner 0 out of its RUN if it must act now: the 8259 raised INTR (only
 * the BSP's runner injects it), or a device's next event moved before
 * runner 0's deadline (only runner 0 keeps the devices' time). */
void pc_notify_runner0(struct pc_vm *pc, const struct pc_runner *runner);

#endif
