#include "hv/mmio_exit.h"

#include "hv/insn_length.h"
#include "hv/run_page.h"
#include "hv/virt.h"

/* The access the instruction at `bytes` makes at guest_phys, when it is
 * the VMM's to have decoded: an instruction the decoder knows, of the
 * fault's direction, that stays on the fault's page and names a register
 * the hypervisor keeps. *value: what a write stores. `rax`: the guest's
 * RAX, wherever the backend keeps it at this point. */
static inline __attribute__((always_inline)) bool
decode_access(struct vcpu *vcpu, const uint8_t *bytes, unsigned n, enum mmio_mode mode,
              uint64_t guest_phys, bool write, uint64_t rax, struct mmio_access *access,
              uint64_t *value)
{
    if (!mmio_decode(bytes, n, mode, access) || access->write != write)
        return false;
    /* The fault names the byte it hit: an access that would run on past
     * that page's end is not the access at the fault's address (it began
     * there, on MMIO, and goes on elsewhere). One that began on the page
     * before, in RAM, is reported at this page's start, as the CPU
     * reports it: telling it apart would take the operand's effective
     * address (abi/README.md, section 8). */
    if ((guest_phys & 0xfff) + access->size > 0x1000)
        return false;
    const uint64_t *reg = vcpu_access_register(vcpu, access);
    if (!reg && !access->from_immediate)
        return false;      /* RSP lives in the VMCB/VMCS: the VMM's to emulate */
    uint64_t source = reg == &vcpu->gprs.rax ? rax : reg ? *reg : 0;
    *value = write ? mmio_write_value(access, source) : 0;
    return true;
}

/* The decoded half of the run page, and the access kept for the next RUN. */
static inline void hand_to_vmm(struct vcpu *vcpu, struct hv_run *run,
                               const struct mmio_access *access, uint64_t value)
{
    run->mmio.len = access->size;
    run->mmio.data = value;
    run->mmio.decoded = 1;
    vcpu->mmio_pending = *access;
    vcpu->state = VCPU_MMIO_EXIT;
}

void vcpu_mmio_decode_for_vmm(struct vcpu *vcpu, struct hv_run *run,
                              const struct exit_record *exit, enum mmio_mode mode)
{
    struct mmio_access access;
    uint64_t value;
    if (decode_access(vcpu, run->mmio.insn_bytes, run->mmio.insn_length, mode,
                      exit->fault.guest_phys, exit->fault.write, vcpu->gprs.rax, &access, &value))
        hand_to_vmm(vcpu, run, &access, value);
}

bool vcpu_mmio_decoded_fast(struct vcpu *vcpu, uint64_t guest_phys, bool write,
                            const uint8_t *code, enum mmio_mode mode, uint64_t rax)
{
    struct mmio_access access;
    uint64_t value;
    if (!decode_access(vcpu, code, INSN_MAX_LENGTH, mode, guest_phys, write, rax, &access,
                       &value))
        return false;
    vcpu_mmio_exit(vcpu->run, guest_phys, ~0ull, write, code);
    hand_to_vmm(vcpu, vcpu->run, &access, value);
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
