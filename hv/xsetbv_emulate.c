/* XSETBV from any guest. The instruction always exits on VMX and is
 * intercepted on SVM: XCR0 is not part of the state either CPU switches,
 * so a guest's write would otherwise reach the next VM on this CPU. */
#include "hv/fpu.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/virt.h"

#define CR4_OSXSAVE (1ull << 18)
#define VECTOR_GP 13

void xsetbv_emulate(struct vcpu *vcpu, const struct exit_record *exit)
{
    /* The CPU checks CR4.OSXSAVE (#UD) and CPL (#GP) before it exits, but
     * the manuals leave the order to the implementation: check again. */
    struct hv_sregs sregs;
    virt->get_sregs(vcpu, &sregs);
    if (!(sregs.cr4 & CR4_OSXSAVE)) {
        virt->inject_exception(vcpu, VECTOR_INVALID_OPCODE, false, 0);
        return;
    }
    uint64_t value = (vcpu->gprs.rdx << 32) | (uint32_t)vcpu->gprs.rax;
    if (sregs.ss.dpl != 0 || !fpu_guest_xsetbv(vcpu, (uint32_t)vcpu->gprs.rcx, value)) {
        virt->inject_exception(vcpu, VECTOR_GP, true, 0);
        return;
    }
    virt->skip_instruction(vcpu, exit);
}
