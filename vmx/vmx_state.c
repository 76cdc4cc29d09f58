/* Guest register state in the VMCS: the ABI's hv_regs / hv_sregs views,
 * the reset and control-domain boot states, EFER, and the CR0/CR4
 * bits the CPU forces on in VMX operation, which the guest must not see. */
#include "abi/hv_errno.h"
#include "hv/cr_write.h"
#include "hv/fpu.h"
#include "hv/guest_memory.h"
#include "hv/hypercall.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/set_regs_call.h"
#include "hv/sregs_check.h"
#include "hv/vcpu.h"
#include "hv/vcpu_lapic.h"
#include "hv/x86.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_exit.h"
#include "vmx/vmx_instructions.h"

#define DEFAULT_PAT 0x0007040600070406ull
#define CR4_VMXE (1ull << 13)
#define VECTOR_GP 13

/* Bits IA32_VMX_CR0/CR4_FIXED0 force on; with unrestricted guest, PE and PG
 * are the guest's own (SDM 3C 26.3.1.1). */
uint64_t vmx_cr0_forced(void)
{
    uint64_t forced = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    if (vmx_features.unrestricted_guest)
        forced &= ~(CR0_PE | CR0_PG);
    return forced;
}

uint64_t vmx_cr4_forced(void) { return rdmsr(MSR_IA32_VMX_CR4_FIXED0); }

/* The CR4 bits we own: the forced ones, and every bit the guest may not
 * set (those SET_SREGS refuses too), so that a write setting one exits and
 * gets #GP (vmx_cr_access) as on a CPU without the feature; the guest
 * reads its own value of them from the shadow. */
uint64_t vmx_cr4_mask(void) { return vmx_cr4_forced() | ~cpu_limits()->cr4_allowed; }

static void guest_write_cr0(uint64_t value)
{
    vmwrite(VMCS_CR0_SHADOW, value);
    vmwrite(VMCS_GUEST_CR0, value | vmx_cr0_forced());
}

static void guest_write_cr4(uint64_t value)
{
    vmwrite(VMCS_CR4_SHADOW, value);
    vmwrite(VMCS_GUEST_CR4, value | vmx_cr4_forced());
}

uint64_t vmx_guest_cr0(void)
{
    uint64_t mask = vmread(VMCS_CR0_MASK);
    return (vmread(VMCS_GUEST_CR0) & ~mask) | (vmread(VMCS_CR0_SHADOW) & mask);
}

uint64_t vmx_current_guest_cr4(void)
{
    uint64_t mask = vmread(VMCS_CR4_MASK);
    return (vmread(VMCS_GUEST_CR4) & ~mask) | (vmread(VMCS_CR4_SHADOW) & mask);
}

/* The backend op: the same for any vcpu, its VMCS made current. */
uint64_t vmx_guest_cr4(struct vcpu *vcpu)
{
    bool acquired = vmcs_acquire(vcpu);
    uint64_t cr4 = vmx_current_guest_cr4();
    vmcs_release(vcpu, acquired);
    return cr4;
}

