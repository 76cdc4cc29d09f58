/* What a child's RUN writes to its run page when it stops for the VMM
 * (abi/README.md, section 8), shared by hv/vcpu_run.c and the backends'
 * fast paths, which complete a child's port I/O exit -- the hottest exit
 * a VMM sees -- without building an exit record. Called on the vcpu's
 * CPU with the vcpu claimed, inside its guest loop (the VMCB/VMCS is the
 * vcpu's). */
#ifndef HV_RUN_PAGE_H
#define HV_RUN_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"
#include "hv/insn_fetch.h"
#include "hv/insn_length.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

/* The guest loop ends for the VMM with `reason` (HV_EXIT_*): the fields
 * every exit reports. if_flag is the guest's RFLAGS.IF, `allowed` whether
 * an interrupt injected now would be taken (virt->interrupt_allowed).
 * exit_reason and exit_count are written when RUN returns. `run` is the
 * vcpu's run page, which a caller that wrote to it has at hand (its byte
 * copies may alias vcpu->run, which would then be read again). Returns 1,
 * the guest loop's "stop". */
static inline int vcpu_stop(struct vcpu *vcpu, struct hv_run *run, int reason, uint64_t rip,
                            bool if_flag, bool allowed)
{
    vcpu->stop_reason = reason;
    run->ready_for_interrupt_injection = allowed && !vcpu->irq_pending;
    run->if_flag = if_flag;
    __atomic_store_n(&run->exit_rip, rip, __ATOMIC_RELAXED);
    return 1;
}

/* Port I/O other than INS/OUTS (those are the VMM's to emulate, with
 * `string` set): the access for the VMM. OUT's data is the low `size`
 * bytes of the guest's EAX, little endian, and the VMM reads only those;
 * an IN waits for the VMM's data, which the next RUN loads. The caller
 * moves RIP past the instruction. */
static inline void vcpu_port_io(struct vcpu *vcpu, struct hv_run *run, uint16_t port,
                                uint8_t size, bool in, uint64_t rax)
{
    run->io.direction = in ? HV_IO_IN : HV_IO_OUT;
    run->io.size = size;
    run->io.port = port;
    run->io.count = 1;
    run->io.data_offset = HV_RUN_IO_DATA_OFFSET;
    run->io.string = 0;
    if (in)
        vcpu->pending_in_size = size;
    else
        *(uint32_t *)((uint8_t *)run + HV_RUN_IO_DATA_OFFSET) = (uint32_t)rax;
}

/* A nested page fault in the vcpu's own APIC page, in a VM with local
 * APICs: the hypervisor's to emulate, never the VMM's. */
static inline bool vcpu_fault_on_apic_page(const struct vcpu *vcpu, uint64_t guest_phys)
{
    return vcpu->vm->lapic && !((guest_phys ^ vcpu->lapic.apic_base) & ~0xfffull);
}

/* The backends' fast path for a child's nested page fault (the MMIO
 * write or read the VMM emulates, the second hottest exit a VMM sees)
 * takes the cases where the fault certainly ends RUN with HV_EXIT_MMIO
 * and the instruction's bytes are at hand without a walk, so that nothing
 * needs an exit record; the general path (hv/vcpu_run.c) finds the same
 * answer the long way, or another one. First, before the backend reads
 * anything else: whether a fault at guest_phys is the VMM's at all. Not
 *  - when the VM has dirty-logged slots: the fault may be a first write
 *    to a logged page, resolved without the VMM (vm_resolve_dirty_fault);
 *  - in the vcpu's APIC page, when the VM has local APICs: the
 *    hypervisor emulates it (vcpu_lapic_mmio), and those exits should
 *    pay for no more than this test;
 *  - in a VM with HV_VM_DECODED_MMIO, whose accesses the general path
 *    decodes for the VMM. */
static inline bool vcpu_mmio_for_vmm(const struct vcpu *vcpu, uint64_t guest_phys)
{
    const struct vm *vm = vcpu->vm;
    if (vcpu_fault_on_apic_page(vcpu, guest_phys))
        return false;
    /* Relaxed: nothing the fast path reads after it was published with
     * the flag (the code cache is the vcpu's own, checked against the
     * VM's tlb_generation by an acquire load of its own). A fault that
     * races a slot's creation may fall either side of it, as one racing
     * a memslot update does in KVM. An acquire here made the compiler
     * load vcpu->vm again after it. */
    return __atomic_load_n(&vm->faults_need_general_path, __ATOMIC_RELAXED) == 0;
}

/* Then the instruction's 15 bytes, in guest memory, if the guest does not
 * page and its code is where the last instruction decoded without paging
 * was (vcpu_cached_code), else NULL (a walk, or a fresh look-up of the
 * code's page). `paging`: the guest's CR0.PG; `linear`: CS.base + RIP,
 * truncated to 32 bits (without paging the guest is not in 64-bit mode).
 * Called inside the guest loop, with the vcpu claimed. */
static inline const uint8_t *vcpu_mmio_fast_code(const struct vcpu *vcpu, bool paging,
                                                 uint64_t linear)
{
    return paging ? NULL : vcpu_cached_code(vcpu, linear);
}

/* HV_EXIT_MMIO's fields, for the fast path above: the access and the
 * instruction's 15 bytes, copied as two overlapping eight-byte words
 * (0-7, 7-14), as vcpu_fetch_instruction_at does. Nothing is decoded:
 * `decoded` is written 0, its byte of the union holding what an earlier
 * exit left there (a hypercall's R10, say). */
static inline void vcpu_mmio_exit(struct hv_run *run, uint64_t guest_phys, uint64_t linear_addr,
                                  bool write, const uint8_t *code)
{
    uint64_t head, tail;
    __builtin_memcpy(&head, code, 8);
    __builtin_memcpy(&tail, code + 7, 8);
    run->mmio.phys_addr = guest_phys;
    run->mmio.linear_addr = linear_addr;
    run->mmio.is_write = write;
    run->mmio.decoded = 0;
    run->mmio.insn_length = INSN_MAX_LENGTH;
    __builtin_memcpy(run->mmio.insn_bytes, &head, 8);
    __builtin_memcpy(run->mmio.insn_bytes + 7, &tail, 8);
}

#endif
