#include "hv/apic.h"

#include "hv/msr.h"
#include "hv/spinlock.h"
#include "hv/x86.h"

#define SPURIOUS_ENABLE 0x100u

static bool use_x2apic;
static volatile uint32_t *xapic_mmio;

void apic_choose_mode(void)
{
    use_x2apic = cpuid_ecx(1) & (1u << 21);
}

bool apic_is_x2apic(void) { return use_x2apic; }

static uint32_t apic_read(uint32_t reg)
{
    if (use_x2apic)
        return (uint32_t)rdmsr(MSR_X2APIC_BASE + reg / 16);
    return xapic_mmio[reg / 4];
}

static void apic_write(uint32_t reg, uint32_t value)
{
    if (use_x2apic)
        wrmsr(MSR_X2APIC_BASE + reg / 16, value);
    else
        xapic_mmio[reg / 4] = value;
}

void apic_init_local(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    base |= APIC_BASE_ENABLE;
    if (use_x2apic)
        base |= APIC_BASE_X2APIC;
    wrmsr(MSR_IA32_APIC_BASE, base);
    xapic_mmio = (volatile uint32_t *)(uintptr_t)(base & 0xffffff000ull);
    apic_write(APIC_SPURIOUS, SPURIOUS_ENABLE | 0xff);
}

uint32_t apic_self_id(void)
{
    if (use_x2apic)
        return apic_read(APIC_ID);
    if (!xapic_mmio)
        return cpuid_ebx_initial_apic_id();
    return apic_read(APIC_ID) >> 24;
}

bool apic_send_ipi(uint32_t dest, uint32_t icr_low)
{
    if (use_x2apic) {
        wrmsr(MSR_X2APIC_BASE + APIC_ICR_LOW / 16, (uint64_t)dest << 32 | icr_low);
        return true; /* x2APIC has no delivery-status bit to wait on */
    }
    apic_write(APIC_ICR_HIGH, dest << 24);
    apic_write(APIC_ICR_LOW, icr_low);
    for (unsigned i = 0; i < 1000000; i++) {
        if (!(apic_read(APIC_ICR_LOW) & ICR_PENDING))
            return true;
        cpu_relax();
    }
    return false;
}

void apic_eoi(void) { apic_write(APIC_EOI, 0); }
