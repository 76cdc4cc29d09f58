#include "hv/control_domain.h"

#include "abi/hv_abi.h"
#include "hv/console.h"
#include "hv/console_input.h"
#include "hv/elf.h"
#include "hv/fpu.h"
#include "hv/guest_access.h"
#include "hv/guest_memory.h"
#include "hv/format.h"
#include "hv/hypercall.h"
#include "hv/machine_check.h"
#include "hv/memory.h"
#include "hv/msr_emulate.h"
#include "hv/msr_switch.h"
#include "hv/percpu.h"
#include "hv/run_watchdog.h"
#include "hv/speculation.h"
#include "hv/vcpu.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include "hv/trap.h"
#include "hv/x86.h"
#include "mmu/guest_walk.h"
#include "mmu/page_table.h"

volatile int control_domain_ready;
static struct vm *control_domain;

#define LARGE_PAGE (2ull << 20)
#define HANDLE_TABLE_PAGES (HANDLE_TABLE_SIZE * sizeof(struct handle_slot) / FRAME_SIZE)

static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }
static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* The domain's own page tables, at the top of its RAM: an identity map of
 * all of it with 2 MiB pages. Returns the PML4's guest-physical address. */
static uint64_t build_identity_map(struct vm *cd)
{
    uint64_t directories = align_up(cd->memory_size, 1ull << 30) >> 30;
    uint64_t pml4 = cd->memory_size - (2 + directories) * FRAME_SIZE;
    uint64_t *pml4_table = control_pointer(cd, pml4);
    uint64_t *pdpt = control_pointer(cd, pml4 + FRAME_SIZE);
    pml4_table[0] = (pml4 + FRAME_SIZE) | PTE_PRESENT | PTE_WRITE;
    for (uint64_t d = 0; d < directories; d++) {
        uint64_t pd_gpa = pml4 + (2 + d) * FRAME_SIZE;
        uint64_t *pd = control_pointer(cd, pd_gpa);
        pdpt[d] = pd_gpa | PTE_PRESENT | PTE_WRITE;
        for (uint64_t i = 0; i < 512; i++) {
            uint64_t gpa = (d << 30) + i * LARGE_PAGE;
            if (gpa < cd->memory_size)
                pd[i] = gpa | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
        }
    }
    return pml4;
}

