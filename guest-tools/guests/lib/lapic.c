/*
 * Local APIC access in xAPIC and x2APIC mode, IPIs and the timer's
 * calibration (lapic.h).
 */
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/guests/lib/timing.h"

#define MSR_X2APIC_BASE  0x800
#define MSR_X2APIC_ICR   0x830
#define CPUID_1_ECX_X2APIC (1u << 21)
#define SVR_APIC_ENABLE  (1u << 8)
#define CALIBRATION_MS   50
#define ICR_IDLE_TIMEOUT_MS 100

static uint32_t xapic_base = 0xfee00000;   /* from APIC_BASE in lapic_init */
static volatile int x2apic_mode;
uint32_t lapic_timer_khz;

uint32_t lapic_read(uint32_t reg)
{
    if (x2apic_mode)
        return (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
    return mmio_read32(xapic_base + reg);
}

void lapic_write(uint32_t reg, uint32_t value)
{
    if (x2apic_mode)
        wrmsr(MSR_X2APIC_BASE + (reg >> 4), value);
    else
        mmio_write32(xapic_base + reg, value);
}

int lapic_x2apic_offered(void)
{
    uint32_t a, b, c, d;

    cpuid(1, &a, &b, &c, &d);
    return (c & CPUID_1_ECX_X2APIC) != 0;
}

int lapic_in_x2apic_mode(void)
{
    return x2apic_mode;
}

void lapic_use_x2apic(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    /* xAPIC -> x2APIC is a legal transition (SDM 11.12.5, figure 11-27). */
    wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_EXTD);
    x2apic_mode = 1;
}

void lapic_leave_x2apic(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    wrmsr(MSR_APIC_BASE, base & ~(uint64_t)(APIC_BASE_ENABLE | APIC_BASE_EXTD));
    wrmsr(MSR_APIC_BASE, (base & ~(uint64_t)APIC_BASE_EXTD) | APIC_BASE_ENABLE);
    x2apic_mode = 0;
    lapic_init();
}

void lapic_init(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    uint32_t max_lvt;

    if (!x2apic_mode) {
        xapic_base = (uint32_t)base & 0xfffff000u;
        if ((base & APIC_BASE_ENABLE) == 0)
            wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    }
    lapic_write(LAPIC_SVR, SVR_APIC_ENABLE | LAPIC_VECTOR_SPURIOUS);
    /* Firmware may have left LINT0 in ExtINT mode (virtual wire) and
     * LINT1 as NMI: nothing reaches this CPU that its guest did not ask
     * for. Thermal and performance entries exist only if the version
     * register counts them (SDM 11.4.8). */
    max_lvt = (lapic_read(LAPIC_VERSION) >> 16) & 0xff;
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
    lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
    if (max_lvt >= 4)
        lapic_write(LAPIC_LVT_PERF, LVT_MASKED);
    if (max_lvt >= 5)
        lapic_write(LAPIC_LVT_THERMAL, LVT_MASKED);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_ESR, 0);      /* a write latches the errors, ... */
    lapic_write(LAPIC_ESR, 0);      /* ... a second one clears them */
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(LAPIC_ID);

    return x2apic_mode ? id : id >> 24;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

int lapic_vector_bit(uint32_t reg, uint8_t vector)
{
    return (lapic_read(reg + 0x10 * (vector / 32)) >> (vector % 32)) & 1;
}

/* Bounded, so that an APIC that never goes idle (or is not there: the
 * MMIO page then reads all ones) fails a check instead of hanging. */
static void wait_until_idle(void)
{
    uint64_t end = rdtsc() + ms_to_tsc(ICR_IDLE_TIMEOUT_MS);

    while ((lapic_read(LAPIC_ICR_LOW) & ICR_PENDING) && rdtsc() < end)
        cpu_relax();
}

void lapic_send_ipi(uint32_t destination, uint32_t icr_low)
{
    if (x2apic_mode) {
        /* One 64-bit write; there is no delivery status (SDM 11.12.9). */
        wrmsr(MSR_X2APIC_ICR, ((uint64_t)destination << 32) | icr_low);
        return;
    }
    wait_until_idle();
    lapic_write(LAPIC_ICR_HIGH, destination << 24);
    lapic_write(LAPIC_ICR_LOW, icr_low);   /* this write sends it */
    wait_until_idle();
}

static uint32_t read_current_count(void)
{
    return lapic_read(LAPIC_TIMER_CURRENT);
}

void lapic_timer_calibrate(void)
{
    uint32_t start_count, end_count;
    uint64_t start_tsc = 0, end_tsc = 0;

    /* A masked one-shot count down from the top, read against the TSC. */
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONE_SHOT);
    lapic_write(LAPIC_TIMER_INITIAL, 0xffffffffu);
    start_count = read_with_tsc(read_current_count, &start_tsc);
    delay_us(CALIBRATION_MS * 1000);
    end_count = read_with_tsc(read_current_count, &end_tsc);
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    /* ticks at divide 16 per TSC tick, times 16, times TSC ticks per ms */
    lapic_timer_khz = (uint32_t)div64_32((uint64_t)(start_count - end_count) * 16 * tsc_khz,
                                         (uint32_t)(end_tsc - start_tsc));
}

uint32_t lapic_timer_count(uint32_t us, uint32_t divide_config)
{
    uint32_t divisor = divide_config == TIMER_DIVIDE_1 ? 1 : 16;

    return (uint32_t)div64_32((uint64_t)lapic_timer_khz * us, 1000u * divisor);
}
