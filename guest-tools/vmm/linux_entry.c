/*
 * Starting a VM's boot vcpu in a bzImage (linux_boot.h) in the state the
 * boot protocol asks of a loader: for the 64-bit entry, long mode with
 * paging on the loader's identity tables; for the 32-bit entry, protected
 * mode with paging off. Both: __BOOT_CS and __BOOT_DS flat from the
 * loader's GDT, interrupts off, RSI the zero page. The other vcpus stay in
 * their reset state for the kernel's INIT-SIPI-SIPI, as on a PC.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/linux_boot.h"
#include "guest-tools/vmm/vmm_internal.h"

#define TYPE_CODE_EXEC_READ_ACCESSED  0xb
#define TYPE_DATA_READ_WRITE_ACCESSED 0x3
#define TYPE_TSS_BUSY                 0xb
#define CR0_PE 0x00000001ull
#define CR0_ET 0x00000010ull
#define CR0_NE 0x00000020ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define RFLAGS_FIXED 0x2ull

static void flat(struct hv_segment *seg, uint16_t selector, uint8_t type, bool long_code)
{
    memset(seg, 0, sizeof(*seg));
    seg->limit = 0xffffffffu;
    seg->selector = selector;
    seg->type = type;
    seg->present = 1;
    seg->s = 1;
    seg->g = 1;
    seg->l = long_code;
    seg->db = !long_code;
}

static int set_entry_state(const struct vmm_vcpu *vcpu, const struct linux_boot_plan *plan)
{
    struct hv_sregs sregs;
    struct hv_regs regs;
    long rc;

    if ((rc = hv_get_sregs(vcpu->handle, &sregs)) < 0)
        return (int)rc;
    flat(&sregs.cs, LINUX_BOOT_CS, TYPE_CODE_EXEC_READ_ACCESSED, plan->entry_64);
    flat(&sregs.ds, LINUX_BOOT_DS, TYPE_DATA_READ_WRITE_ACCESSED, false);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    /* The CPU needs a usable busy TSS in TR to enter; the kernel loads
     * its own before it could use one. */
    memset(&sregs.tr, 0, sizeof(sregs.tr));
    sregs.tr.limit = 0x67;
    sregs.tr.type = TYPE_TSS_BUSY;
    sregs.tr.present = 1;
    memset(&sregs.ldt, 0, sizeof(sregs.ldt));
    sregs.ldt.type = 2;
    sregs.ldt.present = 1;
    sregs.ldt.unusable = 1;
    memset(&sregs.gdt, 0, sizeof(sregs.gdt));
    sregs.gdt.base = LINUX_GDT_ADDRESS;
    sregs.gdt.limit = LINUX_GDT_LIMIT;
    memset(&sregs.idt, 0, sizeof(sregs.idt));
    sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | (plan->entry_64 ? CR0_PG : 0);
    sregs.cr2 = 0;
    sregs.cr3 = plan->cr3;
    sregs.cr4 = plan->entry_64 ? CR4_PAE : 0;
    sregs.cr8 = 0;
    sregs.efer = plan->entry_64 ? EFER_LME | EFER_LMA : 0;
    if ((rc = hv_set_sregs(vcpu->handle, &sregs)) < 0)
        return (int)rc;
    memset(&regs, 0, sizeof(regs));
    regs.rsi = LINUX_BOOT_PARAMS_ADDRESS;
    regs.rip = plan->entry;
    regs.rflags = RFLAGS_FIXED;
    return (int)hv_set_regs(vcpu->handle, &regs);
}

int vmm_load_linux(struct vm_instance *vm, const uint8_t *kernel, uint64_t kernel_size,
                   const uint8_t *initrd, uint64_t initrd_size, const char *cmdline,
                   uint64_t rsdp_address)
{
    struct linux_boot_input in = {
        .ram = vm->ram, .ram_below_4g = vm->ram_below_4g,
        .ram_above_4g = vm->ram_size - vm->ram_below_4g,
        .kernel = kernel, .kernel_size = kernel_size,
        .initrd = initrd, .initrd_size = initrd_size,
        .cmdline = cmdline, .rsdp_address = rsdp_address,
    };
    struct linux_boot_plan plan;
    int rc = linux_boot_load(&in, &plan);

    if (rc < 0) {
        ctl_printf("guest %s: Linux image refused: %s (kernel %lu bytes, initrd %lu bytes, "
                   "%lu MiB RAM)\n", vm->name, plan.error, kernel_size, initrd_size,
                   vm->ram_size >> 20);
        return rc;
    }
    ctl_printf("guest %s: Linux bzImage, boot protocol %u.%02u, %s entry at 0x%lx, "
               "initrd %lu bytes at 0x%lx\n", vm->name, plan.protocol >> 8,
               plan.protocol & 0xff, plan.entry_64 ? "64-bit" : "32-bit", plan.entry,
               plan.initrd_size, plan.initrd_address);
    if (!vm->aps_wait_for_sipi && vm->vcpu_count > 1) {
        ctl_printf("guest %s: a Linux guest needs its APs started by INIT-SIPI (HV_VM_LAPIC)\n",
                   vm->name);
        return -HV_EINVAL;
    }
    rc = set_entry_state(&vm->vcpus[0], &plan);
    if (rc < 0)
        ctl_printf("guest %s: setting the Linux entry state failed: %s\n", vm->name,
                   hv_strerror(rc));
    return rc;
}
