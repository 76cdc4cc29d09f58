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
#include "hv/vcpu.h"

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

#endif
