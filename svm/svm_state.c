/* Guest register state in the VMCB: the ABI's hv_regs / hv_sregs views, the
 * checks SET_SREGS makes before the CPU sees a state, and the control
 * domain's boot state. */
#include "abi/hv_errno.h"
#include "hv/cr_write.h"
#include "hv/fpu.h"
#include "hv/get_regs_call.h"
#include "hv/guest_memory.h"
#include "hv/hypercall.h"
#include "hv/msr.h"
#include "hv/set_regs_call.h"
#include "hv/sregs_check.h"
#include "hv/vcpu.h"
#include "hv/x86.h"
#include "svm/svm.h"
#include "svm/svm_tr.h"
#include "svm/vmcb_layout.h"


static struct vmcb *vmcb_of(struct vcpu *vcpu) { return vcpu->arch; }

static inline struct vcpu *get_regs(struct vcpu *vcpu, struct hv_regs *r)
{
    vcpu_gprs_to_regs(&vcpu->gprs, r);
    /* The VMCB's address is loaded after the copy, not kept through it:
     * a register fewer for GET_REGS, which then saves none. */
    __asm__("" ::: "memory");
    const struct vmcb_save *s = &vmcb_of(vcpu)->save;
    r->rsp = s->rsp;
    r->rip = s->rip;
    r->rflags = vcpu_rflags_to_abi(vcpu, s->rflags);
    return vcpu;
}

void svm_get_regs(struct vcpu *vcpu, struct hv_regs *r)
{
    get_regs(vcpu, r);
}

static inline __attribute__((always_inline)) long
call_get_regs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    return vcpu_get_regs_call_with(cd, slot->object, call->rsi, get_regs);
}

long svm_call_get_regs(struct vm *cd, struct handle_slot *slot, const struct guest_gprs *call)
{
    return call_get_regs(cd, slot, call);
}

int svm_pinned_get_regs(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                        uint64_t state)
{
    return hypercall_pinned_with(control, rax, slot, state, call_get_regs);
}

/* What a state set abandons (abi/README.md, SET_REGS and SET_SREGS), as
 * on VMX: an event whose delivery an exit interrupted or that the
 * hypervisor was about to inject, and the STI or MOV SS shadow. SVM keeps
 * no pending debug trap or activity state in the VMCB (a single step
 * over an intercepted instruction is not delivered at all). A queued
 * INTERRUPT lives in the vcpu and survives. */
static void abandon_pending_events(struct vmcb *vmcb)
{
    vmcb->control.event_inject = 0;
    vmcb->control.int_state &= ~INT_STATE_SHADOW;
}

static inline __attribute__((always_inline)) void set_regs(struct vcpu *vcpu,
                                                            const struct hv_regs *r)
{
    struct vmcb_save *s = &vmcb_of(vcpu)->save;
    vcpu_regs_to_gprs(r, &vcpu->gprs);
    s->rsp = r->rsp;
    s->rip = r->rip;
    s->rflags = vcpu_rflags_from_abi(vcpu, (r->rflags & RFLAGS_SETTABLE) | 0x2);
    vcpu->pending_in_size = 0; /* a new RIP abandons an unfinished IN */
    abandon_pending_events(vmcb_of(vcpu));
}

void svm_set_regs(struct vcpu *vcpu, const struct hv_regs *r)
{
    set_regs(vcpu, r);
}

PINNED_SET_REGS(svm_pinned_set_regs, set_regs)

/* A code or data segment in use reads as accessed: the CPU sets the bit
 * when it loads one, and the descriptor cache keeps it set (as KVM's
 * svm_get_segment says, for VM entry's sake), but QEMU's TCG leaves it
 * clear in the VMCB for a CS loaded by a far jump, and SET_SREGS (VM
 * entry's rule) would then refuse what GET_SREGS gave. */
static void segment_to_abi(const struct vmcb_segment *v, struct hv_segment *a)
{
    uint16_t attr = v->attrib;
    bool loaded_code_or_data = (attr & (1u << 4)) && (attr & (1u << 7));
    *a = (struct hv_segment){
        .base = v->base,
        .limit = v->limit,
        .selector = v->selector,
        .type = (attr & 0xf) | (loaded_code_or_data ? 1 : 0),
        .s = (attr >> 4) & 1,
        .dpl = (attr >> 5) & 3,
        .present = (attr >> 7) & 1,
        .avl = (attr >> 8) & 1,
        .l = (attr >> 9) & 1,
        .db = (attr >> 10) & 1,
        .g = (attr >> 11) & 1,
        .unusable = !((attr >> 7) & 1),
    };
}

static void segment_from_abi(const struct hv_segment *a, struct vmcb_segment *v)
{
    v->base = a->base;
    v->limit = a->limit;
    v->selector = a->selector;
    v->attrib = a->unusable ? 0
                            : (uint16_t)((a->type & 0xf) | (a->s & 1) << 4 |
                                         (a->dpl & 3) << 5 | (a->present & 1) << 7 |
                                         (a->avl & 1) << 8 | (a->l & 1) << 9 |
                                         (a->db & 1) << 10 | (a->g & 1) << 11);
}

