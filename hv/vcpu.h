/* A virtual CPU: its registers, its backend state (VMCB or VMCS) and its run
 * page. Each vcpu is its own cache-line-aligned object.
 *
 * Locking: `owner` is the vcpu's lock. A call that reads or changes the
 * vcpu's state, RUN included, claims it (0 -> this CPU + 1) with one
 * compare-and-swap and releases it when done; a claim that finds another
 * owner fails with -HV_EBUSY at once. Nothing else in the vcpu is touched by
 * a CPU that does not own it, except `kick` and `lapic_events` (written,
 * on the first line with `owner`) and `nested_walk`, `exit_count` and
 * `tlb_generation` (read). */
#ifndef HV_VCPU_H
#define HV_VCPU_H

/* Offsets of struct guest_gprs, and of it in struct vcpu, for the entry
 * stubs (checked below). */
#define VCPU_GPRS 64            /* the line after the one other CPUs write */
#define VCPU_LAUNCHED 184       /* backend flag, right after the registers */
#define VCPU_ARCH_PHYS 192      /* VMCB or VMCS, physical */
#define VCPU_GUEST_EXIT 200     /* the guest loop's exit function */

/* What an exit function returns when the exit needs every general
 * register of the guest in vcpu->gprs: inside the guest loop R12-R15 are
 * the guest's in the CPU itself, which C code cannot name, so the loop
 * stores them, calls the backend's svm_exit_all_gprs or vmx_exit_all_gprs
 * and loads them back (an emulated instruction may read or write any
 * register). The hot exits (port I/O, CPUID, a hypercall) never need them
 * and pay nothing. */
#define GUEST_EXIT_ALL_GPRS (-1)
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
/* Shared by svm/svm_guest_loop.S and vmx/vmx_guest_loop.S (the SVM loop
 * saves through RAX instead, which is free there after #VMEXIT): moving the guest
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

#endif

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"
#include "hv/exit.h"
#include "hv/mmio_decode.h"
#include "hv/percpu.h"
#include "hv/vlapic.h"
#include "mmu/code_walk.h"

struct vm;
struct cpuid_table;

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

/* After a user-space MSR exit (HV_VM_USER_MSR) or a decoded MMIO exit
 * (HV_VM_DECODED_MMIO) the instruction waits for the VMM's answer in the
 * run page, which the next RUN applies. */
enum vcpu_state {
    VCPU_RUNNABLE = 0, VCPU_SHUTDOWN = 1, VCPU_MSR_READ_EXIT = 2, VCPU_MSR_WRITE_EXIT = 3,
    /* a single step over an instruction the hypervisor completed, its
     * trap not delivered or reported yet (hv/single_step.h) */
    VCPU_STEP_PENDING = 4,
    VCPU_MMIO_EXIT = 5          /* the access is vcpu->mmio_pending */
};

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


/* DEBUG_GUEST's state: what the VMM asked for. The guest's own TF is kept
 * here while the VMM's is in force; its own debug registers are kept in
 * struct vcpu_debugregs. */
struct vcpu_debug {
    uint32_t control;            /* HV_GUESTDBG_*; 0 when not ENABLE */
    uint8_t guest_tf;            /* the guest's RFLAGS.TF under SINGLESTEP */
    uint64_t addr[4];            /* DR0-DR3 under USE_HW_BP */
    uint64_t dr7;                /* DR7 under USE_HW_BP */
};

/* A guest MOV to or from a debug register that waits to be emulated
 * (hv/debugregs_emulate.c): the exit's decoding, so far as the hardware
 * gave it. */
struct debugreg_access {
    uint8_t number;              /* DR0-DR7 as encoded (4, 5 alias 6, 7) */
    uint8_t write;               /* MOV to DRn */
    uint8_t gpr;                 /* encoding order; 0xff: not known */
    uint8_t length;              /* instruction bytes; 0: not known */
};

