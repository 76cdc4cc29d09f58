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

#include <stddef.h>

#include "abi/hv_abi.h"
#include "hv/vcpu.h"

_Static_assert(offsetof(struct hv_run, io.size) == offsetof(struct hv_run, io.direction) + 1 &&
               offsetof(struct hv_run, io.port) == offsetof(struct hv_run, io.direction) + 2 &&
               offsetof(struct hv_run, io.count) == offsetof(struct hv_run, io.direction) + 4 &&
               sizeof(((struct hv_run *)0)->io.string) + sizeof(((struct hv_run *)0)->io.padding) == 8,
               "vcpu_port_io writes run->io in two words");

/* The guest loop ends for the VMM with `reason` (HV_EXIT_*): the fields
 * every exit reports. if_flag is the guest's RFLAGS.IF, `allowed` whether
 * an interrupt injected now would be taken (virt->interrupt_allowed).
 * exit_reason and exit_count are written when RUN returns. Returns 1, the
 * guest loop's "stop". */
static inline int vcpu_stop(struct vcpu *vcpu, int reason, uint64_t rip,
                            bool if_flag, bool allowed)
{
    struct hv_run *run = vcpu->run;
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
static inline void vcpu_port_io(struct vcpu *vcpu, uint16_t port, uint8_t size,
                                bool in, uint64_t rax)
{
    struct hv_run *run = vcpu->run;
    /* direction, size, port and count (1) are the first eight bytes of
     * run->io, little endian, and string the first of eight that end it:
     * three stores instead of six (the padding is written as zeros). */
    uint64_t head = (uint64_t)(in ? HV_IO_IN : HV_IO_OUT) | (uint64_t)size << 8 |
                    (uint64_t)port << 16 | 1ull << 32;
    __builtin_memcpy(&run->io.direction, &head, sizeof(head));
    run->io.data_offset = HV_RUN_IO_DATA_OFFSET;
    uint64_t tail = 0; /* string 0 */
    __builtin_memcpy(&run->io.string, &tail, sizeof(tail));
    if (in)
        vcpu->pending_in_size = size;
    else
        *(uint32_t *)((uint8_t *)run + HV_RUN_IO_DATA_OFFSET) = (uint32_t)rax;
}

#endif