/* EFER and the IA-32e-mode entry control must agree (SDM 3C 26.2.4). */
static void write_efer(uint64_t efer, uint64_t cr0)
{
    efer &= ~EFER_LMA;
    if ((efer & EFER_LME) && (cr0 & CR0_PG))
        efer |= EFER_LMA;
    vmwrite(VMCS_GUEST_EFER, efer);
    uint64_t entry = vmread(VMCS_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE_GUEST;
    vmwrite(VMCS_ENTRY_CONTROLS, entry | (efer & EFER_LMA ? ENTRY_IA32E_MODE_GUEST : 0));
}

static void common_guest_state(void)
{
    vmwrite(VMCS_GUEST_DR7, 0x400);
    vmwrite(VMCS_GUEST_RFLAGS, 0x2);
    vmwrite(VMCS_GUEST_PAT, DEFAULT_PAT);
    vmwrite(VMCS_GUEST_DEBUGCTL, 0);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmwrite(VMCS_GUEST_ACTIVITY, 0);
    vmwrite(VMCS_GUEST_PENDING_DEBUG, 0);
    vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
    vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
    vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
}

/* The architectural state after RESET (SDM 3A 9.1.1), on the current VMCS. */
/* VMX leaves CR2 to software: in the CPU while the vcpu's MSRs are
 * (hv/msr_switch.h), inside a child's RUN (an INIT or SIPI taken there)
 * and always for the control domain's vcpu, which only its own CPU
 * reads; in the vcpu otherwise. */
static uint64_t get_cr2(const struct vcpu *vcpu)
{
    return vcpu->msrs_live ? read_cr2() : vcpu->cr2;
}

static void set_cr2(struct vcpu *vcpu, uint64_t value)
{
    if (vcpu->msrs_live)
        write_cr2(value);
    else
        vcpu->cr2 = value;
}

void vmx_reset_state(struct vcpu *vcpu)
{
    for (enum vmx_segment seg = SEG_ES; seg <= SEG_GS; seg++)
        vmx_set_segment(seg, 0, 0x93, 0xffff, 0);
    vmx_set_segment(SEG_CS, 0xf000, 0x9b, 0xffff, 0xffff0000);
    vmx_set_segment(SEG_LDTR, 0, 0x82, 0xffff, 0);
    vmx_set_segment(SEG_TR, 0, 0x8b, 0xffff, 0);
    vmwrite(VMCS_GUEST_GDTR_BASE, 0);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
    vmwrite(VMCS_GUEST_IDTR_BASE, 0);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);
    guest_write_cr0(0x60000010);
    guest_write_cr4(0);
    set_cr2(vcpu, 0);
    vmwrite(VMCS_GUEST_CR3, 0);
    write_efer(0, 0);
    vmwrite(VMCS_GUEST_RIP, 0xfff0);
    vmwrite(VMCS_GUEST_RSP, 0);
    common_guest_state();
}

void vmx_setup_control_vcpu(struct vcpu *vcpu, uint64_t entry, uint64_t cr3,
                            uint64_t rdi, uint64_t rsi)
{
    bool acquired = vmcs_acquire(vcpu);
    const uint32_t code64 = 0xa09b, data = 0xc093;
    vmx_set_segment(SEG_CS, 0x08, code64, 0xffffffff, 0);
    vmx_set_segment(SEG_DS, 0x10, data, 0xffffffff, 0);
    vmx_set_segment(SEG_ES, 0x10, data, 0xffffffff, 0);
    vmx_set_segment(SEG_SS, 0x10, data, 0xffffffff, 0);
    vmx_set_segment(SEG_FS, 0, data, 0xffffffff, 0);
    vmx_set_segment(SEG_GS, 0, data, 0xffffffff, 0);
    vmx_set_segment(SEG_LDTR, 0, AR_UNUSABLE, 0, 0);
    vmx_set_segment(SEG_TR, 0, 0x8b, 0x67, 0);
    vmwrite(VMCS_GUEST_GDTR_BASE, 0);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, 0);
    vmwrite(VMCS_GUEST_IDTR_BASE, 0);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, 0);
    guest_write_cr0(0x80010033);
    /* MCE: a machine check while it runs is an #MC the hypervisor
     * intercepts (hv/machine_check.h), never a shutdown. */
    guest_write_cr4(CR4_PAE | fpu_control_cr4() | (cpu_limits()->cr4_allowed & CR4_MCE));
    vmwrite(VMCS_GUEST_CR3, cr3);
    write_efer(EFER_LME | EFER_NXE, 0x80010033);
    vmwrite(VMCS_GUEST_RIP, entry);
    vmwrite(VMCS_GUEST_RSP, 0);
    common_guest_state();
    vmcs_release(vcpu, acquired);
    vcpu->gprs.rdi = rdi;
    vcpu->gprs.rsi = rsi;
}

