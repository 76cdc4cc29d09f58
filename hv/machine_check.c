#include "hv/machine_check.h"

#include "hv/apic.h"
#include "hv/console.h"
#include "hv/cr_write.h"
#include "hv/format.h"
#include "hv/msr.h"
#include "hv/percpu.h"
#include "hv/trap.h"
#include "hv/x86.h"

#define CPUID_1_EDX_MCE (1u << 7)
#define CPUID_1_EDX_MCA (1u << 14)
#define MAX_BANKS       64          /* banks_valid is one word */

static uint32_t mc_msr(unsigned bank, unsigned which) /* 0 CTL .. 3 MISC */
{
    return MSR_IA32_MC0_CTL + 4 * bank + which;
}

/* The banks this CPU has; 0 without the machine-check architecture (then
 * no MCG or bank MSR exists and none may be touched). */
static unsigned bank_count(void)
{
    if ((cpuid_edx(1) & CPUID_1_EDX_MCA) == 0)
        return 0;
    unsigned banks = (unsigned)(rdmsr(MSR_IA32_MCG_CAP) & MCG_CAP_COUNT);
    return banks > MAX_BANKS ? MAX_BANKS : banks;
}

/* One bank's error, decoded enough to read without a manual at hand. */
static void report_bank(unsigned bank, uint64_t status)
{
    uint64_t addr = status & MCI_STATUS_ADDRV ? rdmsr(mc_msr(bank, 2)) : 0;
    uint64_t misc = status & MCI_STATUS_MISCV ? rdmsr(mc_msr(bank, 3)) : 0;
    console_emergency("mce:   bank %u: MCi_STATUS 0x%016llx (%s%s%s%s), MCi_ADDR "
                      "0x%llx%s, MCi_MISC 0x%llx%s, error code 0x%04llx",
                      bank, (unsigned long long)status,
                      status & MCI_STATUS_UC ? "uncorrected" : "corrected",
                      status & MCI_STATUS_PCC ? ", context corrupt" : "",
                      status & MCI_STATUS_OVER ? ", overflow" : "",
                      status & MCI_STATUS_EN ? ", signalled" : "",
                      (unsigned long long)addr, status & MCI_STATUS_ADDRV ? "" : " (not valid)",
                      (unsigned long long)misc, status & MCI_STATUS_MISCV ? "" : " (not valid)",
                      (unsigned long long)(status & 0xffff));
}

bool machine_check_handle(const char *where, struct machine_check_info *info)
{
    unsigned banks = bank_count();
    uint64_t mcg = banks ? rdmsr(MSR_IA32_MCG_STATUS) : 0;
    struct machine_check_info found = { .mcg_status = mcg };
    console_emergency("mce: machine check on CPU %u %s: MCG_STATUS 0x%llx (RIPV %u, "
                      "EIPV %u, MCIP %u), %u banks", this_cpu_index(), where,
                      (unsigned long long)mcg, (unsigned)(mcg & MCG_STATUS_RIPV),
                      (unsigned)((mcg & MCG_STATUS_EIPV) >> 1),
                      (unsigned)((mcg & MCG_STATUS_MCIP) >> 2), banks);
    for (unsigned bank = 0; bank < banks; bank++) {
        uint64_t status = rdmsr(mc_msr(bank, 1));
        if (!(status & MCI_STATUS_VAL))
            continue;
        if (!found.banks_valid) {
            found.first_status = status;
            found.first_addr = status & MCI_STATUS_ADDRV ? rdmsr(mc_msr(bank, 2)) : 0;
        }
        found.banks_valid |= 1ull << bank;
        report_bank(bank, status);
        wrmsr(mc_msr(bank, 1), 0); /* logged: free the bank for the next error */
    }
    if (!found.banks_valid)
        console_emergency("mce:   no bank holds an error%s", banks ? "" :
                          " (this CPU has no machine-check architecture)");
    /* MCIP still set would turn the next machine check into a shutdown. */
    if (banks)
        wrmsr(MSR_IA32_MCG_STATUS, 0);
    if (percpu_ready)
        __atomic_fetch_add(&this_cpu()->machine_check_count, 1, __ATOMIC_RELAXED);
    if (info)
        *info = found;
    return (mcg & MCG_STATUS_RIPV) != 0;
}

static struct percpu *cpu_of_apic_id(uint32_t apic_id)
{
    for (unsigned i = 0; i < cpu_count; i++)
        if (percpu_of[i] && percpu_of[i]->apic_id == apic_id)
            return percpu_of[i];
    return NULL;
}

/* Vector 18, on its own IST stack. GS may be a guest's here: SVM loads a
 * guest's GS base (VMLOAD) before VMRUN and the host's back only after
 * the exit, and GIF is not documented to hold machine checks back in that
 * window. So the CPU is found by its APIC ID, and the hypervisor's GS base
 * put back for the report and restored after it. */
static void host_machine_check(struct trap_frame *frame)
{
    struct percpu *cpu = percpu_ready ? cpu_of_apic_id(apic_self_id()) : NULL;
    uint64_t gs_base = rdmsr(MSR_GS_BASE);
    if (cpu)
        wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)cpu);
    char where[64];
    format(where, sizeof(where), "while the hypervisor ran (rip 0x%llx)",
           (unsigned long long)frame->rip);
    if (!machine_check_handle(where, NULL)) {
        console_emergency("mce: not recoverable (RIPV clear): CPU %u halted",
                          this_cpu_index());
        halt_forever();
    }
    console_emergency("mce: recoverable (RIPV set): the hypervisor goes on");
    wrmsr(MSR_GS_BASE, gs_base);
}

void machine_check_init(void)
{
    interrupt_register(VECTOR_MACHINE_CHECK, host_machine_check);
}

void machine_check_init_cpu(void)
{
    if (!(cpuid_edx(1) & CPUID_1_EDX_MCE))
        return;
    unsigned banks = bank_count();
    if (banks && (rdmsr(MSR_IA32_MCG_CAP) & MCG_CAP_CTL_P))
        wrmsr(MSR_IA32_MCG_CTL, ~0ull);
    for (unsigned bank = 0; bank < banks; bank++) {
        uint64_t status = rdmsr(mc_msr(bank, 1));
        if (status & MCI_STATUS_VAL)
            pr_warn("mce: bank %u held an error from before boot: MCi_STATUS 0x%llx",
                    bank, (unsigned long long)status);
        /* Report every kind of error. (P6-family CPUs want MC0_CTL left
         * to firmware, but none of them has EPT or NPT.) */
        wrmsr(mc_msr(bank, 0), ~0ull);
        wrmsr(mc_msr(bank, 1), 0);
    }
    write_cr4(read_cr4() | CR4_MCE);
}

uint64_t machine_check_count_all(void)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < cpu_count; i++)
        if (percpu_of[i])
            total += __atomic_load_n(&percpu_of[i]->machine_check_count, __ATOMIC_RELAXED);
    return total;
}