void svm_get_sregs(struct vcpu *vcpu, struct hv_sregs *r)
{
    const struct vmcb *vmcb = vmcb_of(vcpu);
    const struct vmcb_save *s = &vmcb->save;
    segment_to_abi(&s->cs, &r->cs);
    segment_to_abi(&s->ds, &r->ds);
    segment_to_abi(&s->es, &r->es);
    segment_to_abi(&s->fs, &r->fs);
    segment_to_abi(&s->gs, &r->gs);
    segment_to_abi(&s->ss, &r->ss);
    r->ss.dpl = s->cpl & 3; /* SS.DPL is the CPL, kept with a null SS too */
    segment_to_abi(&s->tr, &r->tr);
    r->tr.type = svm_tr_attr_from_vmcb(s->tr.attrib) & 0xf;
    segment_to_abi(&s->ldtr, &r->ldt);
    r->gdt = (struct hv_dtable){ .base = s->gdtr.base, .limit = (uint16_t)s->gdtr.limit };
    r->idt = (struct hv_dtable){ .base = s->idtr.base, .limit = (uint16_t)s->idtr.limit };
    r->cr0 = s->cr0;
    r->cr2 = s->cr2;
    r->cr3 = s->cr3;
    r->cr4 = s->cr4;
    r->cr8 = vmcb->control.int_control & 0xf;
    r->efer = svm_guest_efer(vcpu);
    r->apic_base = 0xfee00000ull | APIC_BASE_ENABLE | (vcpu->slot == 0 ? APIC_BASE_BSP : 0);
}

/* The VMCB holds the guest's CR4 as it is (no bit is the host's). */
uint64_t svm_guest_cr4(struct vcpu *vcpu) { return vmcb_of(vcpu)->save.cr4; }

/* Checks first, then writes: a refused state changes nothing. Under
 * nested paging an AMD CPU does not cache a PAE guest's page-directory
 * pointers: it reads them from guest memory at each walk, and reports a
 * reserved bit as a #PF then. SET_SREGS refuses what it reserves, as VMX
 * refuses what Intel reserves; the accessed bit the CPU itself sets there
 * is no reason to refuse a state (hv/sregs_check.h). */
int svm_set_sregs(struct vcpu *vcpu, const struct hv_sregs *r)
{
    int err = sregs_check(r, cpu_limits());
    if (err)
        return err;
    if (sregs_pae_paging(r)) {
        uint64_t pdpte[4];
        vcpu_read_pdptes(vcpu, r->cr3, pdpte);
        if (!pae_pdptes_valid(pdpte, cpu_limits()->physical_bits, PAE_PDPTE_RESERVED_SVM))
            return -HV_EINVAL;
    }
    struct vmcb *vmcb = vmcb_of(vcpu);
    struct vmcb_save *s = &vmcb->save;
    segment_from_abi(&r->cs, &s->cs);
    segment_from_abi(&r->ds, &s->ds);
    segment_from_abi(&r->es, &s->es);
    segment_from_abi(&r->fs, &s->fs);
    segment_from_abi(&r->gs, &s->gs);
    segment_from_abi(&r->ss, &s->ss);
    /* A null SS keeps the CPL in its DPL, as on VMX: the VMCB's CPL field
     * is what hardware uses, but an emulator (QEMU) takes the CPL from
     * SS's attributes when VMRUN loads them. */
    if (r->ss.unusable)
        s->ss.attrib = (uint16_t)((r->ss.dpl & 3) << 5);
    segment_from_abi(&r->tr, &s->tr);
    s->tr.attrib = svm_tr_attr_to_vmcb(s->tr.attrib);
    segment_from_abi(&r->ldt, &s->ldtr);
    s->gdtr.base = r->gdt.base;
    s->gdtr.limit = r->gdt.limit;
    s->idtr.base = r->idt.base;
    s->idtr.limit = r->idt.limit;
    s->cpl = r->ss.dpl & 3;
    s->cr0 = r->cr0;
    s->cr2 = r->cr2;
    s->cr3 = r->cr3;
    s->cr4 = r->cr4;
    svm_write_efer(vcpu, r->efer);
    vmcb->control.int_control = (vmcb->control.int_control & ~0xfull) | r->cr8;
    /* A new state abandons any event that was being delivered (the one
     * that shut the vcpu down, say), and ends the guest's NMI handler,
     * as on VMX. */
    abandon_pending_events(vmcb);
    svm_nmi_forget(vcpu);
    return 0;
}

void svm_setup_control_vcpu(struct vcpu *vcpu, uint64_t entry, uint64_t cr3,
                            uint64_t rdi, uint64_t rsi)
{
    struct vmcb_save *s = &vmcb_of(vcpu)->save;
    const uint16_t code64 = 0xb | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L | SEG_ATTR_G;
    const uint16_t data = 0x3 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G;
    s->cs = (struct vmcb_segment){ 0x08, code64, 0xffffffff, 0 };
    s->ds = s->es = s->ss = (struct vmcb_segment){ 0x10, data, 0xffffffff, 0 };
    s->fs = s->gs = (struct vmcb_segment){ 0, data, 0xffffffff, 0 };
    s->tr = (struct vmcb_segment){ 0, svm_tr_attr_to_vmcb(0xb | SEG_ATTR_P), 0x67, 0 };
    s->gdtr = (struct vmcb_segment){ 0, 0, 0, 0 };
    s->idtr = (struct vmcb_segment){ 0, 0, 0, 0 };
    s->cr0 = 0x80010033;           /* PG WP NE ET MP PE */
    s->cr3 = cr3;
    /* MCE: a machine check while it runs is an #MC the hypervisor
     * intercepts (hv/machine_check.h), never a shutdown. */
    s->cr4 = CR4_PAE | fpu_control_cr4() | (cpu_limits()->cr4_allowed & CR4_MCE);
    s->efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME;
    s->rip = entry;
    s->rsp = 0;
    s->rflags = 0x2;
    vcpu->gprs.rdi = rdi;
    vcpu->gprs.rsi = rsi;
}
