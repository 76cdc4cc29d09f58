/* The hardware virtualization backend behind one ops table: svm/ and vmx/
 * each provide a `struct virt_backend`; common code never tests which one it
 * has (the shape of Linux's kvm_x86_ops). */
#ifndef HV_VIRT_H
#define HV_VIRT_H

#include <stddef.h>

#include "abi/hv_abi.h"
#include "hv/exit.h"
#include "hv/percpu.h"

struct vcpu;
struct vm;
struct insn_site;
struct handle_slot;
struct guest_gprs;

/* What GET/SET_VCPU_EVENTS see of the backend (hv/hypercall_events.c):
 * the event the next entry delivers, the STI/MOV SS shadow and the
 * guest's own NMI blocking. */
enum event_type {
    EVENT_NONE = 0,
    EVENT_EXTERNAL,          /* external interrupt */
    EVENT_NMI,
    EVENT_EXCEPTION,         /* hardware exception */
    EVENT_SOFT_INTERRUPT,    /* INT n whose delivery an exit interrupted */
    EVENT_SOFT_EXCEPTION,    /* INT3, INTO, INT1 (VMX only) likewise */
};
#define EVENT_SHADOW_STI    1u
#define EVENT_SHADOW_MOV_SS 2u
struct event_state {
    uint8_t type;            /* enum event_type */
    uint8_t vector;
    bool has_error;
    uint32_t error_code;
    uint8_t shadow;          /* EVENT_SHADOW_*, 0 none */
    bool nmi_masked;         /* in its NMI handler: NMIs wait for its IRET */
};

/* Instructions a guest can use only where the backend lets it (the
 * guest_instructions op); CPUID shows them only then (hv/cpuid_supported.c). */
#define VIRT_GUEST_INVPCID (1u << 0) /* INVPCID executes in the guest */
#define VIRT_GUEST_RDTSCP  (1u << 1) /* RDTSCP and RDPID read the guest's TSC_AUX */

/* Handles one exit: 0 to resume the guest, anything else to stop. */
typedef int (*exit_handler)(struct vcpu *vcpu, const struct exit_record *exit);

struct virt_backend {
    const char *name;
    /* Checks the calling CPU. On failure returns a negative error and writes
     * a message for the user (what is missing and how to fix it) to `why`. */
    int (*probe)(char *why, size_t why_size);
    /* Turns virtualization on for the calling CPU. */
    int (*enable_cpu)(struct percpu *cpu, char *why, size_t why_size);
    /* One line of the features in use, for the boot log. */
    void (*describe)(char *buf, size_t size);
    uint32_t abi_backend;           /* HV_BACKEND_* */
    /* Second-level page tables (NPT or EPT): one page-table builder, two
     * entry formats (mmu/page_table.h). Entry bit 0 must mean present. */
    uint64_t nested_table_flags;    /* every non-leaf entry */
    uint64_t nested_leaf_read;      /* leaf of read-only guest memory */
    uint64_t nested_leaf_write;     /* added for writable memory */
    /* The kept MSRs (enum kept_msr, as KEPT_BITs) that entry and exit do
     * not switch on this backend: hv/msr_switch.c does it at RUN. */
    uint32_t software_switched_msrs;