void vmx_get_regs(struct vcpu *vcpu, struct hv_regs *r)
{
    bool acquired = vmcs_acquire(vcpu);
    vcpu_gprs_to_regs(&vcpu->gprs, r);
    r->rsp = vmread(VMCS_GUEST_RSP);
    r->rip = vmread(VMCS_GUEST_RIP);
    r->rflags = vcpu_rflags_to_abi(vcpu, vmread(VMCS_GUEST_RFLAGS));
    vmcs_release(vcpu, acquired);
}

/* What a state set abandons (abi/README.md, SET_REGS and SET_SREGS): an
 * event whose delivery an exit interrupted or that the hypervisor was
 * about to inject, a pending single-step or breakpoint trap (the pending
 * debug exceptions a VM exit saves, SDM 3C 28.3.4), the STI and MOV SS
 * shadows and any activity state but active. Left in place they would
 * act at the new RIP, or make entry refuse the state (an STI shadow with
 * IF clear, TF without the pending single step). A queued INTERRUPT lives
 * in the vcpu and survives. SET_SREGS, a new program altogether, also
 * ends the guest's NMI handler (its blocking of NMIs). VMCS current. */
static void abandon_pending_events(bool whole_state)
{
    uint64_t kept = whole_state ? 0 : INTERRUPTIBILITY_NMI;
    vmwrite(VMCS_ENTRY_INTERRUPTION_INFO, 0);
    vmwrite(VMCS_GUEST_PENDING_DEBUG, 0);
    vmwrite(VMCS_GUEST_ACTIVITY, 0);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmread(VMCS_GUEST_INTERRUPTIBILITY) & kept);
}

static inline __attribute__((always_inline)) void set_regs(struct vcpu *vcpu,
                                                            const struct hv_regs *r)
{
    bool acquired = vmcs_acquire(vcpu);
    vcpu_regs_to_gprs(r, &vcpu->gprs);
    vmwrite(VMCS_GUEST_RSP, r->rsp);
    vmwrite(VMCS_GUEST_RIP, r->rip);
    vmwrite(VMCS_GUEST_RFLAGS, vcpu_rflags_from_abi(vcpu, (r->rflags & RFLAGS_SETTABLE) | 0x2));
    vcpu->pending_in_size = 0;
    abandon_pending_events(false);
    vmcs_release(vcpu, acquired);
}

void vmx_set_regs(struct vcpu *vcpu, const struct hv_regs *r)
{
    set_regs(vcpu, r);
}

PINNED_SET_REGS(vmx_pinned_set_regs, set_regs)

void vmx_get_sregs(struct vcpu *vcpu, struct hv_sregs *r)
{
    bool acquired = vmcs_acquire(vcpu);
    vmx_read_segment(SEG_CS, &r->cs);
    vmx_read_segment(SEG_DS, &r->ds);
    vmx_read_segment(SEG_ES, &r->es);
    vmx_read_segment(SEG_FS, &r->fs);
    vmx_read_segment(SEG_GS, &r->gs);
    vmx_read_segment(SEG_SS, &r->ss);
    vmx_read_segment(SEG_TR, &r->tr);
    vmx_read_segment(SEG_LDTR, &r->ldt);
    r->gdt = (struct hv_dtable){ .base = vmread(VMCS_GUEST_GDTR_BASE),
                                 .limit = (uint16_t)vmread(VMCS_GUEST_GDTR_LIMIT) };
    r->idt = (struct hv_dtable){ .base = vmread(VMCS_GUEST_IDTR_BASE),
                                 .limit = (uint16_t)vmread(VMCS_GUEST_IDTR_LIMIT) };
    r->cr0 = vmx_guest_cr0();
    r->cr2 = get_cr2(vcpu);
    r->cr3 = vmread(VMCS_GUEST_CR3);
    r->cr4 = vmx_current_guest_cr4();
    r->cr8 = vcpu->cr8;
    r->efer = vmread(VMCS_GUEST_EFER);
    r->apic_base = 0xfee00000ull | APIC_BASE_ENABLE | (vcpu->slot == 0 ? APIC_BASE_BSP : 0);
    vmcs_release(vcpu, acquired);
}

