/* Each vcpu's local APIC (hv/vlapic.c) connected to the rest: messages
 * between the vcpus of a VM (IPIs from the ICR, MSIs from the VMM), the
 * guest's accesses (the xAPIC page through nested-page faults, the x2APIC
 * and APIC_BASE MSRs), its timer, INIT and SIPI, and what the entry path
 * must inject.
 *
 * Locking: a vcpu's APIC belongs to the CPU that has claimed the vcpu.
 * Another vcpu's IPI or a VMM's MSI only sets bits in its IRR/TMR (atomic
 * ORs) or its `lapic_events` word, then makes it look: an IPI to the CPU
 * that runs it, or nothing if none does (its next RUN looks anyway). */
#ifndef HV_VCPU_LAPIC_H
#define HV_VCPU_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/exit.h"
#include "hv/mmio_decode.h"
#include "hv/vcpu.h"
#include "hv/virt.h"
#include "hv/vlapic.h"
#include "hv/vm.h"
#include "hv/x86.h"

struct vm;

/* lapic_events bits: what other CPUs post for the owner to act on. */
#define LAPIC_EVENT_NMI   (1u << 0)
#define LAPIC_EVENT_INIT  (1u << 1)
#define LAPIC_EVENT_SIPI  (1u << 2)   /* vector in sipi_vector */
#define LAPIC_EVENT_IRR   (1u << 3)   /* IRR changed: look again */

/* One interrupt message, from an ICR or an MSI. */
struct lapic_message {
    uint32_t dest;
    bool logical;
    uint8_t shorthand;        /* SHORTHAND_* (MSIs: none) */
    uint8_t delivery;         /* DELIVERY_* */
    uint8_t vector;
    bool level;               /* trigger mode level */
    bool assert_level;        /* level asserted (INIT de-assert has it clear) */
};

/* RESET: ID = the vcpu's slot, vcpu 0 is the BSP. */
void vcpu_lapic_reset(struct vcpu *vcpu);

/* Delivers `m` to every vcpu of `vm` it names; `source` (may be NULL) is
 * the sender, for the shorthands. Returns how many APICs accepted it. */
unsigned vcpu_lapic_deliver(struct vm *vm, struct vcpu *source, const struct lapic_message *m);

/* SIGNAL_MSI: an MSI from a VMM device. >= 0 accepted count, or -HV_EINVAL
 * for an address or data the platform does not define. */
long vcpu_lapic_signal_msi(struct vm *vm, uint64_t address, uint32_t data);

/* A nested-page fault on the xAPIC page: the access is decoded and done.
 * true if it was the APIC's; *stop gets an HV_EXIT_* the RUN must return
 * (the EOI of a level-triggered vector) or -1. */
bool vcpu_lapic_mmio(struct vcpu *vcpu, const struct exit_record *exit, int *stop);
/* The CPU wrote `offset` of the vcpu's APIC page itself (EXIT_APIC_WRITE,
 * after the guest's instruction): the write's effects, as vcpu_lapic_mmio
 * would have done them. Returns the exit the RUN must make, or -1. */
int vcpu_lapic_apic_write(struct vcpu *vcpu, uint32_t offset);
/* IA32_APIC_BASE changed (WRMSR, SET_SREGS, RESET): told to the backend
 * in a VM whose xAPIC accesses the CPU virtualizes. */
static inline void vcpu_lapic_base_changed(struct vcpu *vcpu)
{
    if (vcpu->vm->apic_virtualized)
        virt->lapic_base_changed(vcpu);
}

/* RDMSR/WRMSR of IA32_APIC_BASE, the x2APIC range and TSC_DEADLINE.
 * Returns false if `msr` is not the APIC's; else *ok says whether the
 * access succeeded (false: #GP) and *stop as above. */
bool vcpu_lapic_msr_read(struct vcpu *vcpu, uint32_t msr, uint64_t *value, bool *ok);
/* CR8 in a VM with local APICs: the APIC's TPR[7:4], read and written
 * by the guest's MOVs (the backends intercept them) and by GET/SET_SREGS.
 * A lower priority may let a vector in: the next entry looks. */
uint64_t vcpu_lapic_cr8(const struct vcpu *vcpu);
void vcpu_lapic_set_cr8(struct vcpu *vcpu, uint64_t cr8);
bool vcpu_lapic_msr_write(struct vcpu *vcpu, uint32_t msr, uint64_t value, bool *ok, int *stop);

