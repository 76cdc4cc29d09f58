/* The I/O and MSR bitmaps (SDM 3C 24.6.4, 24.6.9), shared by all VMCSs: one
 * I/O pair for children (every port exits, for their VMM), one for the
 * control domain (ports pass through, except the hypervisor's console), and
 * one MSR bitmap: every MSR exits except the FS/GS bases and the SYSENTER
 * MSRs, which the VMCS switches, KERNEL_GS_BASE, which the vcpu owns in
 * the CPU while it runs anyway (SWAPGS), reads of the other SYSCALL MSRs,
 * whose writes must exit to keep hv/msr_switch.c's copies, reads of
 * SPEC_CTRL where the CPU has it, which holds the vcpu's value while it
 * runs, and reads of the TSC. */
#include "abi/hv_errno.h"
#include "hv/control_ports.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/serial.h"
#include "hv/speculation.h"
#include "vmx/vmx.h"

uint64_t vmx_io_bitmap_child;
uint64_t vmx_io_bitmap_control;
uint64_t vmx_msr_bitmap;

/* MSR bitmap: read-low, read-high, write-low, write-high, 1 KiB each. */
static void msr_pass(uint32_t msr, bool reads, bool writes)
{
    uint32_t offset;
    if (msr < 0x2000)
        offset = 0;
    else if (msr >= 0xc0000000 && msr < 0xc0002000)
        offset = 1024, msr -= 0xc0000000;
    else
        return;
    uint8_t *bits = phys_to_virt(vmx_msr_bitmap);
    if (reads)
        bits[offset + msr / 8] &= (uint8_t)~(1u << (msr % 8));
    if (writes)
        bits[2048 + offset + msr / 8] &= (uint8_t)~(1u << (msr % 8));
}

int vmx_bitmaps_init(void)
{
    if (vmx_msr_bitmap)
        return 0;
    vmx_io_bitmap_child = pages_alloc_zeroed(2, 0);
    vmx_io_bitmap_control = pages_alloc_zeroed(2, 0);
    vmx_msr_bitmap = pages_alloc_zeroed(1, 0);
    if (vmx_io_bitmap_child == FRAME_NONE || vmx_io_bitmap_control == FRAME_NONE ||
        vmx_msr_bitmap == FRAME_NONE)
        return -HV_ENOMEM;
    memory_fill(phys_to_virt(vmx_io_bitmap_child), 0xff, 2 * FRAME_SIZE);
    uint8_t *control = phys_to_virt(vmx_io_bitmap_control);
    for (unsigned r = 0; r < CONTROL_INTERCEPTED_RANGES; r++)
        for (uint16_t i = 0; i < control_intercepted_ports[r].count; i++) {
            uint16_t port = control_intercepted_ports[r].first + i;
            control[port / 8] |= (uint8_t)(1u << (port % 8));
        }
    memory_fill(phys_to_virt(vmx_msr_bitmap), 0xff, 1 * FRAME_SIZE);
    msr_pass(MSR_FS_BASE, true, true);
    msr_pass(MSR_GS_BASE, true, true);
    msr_pass(0x174, true, true);
    msr_pass(0x175, true, true);
    msr_pass(0x176, true, true);
    msr_pass(MSR_KERNEL_GS_BASE, true, true);
    msr_pass(MSR_STAR, true, false);
    msr_pass(MSR_LSTAR, true, false);
    msr_pass(MSR_CSTAR, true, false);
    msr_pass(MSR_SFMASK, true, false);
    if (speculation.spec_ctrl_bits) /* read before: main.c */
        msr_pass(MSR_IA32_SPEC_CTRL, true, false);
    msr_pass(0x10 /* TSC */, true, false);
    return 0;
}