static void copy_string(char *dst, const char *src, uint64_t size)
{
    uint64_t i = 0;
    for (; src[i] && i + 1 < size; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

static int load_image(struct vm *cd, const struct boot_module *module,
                      struct elf_image *image)
{
    const void *file = phys_to_virt(module->start);
    int err = elf_parse(file, module->end - module->start, cd->memory_size / 2, image);
    if (err)
        return err;
    for (unsigned i = 0; i < image->segment_count; i++) {
        const struct elf_segment *s = &image->segments[i];
        memory_copy(control_pointer(cd, s->load_address),
                    (const uint8_t *)file + s->file_offset, s->file_size);
    }
    return 0;
}

/* Fills the boot information and copies the further modules below it.
 * Returns the boot information's guest-physical address, or 0 when the
 * modules do not fit. */
static uint64_t write_boot_info(struct vm *cd, const struct boot_info *boot,
                                uint64_t below, uint64_t image_end,
                                hv_handle_t system_handle)
{
    uint64_t info_gpa = below - FRAME_SIZE;
    struct hv_boot_info *info = control_pointer(cd, info_gpa);
    info->magic = HV_BOOT_MAGIC;
    info->api_version = HV_API_VERSION;
    info->cpu_count = cpu_count;
    info->system_handle = system_handle;
    info->memory_size = cd->memory_size;
    info->backend = virt->abi_backend;
    copy_string(info->cmdline, boot->modules[0].cmdline, sizeof(info->cmdline));

    uint64_t cursor = info_gpa;
    for (unsigned i = 1; i < boot->module_count && i <= HV_BOOT_MAX_MODULES; i++) {
        const struct boot_module *m = &boot->modules[i];
        uint64_t size = m->end - m->start;
        if (size + FRAME_SIZE > cursor - image_end)
            return 0;
        cursor = align_down(cursor - size, FRAME_SIZE);
        memory_copy(control_pointer(cd, cursor), phys_to_virt(m->start), size);
        struct hv_boot_module *out = &info->modules[info->module_count++];
        out->guest_phys = cursor;
        out->size = size;
        copy_string(out->cmdline, m->cmdline, sizeof(out->cmdline));
    }
    info->free_start = image_end;
    info->free_end = cursor;
    return info_gpa;
}

static int create_handles(struct vm *cd, hv_handle_t *system_handle)
{
    uint64_t slots = pages_alloc_zeroed(HANDLE_TABLE_PAGES, 0);
    if (slots == FRAME_NONE)
        return -HV_ENOMEM;
    handle_table_init(&cd->handles, phys_to_virt(slots), hypercall_release_handle);
    *system_handle = handle_open(&cd->handles, HV_HANDLE_SYSTEM, HV_RIGHTS_ALL,
                                 hypercall_system_object());
    return *system_handle < 0 ? (int)*system_handle : 0;
}

int control_domain_create(const struct boot_info *boot, uint64_t memory_size)
{
    long err;
    if (!virt->vcpu_init) {
        pr_error("ctl: the %s backend cannot run guests yet", virt->name);
        return -HV_ENOTSUP;
    }
    memory_size = align_up(memory_size, LARGE_PAGE);
    struct vm *cd = vm_create(true, 0, &err);
    if (!cd)
        return (int)err;
    uint64_t base = frame_alloc_range(&frames, memory_size / FRAME_SIZE,
                                      LARGE_PAGE / FRAME_SIZE, 0);
    if (base == FRAME_NONE) {
        pr_error("ctl: no %llu MiB of contiguous memory for the control domain "
                 "(lower ctl_mem=)", (unsigned long long)(memory_size >> 20));
        return -HV_ENOMEM;
    }
    memory_zero(phys_to_virt(base), memory_size);
    cd->memory_base = base;
    cd->memory_size = memory_size;
    if ((err = vm_map_host(cd, 0, base, memory_size, true)))
        return (int)err;

    struct elf_image image;
    if ((err = load_image(cd, &boot->modules[0], &image))) {
        pr_error("ctl: the first module is not a usable x86-64 ELF executable "
                 "(error %ld)", err);
        return (int)err;
    }
    uint64_t image_end = 0;
    for (unsigned i = 0; i < image.segment_count; i++) {
        uint64_t end = image.segments[i].load_address + image.segments[i].memory_size;
        if (end > image_end)
            image_end = end;
    }
    hv_handle_t system_handle;
    if ((err = create_handles(cd, &system_handle)))
        return (int)err;
    uint64_t cr3 = build_identity_map(cd);
    uint64_t info = write_boot_info(cd, boot, cr3, align_up(image_end, FRAME_SIZE),
                                    system_handle);
    if (!info) {
        pr_error("ctl: the modules do not fit in the control domain's %llu MiB "
                 "(raise ctl_mem=)", (unsigned long long)(memory_size >> 20));
        return -HV_E2BIG;
    }
    for (unsigned i = 0; i < cpu_count; i++) {
        struct vcpu *vcpu = vcpu_create(cd, i, NULL, &err);
        if (!vcpu)
            return (int)err;
        virt->setup_control_vcpu(vcpu, image.entry, cr3, info, i);
    }
    pr_info("ctl: control domain \"%s\": %llu MiB at 0x%llx, entry 0x%llx, "
            "%u vcpus, %u modules", boot->modules[0].cmdline,
            (unsigned long long)(memory_size >> 20), (unsigned long long)base,
            (unsigned long long)image.entry, cpu_count, boot->module_count - 1);
    control_domain = cd;
    __atomic_store_n(&control_domain_ready, 1, __ATOMIC_RELEASE);
    return 0;
}

/* CR2 and the IDT's base go with it, and the hypervisor's own walk of RIP
 * and CR2 through the domain's page tables, printed first (the stop line
 * ends a system test's run). A page fault at an address those tables
 * translate is an emulator's walk failing on intact tables (README, known
 * limits; QEMU's signature is CR2 at RIP or at the IDT's gate 8), which
 * the system tests tell from a fault of the domain's own making. */
static __attribute__((noreturn)) void control_vcpu_failed(struct vcpu *vcpu,
                                                          const char *what,
                                                          const struct exit_record *exit)
{
    struct hv_sregs sregs;
    struct guest_translation at_rip = { 0 }, at_cr2 = { 0 };
    virt->get_sregs(vcpu, &sregs);
    int rip_walk = vcpu_translate(vcpu, exit->rip, &at_rip);
    int cr2_walk = vcpu_translate(vcpu, sregs.cr2, &at_cr2);
    pr_error("ctl: control-domain vcpu %u: cr0 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx; "
             "the hypervisor's walk of rip: %d gpa 0x%llx, of cr2: %d gpa 0x%llx",
             vcpu->slot, (unsigned long long)sregs.cr0, (unsigned long long)sregs.cr3,
             (unsigned long long)sregs.cr4, (unsigned long long)sregs.efer, rip_walk,
             (unsigned long long)at_rip.guest_phys, cr2_walk,
             (unsigned long long)at_cr2.guest_phys);
    pr_error("ctl: control-domain vcpu %u stopped: %s at rip 0x%llx (exit 0x%llx, "
             "info 0x%llx 0x%llx; cr2 0x%llx idt 0x%llx)", vcpu->slot, what,
             (unsigned long long)exit->rip, (unsigned long long)exit->hardware_reason,
             (unsigned long long)exit->info1, (unsigned long long)exit->info2,
             (unsigned long long)sregs.cr2, (unsigned long long)sregs.idt.base);
    halt_forever();
}

/* A machine check while the control domain ran (hv/machine_check.h): it
 * goes on if the CPU can resume it, else its vcpu on this CPU stops. */
static void control_machine_check(struct vcpu *vcpu, const struct exit_record *exit)
{
    char where[64];
    format(where, sizeof(where), "in the control domain, vcpu %u (rip 0x%llx)",
           vcpu->slot, (unsigned long long)exit->rip);
    if (!machine_check_handle(where, NULL)) {
        console_emergency("mce: not recoverable (RIPV clear): the control domain's "
                          "vcpu %u stops", vcpu->slot);
        control_vcpu_failed(vcpu, "unrecoverable machine check", exit);
    }
    console_emergency("mce: recoverable (RIPV set): the control domain goes on");
}

/* The control domain's own port I/O reaches the hardware except for the
 * hypervisor's own devices (hv/control_ports.h): writes there are dropped,
 * reads see no data. */
static void control_port_io(struct vcpu *vcpu, const struct exit_record *exit)
{
    /* All ones, as from a port nobody answers; a 32-bit IN zero-extends. */
    if (exit->io.in && !exit->io.string)
        vcpu->gprs.rax = exit->io.size == 4 ? 0xffffffffull
                                            : vcpu->gprs.rax | ((1ull << (8 * exit->io.size)) - 1);
    virt->skip_instruction(vcpu, exit);
}

/* The domain's CPL: SS's DPL on both backends, in every mode (real mode
 * 0, virtual-8086 mode 3). */
static unsigned control_domain_cpl(struct vcpu *vcpu)
{
    struct hv_sregs sregs;
    virt->get_sregs(vcpu, &sregs);
    return sregs.ss.dpl;
}

/* Handles one exit of a control-domain vcpu that the backend's fast path
 * (control_domain_hypercall) did not take: a hypercall with a prefix or
 * from CPL > 0, a CPUID, and the rare ones. Never stops the vcpu. A
 * hypercall is the domain's kernel's, as KVM's and Xen's are: from its
 * user mode it gets -HV_EPERM, before its number or handle is looked at
 * (abi/README.md, section 2). */
static int control_domain_exit(struct vcpu *vcpu, const struct exit_record *exit)
{
    switch (exit->kind) {
    case EXIT_HYPERCALL:
        virt->skip_instruction(vcpu, exit);
        if (control_domain_cpl(vcpu) != 0) {
            vcpu->gprs.rax = (uint64_t)-HV_EPERM;
            return 0;
        }
        return control_domain_hypercall(vcpu, &vcpu->gprs.rax);
    case EXIT_CPUID:
        cpuid_emulate(vcpu);
        virt->skip_instruction(vcpu, exit);
        return 0;
    case EXIT_MSR_READ:
    case EXIT_MSR_WRITE:
        msr_emulate(vcpu, exit);
        return 0;
    case EXIT_INTERRUPT:
    case EXIT_NMI:
        take_pending_interrupt();
        return 0;
    case EXIT_HLT:
        /* Nothing to do until an interrupt, a WAKE_CPU or typed input
         * (hv/console_input.h): sleep with IF
         * open. A wake that came before the HLT is not lost: its flag is
         * checked with IF closed, and STI's shadow makes STI; HLT one step. */
        virt->skip_instruction(vcpu, exit);
        if (!__atomic_exchange_n(&this_cpu()->wake_pending, false, __ATOMIC_ACQ_REL) &&
            !console_input_take_pending()) {
            bool watching = run_watchdog_arm();
            __asm__ volatile("sti; hlt; cli" ::: "memory");
            run_watchdog_check(watching);
        }
        __atomic_store_n(&this_cpu()->wake_pending, false, __ATOMIC_RELEASE);
        console_input_take_pending();
        return 0;
    case EXIT_IO:
        control_port_io(vcpu, exit);
        return 0;
    case EXIT_XSETBV:
        xsetbv_emulate(vcpu, exit);
        return 0;
    case EXIT_UNDEFINED:
        virt->inject_exception(vcpu, VECTOR_INVALID_OPCODE, false, 0);
        return 0;
    case EXIT_INVD:
        wbinvd();
        virt->skip_instruction(vcpu, exit);
        return 0;
    case EXIT_REEXECUTE:
        return 0;
    case EXIT_MACHINE_CHECK:
        control_machine_check(vcpu, exit);
        return 0;
    case EXIT_SHUTDOWN:
        control_vcpu_failed(vcpu, "triple fault", exit);
    case EXIT_NESTED_FAULT:
        control_vcpu_failed(vcpu, "access outside its memory", exit);
    case EXIT_FAIL_ENTRY:
        control_vcpu_failed(vcpu, "the CPU refused its state", exit);
    default:
        control_vcpu_failed(vcpu, "unexpected exit", exit);
    }
}

void control_domain_run_this_cpu(void)
{
    struct vcpu *vcpu = control_domain->vcpus[this_cpu_index()];
    if (!vcpu || vcpu_claim(vcpu))
        halt_forever();
    /* The CPU's extended state, speculation controls and switched MSRs
     * start as this vcpu's (and the hypervisor's); children borrow them in
     * RUN. */
    this_cpu()->control_vcpu = vcpu;
    fpu_load(vcpu);
    speculation_enable_cpu();
    msr_switch_load(vcpu);
    virt->run_loop(vcpu, control_domain_exit);
    halt_forever(); /* control_domain_exit never stops the loop */
}