/* The guest's own debug registers (hv/debugregs.h says where each lives
 * when). Between RUNs: DR0-DR3 here; DR6 and DR7 in the VMCB/VMCS, or
 * here while DEBUG_GUEST is on (and DR6 always here on VMX, whose entry
 * does not load it). Inside a RUN, `live` says DR0-DR3 (and VMX's DR6)
 * are in the CPU instead. */
struct vcpu_debugregs {
    uint64_t db[4];
    uint64_t dr6, dr7;
    uint8_t entry_work;          /* RUN must load DR0-DR3 before entering:
                                    the DR7 in force enables a breakpoint */
    uint8_t live;                /* in RUN: the guest's own are in the CPU
                                    and its MOV DR do not exit */
    uint8_t cpu_loaded;          /* in RUN: this CPU's control-domain DR0-3
                                    are set aside, to restore at the end */
    struct debugreg_access pending; /* under DEBUG_GUEST, emulated after
                                       the guest loop (R12-R15 are live in
                                       the CPU inside it) */
};

struct vcpu {
    /* The first line holds what other CPUs write: the claim (any CPU's
     * compare-and-swap), kick (KICK) and lapic_events (a LAPIC's IPIs and
     * MSIs), with the owner's flags RUN and each entry test beside them. */
    uint32_t owner;              /* the lock: 0 free, else CPU index + 1 */
    /* What keeps RUN from simply entering the guest, in one word that
     * RUN's start tests with one load (hv/vcpu_run.h). */
    union {
        struct {
            uint8_t state;           /* enum vcpu_state */
            /* a completed IN waits for the next RUN to load the VMM's data */
            uint8_t pending_in_size;
            /* enum hv_mp_state; anything but RUNNABLE only with a LAPIC */
            uint8_t mp_state;
            uint8_t kick;            /* set by KICK from any CPU; consumed by
                                        the RUN that returns HV_EXIT_INTR */
        };
        uint32_t run_blockers;
    };
    /* Events for the guest that each entry must look at, in one word that
     * vcpu_prepare_events tests with one load: the four flags this CPU
     * keeps, and what other CPUs post to its local APIC. */
    union {
        struct {
            /* INTERRUPT: one external interrupt waiting for the guest to
             * take it (an injection interrupted by an exit comes back
             * here), irq_vector */
            uint8_t irq_pending;
            uint8_t irq_window;      /* window exiting is on in the VMCB/VMCS */
            uint8_t lapic_window;    /* a LAPIC vector waits for the window */
            uint8_t nmi_pending;     /* an NMI waits to be injected */
            uint32_t lapic_events;   /* LAPIC_EVENT_*: posted by any CPU
                                        (atomic OR; hv/vcpu_lapic.h) */
        };
        uint64_t entry_events;
    } __attribute__((aligned(8)));
    /* The registers start the next line: a KICK, a LAPIC event posted or
     * a claim refused to another CPU takes the line above from this one's
     * cache, never the registers the exit paths use. */
    struct guest_gprs gprs __attribute__((aligned(64)));
    uint8_t launched;            /* VMX: VMRESUME rather than VMLAUNCH */
    uint8_t saved_regs_valid;    /* VMX: saved_regs hold the VMCS's values */
    /* VMX: the hypervisor made the guest block NMIs (an NMI injected or
     * put back, SET_VCPU_EVENTS' mask) and no exit since showed its IRET:
     * only then is the VMCS's blocking by NMI the guest's own
     * (vmx/vmx_events.c, vmx_guest_interruptibility). */
    uint8_t nmi_blocking_ours;
    uint32_t vmcs_cpu;           /* VMX: CPU index + 1 where the VMCS is
                                    active, 0 none (vmx/vmx_vmcs.c) */
    /* Read by the guest loops at fixed offsets (VCPU_ARCH_PHYS,
     * VCPU_GUEST_EXIT), so that their callers pass only the vcpu. */
    uint64_t arch_phys;          /* VMCB or VMCS, physical */
    /* backend: what its guest loop calls after each exit (chosen when the
     * vcpu is made, as it depends only on the vcpu's kind and the CPU) */
    int (*guest_exit)(struct vcpu *vcpu);
    /* VMX: RSP, RIP and RFLAGS as a child's guest loop left them, for
     * GET_REGS without making the VMCS current; valid until the VMCS is
     * next made current by anything else (vmcs_acquire clears the flag). */
    struct { uint64_t rsp, rip, rflags; } saved_regs;
    /* VMX: a child's CR2, which VMX neither saves nor loads: in the CPU
     * while `msrs_live` (hv/msr_switch.h), here otherwise. */
    uint64_t cr2;
    struct vm *vm;               /* never changes; the VM outlives its vcpus */
    unsigned slot;
    struct hv_run *run;          /* in control-domain memory; NULL for the
                                    control domain's own vcpus */
    /* backend */
    void *arch;                  /* VMCB or VMCS, mapped */
    uint32_t asid;               /* tag in use on `asid_cpu` */
    /* The CPU and its tag generation, compared as one word with the
     * CPU's asid_key (hv/tlb_tag.h). */
    union {
        struct {
            uint32_t asid_generation;
            int asid_cpu;        /* -1: none yet */
        };
        uint64_t asid_key;
    };
    uint64_t tlb_generation;     /* the VM's, when this vcpu last flushed */
    /* exit_count when the vcpu last headed into its guest after an exit
     * that went through its exit handler (hv/tlb_tag.h): while the two
     * are equal the vcpu may be in its guest, or in an exit path that
     * returns to it without passing tlb_tag_refresh; once exit_count has
     * moved on, its next entry reads the VM's tlb_generation first.
     * Written by the owning CPU, read by a CPU flushing the VM's
     * translations (hv/vm_flush.c). ~0 until the first entry. */
    uint64_t entered_at;
    int (*exit_handler)(struct vcpu *vcpu, const struct exit_record *exit);
    int stop_reason;             /* HV_EXIT_* that ended the current RUN */
    uint64_t exit_count;
    /* Exits a backend completes in place, the exit handler unseen (CPUID,
     * an x2APIC WRMSR, an xAPIC store): counted apart, because exit_count
     * moving tells a region change's flush that the vcpu left its guest
     * and takes a new TLB tag before it enters again (hv/tlb_tag.h,
     * hv/vm_flush.c), which those paths, re-entering at once, do not. The
     * run page's exit_count is the sum. */
    uint64_t inplace_exits;
    /* Odd while this vcpu's CPU looks a guest-physical address up in the
     * VM's nested tables in software (hv/nested_tables.h); read by the CPU
     * that frees emptied tables. */
    uint32_t nested_walk;
    uint64_t cr8;                /* VMX: the guest's task priority */
    struct vcpu_kept_msrs kept_msrs;
    bool msrs_live;              /* kept_msrs are in the CPU (msr_switch.h) */
    uint64_t spec_ctrl;          /* the guest's SPEC_CTRL (speculation.h) */
    uint64_t tsc_adjust;         /* the guest's IA32_TSC_ADJUST (vcpu_msrs.c) */
    uint8_t irq_vector;
    uint8_t nmi_window;          /* the backend's NMI window is on */
    uint8_t msr_exit_length;     /* the RDMSR/WRMSR of a user-space MSR exit */
    /* SVM shows no NMI blocking the hypervisor can read: it follows the
     * guest's own from the NMI it injects to the IRET that ends the
     * handler (svm/svm_events.c). iret_seen: the IRET was intercepted
     * at iret_rip and has not run yet; stepping: a single step after it
     * is under way, with the guest's DR6 from before it. */
    struct {
        uint8_t masked, iret_seen, stepping;
        uint64_t iret_rip, dr6;
    } svm_nmi;
    /* SVM: a #BP or #OF the hypervisor put in EVENTINJ (INTERRUPT's or
     * SET_VCPU_EVENTS' exception) and the RIP it went in at, to tell one
     * whose delivery an exit interrupted from the guest's own INT3 or
     * INTO, which runs again instead (svm/svm_exit.c). vector 0: none. */
    struct {
        uint8_t vector;
        uint64_t rip;
    } svm_trap;
    /* SVM: the guest set EFER.LME with paging off; the VMCB holds its
     * EFER without it until a CR0 write sets PG (svm/svm_lme.c). */
    uint8_t svm_lme_shadowed;
    struct vcpu_debug debug;
    /* Extended state (hv/fpu.h): the XSAVE image while the registers are
     * not live, and the guest's XCR0. */
    uint8_t *fpu_area;
    uint64_t xcr0;
    /* SET_CPUID's table (one page, hv/cpuid.h); NULL: the default one. */
    const struct cpuid_table *cpuid;
    /* The local APIC (hv/vcpu_lapic.h), used when the VM has HV_VM_LAPIC. */
    uint8_t sipi_vector;         /* with LAPIC_EVENT_SIPI */
    uint8_t tpr_threshold;       /* VMX's, as last written (vmx_apicv.c) */
    uint64_t timer_armed;        /* the LAPIC timer value the host timer has */
    struct vlapic lapic;
    struct vcpu_debugregs dr;
    /* The page of the last instruction decoded in a child without paging
     * (hv/insn_fetch.c): its linear -- there guest-physical -- address
     * (CODE_PAGE_NONE: none yet), and the page in the hypervisor's view;
     * valid while the VM's tlb_generation is code_generation. A page, not
     * one instruction: a guest's APIC writes come from a few places in
     * turn (the ICR write, the handler's EOI), mostly on one page of code. */
    uint64_t code_page;
    const uint8_t *code_bytes;
    uint64_t code_generation;
    /* The same for a child with paging on: the walks to the pages of its
     * last decoded instructions, with the entries they read
     * (mmu/code_walk.h). */
    struct code_walk code_walks[CODE_WALK_SLOTS];
    struct mmio_access mmio_pending; /* a decoded MMIO exit's (VCPU_MMIO_EXIT) */
} __attribute__((aligned(64)));
_Static_assert(offsetof(struct vcpu, gprs) == VCPU_GPRS, "vcpu layout");
_Static_assert(offsetof(struct vcpu, entry_events) + 8 <= VCPU_GPRS,
               "what other CPUs write stays on the first line");
