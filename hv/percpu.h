/* Per-CPU state, reached through the GS base so that no CPU ever indexes a
 * shared array on a hot path. Each struct percpu lives in its own pages,
 * allocated on the CPU's bring-up, and is written only by its own CPU after
 * that (except `online`, which the BSP polls, and the last line's fields,
 * which other CPUs write). */
#ifndef HV_PERCPU_H
#define HV_PERCPU_H

/* Offset of host_state_phys, which svm/svm_guest_loop.S reads through GS. */
#define PERCPU_HOST_STATE_PHYS 216

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

#include "hv/acpi.h"

struct vcpu;

/* 64-bit TSS: Intel SDM 3A, 8.7. */
struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

/* IST slots (1-based as the IDT gate encodes them). */
enum { IST_NMI = 1, IST_DOUBLE_FAULT = 2, IST_MACHINE_CHECK = 3, IST_COUNT = 3 };

/* How long a child vcpu may keep a CPU before RUN returns HV_EXIT_INTR. */
#define TIME_SLICE_US 10000

struct percpu {
    struct percpu *self;        /* at GS:0, so this_cpu() is one load */
    unsigned index;             /* 0 = BSP, in MADT order */
    uint32_t owner_id;          /* index + 1: what a vcpu claim stores */
    uint32_t apic_id;
    uint64_t stack_top;
    uint64_t ist_top[IST_COUNT];
    uint64_t gdt[5];            /* null, code, data, TSS (two slots) */
    struct tss tss;
    volatile bool online;       /* set by the CPU when bring-up finished */
    volatile bool virt_enabled;
    uint64_t virt_area_phys;    /* SVM host save area or VMXON region */
    uint64_t host_state_phys;   /* SVM: host VMSAVE area (PERCPU_HOST_STATE_PHYS) */
    uint64_t control_vmcs;      /* VMX: the control domain's vcpu's VMCS */
    uint64_t current_vmcs;      /* VMX: the VMCS current on this CPU */
    uint32_t asid_next;         /* next free ASID/VPID tag on this CPU */
    uint32_t asid_generation;   /* bumped when the tags wrap (TLB flushed) */
    uint64_t asid_key;          /* asid_generation | index << 32: what a
                                   vcpu whose tag is current here holds
                                   (hv/tlb_tag.h), one compare per entry */
    uint32_t slice_ticks;       /* APIC timer count of one time slice and
                                   a microsecond (vcpu_slice_setup_cpu) */
    struct vcpu *control_vcpu;  /* the control domain's vcpu pinned here */
    uint64_t slice_end;         /* TSC at which the running child's slice ends;
                                   0 outside a RUN (hv/run_watchdog.h) */
    uint64_t slice_tsc;         /* TSC ticks of one time slice */
    uint64_t idle_tsc;          /* TSC ticks spent asleep for halted vcpus */
    uint64_t host_timer_end;    /* TSC at which the APIC timer fires; 0 not
                                   armed, or fired (hv/host_timer.h) */
    /* Events the hypervisor took on this CPU (GET_STATS sums them); written
     * only by this CPU, from its NMI and machine-check handlers. */
    uint64_t nmi_count;
    uint64_t machine_check_count;
    uint32_t last_child_vm;     /* id of the last child VM run here, for the
                                   IBPB policy (hv/speculation.h); 0 none */
    uint64_t ibpb_switches;     /* IBPBs issued here on VM switches */

    /* Written by other CPUs: a line of their own, so that a CPU's hot
     * fields above are not taken from it by another's WAKE_CPU or
     * VMCLEAR request. */
    bool wake_pending __attribute__((aligned(64))); /* WAKE_CPU: the control
                                   domain's HLT returns */
    bool console_input_pending; /* typed input arrived for this CPU's
                                   reader (hv/console_input.h) */
    bool watchdog_nmi;          /* the NMI sent here is the run watchdog's */
    struct vcpu *vmclear_request; /* VMX: a vcpu whose VMCS, active here,
                                     another CPU wants cleared; written by
                                     that CPU (vmx/vmx_vmcs.c) */
} __attribute__((aligned(64)));
_Static_assert(__builtin_offsetof(struct percpu, host_state_phys) == PERCPU_HOST_STATE_PHYS,
               "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, wake_pending) % 64 == 0 &&
               __builtin_offsetof(struct percpu, wake_pending) >=
                   __builtin_offsetof(struct percpu, ibpb_switches) + 8,
               "the fields other CPUs write are on the last line alone");

extern struct percpu *percpu_of[MAX_CPUS];
extern unsigned cpu_count;
extern bool percpu_ready;

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

/* index + 1 in one GS-relative load: the vcpu claim on every per-vcpu call. */
static inline uint32_t this_cpu_owner_id(void)
{
    uint32_t id;
    __asm__ volatile("movl %%gs:%c1, %0" : "=r"(id) : "i"(__builtin_offsetof(struct percpu, owner_id)));
    return id;
}

static inline unsigned this_cpu_index(void)
{
    return percpu_ready ? this_cpu()->index : 0;
}

/* Allocates the per-CPU block and stacks for CPU `index`. NULL on ENOMEM. */
struct percpu *percpu_create(unsigned index, uint32_t apic_id);
/* Loads GDT, TSS, IDT and GS base for the calling CPU. */
void percpu_load(struct percpu *cpu);

#endif /* __ASSEMBLER__ */
#endif
