#include "hv/mmio_exit.h"

#include "hv/insn_length.h"
#include "hv/run_page.h"
#include "hv/virt.h"

void vcpu_mmio_decode_for_vmm(struct vcpu *vcpu, struct hv_run *run,
                              const struct exit_record *exit, enum mmio_mode mode)
{
    struct mmio_access access;
    uint64_t gpa = exit->fault.guest_phys;
    if (!mmio_decode(run->mmio.insn_bytes, run->mmio.insn_length, mode, &access) ||
        access.write != exit->fault.write)
        return;
    /* The fault names the byte it hit: an access that would run on past
     * that page's end is not the access at the fault's address (it began
     * there, on MMIO, and goes on elsewhere) and goes to the VMM
     * undecoded. One that began on the page before, in RAM, is reported
     * at this page's start, as the CPU reports it: telling it apart would
     * take the operand's effective address (abi/README.md, section 8). */
    if ((gpa & 0xfff) + access.size > 0x1000)
        return;
    const uint64_t *reg = vcpu_access_register(vcpu, &access);
    if (!reg && !access.from_immediate)
        return;      /* RSP lives in the VMCB/VMCS: the VMM's to emulate */
    run->mmio.len = access.size;
    run->mmio.data = access.write ? mmio_write_value(&access, reg ? *reg : 0) : 0;
    run->mmio.decoded = 1;
    vcpu->mmio_pending = access;
    vcpu->state = VCPU_MMIO_EXIT;
}

bool vcpu_mmio_decoded_fast(struct vcpu *vcpu, uint64_t guest_phys, bool write,
                            const uint8_t *code, enum mmio_mode mode, uint64_t rax)
{
    struct mmio_access access;
    if (!mmio_decode(code, INSN_MAX_LENGTH, mode, &access) || access.write != write ||
        (guest_phys & 0xfff) + access.size > 0x1000)
        return false;
    unsigned reg = access.high_byte ? access.reg - 4u : access.reg;
    if (reg == 4 && !access.from_immediate)
        return false;      /* RSP, as above */
    uint64_t value = 0;
    if (write && !access.from_immediate)
        value = reg == 0 ? rax : *vcpu_gpr(vcpu, reg);
    vcpu_mmio_exit(vcpu, guest_phys, ~0ull, write, code);
    struct hv_run *run = vcpu->run;
    run->mmio.len = access.size;
    run->mmio.data = write ? mmio_write_value(&access, value) : 0;
    run->mmio.decoded = 1;
    vcpu->mmio_pending = access;
    vcpu->state = VCPU_MMIO_EXIT;
    return true;
}

void vcpu_mmio_complete(struct vcpu *vcpu, const struct hv_run *run)
{
    const struct mmio_access *access = &vcpu->mmio_pending;
    vcpu->state = VCPU_RUNNABLE;
    if (!access->write) {
        uint64_t *reg = vcpu_access_register(vcpu, access);
        *reg = mmio_register_after_read(access, *reg,
                                        __atomic_load_n(&run->mmio.data, __ATOMIC_RELAXED));
    }
    struct exit_record skip = { .instruction_length = access->length };
    virt->skip_instruction(vcpu, &skip);
}
