#include "hv/msr_emulate.h"

#include "hv/msr.h"
#include "hv/vcpu.h"
#include "hv/virt.h"

#define MSR_MTRR_CAP       0x000000fe
#define MSR_MISC_ENABLE    0x000001a0
#define MSR_MTRR_DEF_TYPE  0x000002ff
#define VECTOR_GP          13

/* EFER bits a guest may set: SCE, LME, LMA (ignored on write), NXE. */
#define EFER_GUEST_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

static bool pat_valid(uint64_t pat)
{
    for (int i = 0; i < 8; i++) {
        uint8_t type = (uint8_t)(pat >> (8 * i));
        if (type == 2 || type == 3 || type > 7)
            return false;
    }
    return true;
}

static bool msr_read(struct vcpu *vcpu, uint32_t msr, uint64_t *value)
{
    switch (msr) {
    case MSR_EFER:
        *value = virt->read_efer(vcpu);
        return true;
    case MSR_IA32_PAT:
        *value = virt->read_pat(vcpu);
        return true;
    case MSR_IA32_APIC_BASE:
        *value = 0xfee00000ull | APIC_BASE_ENABLE | (vcpu->slot == 0 ? APIC_BASE_BSP : 0);
        return true;
    case MSR_MTRR_CAP:
    case MSR_MTRR_DEF_TYPE:
    case MSR_MISC_ENABLE:
        *value = 0;
        return true;
    default:
        return false;
    }
}

static bool msr_write(struct vcpu *vcpu, uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_EFER:
        if (value & ~EFER_GUEST_BITS)
            return false;
        virt->write_efer(vcpu, value);
        return true;
    case MSR_IA32_PAT:
        if (!pat_valid(value))
            return false;
        virt->write_pat(vcpu, value);
        return true;
    case MSR_IA32_APIC_BASE:
    case MSR_MTRR_DEF_TYPE:
        return true; /* accepted and ignored: no APIC or MTRRs to move */
    default:
        return false;
    }
}

void msr_emulate(struct vcpu *vcpu, const struct exit_record *exit)
{
    struct guest_gprs *g = &vcpu->gprs;
    uint32_t msr = (uint32_t)g->rcx;
    bool ok;
    if (exit->kind == EXIT_MSR_READ) {
        uint64_t value = 0;
        ok = msr_read(vcpu, msr, &value);
        if (ok) {
            g->rax = (uint32_t)value;
            g->rdx = value >> 32;
        }
    } else {
        ok = msr_write(vcpu, msr, (g->rdx << 32) | (uint32_t)g->rax);
    }
    if (ok)
        virt->skip_instruction(vcpu, exit);
    else
        virt->inject_exception(vcpu, VECTOR_GP, true, 0);
}
