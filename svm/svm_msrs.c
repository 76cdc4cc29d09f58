/* The vcpu's MSRs on SVM. The VMCB save area holds the SYSCALL and SYSENTER
 * MSRs, KERNEL_GS_BASE and the FS/GS bases, which VMLOAD/VMSAVE switch
 * (APM 15.5.2), and PAT as G_PAT under nested paging; EFER is the guest's
 * with SVME forced on; the TSC is the host's plus the VMCB's TSC offset.
 * Only TSC_AUX has no place in the VMCB: hv/msr_switch.c keeps and
 * switches it (svm_backend.software_switched_msrs). */
#include "hv/msr.h"
#include "hv/sregs_check.h"
#include "hv/vcpu.h"
#include "hv/x86.h"
#include "svm/svm.h"
#include "svm/vmcb_layout.h"

static struct vmcb *vmcb_of(struct vcpu *vcpu) { return vcpu->arch; }

/* Where an MSR that is stored as it is lives, or NULL. */
static uint64_t *plain_msr(struct vcpu *vcpu, uint32_t index)
{
    struct vmcb_save *s = &vmcb_of(vcpu)->save;
    switch (index) {
    case MSR_STAR: return &s->star;
    case MSR_LSTAR: return &s->lstar;
    case MSR_CSTAR: return &s->cstar;
    case MSR_SFMASK: return &s->sfmask;
    case MSR_KERNEL_GS_BASE: return &s->kernel_gs_base;
    case MSR_IA32_SYSENTER_CS: return &s->sysenter_cs;
    case MSR_IA32_SYSENTER_ESP: return &s->sysenter_esp;
    case MSR_IA32_SYSENTER_EIP: return &s->sysenter_eip;
    case MSR_FS_BASE: return &s->fs.base;
    case MSR_GS_BASE: return &s->gs.base;
    case MSR_IA32_PAT: return &s->g_pat;
    default: return NULL;
    }
}

bool svm_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    uint64_t *plain = plain_msr(vcpu, index);
    if (plain)
        *value = *plain;
    else if (index == MSR_EFER)
        *value = svm_guest_efer(vcpu);
    else if (index == MSR_IA32_TSC)
        *value = rdtsc() + vmcb->control.tsc_offset;
    else
        return false;
    return true;
}

/* LME cannot change under paging: it would switch modes behind the
 * guest's back (#GP on a CPU). */
static bool set_efer(struct vcpu *vcpu, uint64_t value)
{
    const struct vmcb_save *s = &vmcb_of(vcpu)->save;
    if ((s->cr0 & CR0_PG) && ((value ^ s->efer) & EFER_LME))
        return false;
    svm_write_efer(vcpu, value);
    return true;
}

bool svm_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value)
{
    struct vmcb *vmcb = vmcb_of(vcpu);
    uint64_t *plain = plain_msr(vcpu, index);
    if (plain)
        *plain = value;
    else if (index == MSR_EFER)
        return set_efer(vcpu, value);
    else if (index == MSR_IA32_TSC) {
        vmcb->control.tsc_offset = value - rdtsc(); /* the guest reads host + offset */
        vlapic_set_tsc_offset(&vcpu->lapic, vmcb->control.tsc_offset);
    } else
        return false;
    return true;
}