/* Checks first, then writes: a refused state changes nothing. With EPT,
 * VM entry takes a PAE guest's page-directory pointers from the VMCS
 * (SDM 3C 27.3.2.4), so they are loaded here from the new CR3 as MOV to
 * CR3 would load them, and refused as it would refuse them. */
int vmx_set_sregs(struct vcpu *vcpu, const struct hv_sregs *r)
{
    int err = sregs_check(r, cpu_limits());
    if (err)
        return err;
    if (!vmx_features.unrestricted_guest) {
        if (!(r->cr0 & CR0_PE) || !(r->cr0 & CR0_PG))
            return -HV_ENOTSUP; /* real mode or no paging needs unrestricted guest */
        if (sregs_restricted_refusal(r))
            return -HV_EINVAL;
    }
    uint64_t pdpte[4] = { 0, 0, 0, 0 };
    bool pae = sregs_pae_paging(r);
    if (pae) {
        vcpu_read_pdptes(vcpu, r->cr3, pdpte);
        if (!pae_pdptes_valid(pdpte, cpu_limits()->physical_bits, PAE_PDPTE_RESERVED_VMX))
            return -HV_EINVAL;
    }
    bool acquired = vmcs_acquire(vcpu);
    vmx_write_segment(SEG_CS, &r->cs);
    vmx_write_segment(SEG_DS, &r->ds);
    vmx_write_segment(SEG_ES, &r->es);
    vmx_write_segment(SEG_FS, &r->fs);
    vmx_write_segment(SEG_GS, &r->gs);
    vmx_write_segment(SEG_SS, &r->ss);
    vmx_write_segment(SEG_TR, &r->tr);
    vmx_write_segment(SEG_LDTR, &r->ldt);
    vmwrite(VMCS_GUEST_GDTR_BASE, r->gdt.base);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, r->gdt.limit);
    vmwrite(VMCS_GUEST_IDTR_BASE, r->idt.base);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, r->idt.limit);
    guest_write_cr0(r->cr0);
    guest_write_cr4(r->cr4);
    vmwrite(VMCS_GUEST_CR3, r->cr3);
    for (int i = 0; i < 4; i++)
        vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
    set_cr2(vcpu, r->cr2);
    vcpu->cr8 = r->cr8;
    write_efer(r->efer, r->cr0);
    abandon_pending_events(true);
    vmcs_release(vcpu, acquired);
    return 0;
}

/* The guest's view of CR0 or CR4: the bits it owns from the register,
 * the ones we own from the read shadow. */
static uint64_t guest_visible(uint32_t real, uint32_t shadow, uint32_t mask)
{
    uint64_t owned = vmread(mask);
    return (vmread(real) & ~owned) | (vmread(shadow) & owned);
}

/* The four PAE page-directory pointers that MOV to CR0/CR4 loads from CR3
 * (SDM 3A 4.4.1): with EPT, VM entry takes them from the VMCS, so an
 * emulated write must put them there. A present one with reserved bits
 * set is #GP(0) for the write. */
static bool load_pdptes(struct vcpu *vcpu, uint64_t cr3)
{
    uint64_t pdpte[4];
    vcpu_read_pdptes(vcpu, cr3, pdpte);
    if (!pae_pdptes_valid(pdpte, cpu_limits()->physical_bits, PAE_PDPTE_RESERVED_VMX))
        return false;
    for (int i = 0; i < 4; i++)
        vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
    return true;
}

/* MOV to CR0 or CR4 that exited (it touched a bit we own: NE, VMXE, or a
 * CR4 bit the guest may not set), carried out as the CPU would: checked
 * against the guest's mode and the CPU's features (hv/cr_write.h), with
 * #GP(0) for a value the CPU refuses. Returns false to give #GP. */