_Static_assert(sizeof(((struct vcpu *)0)->run_blockers) == 4 &&
               sizeof(((struct vcpu *)0)->entry_events) == 8,
               "the words RUN tests cover their fields");
_Static_assert(offsetof(struct vcpu, launched) == VCPU_LAUNCHED, "vcpu layout");
_Static_assert(offsetof(struct vcpu, arch_phys) == VCPU_ARCH_PHYS, "vcpu layout");
_Static_assert(offsetof(struct vcpu, guest_exit) == VCPU_GUEST_EXIT, "vcpu layout");

/* The general registers of the ABI's hv_regs from the saved ones and back;
 * each backend adds RSP, RIP and RFLAGS from where it keeps them. Field by
 * field: the output may be control-domain memory, and a compound literal
 * would be built on the stack and copied. The two structures' types tell
 * the compiler they do not overlap, so it may hoist every load above the
 * stores and then need more registers than a caller has free (GET_REGS
 * pushed and popped up to six for it): the empty asm statements keep the
 * copy in groups of five. */
static inline void vcpu_gprs_to_regs(const struct guest_gprs *g, struct hv_regs *r)
{
    r->rax = g->rax;
    r->rbx = g->rbx;
    r->rcx = g->rcx;
    __asm__("" ::: "memory");
    r->rdx = g->rdx;
    r->rsi = g->rsi;
    r->rdi = g->rdi;
    __asm__("" ::: "memory");
    r->rbp = g->rbp;
    r->r8 = g->r8;
    r->r9 = g->r9;
    __asm__("" ::: "memory");
    r->r10 = g->r10;
    r->r11 = g->r11;
    r->r12 = g->r12;
    __asm__("" ::: "memory");
    r->r13 = g->r13;
    r->r14 = g->r14;
    r->r15 = g->r15;
}

