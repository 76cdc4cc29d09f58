/* The I/O and MSR permission maps (APM 15.10, 15.11), shared by all VMCBs:
 * one I/O map for children (every port intercepted, for their VMM), one for
 * the control domain (ports pass through, except the hypervisor's console),
 * and one MSR map (everything intercepted but the MSRs VMLOAD/VMSAVE switch,
 * reads of SPEC_CTRL where the CPU has it, which holds the vcpu's value
 * while it runs, and reads of the TSC). */
#include "abi/hv_errno.h"
#include "hv/control_ports.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/serial.h"
#include "hv/speculation.h"
#include "svm/svm.h"

#define IOPM_PAGES  3
#define MSRPM_PAGES 2

uint64_t svm_iopm_child;
uint64_t svm_iopm_control;
uint64_t svm_msrpm;

static void iopm_intercept(uint64_t iopm, uint16_t port, bool on)
{
    uint8_t *bits = phys_to_virt(iopm);
    if (on)
        bits[port / 8] |= (uint8_t)(1u << (port % 8));
    else
        bits[port / 8] &= (uint8_t)~(1u << (port % 8));
}

/* MSRPM: 2 bits per MSR (read, write) in three 2 KiB ranges. */
static void msrpm_pass(uint32_t msr, bool reads, bool writes)
{
    uint32_t base;
    if (msr < 0x2000)
        base = 0;
    else if (msr >= 0xc0000000 && msr < 0xc0002000)
        base = 0x800, msr -= 0xc0000000;
    else if (msr >= 0xc0010000 && msr < 0xc0012000)
        base = 0x1000, msr -= 0xc0010000;
    else
        return;
    uint8_t *bits = phys_to_virt(svm_msrpm);
    uint32_t bit = msr * 2;
    if (reads)
        bits[base + bit / 8] &= (uint8_t)~(1u << (bit % 8));
    if (writes)
        bits[base + (bit + 1) / 8] &= (uint8_t)~(1u << ((bit + 1) % 8));
}

int svm_bitmaps_init(void)
{
    if (svm_msrpm)
        return 0;
    svm_iopm_child = pages_alloc_zeroed(IOPM_PAGES, 0);
    svm_iopm_control = pages_alloc_zeroed(IOPM_PAGES, 0);
    svm_msrpm = pages_alloc_zeroed(MSRPM_PAGES, 0);
    if (svm_iopm_child == FRAME_NONE || svm_iopm_control == FRAME_NONE ||
        svm_msrpm == FRAME_NONE)
        return -HV_ENOMEM;
    memory_fill(phys_to_virt(svm_iopm_child), 0xff, IOPM_PAGES * FRAME_SIZE);
    for (unsigned r = 0; r < CONTROL_INTERCEPTED_RANGES; r++)
        for (uint16_t i = 0; i < control_intercepted_ports[r].count; i++)
            iopm_intercept(svm_iopm_control, control_intercepted_ports[r].first + i, true);

    memory_fill(phys_to_virt(svm_msrpm), 0xff, MSRPM_PAGES * FRAME_SIZE);
    static const uint32_t switched_by_vmload[] = {
        MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
        0xc0000081 /* STAR */, 0xc0000082 /* LSTAR */, 0xc0000083 /* CSTAR */,
        0xc0000084 /* SFMASK */, 0x174, 0x175, 0x176 /* SYSENTER_CS/ESP/EIP */,
    };
    for (unsigned i = 0; i < sizeof(switched_by_vmload) / sizeof(switched_by_vmload[0]); i++)
        msrpm_pass(switched_by_vmload[i], true, true);
    if (speculation.spec_ctrl_bits) /* read before: main.c */
        msrpm_pass(MSR_IA32_SPEC_CTRL, true, false);
    msrpm_pass(0x10 /* TSC */, true, false);
    return 0;
}