static bool emulate_cr_write(struct vcpu *vcpu, unsigned cr, uint64_t value)
{
    struct cr_write_context c = {
        .cr0 = guest_visible(VMCS_GUEST_CR0, VMCS_CR0_SHADOW, VMCS_CR0_MASK),
        .cr3 = vmread(VMCS_GUEST_CR3),
        .cr4 = guest_visible(VMCS_GUEST_CR4, VMCS_CR4_SHADOW, VMCS_CR4_MASK),
        .efer = vmread(VMCS_GUEST_EFER),
        .cs_l = (vmread(VMCS_GUEST_ES_ACCESS + 2 * SEG_CS) >> 13) & 1,
        .cr4_allowed = cpu_limits()->cr4_allowed,
    };
    uint64_t cr0 = c.cr0, cr4 = c.cr4;
    if (cr == 0 ? !cr0_write_allowed(&c, value, &cr0) : !cr4_write_allowed(&c, value))
        return false;
    if (cr == 4)
        cr4 = value;
    if (cr_write_loads_pdptes(c.cr0, cr0, c.cr4, cr4, c.efer) && !load_pdptes(vcpu, c.cr3))
        return false;
    if (cr == 0) {
        guest_write_cr0(cr0);
        write_efer(c.efer, cr0); /* LMA follows PG */
    } else {
        guest_write_cr4(cr4);
    }
    /* The CPU would flush here; under VPID the guest's translations
     * outlive VM entries and must go explicitly. */
    if (vmx_features.vpid && cr_write_flushes_tlb(c.cr0, cr0, c.cr4, cr4))
        invvpid(INVVPID_ALL_CONTEXTS, 0);
    return true;
}

/* A control-register access that exited: MOV to CR0/CR4 (above), or MOV
 * to or from CR8, the task priority: the local APIC's TPR[7:4] in a VM
 * with APICs (SDM 10.8.6.1), else kept per vcpu. Returns false for any
 * other access (an unknown exit). */
bool vmx_cr_access(struct vcpu *vcpu)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    unsigned cr = q & 0xf, type = (q >> 4) & 3, gpr = (q >> 8) & 0xf;
    if (type > 1 || (cr != 0 && cr != 4 && cr != 8) || (type == 1 && cr != 8))
        return false;
    uint64_t *reg = vcpu_gpr(vcpu, gpr), value = 0;
    bool done = true;
    if (type == 1) { /* MOV from CR8 */
        uint64_t cr8 = vcpu->vm->lapic ? vcpu_lapic_cr8(vcpu) : vcpu->cr8;
        if (reg)
            *reg = cr8;
        else
            vmwrite(VMCS_GUEST_RSP, cr8);
    } else {
        value = reg ? *reg : vmread(VMCS_GUEST_RSP);
        bool mode64 = (vmread(VMCS_GUEST_EFER) & EFER_LMA) &&
                      ((vmread(VMCS_GUEST_ES_ACCESS + 2 * SEG_CS) >> 13) & 1);
        if (!mode64)
            value &= 0xffffffffull; /* a 32-bit register outside 64-bit mode */
        if (cr != 8) {
            done = emulate_cr_write(vcpu, cr, value);
        } else {
            done = value <= 15; /* bits 63:4 are reserved */
            if (done && !vcpu->vm->lapic)
                vcpu->cr8 = value;
        }
    }
    if (!done) {
        vmx_inject_exception(vcpu, VECTOR_GP, true, 0);
        return true;
    }
    struct exit_record skip = { .instruction_length =
                                    (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_LENGTH) };
    vmx_skip_instruction(vcpu, &skip);
    if (type == 0 && cr == 8 && vcpu->vm->lapic) {
        /* A lower priority may let a vector in, at this entry. */
        vcpu_lapic_set_cr8(vcpu, value);
        vcpu_prepare_events(vcpu, vcpu->run);
    }
    return true;
}

void vmx_write_efer(struct vcpu *vcpu, uint64_t value)
{
    bool acquired = vmcs_acquire(vcpu);
    write_efer(value, vmx_guest_cr0());
    vmcs_release(vcpu, acquired);
}