/* vcpu_lapic_wrmsr_fast's halves, out of line: every register but the
 * EOI, and the taking of a vector the EOI unmasked. */
int vcpu_lapic_wrmsr_other(struct vcpu *vcpu, uint32_t msr, uint64_t value, bool open);
int vcpu_lapic_take_now(struct vcpu *vcpu, int vector, bool open);
/* Whether the guest can take an interrupt at this entry (IF set, nothing
 * being injected; the backend drops the shadow), as a backend reads it
 * from its VMCB or VMCS: asked only when a vector is to be taken, not on
 * the path of an EOI that unmasks nothing. */
typedef bool (*vcpu_open_reader)(const struct vcpu *vcpu);
/* A child's WRMSR straight from a backend's exit function, the
 * instruction not yet skipped: IA32_TSC_DEADLINE with a deadline already
 * passed (and no host timer running for the vcpu), the x2APIC EOI (0x80B)
 * and SELF IPI (0x83F) registers, the ICR (0x830) for a fixed,
 * edge-triggered IPI of a legal vector (to itself or others). -1 leaves
 * the WRMSR to the general MSR path (a VM without local APICs, not x2APIC
 * mode, another register or case, a value that is a #GP or an illegal
 * vector, the EOI of a level-triggered vector, which the VMM must see).
 * Done, it returns the vector the guest takes now -- one the write raised
 * or, after an EOI, unmasked -- already acknowledged (IRR to ISR), for
 * the backend to inject at this entry: only when the guest can take an
 * interrupt (`open`) and nothing else waits for vcpu_prepare_events,
 * which would decide the order. Else 0, with such a vector left in IRR
 * and posted for vcpu_prepare_events. The EOI, the hottest of these
 * writes (one per interrupt), is tested first and inline: with nothing
 * pending after it, the exit function makes one call, vlapic_eoi_edge's.
 * A VM without local APICs never has x2APIC mode (its APICs keep their
 * RESET state: hv/vm.c, the APIC base writes need HV_VM_LAPIC), so the
 * EOI's test stands for that check too. */
static inline __attribute__((always_inline)) int
vcpu_lapic_wrmsr_fast(struct vcpu *vcpu, uint32_t msr, uint64_t value, vcpu_open_reader open)
{
    if (msr == X2APIC_MSR_FIRST + (LAPIC_EOI >> 4) && vlapic_x2apic(&vcpu->lapic)) {
        int vector = value ? VLAPIC_EOI_NOT_EDGE : vlapic_eoi_edge(&vcpu->lapic);
        if (vector == VLAPIC_EOI_NOT_EDGE)
            return -1;
        /* what the lower PPR unmasked */
        return vector < 0 ? 0 : vcpu_lapic_take_now(vcpu, vector, open(vcpu));
    }
    if (!vcpu->vm->lapic)
        return -1;
    return vcpu_lapic_wrmsr_other(vcpu, msr, value, open(vcpu));
}

/* A child's 32-bit store to its xAPIC page, straight from a backend's
 * nested-fault exit function in a VM with local APICs, the instruction
 * not yet skipped (mmio_store32_length and _register tell the backend
 * its length and value without the guest's other registers). First the
 * register's offset in the page for the fault's address `guest_phys`, or
 * -1 (not the APIC's page, an APIC disabled or in x2APIC mode, an
 * address that is not a register's start: the SDM wants registers
 * accessed at their 16-byte-aligned offsets, and the general path takes
 * the other dword offsets as their register's, which the checks on the
 * offset below would then miss), or a VM with dirty-logged slots: the
 * general path first takes the fault as a first write to a logged page
 * when RAM lies under the APIC, as a slot may put it. */
static inline int vcpu_xapic_offset(const struct vcpu *vcpu, uint64_t guest_phys)
{
    const struct vlapic *l = &vcpu->lapic;
    uint64_t offset = guest_phys - (l->apic_base & ~0xfffull);
    if (offset > 0xff0 || (offset & 0xf) ||
        (l->apic_base & (APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD)) != APIC_BASE_MSR_EN ||
        __atomic_load_n(&vcpu->vm->dirty_logged, __ATOMIC_RELAXED))
        return -1;
    return (int)offset;
}

