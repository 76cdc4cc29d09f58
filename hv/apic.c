#include "hv/apic.h"

#include "hv/msr.h"
#include "hv/spinlock.h"
#include "hv/time.h"
#include "hv/x86.h"

#define SPURIOUS_ENABLE 0x100u

bool apic_x2apic_mode;
volatile uint32_t *apic_xapic_mmio;
#define use_x2apic apic_x2apic_mode
#define xapic_mmio apic_xapic_mmio

/* The 8259 PICs that firmware leaves running would deliver the PIT's IRQ 0
 * at vector 8 (#DF's) as soon as IF opens: move them to 0x20-0x2f, where a
 * stray spurious IRQ 7/15 cannot pose as an exception, and mask every line.
 * The local APIC is the only interrupt source the hypervisor uses. */
void legacy_pic_disable(void)
{
    outb(0x20, 0x11);   /* ICW1: init, ICW4 follows */
    outb(0xa0, 0x11);
    outb(0x21, 0x20);   /* ICW2: vector base */
    outb(0xa1, 0x28);
    outb(0x21, 0x04);   /* ICW3: slave on IRQ 2 */
    outb(0xa1, 0x02);
    outb(0x21, 0x01);   /* ICW4: 8086 mode */
    outb(0xa1, 0x01);
    outb(0x21, 0xff);   /* mask all */
    outb(0xa1, 0xff);
}

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

#define TIMER_DIVIDE_BY_16 0x3
#define LVT_MASKED (1u << 16)

static uint64_t timer_ticks_per_ms;

void apic_timer_calibrate(void)
{
    apic_write(APIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
    apic_write(APIC_LVT_TIMER, LVT_MASKED);
    apic_write(APIC_TIMER_INITIAL, 0xffffffffu);
    udelay(10000);
    uint32_t elapsed = 0xffffffffu - apic_read(APIC_TIMER_CURRENT);
    apic_write(APIC_TIMER_INITIAL, 0);
    timer_ticks_per_ms = elapsed / 10 ? elapsed / 10 : 1000;
}

uint32_t apic_timer_ticks(uint64_t microseconds)
{
    uint64_t ticks = timer_ticks_per_ms * microseconds / 1000;
    if (ticks == 0)
        ticks = 1;
    return ticks > 0xffffffffu ? 0xffffffffu : (uint32_t)ticks;
}

void apic_timer_setup(uint8_t vector)
{
    apic_write(APIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
    apic_write(APIC_LVT_TIMER, vector); /* one-shot */
    apic_write(APIC_TIMER_INITIAL, 0);
}


