/*
 * crash: stops this control domain with a page fault it cannot deliver,
 * for the system test of the hypervisor's report of a control-domain
 * triple fault (tests/system/control_domain_tests.sh). The report's walks
 * of RIP and CR2 through the domain's page tables are what tell a fault of
 * the domain's own making (CR2 has no translation) from an emulator's
 * failed walk of intact tables (it has one); this gives the first kind.
 */
#include "guest-tools/runtime/console.h"
#include "guest-tools/tools/tool.h"

/* Past the identity map's first PML4 entry: never mapped. */
#define UNMAPPED_ADDRESS 0x8000000000ull

int crash_main(const struct hv_boot_info *info, int argc, char **argv)
{
    (void)info;
    (void)argc;
    (void)argv;
    /* An IDT with no gates: the #PF becomes #GP, #DF, then a triple fault,
     * whatever IDT the domain had. */
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } no_gates = { 0, 0 };
    ctl_printf("crash: reading 0x%llx with no IDT\n", UNMAPPED_ADDRESS);
    __asm__ volatile("lidt %0" : : "m"(no_gates));
    return (int)*(volatile uint8_t *)UNMAPPED_ADDRESS;
}
