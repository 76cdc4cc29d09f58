#include "hv/smp.h"

#include "boot/boot_layout.h"
#include "hv/apic.h"
#include "hv/console.h"
#include "hv/control_domain.h"
#include "hv/fpu.h"
#include "hv/machine_check.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "hv/time.h"
#include "hv/trap.h"
#include "hv/virt.h"
#include "hv/x86.h"

extern const char ap_trampoline_start[], ap_trampoline_end[],
    ap_trampoline_pm32[];
extern const char ap_entry64[];

#define GDT_CODE32 0x00cf9a000000ffffull
#define GDT_CODE64 0x00af9a000000ffffull
#define GDT_DATA   0x00cf92000000ffffull
#define AP_START_TIMEOUT_US 200000

uint64_t smp_pick_trampoline(const struct boot_info *boot, uint64_t avoid_start,
                             uint64_t avoid_end)
{
    /* Below 1 MiB and above the real-mode IVT/BDA; the SIPI vector can only
     * name a page in that range. */
    for (uint64_t page = 0x8000; page < 0x9f000; page += FRAME_SIZE) {
        if (page < avoid_end && avoid_start < page + FRAME_SIZE)
            continue;
        bool usable = false, taken = false;
        for (unsigned i = 0; i < boot->memory_count; i++) {
            const struct memory_range *r = &boot->memory[i];
            bool covers = r->base <= page && page + FRAME_SIZE <= r->base + r->length;
            bool touches = r->base < page + FRAME_SIZE && page < r->base + r->length;
            if (r->type == MEMORY_USABLE && covers)
                usable = true;
            else if (r->type != MEMORY_USABLE && touches)
                taken = true;
        }
        for (unsigned i = 0; i < boot->module_count; i++)
            if (boot->modules[i].start < page + FRAME_SIZE && page < boot->modules[i].end)
                taken = true;
        if (usable && !taken)
            return page;
    }
    return 0;
}

static void fill_trampoline(uint8_t *page, uint64_t base, uint64_t cr3)
{
    uint64_t size = (uint64_t)(ap_trampoline_end - ap_trampoline_start);
    memory_copy(page, ap_trampoline_start, size);

    uint64_t *gdt = (uint64_t *)(page + TP_GDT);
    gdt[0] = 0;
    gdt[1] = GDT_CODE64;
    gdt[2] = GDT_DATA;
    gdt[3] = GDT_CODE32;
    *(uint16_t *)(page + TP_GDTR) = 4 * 8 - 1;
    *(uint32_t *)(page + TP_GDTR + 2) = (uint32_t)(base + TP_GDT);
    *(uint32_t *)(page + TP_PM32_JUMP) =
        (uint32_t)(base + (uint64_t)(ap_trampoline_pm32 - ap_trampoline_start));
    *(uint16_t *)(page + TP_PM32_JUMP + 4) = TP_GDT_CODE32;
    *(uint32_t *)(page + TP_LM64_JUMP) = (uint32_t)(uintptr_t)ap_entry64;
    *(uint16_t *)(page + TP_LM64_JUMP + 4) = GDT_KERNEL_CS;
    *(uint32_t *)(page + TP_CR3) = (uint32_t)cr3;
    *(uint64_t *)(page + TP_EFER) = rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE);
}

static bool wait_online(struct percpu *cpu, uint64_t us)
{
    for (uint64_t waited = 0; waited < us; waited += 10) {
        if (__atomic_load_n(&cpu->online, __ATOMIC_ACQUIRE))
            return true;
        udelay(10);
    }
    return false;
}

static bool start_one(struct percpu *cpu, uint64_t trampoline_page)
{
    uint8_t *page = phys_to_virt(trampoline_page);
    *(uint64_t *)(page + TP_STACK) = cpu->stack_top;
    *(uint64_t *)(page + TP_PERCPU) = (uint64_t)(uintptr_t)cpu;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    uint32_t vector = (uint32_t)(trampoline_page >> 12);
    apic_send_ipi(cpu->apic_id, ICR_INIT | ICR_ASSERT);
    udelay(10000);
    for (int attempt = 0; attempt < 2; attempt++) {
        apic_send_ipi(cpu->apic_id, ICR_STARTUP | vector);
        if (wait_online(cpu, attempt ? AP_START_TIMEOUT_US : 200))
            return true;
    }
    return false;
}

unsigned smp_start_aps(const struct madt_info *madt, uint64_t trampoline_page,
                       uint64_t host_cr3)
{
    uint32_t self = apic_self_id();
    unsigned online = 1;
    fill_trampoline(phys_to_virt(trampoline_page), trampoline_page, host_cr3);

    for (unsigned i = 0; i < madt->cpu_count; i++) {
        uint32_t apic_id = madt->cpus[i].apic_id;
        if (apic_id == self)
            continue;
        if (!apic_is_x2apic() && apic_id > 0xfe) {
            pr_warn("smp: CPU with APIC ID %u needs x2APIC; skipped", apic_id);
            continue;
        }
        struct percpu *cpu = percpu_create(cpu_count, apic_id);
        if (!cpu) {
            pr_error("smp: out of memory for CPU with APIC ID %u", apic_id);
            break;
        }
        if (!start_one(cpu, trampoline_page)) {
            pr_error("smp: CPU with APIC ID %u did not start", apic_id);
            percpu_of[cpu_count] = NULL;
            continue; /* its pages stay: the CPU might still wake up late */
        }
        cpu_count++;
        online++;
    }
    return online;
}

void ap_main(struct percpu *cpu)
{
    percpu_load(cpu);
    fpu_enable_cpu();
    machine_check_init_cpu();
    apic_init_local();
    apic_timer_setup(VECTOR_TIMER);
    vcpu_slice_setup_cpu(cpu);
    int err = virt_enable_this_cpu();
    __atomic_store_n(&cpu->online, true, __ATOMIC_RELEASE);
    int ready;
    while (!(ready = __atomic_load_n(&control_domain_ready, __ATOMIC_ACQUIRE)))
        cpu_relax();
    if (ready < 0 || err)
        halt_forever();
    control_domain_run_this_cpu();
}
