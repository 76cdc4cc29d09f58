/* The VMX backend's internal interface and the CPU features it found. */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include <stdbool.h>
#include <stdint.h>

struct vmx_features {
    uint32_t vmcs_revision;
    bool ept;
    bool vpid;
    uint32_t vpid_count;    /* tags hv/tlb_tag.h may hand out: 2 without VPID */
    bool unrestricted_guest;
    bool true_controls;
    uint8_t preemption_timer_shift; /* the timer ticks every 2^shift TSC ticks */
};

extern struct vmx_features vmx_features;

/* The control fields every VMCS gets, computed once from the capability
 * MSRs by vmx_probe (vmx_controls.h). */
struct vmx_controls {
    uint32_t pin, proc, proc2, exit, entry;
};
extern struct vmx_controls vmx_controls;

/* I/O bitmaps (A and B, two pages each set) and the MSR bitmap. */
extern uint64_t vmx_io_bitmap_child;
extern uint64_t vmx_io_bitmap_control;
extern uint64_t vmx_msr_bitmap;
int vmx_bitmaps_init(void);

struct vcpu;
struct vm;
struct event_state;
struct exit_record;
struct hv_regs;
struct hv_sregs;
typedef int (*exit_handler)(struct vcpu *vcpu, const struct exit_record *exit);

/* Where a VMCS lives (vmx_vmcs.c). vmcs_acquire makes the vcpu's VMCS
 * current if it is not -- moving it to this CPU if it was active on
 * another -- and returns whether it did, to pass to vmcs_release, which
 * then makes this CPU's control-domain VMCS current again; the vcpu's
 * stays active here. vmcs_forget clears it wherever it is, before it is
 * freed. */
bool vmcs_acquire(struct vcpu *vcpu);
void vmcs_release(struct vcpu *vcpu, bool acquired);
void vmcs_forget(struct vcpu *vcpu);
void vmx_vmcs_enable_cpu(void);
struct percpu;
/* Clears a VMCS another CPU asked this one to clear, if any. */
void vmx_vmcs_serve(struct percpu *cpu);
/* The preemption timer's count of one slice, once the CPU's slice is known. */
void vmx_slice_setup_cpu(const struct percpu *cpu);

uint64_t vmx_cr0_forced(void);
uint64_t vmx_cr4_forced(void);
/* The guest's CR0 and CR4 as it reads them; the VMCS must be current. */
uint64_t vmx_guest_cr0(void);
uint64_t vmx_current_guest_cr4(void);
uint64_t vmx_cr4_mask(void);
void vmx_reset_state(struct vcpu *vcpu);
/* Segment registers of the current VMCS (vmx_segments.c); `seg` is an
 * enum vmx_segment. */
struct hv_segment;
void vmx_write_segment(unsigned seg, const struct hv_segment *s);
void vmx_read_segment(unsigned seg, struct hv_segment *s);
void vmx_set_segment(unsigned seg, uint16_t selector, uint32_t ar, uint32_t limit,
                     uint64_t base);
bool vmx_cr_access(struct vcpu *vcpu);
uint64_t vmx_guest_cr4(struct vcpu *vcpu);

int vmx_vcpu_init(struct vcpu *vcpu);
void vmx_vcpu_free(struct vcpu *vcpu);
int vmx_run_loop(struct vcpu *vcpu, exit_handler on_exit);
struct handle_slot;
struct guest_gprs;
long vmx_call_run(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
void vmx_get_regs(struct vcpu *vcpu, struct hv_regs *regs);
void vmx_get_regs_op(struct vcpu *vcpu, struct hv_regs *regs);
long vmx_call_get_regs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call);
/* RUN, GET_REGS and SET_REGS as the exit path enters them (hv/hypercall.h). */
int vmx_pinned_run(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                   uint64_t state);
int vmx_pinned_get_regs(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                        uint64_t state);
int vmx_pinned_set_regs(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                        uint64_t state);
void vmx_set_regs(struct vcpu *vcpu, const struct hv_regs *regs);
void vmx_get_sregs(struct vcpu *vcpu, struct hv_sregs *sregs);
int vmx_set_sregs(struct vcpu *vcpu, const struct hv_sregs *sregs);
bool vmx_skip_instruction(struct vcpu *vcpu, const struct exit_record *exit);
void vmx_inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error,
                          uint32_t error_code);
void vmx_setup_control_vcpu(struct vcpu *vcpu, uint64_t entry, uint64_t cr3,
                            uint64_t rdi, uint64_t rsi);
/* EFER with LMA and the IA-32e-mode entry control made to agree. */
void vmx_write_efer(struct vcpu *vcpu, uint64_t value);
/* Interrupt injection and guest debugging (vmx_events.c). */
bool vmx_interrupt_allowed(struct vcpu *vcpu, bool *if_flag);
void vmx_inject_interrupt(struct vcpu *vcpu, uint8_t vector);
bool vmx_nmi_allowed(struct vcpu *vcpu);
void vmx_inject_nmi(struct vcpu *vcpu);
void vmx_set_nmi_window(struct vcpu *vcpu, bool on);
/* vmx_apicv.c: the APIC-virtualization controls and addresses of a new
 * VMCS (added to *proc and *proc2), and the backend's ops. */
void vmx_apicv_write_controls(struct vcpu *vcpu, uint32_t *proc, uint32_t *proc2);
void vmx_lapic_base_changed(struct vcpu *vcpu);
void vmx_set_tpr_threshold(struct vcpu *vcpu, int priority_class);
void vmx_get_event_state(struct vcpu *vcpu, struct event_state *state);
void vmx_set_event_state(struct vcpu *vcpu, const struct event_state *state);
void vmx_reset_vcpu(struct vcpu *vcpu);
void vmx_set_interrupt_window(struct vcpu *vcpu, bool on);
void vmx_set_guest_debug(struct vcpu *vcpu, uint32_t old_control);
void vmx_decode_debug(struct exit_record *exit);
void vmx_set_debugreg_exits(struct vcpu *vcpu, int exits);
void vmx_get_entry_dr67(struct vcpu *vcpu, uint64_t *dr6, uint64_t *dr7);
void vmx_set_entry_dr67(struct vcpu *vcpu, uint64_t dr6, uint64_t dr7);
/* A #DB exit (info1 the qualification, info2 the interruption
 * information) of the guest's own while its DR6 is kept: delivered to the
 * guest here. false if it was not that. */
bool vmx_reflect_debug(struct vcpu *vcpu, const struct exit_record *exit);
/* The vcpu's MSRs (vmx_msrs.c). */
bool vmx_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value);
bool vmx_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value);

#endif
