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

#ifdef __ASSEMBLER__
/* Shared by svm/svm_guest_loop.S and vmx/vmx_guest_loop.S: moving the guest
 * registers that travel through vcpu->gprs on every exit (RBX RCX RDX RSI
 * RDI RBP R8-R11) and the ones that travel only when a loop starts or ends
 * (R12-R15). \vcpu is a register holding the struct vcpu pointer. */
#define GUEST_REG(reg) VCPU_GPRS + GPRS_##reg

/* Loads them from \vcpu, which must be %rsi: RSI itself goes last. */
.macro load_guest_registers
    mov GUEST_REG(RBX)(%rsi), %rbx
    mov GUEST_REG(RCX)(%rsi), %rcx
    mov GUEST_REG(RDX)(%rsi), %rdx
    mov GUEST_REG(RDI)(%rsi), %rdi
    mov GUEST_REG(RBP)(%rsi), %rbp
    mov GUEST_REG(R8)+0(%rsi), %r8
    mov GUEST_REG(R8)+8(%rsi), %r9
    mov GUEST_REG(R8)+16(%rsi), %r10
    mov GUEST_REG(R8)+24(%rsi), %r11
    mov GUEST_REG(RSI)(%rsi), %rsi
.endm

/* Stores them to the vcpu in %rsi; the guest's RSI is on the stack top and
 * is popped into place. Leaves RBP zero for the host's backtraces. */
.macro save_guest_registers
    mov %rbx, GUEST_REG(RBX)(%rsi)
    mov %rcx, GUEST_REG(RCX)(%rsi)
    mov %rdx, GUEST_REG(RDX)(%rsi)
    mov %rdi, GUEST_REG(RDI)(%rsi)
    mov %rbp, GUEST_REG(RBP)(%rsi)
    mov %r8, GUEST_REG(R8)+0(%rsi)
    mov %r9, GUEST_REG(R8)+8(%rsi)
    mov %r10, GUEST_REG(R8)+16(%rsi)
    mov %r11, GUEST_REG(R8)+24(%rsi)
    popq GUEST_REG(RSI)(%rsi)
    xor %ebp, %ebp
.endm

.macro load_guest_r12_r15 vcpu
    mov GUEST_REG(R12)(\vcpu), %r12
    mov GUEST_REG(R13)(\vcpu), %r13
    mov GUEST_REG(R14)(\vcpu), %r14
    mov GUEST_REG(R15)(\vcpu), %r15
.endm

.macro save_guest_r12_r15 vcpu
    mov %r12, GUEST_REG(R12)(\vcpu)
    mov %r13, GUEST_REG(R13)(\vcpu)
    mov %r14, GUEST_REG(R14)(\vcpu)
    mov %r15, GUEST_REG(R15)(\vcpu)
.endm

.macro push_host_callee_saved
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
.endm

.macro pop_host_callee_saved
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
.endm
#endif

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

/* MSRs that VM entry and exit do not switch on one backend or both: VMX
 * switches none of these, SVM's VMLOAD/VMSAVE all but TSC_AUX. Those the
 * backend leaves to software are switched by hand when a child's RUN
 * starts and ends (hv/msr_switch.h): while a vcpu's values are live in the
 * CPU (`msrs_live`), the CPU holds them, otherwise these copies do. */
enum kept_msr {
    KEPT_STAR, KEPT_LSTAR, KEPT_CSTAR, KEPT_SFMASK, KEPT_KERNEL_GS_BASE,
    KEPT_TSC_AUX, KEPT_MSR_COUNT
};
struct vcpu_kept_msrs {
    uint64_t value[KEPT_MSR_COUNT];
    uint32_t nonzero;            /* bit k: value[k] is not 0 (msr_switch.h) */
};


/* DEBUG_GUEST's state: what the VMM asked for and what of the guest's own
 * it displaced, restored when debugging is turned off. */
struct vcpu_debug {
    uint32_t control;            /* HV_GUESTDBG_*; 0 when not ENABLE */
    uint8_t guest_tf;            /* the guest's RFLAGS.TF under SINGLESTEP */
    uint64_t addr[4];            /* DR0-DR3 under USE_HW_BP */
    uint64_t dr7;                /* DR7 under USE_HW_BP */
    uint64_t guest_dr7;          /* the guest's DR7 while ours is loaded */
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
    bool msrs_live;              /* kept_msrs are in the CPU (msr_switch.h) */
    uint64_t spec_ctrl;          /* the guest's SPEC_CTRL (speculation.h) */
    /* INTERRUPT: one external interrupt waiting for the guest to take it
     * (an injection interrupted by an exit comes back here). */
    uint8_t irq_pending;
    uint8_t irq_vector;
    uint8_t irq_window;          /* window exiting is on in the VMCB/VMCS */
    struct vcpu_debug debug;
} __attribute__((aligned(64)));
_Static_assert(offsetof(struct vcpu, gprs) == VCPU_GPRS, "vcpu layout");
_Static_assert(offsetof(struct vcpu, launched) == VCPU_LAUNCHED, "vcpu layout");
_Static_assert(offsetof(struct vcpu, entry_failed) == VCPU_ENTRY_FAILED, "vcpu layout");

