/* Where a child's exits spend the hypervisor's instructions, by kind of
 * exit and by who completes it: the hypervisor alone, or the VMM after
 * RUN returned. Kept only in a bench build (`make ... HV_EXIT_PROFILE=1`,
 * which `make bench` boots Linux with): the hooks in the guest loops read
 * the TSC twice per exit, which a product build does not pay for.
 *
 * Each CPU counts its children's exits (struct exit_profile): an exit the
 * hypervisor completes counts from its VM exit to the child's next entry;
 * one the VMM completes counts from its VM exit to the control domain's
 * entry that returns RUN, plus, on the way back, from the control
 * domain's exit for the next RUN to the child's entry. What runs between
 * those two (the VMM, its other calls) is the VMM's, not counted here.
 * TSC ticks the CPU slept for a halted vcpu (percpu idle_tsc) are taken
 * out. Under QEMU -icount and Bochs a tick is an instruction. The guest
 * loops' register moves around the hooks (about 20 instructions an exit)
 * fall outside the count.
 *
 * The accounting below takes the time and idle counter as arguments, so
 * tests/unit runs it on the host. */
#ifndef HV_EXIT_PROFILE_H
#define HV_EXIT_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef HV_EXIT_PROFILE
#include "hv/acpi.h"
#include "hv/percpu.h"
#include "hv/x86.h"
#endif

/* Kinds of exit, common to both backends (svm/svm_exit_profile.c and
 * vmx/vmx_exit_profile.c map theirs). */
enum exit_profile_class {
    EXIT_PROFILE_IO,
    EXIT_PROFILE_MMIO,            /* nested page fault, EPT violation or
                                     misconfiguration, APIC access */
    EXIT_PROFILE_CPUID,
    EXIT_PROFILE_RDMSR,
    EXIT_PROFILE_WRMSR,
    EXIT_PROFILE_HLT,
    EXIT_PROFILE_INTERRUPT,       /* a host interrupt, or VMX's preemption
                                     timer (the slice's end) */
    EXIT_PROFILE_IRQ_WINDOW,
    EXIT_PROFILE_CR,
    EXIT_PROFILE_XSETBV,
    EXIT_PROFILE_EXCEPTION,
    EXIT_PROFILE_HYPERCALL,
    EXIT_PROFILE_OTHER,
    EXIT_PROFILE_CLASSES
};

enum exit_profile_by {
    EXIT_PROFILE_BY_HYPERVISOR,
    EXIT_PROFILE_BY_VMM,
    EXIT_PROFILE_BY_COUNT
};

struct exit_profile_cell {
    uint64_t exits;
    uint64_t ticks;
};

struct exit_profile {
    struct exit_profile_cell cells[EXIT_PROFILE_CLASSES][EXIT_PROFILE_BY_COUNT];
    uint64_t child_exit_tsc;      /* the last child exit on this CPU */
    uint64_t child_exit_idle;
    uint64_t control_exit_tsc;    /* the control domain's last exit here */
    uint64_t control_exit_idle;
    uint8_t child_class;          /* that child exit's kind */
    uint8_t vmm_class;            /* the kind of the exit the VMM has */
    bool child_in_exit;           /* a child exited and has not entered again */
    bool vmm_way_back;            /* the exit went to the VMM: the next child
                                     entry ends its way back in */
    /* RUN's extended-state switch (hv/fpu.h), both ways, in the ticks
     * from the TSC read before each half to the one after it. */
    uint64_t xstate_runs;
    uint64_t xstate_ticks;
};

/* The hooks' accounting: `now` the TSC, `idle` the CPU's idle_tsc. */
void exit_profile_child_exit(struct exit_profile *p, unsigned cls, uint64_t now, uint64_t idle);
void exit_profile_child_enter(struct exit_profile *p, uint64_t now, uint64_t idle);
void exit_profile_control_exit(struct exit_profile *p, uint64_t now, uint64_t idle);
void exit_profile_control_enter(struct exit_profile *p, uint64_t now, uint64_t idle);
/* Forgets the counts, keeps where the CPU stands. */
void exit_profile_clear(struct exit_profile *p);
const char *exit_profile_class_name(unsigned cls);

#ifdef HV_EXIT_PROFILE
struct vcpu;
/* Called by the guest loops, with `cls` the backend's kind of the exit
 * (ignored for the control domain's vcpus): after each VM exit, and
 * before each entry. */
void exit_profile_on_exit(struct vcpu *vcpu, unsigned cls);
void exit_profile_on_enter(struct vcpu *vcpu);
/* Prints every CPU's counts and clears them (when a child VM dies). */
void exit_profile_report(void);
/* Every CPU's counts (exit_profile_hooks.c). */
extern struct exit_profile exit_profiles[MAX_CPUS];
/* Around each half of RUN's extended-state switch: the TSC before it,
 * and the half's end (`run_done` after the leaving half, which counts
 * the RUN). Inline, so that the RUN around them keeps its registers; the
 * TSC reads add about 3 ticks a half. */
static inline uint64_t exit_profile_mark(void) { return rdtsc(); }
static inline void exit_profile_xstate(uint64_t from, bool run_done)
{
    uint64_t now = rdtsc();
    struct exit_profile *p = &exit_profiles[this_cpu()->index];
    p->xstate_ticks += now - from;
    p->xstate_runs += run_done;
}
#else
static inline uint64_t exit_profile_mark(void) { return 0; }
static inline void exit_profile_xstate(uint64_t from, bool run_done)
{
    (void)from;
    (void)run_done;
}
#endif

#endif