    /* Allocates the VMCB/VMCS and puts the vcpu in the x86 reset state
     * (or, for the control domain, the state it boots in). */
    int (*vcpu_init)(struct vcpu *vcpu);
    void (*vcpu_free)(struct vcpu *vcpu);
    /* Enters the guest on the calling CPU and, after each exit, decodes it
     * and calls on_exit; re-enters while on_exit returns 0 and returns its
     * value otherwise. Physical interrupts stay pending for
     * take_pending_interrupt(). The hottest exits are completed before
     * anything is decoded, with the common code's fast paths: a control
     * domain's unprefixed hypercall (control_domain_hypercall), a child's
     * CPUID (cpuid_answer_static, cpuid_emulate) and a child's IN or OUT
     * (vcpu_port_io, vcpu_stop). */
    int (*run_loop)(struct vcpu *vcpu, exit_handler on_exit);
    /* The hypercall handlers of RUN of a child vcpu (hv/vcpu_run.h:
     * vcpu_run_with, with the backend's run loop inlined) and of GET_REGS
     * into the caller's memory (hv/get_regs_call.h:
     * vcpu_get_regs_call_with, with the backend's get_regs inlined): the
     * hypercall table points at them once the backend is chosen
     * (hypercall_bind_backend), no indirection between. */
    long (*call_run)(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
    void (*get_regs)(struct vcpu *vcpu, struct hv_regs *regs);
    long (*call_get_regs)(struct vm *cd, struct handle_slot *slot,
                          const struct guest_gprs *call);
    /* The same two and SET_REGS as the exit path enters them
     * (hv/hypercall.h's call_entry): the pin, the handler inlined, the
     * result's store and the unpin in one function. */
    int (*pinned_run)(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                      uint64_t state);
    int (*pinned_get_regs)(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                           uint64_t state);
    int (*pinned_set_regs)(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                           uint64_t state);
    void (*set_regs)(struct vcpu *vcpu, const struct hv_regs *regs);
    void (*get_sregs)(struct vcpu *vcpu, struct hv_sregs *sregs);
    int (*set_sregs)(struct vcpu *vcpu, const struct hv_sregs *sregs);
    /* Moves RIP past the instruction that exited, the hypervisor having
     * carried it out, and gives RFLAGS.TF its trap (hv/single_step.h).
     * True when TF was set: a trap follows the instruction. */
    bool (*skip_instruction)(struct vcpu *vcpu, const struct exit_record *exit);
    /* Injects a hardware exception on the next entry (e.g. #GP). */
    void (*inject_exception)(struct vcpu *vcpu, uint8_t vector,
                             bool has_error, uint32_t error_code);
    /* External interrupts (hv/vcpu_events.c decides, these act). Whether
     * an interrupt injected now would be taken at entry: RFLAGS.IF set, no
     * STI/MOV SS shadow, no event already being injected; *if_flag gets
     * RFLAGS.IF. */
    bool (*interrupt_allowed)(struct vcpu *vcpu, bool *if_flag);
    /* Injects external interrupt `vector` on the next entry. */
    void (*inject_interrupt)(struct vcpu *vcpu, uint8_t vector);
    /* NMIs: whether one may be injected now (the guest is not inside an
     * NMI handler, no event being injected), and the injection. */
    bool (*nmi_allowed)(struct vcpu *vcpu);
    void (*inject_nmi)(struct vcpu *vcpu);
    /* Exit (EXIT_NMI_WINDOW) as soon as an NMI could be injected, once
     * the guest's NMI blocking ends (its IRET): VMX's NMI-window exiting,
     * SVM's IRET intercept. */
    void (*set_nmi_window)(struct vcpu *vcpu, bool on);
    /* GET/SET_VCPU_EVENTS' view: set takes a state the caller checked
     * (at most one event, a shadow only where entry allows it). */
    void (*get_event_state)(struct vcpu *vcpu, struct event_state *state);
    void (*set_event_state)(struct vcpu *vcpu, const struct event_state *state);
    /* Puts the vcpu in the state INIT gives (SDM 9.1.1): as RESET except
     * that the caller keeps the extended state and MSRs it switches. */
    void (*reset_vcpu)(struct vcpu *vcpu);
    /* Exit (EXIT_INTERRUPT_WINDOW) as soon as the guest can take one. */
    void (*set_interrupt_window)(struct vcpu *vcpu, bool on);
    /* Only in VMs with an APIC-access page (virt_apic_access_page; NULL
     * in a backend that never makes one). The vcpu's IA32_APIC_BASE
     * changed: the CPU virtualizes its xAPIC accesses only while it is
     * in xAPIC mode at the default base. And the TPR threshold: a guest
     * TPR write below the class exits (vlapic_tpr_threshold). */
    void (*lapic_base_changed)(struct vcpu *vcpu);
    void (*set_tpr_threshold)(struct vcpu *vcpu, int priority_class);
    /* Applies DEBUG_GUEST's RFLAGS.TF for a single step (the guest's own
     * TF kept in vcpu->debug.guest_tf) after the control changed from
     * old_control. */
    void (*set_guest_debug)(struct vcpu *vcpu, uint32_t old_control);
    /* Debug registers (hv/debugregs.c decides, these act). Which guest
     * accesses exit: DEBUGREG_EXITS_KEPT (MOV DR that would reach DR0-DR3
     * or change DR7; on VMX also #DB, which would write the CPU's DR6),
     * DEBUGREG_EXITS_LIVE (none), DEBUGREG_EXITS_DEBUG (every MOV DR, and
     * #DB for DEBUG_GUEST). */
    void (*set_debugreg_exits)(struct vcpu *vcpu, int exits);
    /* The DR6 and DR7 the guest enters with, in the VMCB/VMCS. VMX entry
     * does not load DR6: there get returns vcpu->dr.dr6 and set leaves it. */
    void (*get_entry_dr67)(struct vcpu *vcpu, uint64_t *dr6, uint64_t *dr7);
    void (*set_entry_dr67)(struct vcpu *vcpu, uint64_t dr6, uint64_t dr7);
    bool entry_switches_dr6;        /* VMRUN/#VMEXIT do (SVM); VMX does not */
    /* Sets the vcpu up as a control-domain vcpu starting in 64-bit mode. */
    void (*setup_control_vcpu)(struct vcpu *vcpu, uint64_t entry,
                               uint64_t cr3, uint64_t rdi, uint64_t rsi);
    /* One MSR of the vcpu, for GET/SET_MSRS and the guest's RDMSR/WRMSR
     * (hv/vcpu_msrs.c lists the MSRs and checks each value first; it keeps
     * the kept MSRs and the speculation controls itself). false:
     * the backend does not hold that MSR, or (set) the vcpu's state refuses
     * the value, as EFER.LME changed while paging is on. */
    bool (*get_msr)(struct vcpu *vcpu, uint32_t index, uint64_t *value);
    bool (*set_msr)(struct vcpu *vcpu, uint32_t index, uint64_t value);
    /* The guest's CR4 as the guest sees it, for the CPUID bits that follow
     * it (OSXSAVE, OSPKE). Called on the exit path, VMCS current. */
    uint64_t (*guest_cr4)(struct vcpu *vcpu);
    /* Where the instruction at the guest's RIP is (hv/insn_fetch.h): RIP,
     * CS base and L, and the paging registers as the guest sees them,
     * read from the VMCB/VMCS alone, for fetching the instruction of an
     * MMIO exit or an emulated one. */
    void (*insn_site)(struct vcpu *vcpu, struct insn_site *site);
    /* VIRT_GUEST_* bits of this CPU and backend; after probe. */
    uint32_t (*guest_instructions)(void);
};

extern const struct virt_backend svm_backend;
extern const struct virt_backend vmx_backend;

/* The backend chosen at boot (NULL before virt_select succeeds). */
extern const struct virt_backend *virt;

/* Picks the backend for this machine from CPUID. Returns 0, or a negative
 * error after printing why the machine cannot run the hypervisor. */
int virt_select(void);
/* The command line's apicv=off: a backend uses no APIC virtualization of
 * the CPU's (for comparison and as a way around a CPU's erratum); read by
 * the backend's probe. */
extern bool virt_apic_virtualization_allowed;
/* Set by the backend's probe: VMs with local APICs get an APIC-access
 * page in their nested tables (VMX's APIC-register virtualization). */
extern bool virt_apic_access_page;
/* Enables the chosen backend on the calling CPU, logging the result. */
int virt_enable_this_cpu(void);

#endif
