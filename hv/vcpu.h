/* A virtual CPU: its registers, its backend state (VMCB or VMCS) and its run
 * page. Each vcpu is its own cache-line-aligned object.
 *
 * Locking: `owner` is the vcpu's lock. A call that reads or changes the
 * vcpu's state, RUN included, claims it (0 -> this CPU + 1) with one
 * compare-and-swap and releases it when done; a claim that finds another
 * owner fails with -HV_EBUSY at once. Nothing else in the vcpu is touched by
 * a CPU that does not own it, except `kick`. */
#ifndef HV_VCPU_H
#define HV_VCPU_H

/* Offsets of struct guest_gprs, and of it in struct vcpu, for the entry
 * stubs (checked below). */
#define VCPU_GPRS 8
#define VCPU_LAUNCHED 128       /* backend flags, right after the registers */
#define VCPU_ENTRY_FAILED 129
#define GPRS_RAX 0
#define GPRS_RBX 8
#define GPRS_RCX 16
#define GPRS_RDX 24
#define GPRS_RSI 32
#define GPRS_RDI 40
#define GPRS_RBP 48
#define GPRS_R8  56
#define GPRS_R12 88
#define GPRS_R13 96
#define GPRS_R14 104
#define GPRS_R15 112

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"
#include "hv/exit.h"
#include "hv/percpu.h"

struct vm;

/* Guest general registers the entry stubs save and load (RSP, RIP and RFLAGS
 * live in the VMCB/VMCS). The layout is used by svm/ and vmx/ assembly. */
struct guest_gprs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};
_Static_assert(offsetof(struct guest_gprs, rbx) == GPRS_RBX, "gprs layout");
_Static_assert(offsetof(struct guest_gprs, rsi) == GPRS_RSI, "gprs layout");
_Static_assert(offsetof(struct guest_gprs, rdi) == GPRS_RDI, "gprs layout");
_Static_assert(offsetof(struct guest_gprs, rbp) == GPRS_RBP, "gprs layout");
_Static_assert(offsetof(struct guest_gprs, r8) == GPRS_R8, "gprs layout");
_Static_assert(offsetof(struct guest_gprs, r15) == GPRS_R8 + 56, "gprs layout");

enum vcpu_state { VCPU_RUNNABLE = 0, VCPU_SHUTDOWN = 1 };

/* MSRs that the backend's hardware does not switch for the guest, kept here
 * for GET_MSRS/SET_MSRS and the guest's own RDMSR/WRMSR (which exit for
 * them). The guest's SYSCALL and RDTSCP do not see these copies: VMX uses
 * all six until it switches MSRs on entry; SVM, whose VMCB holds the
 * others, only tsc_aux. */
struct vcpu_kept_msrs {
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux;
};


struct vcpu {
    uint32_t owner;              /* the lock: 0 free, else CPU index + 1 */
    uint32_t state;              /* enum vcpu_state */
    struct guest_gprs gprs;
    uint8_t launched;            /* VMX: VMRESUME rather than VMLAUNCH */
    uint8_t entry_failed;        /* VMX: the last VM entry failed */
    struct vm *vm;               /* never changes; the VM outlives its vcpus */
    unsigned slot;
    struct hv_run *run;          /* in control-domain memory; NULL for the
                                    control domain's own vcpus */
    /* backend */
    void *arch;                  /* VMCB or VMCS, mapped */
    uint64_t arch_phys;
    uint32_t asid;               /* tag in use on `asid_cpu` */
    uint32_t asid_generation;
    int asid_cpu;                /* -1: none yet */
    uint64_t tlb_generation;     /* the VM's, when this vcpu last flushed */
    /* a completed IN waits for the next RUN to load the VMM's data */
    uint8_t pending_in_size;
    uint8_t kick;                /* set by KICK from any CPU; consumed by
                                    the RUN that returns HV_EXIT_INTR */
    int (*exit_handler)(struct vcpu *vcpu, const struct exit_record *exit);
    int stop_reason;             /* HV_EXIT_* that ended the current RUN */
    uint64_t exit_count;
    uint64_t cr2;                /* VMX: CR2 as SET_SREGS gave it */
    uint64_t cr8;                /* VMX: the guest's task priority */
    struct vcpu_kept_msrs kept_msrs;
} __attribute__((aligned(64)));
_Static_assert(offsetof(struct vcpu, gprs) == VCPU_GPRS, "vcpu layout");
_Static_assert(offsetof(struct vcpu, launched) == VCPU_LAUNCHED, "vcpu layout");
_Static_assert(offsetof(struct vcpu, entry_failed) == VCPU_ENTRY_FAILED, "vcpu layout");

/* Claims the vcpu for the calling CPU. Returns 0 or -HV_EBUSY. */
static inline int vcpu_claim(struct vcpu *vcpu)
{
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(&vcpu->owner, &expected, this_cpu_index() + 1,
                                    false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return 0;
    return -HV_EBUSY;
}

static inline void vcpu_release(struct vcpu *vcpu)
{
    __atomic_store_n(&vcpu->owner, 0, __ATOMIC_RELEASE);
}

/* Runs a child vcpu until an exit its VMM must see; fills its run page.
 * Called with the vcpu claimed. */
long vcpu_run(struct vcpu *vcpu);

/* KICK: makes a RUN of the vcpu in progress on another CPU return
 * HV_EXIT_INTR soon, or else the next RUN return it at once. Needs no claim:
 * it touches only `kick` and reads `owner`. */
void vcpu_kick(struct vcpu *vcpu);

/* Emulates CPUID for any guest (hypervisor leaves, hidden virtualization
 * features) on the registers in vcpu->gprs; the caller advances RIP. */
void cpuid_emulate(struct vcpu *vcpu);

/* Takes a pending physical interrupt on this CPU (briefly opening IF). */
void take_pending_interrupt(void);

#endif /* __ASSEMBLER__ */
#endif
