/*
 * The vcpu state a multiboot1 kernel expects at entry (spec 3.2): 32-bit
 * protected mode with paging off, flat 4 GiB code and data segments, and
 * nothing else the kernel may rely on. The kernel loads its own GDT and
 * IDT before it reloads a segment register or takes an exception.
 * The other vcpus of an SMP VM start in the same mode at the same entry,
 * told apart by the registers of smp_entry.h.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/vmm_internal.h"

#define SELECTOR_CODE 0x08
#define SELECTOR_DATA 0x10
#define TYPE_CODE_EXEC_READ_ACCESSED  0xb
#define TYPE_DATA_READ_WRITE_ACCESSED 0x3
#define TYPE_TSS_32_BUSY              0xb   /* system type, s = 0 */
#define TYPE_LDT                      0x2   /* system type, s = 0 */
#define CR0_PE 0x01u                        /* protection enable */
#define CR0_ET 0x10u                        /* extension type, fixed 1 */
#define RFLAGS_FIXED 0x2u                   /* bit 1 always reads 1 */

/* A present, ring-0, 32-bit segment over all 4 GiB (limit in bytes). */
static void flat_segment(struct hv_segment *seg, uint16_t selector,
                         uint8_t type)
{
    memset(seg, 0, sizeof(*seg));
    seg->base = 0;
    seg->limit = 0xffffffffu;
    seg->selector = selector;
    seg->type = type;
    seg->present = 1;
    seg->s = 1;
    seg->db = 1;
    seg->g = 1;
}

/* A present system segment (TR, LDTR) at base 0 with a 64 KiB limit. The
 * CPU insists on a valid busy TSS in TR for entry, even though nothing in
 * the guest uses one before it sets its own. */
static void system_segment(struct hv_segment *seg, uint8_t type)
{
    memset(seg, 0, sizeof(*seg));
    seg->limit = 0xffff;
    seg->type = type;
    seg->present = 1;
}

/* The general registers one vcpu starts with. */
struct entry_regs {
    uint32_t eax, ebx, ecx, esi, edi, esp;
};

static int start_vcpu(const struct vmm_vcpu *vcpu, uint32_t entry,
                      const struct entry_regs *start)
{
    struct hv_sregs sregs;
    struct hv_regs regs;
    long rc;

    /* Start from the hypervisor's view so fields this code does not
     * decide (apic_base) keep their values. */
    if ((rc = hv_get_sregs(vcpu->handle, &sregs)) < 0) {
        ctl_printf("guest %s: GET_SREGS failed: %s\n", vcpu->label, hv_strerror(rc));
        return (int)rc;
    }
    flat_segment(&sregs.cs, SELECTOR_CODE, TYPE_CODE_EXEC_READ_ACCESSED);
    flat_segment(&sregs.ds, SELECTOR_DATA, TYPE_DATA_READ_WRITE_ACCESSED);
    flat_segment(&sregs.es, SELECTOR_DATA, TYPE_DATA_READ_WRITE_ACCESSED);
    flat_segment(&sregs.fs, SELECTOR_DATA, TYPE_DATA_READ_WRITE_ACCESSED);
    flat_segment(&sregs.gs, SELECTOR_DATA, TYPE_DATA_READ_WRITE_ACCESSED);
    flat_segment(&sregs.ss, SELECTOR_DATA, TYPE_DATA_READ_WRITE_ACCESSED);
    system_segment(&sregs.tr, TYPE_TSS_32_BUSY);
    system_segment(&sregs.ldt, TYPE_LDT);
    sregs.ldt.unusable = 1;                 /* no LDT: a null selector */
    memset(&sregs.gdt, 0, sizeof(sregs.gdt));
    memset(&sregs.idt, 0, sizeof(sregs.idt));
    sregs.gdt.limit = 0xffff;
    sregs.idt.limit = 0xffff;
    sregs.cr0 = CR0_PE | CR0_ET;
    sregs.cr2 = 0;
    sregs.cr3 = 0;
    sregs.cr4 = 0;
    sregs.cr8 = 0;
    sregs.efer = 0;
    if ((rc = hv_set_sregs(vcpu->handle, &sregs)) < 0) {
        ctl_printf("guest %s: SET_SREGS failed: %s\n", vcpu->label, hv_strerror(rc));
        return (int)rc;
    }

    memset(&regs, 0, sizeof(regs));
    regs.rax = start->eax;
    regs.rbx = start->ebx;
    regs.rcx = start->ecx;
    regs.rsi = start->esi;
    regs.rdi = start->edi;
    regs.rsp = start->esp;
    regs.rip = entry;
    regs.rflags = RFLAGS_FIXED;             /* interrupts off */
    if ((rc = hv_set_regs(vcpu->handle, &regs)) < 0) {
        ctl_printf("guest %s: SET_REGS failed: %s\n", vcpu->label, hv_strerror(rc));
        return (int)rc;
    }
    return 0;
}

int vmm_set_protected_mode(struct vm_instance *vm, uint32_t entry,
                           uint32_t eax, uint32_t ebx)
{
    unsigned n = vm->vcpu_count;
    uint64_t stacks = (uint64_t)(n - 1) * VMM_AP_STACK_SIZE;
    /* ESP is 32 bits: above 4 GiB the stacks stay under the 4 GiB line. */
    uint64_t top = vm->ram_size < (1ull << 32) ? vm->ram_size : 0xfffff000u;
    struct entry_regs start = {
        .eax = eax, .ebx = ebx, .esi = VMM_SMP_MARKER, .edi = n,
    };
    int rc;

    /* The non-boot vcpus' stacks sit at the top of RAM, far above the
     * kernel and its multiboot information in any RAM the demo gives. */
    if (stacks > vm->ram_size / 2) {
        ctl_printf("guest %s: no room for %u vcpu stacks in %lu MiB\n",
                   vm->name, n, vm->ram_size >> 20);
        return -HV_ENOMEM;
    }
    /* On a PC the firmware hands the kernel the boot CPU alone: the
     * others wait in their reset state for the kernel's INIT-SIPI-SIPI,
     * and nothing tells the kernel how many vcpus the VMM started. */
    if (vm->aps_wait_for_sipi) {
        start.esi = 0;
        start.edi = 0;
        return start_vcpu(&vm->vcpus[0], entry, &start);
    }
    if ((rc = start_vcpu(&vm->vcpus[0], entry, &start)) < 0)
        return rc;
    for (unsigned k = 1; k < n; k++) {
        start = (struct entry_regs){
            .eax = VMM_SMP_MARKER, .ebx = k, .ecx = n,
            .esp = (uint32_t)(top - (k - 1) * VMM_AP_STACK_SIZE),
        };
        if ((rc = start_vcpu(&vm->vcpus[k], entry, &start)) < 0)
            return rc;
    }
    return 0;
}