/* Then the write, done as vcpu_lapic_mmio would: the EOI (one per
 * interrupt, whose value does not matter) or, out of line, any other
 * register but an ICR write of another delivery mode than fixed (INIT,
 * SIPI, NMI: their effects want the general path). Each returns as
 * vcpu_lapic_wrmsr_fast: -1 for the general path, nothing done (also the
 * EOI of a level-triggered vector, which the VMM must see), else the
 * vector to take now (after an EOI) or 0. Then the backend skips the
 * instruction, prepares the events and, after a register other than the
 * EOI, calls vcpu_lapic_follow_timer. */
static inline int vcpu_xapic_eoi(struct vcpu *vcpu, bool open)
{
    int vector = vlapic_eoi_edge(&vcpu->lapic);
    if (vector == VLAPIC_EOI_NOT_EDGE)
        return -1;
    return vector < 0 ? 0 : vcpu_lapic_take_now(vcpu, vector, open); /* what the lower PPR unmasked */
}
int vcpu_xapic_write_other(struct vcpu *vcpu, uint32_t offset, uint32_t value, bool open);

/* Where a backend keeps a guest's RAX and RSP in its fast paths (its
 * VMCB, VMCS or vcpu->gprs): read only when a store names them. */
typedef uint64_t (*vcpu_gpr_reader)(const struct vcpu *vcpu);

/* The value of a store that mmio_store32_register said comes from
 * register `reg` (0-7, the encoding's order), in a fast path: EAX and ESP
 * from the backend, the others from vcpu->gprs. */
static inline __attribute__((always_inline)) uint32_t
vcpu_store32_register(const struct vcpu *vcpu, int reg, vcpu_gpr_reader rax, vcpu_gpr_reader rsp)
{
    const struct guest_gprs *g = &vcpu->gprs;
    switch (reg) {
    case 0: return (uint32_t)rax(vcpu);
    case 1: return (uint32_t)g->rcx;
    case 2: return (uint32_t)g->rdx;
    case 3: return (uint32_t)g->rbx;
    case 4: return (uint32_t)rsp(vcpu);
    case 5: return (uint32_t)g->rbp;
    case 6: return (uint32_t)g->rsi;
    default: return (uint32_t)g->rdi;
    }
}

/* Both together for the backend: the store `code` of `length` bytes
 * (mmio_store32_length) to the register at `offset` (vcpu_xapic_offset),
 * returning as they do. Inlined with the backend's readers, so that the
 * EOI reads no register. */
static inline __attribute__((always_inline)) int
vcpu_xapic_store(struct vcpu *vcpu, int offset, const uint8_t *code, unsigned length,
                 bool open, vcpu_gpr_reader rax, vcpu_gpr_reader rsp)
{
    if (offset == LAPIC_EOI)
        return vcpu_xapic_eoi(vcpu, open);
    int reg = mmio_store32_register(code);
    return vcpu_xapic_write_other(vcpu, (uint32_t)offset,
                                  reg < 0 ? mmio_store32_immediate(code, length)
                                          : vcpu_store32_register(vcpu, reg, rax, rsp),
                                  open);
}

/* After a fast path's vcpu_prepare_events, as vcpu_child_exit after an
 * exit it handled: the host timer follows the guest's APIC timer when a
 * write moved it. */
static inline void vcpu_lapic_follow_timer(struct vcpu *vcpu)
{
    if (vcpu->timer_armed != vlapic_timer_next(&vcpu->lapic))
        vcpu_arm_host_timer(vcpu, rdtsc());
}

/* Before an entry: timer expiry, posted events (INIT, SIPI, NMI), and the
 * highest pending vector injected or an interrupt window asked for. An
 * INIT is taken only where `may_take_init` (vcpu_wait): it resets every
 * register, which needs them all in vcpu->gprs, and stops the guest; the
 * entry path leaves it posted, the vcpu's RUN ends (the INIT's kick,
 * vcpu_child_exit) and the next takes it. */
void vcpu_lapic_prepare(struct vcpu *vcpu, bool may_take_init);

/* The TSC of the vcpu's next timer expiry, 0 for none. */
uint64_t vcpu_lapic_next_timer(const struct vcpu *vcpu);

#endif