/* The general registers of the ABI's hv_regs from the saved ones and back;
 * each backend adds RSP, RIP and RFLAGS from where it keeps them. Field by
 * field: the output may be control-domain memory, and a compound literal
 * would be built on the stack and copied. */
static inline void vcpu_gprs_to_regs(const struct guest_gprs *g, struct hv_regs *r)
{
    r->rax = g->rax;
    r->rbx = g->rbx;
    r->rcx = g->rcx;
    r->rdx = g->rdx;
    r->rsi = g->rsi;
    r->rdi = g->rdi;
    r->rbp = g->rbp;
    r->r8 = g->r8;
    r->r9 = g->r9;
    r->r10 = g->r10;
    r->r11 = g->r11;
    r->r12 = g->r12;
    r->r13 = g->r13;
    r->r14 = g->r14;
    r->r15 = g->r15;
}

static inline void vcpu_regs_to_gprs(const struct hv_regs *r, struct guest_gprs *g)
{
    *g = (struct guest_gprs){
        .rax = r->rax, .rbx = r->rbx, .rcx = r->rcx, .rdx = r->rdx,
        .rsi = r->rsi, .rdi = r->rdi, .rbp = r->rbp,
        .r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11,
        .r12 = r->r12, .r13 = r->r13, .r14 = r->r14, .r15 = r->r15,
    };
}

/* RFLAGS a set may give: bit 1 always set; VM (17) and the reserved bits
 * are not the guest's to set (no virtual-8086 support). */
#define RFLAGS_SETTABLE 0x3d7fd5ull

/* Claims the vcpu for the calling CPU. Returns 0 or -HV_EBUSY. */
static inline int vcpu_claim(struct vcpu *vcpu)
{
    uint32_t expected = 0;
    /* GS is set up long before any hypercall: no need for this_cpu_index's
     * early-boot check on this path. */
    if (__atomic_compare_exchange_n(&vcpu->owner, &expected, this_cpu_owner_id(),
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

/* INTERRUPT and DEBUG_GUEST (hv/vcpu_events.c); called with the vcpu
 * claimed. vcpu_queue_interrupt: 0 or -HV_EBUSY if one is pending. */
long vcpu_queue_interrupt(struct vcpu *vcpu, uint8_t vector);
long vcpu_set_guest_debug(struct vcpu *vcpu, const struct hv_guest_debug *debug);
/* Before each entry: injects the pending interrupt if the guest can take
 * it, and asks for a window exit when one is still wanted. */
void vcpu_prepare_events_slow(struct vcpu *vcpu);

/* Inline: RUN calls it before every entry, and the common case (nothing
 * queued, no window asked for) must cost a few loads. */
static inline void vcpu_prepare_events(struct vcpu *vcpu)
{
    if (vcpu->irq_pending || vcpu->irq_window ||
        __atomic_load_n(&vcpu->run->request_interrupt_window, __ATOMIC_RELAXED))
        vcpu_prepare_events_slow(vcpu);
}
/* Fills ready_for_interrupt_injection and if_flag of the run page. */
void vcpu_fill_interrupt_flags(struct vcpu *vcpu);
/* The interrupt-window exit: HV_EXIT_IRQ_WINDOW_OPEN or -1 to resume. */
int vcpu_interrupt_window_exit(struct vcpu *vcpu);
/* Loads DR0-DR3 for DEBUG_GUEST's breakpoints (entry does not switch
 * them); the backends call it before entering when USE_HW_BP is on. */
void vcpu_load_debug_addresses(const struct vcpu *vcpu);
/* For the backends' set_guest_debug: the RFLAGS and DR7 to enter with
 * after DEBUG_GUEST changed the control from `old`. */
uint64_t vcpu_debug_rflags(struct vcpu *vcpu, uint32_t old, uint64_t rflags);
uint64_t vcpu_debug_dr7(struct vcpu *vcpu, uint32_t old, uint64_t dr7);

/* GET_REGS and SET_REGS see the guest's own TF while single-stepping sets
 * ours (RFLAGS bit 8). */
static inline uint64_t vcpu_rflags_to_abi(const struct vcpu *vcpu, uint64_t rflags)
{
    if (!(vcpu->debug.control & HV_GUESTDBG_SINGLESTEP))
        return rflags;
    return (rflags & ~(1ull << 8)) | (vcpu->debug.guest_tf ? 1ull << 8 : 0);
}

static inline uint64_t vcpu_rflags_from_abi(struct vcpu *vcpu, uint64_t rflags)
{
    if (!(vcpu->debug.control & HV_GUESTDBG_SINGLESTEP))
        return rflags;
    vcpu->debug.guest_tf = (rflags >> 8) & 1;
    return rflags | 1ull << 8;
}

/* Takes a pending physical interrupt on this CPU (briefly opening IF). */
void take_pending_interrupt(void);

#endif /* __ASSEMBLER__ */
#endif
