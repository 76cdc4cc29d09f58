/* The SVM backend's internal interface and the CPU features it found. */
#ifndef SVM_SVM_H
#define SVM_SVM_H

#include <stdbool.h>
#include <stdint.h>

/* CPUID Fn8000_000A EDX (AMD APM vol. 3, E.4.9). */
#define SVM_CPUID_NP              (1u << 0)
#define SVM_CPUID_NRIPS           (1u << 3)
#define SVM_CPUID_VMCB_CLEAN      (1u << 5)
#define SVM_CPUID_FLUSH_BY_ASID   (1u << 6)
#define SVM_CPUID_DECODE_ASSISTS  (1u << 7)
#define SVM_CPUID_V_SPEC_CTRL     (1u << 20)

struct svm_features {
    uint32_t asid_count;
    bool nested_paging;
    bool next_rip;
    bool decode_assists;
    bool vmcb_clean;
    bool flush_by_asid;
    bool v_spec_ctrl;       /* the VMCB switches SPEC_CTRL */
};

extern struct svm_features svm_features;

/* Permission maps shared by every VMCB (svm_bitmaps.c). */
extern uint64_t svm_iopm_child;
extern uint64_t svm_iopm_control;
extern uint64_t svm_msrpm;
int svm_bitmaps_init(void);


/* vcpu operations (svm_vcpu.c), wired into svm_backend. */
struct vcpu;
struct vm;
struct exit_record;
struct hv_regs;
struct hv_sregs;
struct event_state;
int svm_vcpu_init(struct vcpu *vcpu);
void svm_vcpu_free(struct vcpu *vcpu);
typedef int (*exit_handler)(struct vcpu *vcpu, const struct exit_record *exit);
int svm_run_loop(struct vcpu *vcpu, exit_handler on_exit);
struct handle_slot;
struct guest_gprs;
long svm_call_run(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
void svm_get_regs(struct vcpu *vcpu, struct hv_regs *regs);
long svm_call_get_regs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
/* RUN, GET_REGS and SET_REGS as the exit path enters them (hv/hypercall.h). */
int svm_pinned_run(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                   uint64_t state);
int svm_pinned_get_regs(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                        uint64_t state);
int svm_pinned_set_regs(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                        uint64_t state);
void svm_set_regs(struct vcpu *vcpu, const struct hv_regs *regs);
void svm_get_sregs(struct vcpu *vcpu, struct hv_sregs *sregs);
int svm_set_sregs(struct vcpu *vcpu, const struct hv_sregs *sregs);
bool svm_skip_instruction(struct vcpu *vcpu, const struct exit_record *exit);
/* svm_skip_instruction by a length: RIP past the instruction, no STI/MOV
 * SS shadow, and a single step's trap (hv/single_step.h). */
bool svm_complete_instruction(struct vcpu *vcpu, uint64_t length);
void svm_inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error,
                          uint32_t error_code);
/* The next VMRUN of the vcpu flushes the TLB as `tlb_control` says
 * (TLB_CONTROL_*; a flush already asked for stays, but for
 * TLB_CONTROL_FLUSH_ALL, which covers any); the exit after it puts
 * TLB_CONTROL_NONE back (svm_exit.c), so that no exit path writes the
 * field when nothing was asked. */
void svm_flush_at_next_entry(struct vcpu *vcpu, uint8_t tlb_control);
void svm_setup_control_vcpu(struct vcpu *vcpu, uint64_t entry, uint64_t cr3,
                            uint64_t rdi, uint64_t rsi);
/* EFER as the guest sees it and writes it; LME with paging off is kept out
 * of the VMCB, and the CR0 write that sets PG puts it there (svm_lme.c). */
void svm_write_efer(struct vcpu *vcpu, uint64_t value);
uint64_t svm_guest_efer(struct vcpu *vcpu);
void svm_cr0_write(struct vcpu *vcpu);
uint64_t svm_guest_cr4(struct vcpu *vcpu);
/* An intercepted MOV to CR4, carried out or refused with #GP (svm_cr_access.c). */
void svm_cr4_write(struct vcpu *vcpu);
void svm_cr8_write(struct vcpu *vcpu);
/* A VM with local APICs: the intercepted MOV from CR8 (svm_cr8.c). */
void svm_cr8_read(struct vcpu *vcpu);
/* The MOV to a control register at RIP (svm_cr_access.c): its length, or
 * 0 if RIP no longer holds one; `intercepted` is the CR whose intercept
 * brought it, taken when the decode assist names the register. */
unsigned svm_mov_to_cr_source(struct vcpu *vcpu, unsigned intercepted, unsigned *cr,
                              unsigned *gpr, bool *locked);
/* The MOV from a control register at RIP alike, *gpr its destination. */
unsigned svm_mov_from_cr_destination(struct vcpu *vcpu, unsigned intercepted, unsigned *cr,
                                     unsigned *gpr, bool *locked);
/* Interrupt injection and guest debugging (svm_events.c). */
bool svm_interrupt_allowed(struct vcpu *vcpu, bool *if_flag);
void svm_inject_interrupt(struct vcpu *vcpu, uint8_t vector);
bool svm_nmi_allowed(struct vcpu *vcpu);
void svm_inject_nmi(struct vcpu *vcpu);
void svm_set_nmi_window(struct vcpu *vcpu, bool on);
void svm_nmi_iret(struct vcpu *vcpu);
bool svm_nmi_step_done(struct vcpu *vcpu, bool debug_exit);
/* The faults an IRET can raise (SDM 2A, IRET: #NP, #SS, #GP, #PF, #AC),
 * intercepted while the hypervisor steps over one, each with an error
 * code. */
#define SVM_IRET_FAULTS (1u << 11 | 1u << 12 | 1u << 13 | 1u << 14 | 1u << 17)
void svm_nmi_forget(struct vcpu *vcpu);
/* Notes a #BP or #OF the hypervisor puts in EVENTINJ, at the guest's RIP
 * now (struct vcpu's svm_trap); any other vector clears the note. */
void svm_note_trap(struct vcpu *vcpu, uint8_t vector);
void svm_get_event_state(struct vcpu *vcpu, struct event_state *state);
void svm_set_event_state(struct vcpu *vcpu, const struct event_state *state);
void svm_reset_vcpu(struct vcpu *vcpu);
void svm_set_interrupt_window(struct vcpu *vcpu, bool on);
void svm_set_guest_debug(struct vcpu *vcpu, uint32_t old_control);
void svm_set_debugreg_exits(struct vcpu *vcpu, int exits);
void svm_get_entry_dr67(struct vcpu *vcpu, uint64_t *dr6, uint64_t *dr7);
void svm_set_entry_dr67(struct vcpu *vcpu, uint64_t dr6, uint64_t dr7);
void svm_decode_debug(struct vcpu *vcpu, struct exit_record *exit);
/* The vcpu's MSRs (svm_msrs.c). */
bool svm_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value);
bool svm_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value);

#endif