/* The same grouping the other way (SET_REGS reads `r` straight from the
 * caller's memory, each field once): a compound literal made SET_REGS
 * load all fifteen first and push and spill for them. */
static inline void vcpu_regs_to_gprs(const struct hv_regs *r, struct guest_gprs *g)
{
    g->rax = r->rax;
    g->rbx = r->rbx;
    g->rcx = r->rcx;
    g->rdx = r->rdx;
    g->rsi = r->rsi;
    __asm__("" ::: "memory");
    g->rdi = r->rdi;
    g->rbp = r->rbp;
    g->r8 = r->r8;
    g->r9 = r->r9;
    g->r10 = r->r10;
    __asm__("" ::: "memory");
    g->r11 = r->r11;
    g->r12 = r->r12;
    g->r13 = r->r13;
    g->r14 = r->r14;
    g->r15 = r->r15;
}

/* The saved general register numbered `n` as instructions encode it (SDM
 * 2A table 2-2: RAX RCX RDX RBX RSP RBP RSI RDI R8-R15), or NULL for RSP,
 * which the backend keeps in the VMCB/VMCS. */
static inline uint64_t *vcpu_gpr(struct vcpu *vcpu, unsigned n)
{
    static const uint8_t index_of[16] = { 0, 2, 3, 1, 0xff, 6, 4, 5,
                                          7, 8, 9, 10, 11, 12, 13, 14 };
    n &= 15;
    return n == 4 ? NULL : &(&vcpu->gprs.rax)[index_of[n]];
}

