/*
 * INS and OUTS (with or without REP) for the VMM's port devices. The
 * hypervisor reports a string I/O exit (run page io.string = 1) without
 * completing it: RIP still points at the instruction (abi/hv_abi.h). The
 * VMM decodes it here (prefixes, element size, address size, segment),
 * moves the elements between guest memory and the port, updates RSI/RDI
 * and RCX as the CPU would (SDM vol. 2A, INS/OUTS, REP) and moves RIP past
 * the instruction once the count is done.
 *
 * A long REP is done in batches of at most STRING_IO_MAX_BYTES: RIP stays
 * on the instruction with the registers showing the progress, so the
 * guest executes it again (another exit) and takes interrupts in between,
 * as a CPU may between iterations.
 *
 * Guest memory is reached through callbacks: `translate` turns a linear
 * address into a guest-physical one with the page's rights (the VMM asks
 * the hypervisor's TRANSLATE, or takes it as it is with paging off),
 * `memory` reads or writes guest-physical bytes within one page. Ports
 * through `port_in` / `port_out`. An element whose page is not present,
 * or whose access the page's rights refuse (SDM 3A 4.6: user access at
 * CPL 3, writes unless CR0.WP is clear at CPL < 3, SMAP), ends the
 * instruction in a page fault for the guest, as on the CPU, with the
 * elements before it done; a non-canonical address in 64-bit mode in a
 * #GP(0), or #SS(0) through SS. Segment limits and the I/O permission bitmap
 * are not checked: a guest that the CPU would fault gets the access
 * instead.
 *
 * Pure apart from the callbacks; no locking (the caller holds the device
 * lock around the ports).
 */
#ifndef GUEST_TOOLS_VMM_PC_STRING_IO_H
#define GUEST_TOOLS_VMM_PC_STRING_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "guest-tools/vmm/pc/insn_prefix.h"

#define STRING_IO_MAX_BYTES 4096

struct string_io_ops {
    /* 1: the guest-physical address, and whether every level allows
     * writes and user access; 0: not present; -1: the translation itself
     * failed (the VMM's trouble, not the guest's: the VM stops). */
    int (*translate)(void *ctx, uint64_t linear, uint64_t *guest_phys, bool *writable,
                     bool *user);
    /* len bytes within one page; false: not the VM's RAM. */
    bool (*memory)(void *ctx, uint64_t guest_phys, void *bytes, unsigned len, bool write);
    uint32_t (*port_in)(void *ctx, uint16_t port, unsigned size);
    void (*port_out)(void *ctx, uint16_t port, unsigned size, uint32_t value);
    void *ctx;
};

/* The vcpu's state the instruction uses and changes. */
struct string_io_cpu {
    enum insn_mode mode;
    uint64_t rip, rflags, rcx, rsi, rdi;
    uint64_t segment_base[6];     /* indexed by enum insn_segment */
    uint8_t cpl;
    bool write_protect;           /* CR0.WP */
    bool smap;                    /* CR4.SMAP */
    bool la57;                    /* CR4.LA57: 57-bit linear addresses, else 48 */
    /* out, on STRING_IO_GUEST_FAULT: the exception (#PF, #GP, #SS), its
     * error code, and for #PF the CR2 */
    uint8_t fault_vector;
    uint64_t fault_address;
    uint32_t fault_error;
};

enum string_io_status {
    STRING_IO_DONE,               /* count exhausted; RIP is past it */
    STRING_IO_MORE,               /* a batch done; RIP on the instruction */
    STRING_IO_NOT_STRING_IO,      /* the bytes are no INS/OUTS of this exit */
    STRING_IO_FAULT,              /* an element's memory is not the VM's RAM */
    STRING_IO_GUEST_FAULT,        /* the guest takes fault_vector;
                                     RIP on the instruction */
};

/* Executes the INS/OUTS whose bytes are insn[0..n) (at cpu->rip), which
 * exited for `port` in direction `is_out` with `size` bytes an element;
 * updates *cpu. On STRING_IO_FAULT and STRING_IO_GUEST_FAULT the elements
 * before the faulting one are done and counted in the registers. */
enum string_io_status string_io_execute(const uint8_t *insn, unsigned n, uint16_t port,
                                        bool is_out, unsigned size,
                                        const struct string_io_ops *ops,
                                        struct string_io_cpu *cpu);

#endif
