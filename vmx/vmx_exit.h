/* The VMX backend's exit path (vmx_exit.c): what its guest loop calls
 * after each VM exit, and the VPID a child enters with. */
#ifndef VMX_VMX_EXIT_H
#define VMX_VMX_EXIT_H

#include "hv/exit.h"
#include "hv/tlb_tag.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "mmu/nested_formats.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_instructions.h"

/* The function vmx_guest_loop calls after each exit of `vcpu`: the
 * control domain's or a child's, wrapped for SPEC_CTRL where the CPU has
 * it (hv/speculation.h). Chosen once, when the vcpu is made
 * (vcpu->guest_exit). */
int (*vmx_exit_function(struct vcpu *vcpu))(struct vcpu *);
/* Its second half, for the exits that need R12-R15 as well
 * (GUEST_EXIT_ALL_GPRS, hv/vcpu.h); called by vmx_guest_loop.S. */
int vmx_exit_all_gprs(struct vcpu *vcpu);
/* What vmx_guest_loop calls instead when VMLAUNCH/VMRESUME failed. */
int vmx_entry_failed(struct vcpu *vcpu);
/* The backend op virt->insn_site. */
struct insn_site;
void vmx_insn_site(struct vcpu *vcpu, struct insn_site *site);

/* RIP past an instruction of `length` bytes at `rip`, wrapped at 4 GiB
 * outside 64-bit code (hv/exit.h), the VMCS current. */
static inline uint64_t vmx_rip_after(uint64_t rip, uint64_t length)
{
    uint64_t next = rip + length;
    if (__builtin_expect(rip_carried_out_of_32_bits(rip, next), 0) &&
        !((vmread(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST) &&
          (vmread(VMCS_GUEST_ES_ACCESS + 2 * SEG_CS) & (1u << 13))))
        next = (uint32_t)next;
    return next;
}

/* A child's VPID before an entry (hv/tlb_tag.h), the VMCS current: kept,
 * or a fresh one. Guest-physical translations are tagged by EPT pointer,
 * not VPID: a changed EPT must be flushed by context. */
static inline void vmx_choose_vpid_on(struct vcpu *vcpu, struct percpu *cpu)
{
    enum tlb_tag_change change = tlb_tag_refresh_on(vcpu, cpu, vmx_features.vpid_count);
    if (change == TAG_KEPT)
        return;
    if (vmx_features.vpid)
        vmwrite(VMCS_VPID, vcpu->asid);
    invept(INVEPT_SINGLE_CONTEXT, vcpu->vm->npt.root | EPTP_WB | EPTP_WALK_LENGTH_4);
    if (change == TAG_NEW_AFTER_WRAP && vmx_features.vpid)
        invvpid(INVVPID_ALL_CONTEXTS, 0);
}

static inline void vmx_choose_vpid(struct vcpu *vcpu) { vmx_choose_vpid_on(vcpu, this_cpu()); }

#endif