/* The saved register a decoded access (hv/mmio_decode.h) names: AH, CH,
 * DH and BH are bits 15:8 of RAX, RCX, RDX and RBX; NULL for RSP. */
static inline uint64_t *vcpu_access_register(struct vcpu *vcpu, const struct mmio_access *access)
{
    return vcpu_gpr(vcpu, access->high_byte ? access->reg - 4u : access->reg);
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
static inline void vcpu_prepare_events(struct vcpu *vcpu, const struct hv_run *run)
{
    if (__builtin_expect(__atomic_load_n(&vcpu->entry_events, __ATOMIC_RELAXED) != 0, 0) ||
        __builtin_expect(__atomic_load_n(&run->request_interrupt_window, __ATOMIC_RELAXED), 0))
        vcpu_prepare_events_slow(vcpu);
}
/* Fills ready_for_interrupt_injection and if_flag of the run page. */
void vcpu_fill_interrupt_flags(struct vcpu *vcpu);
/* The interrupt-window exit: HV_EXIT_IRQ_WINDOW_OPEN or -1 to resume. */
int vcpu_interrupt_window_exit(struct vcpu *vcpu);
/* The NMI-window exit: -1 to resume (the entry injects the NMI). */
int vcpu_nmi_window_exit(struct vcpu *vcpu);
/* For the backends' set_guest_debug: the RFLAGS to enter with after
 * DEBUG_GUEST changed the control from `old`. */
uint64_t vcpu_debug_rflags(struct vcpu *vcpu, uint32_t old, uint64_t rflags);

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

/* Time in a child's RUN (hv/vcpu_wait.c). A CPU's time slice in TSC and
 * APIC timer ticks, computed once when it starts, so that RUN divides
 * nothing: */
void vcpu_slice_setup_cpu(struct percpu *cpu);
/* The host APIC timer armed for the first of the slice's end, the VMM's
 * deadline, the guest's timer: */
void vcpu_arm_host_timer(struct vcpu *vcpu, uint64_t now);
/* After a physical interrupt: HV_EXIT_INTR (kick, slice over),
 * HV_EXIT_DEADLINE, or -1 to resume. */
int vcpu_after_interrupt(struct vcpu *vcpu);
/* Sleeps while the vcpu is halted or waits for SIPI: -1 once it can run,
 * or the HV_EXIT_* that ends the RUN meanwhile (kick, deadline). */
int vcpu_wait(struct vcpu *vcpu);

/* Takes a pending physical interrupt on this CPU (briefly opening IF). */
void take_pending_interrupt(void);

#endif /* __ASSEMBLER__ */
#endif
