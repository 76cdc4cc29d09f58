/*
 * bench_lapic: the guest half of `bench`'s local APIC figures (issue 11),
 * run in a VM with the hypervisor's local APICs (HV_VM_LAPIC), xAPIC mode.
 * Each timed phase stores BENCH_LAPIC_ROUNDS TSC deltas -- instructions
 * under QEMU -icount and Bochs -- at BENCH_LAPIC_RESULTS, phase p from
 * word p * BENCH_LAPIC_ROUNDS:
 *   0  INT to a handler: the guest's own way into a handler, which the
 *      VMM subtracts from phases 1 and 3 (it is no hypervisor code);
 *   1  self-IPI: the ICR write (shorthand self, fixed) to the handler;
 *   2  EOI: the EOI register write, inside phase 1's handler;
 *   3  timer: a one-shot count of 1 armed, its interrupt taken, the
 *      handler's EOI done.
 * The guest then says so with an OUT to BENCH_LAPIC_PORT_PHASES and waits
 * in HLT for BENCH_LAPIC_ROUNDS MSIs that the VMM signals (SIGNAL_MSI) and
 * times from outside, each handler ending with an OUT to
 * BENCH_LAPIC_PORT_MSI. Then it switches to x2APIC mode, the way a
 * modern guest (Linux with x2APIC in CPUID) drives its APIC, and times:
 *   4  self-IPI: WRMSR to the ICR (0x830, shorthand self) to the handler;
 *   5  EOI: WRMSR to 0x80B, inside phase 4's handler;
 *   6  self-IPI through the SELF IPI register (0x83F) to the handler;
 *   7  TSC-deadline timer: IA32_TSC_DEADLINE written with a deadline
 *      already passed, its interrupt taken, the handler's EOI done;
 * says so with an OUT to BENCH_LAPIC_PORT_X2APIC and exits. The xAPIC is
 * written at its MMIO address directly (paging is off), so that only the
 * store is between the RDTSCs; an x2APIC write has the WRMSR's register
 * loads (two or three MOVs) with it.
 */
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/lapic.h"

#define BENCH_LAPIC_ROUNDS      1100
#define BENCH_LAPIC_RESULTS     ((volatile uint32_t *)0x300000)
#define BENCH_LAPIC_PORT_PHASES 0x90
#define BENCH_LAPIC_PORT_MSI    0x91
#define BENCH_LAPIC_PORT_X2APIC 0x92
#define VECTOR_SOFT  0x40
#define VECTOR_IPI   0x41
#define VECTOR_TIMER 0x42
#define VECTOR_MSI   0x43
#define VECTOR_X2IPI 0x44
#define VECTOR_X2TIMER 0x45
#define X2APIC_EOI      0x80b
#define X2APIC_ICR      0x830
#define X2APIC_LVT_TIMER 0x832
#define X2APIC_SELF_IPI 0x83f
#define XAPIC(reg) (*(volatile uint32_t *)(0xfee00000u + (reg)))

static volatile uint32_t entered, eoi_cost, timer_done, timer_fired, msis;

static inline uint32_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return lo;
}

static void soft_handler(struct interrupt_frame *frame)
{
    (void)frame;
    entered = tsc();
}

static void ipi_handler(struct interrupt_frame *frame)
{
    (void)frame;
    entered = tsc();
    uint32_t start = tsc();
    XAPIC(LAPIC_EOI) = 0;
    eoi_cost = tsc() - start;
}

static inline void msr_write(uint32_t msr, uint32_t lo, uint32_t hi)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"(lo), "d"(hi) : "memory");
}

static void x2_ipi_handler(struct interrupt_frame *frame)
{
    (void)frame;
    entered = tsc();
    uint32_t start = tsc();
    msr_write(X2APIC_EOI, 0, 0);
    eoi_cost = tsc() - start;
}

static void x2_timer_handler(struct interrupt_frame *frame)
{
    (void)frame;
    msr_write(X2APIC_EOI, 0, 0);
    timer_done = tsc();
    timer_fired = 1;
}

static void timer_handler(struct interrupt_frame *frame)
{
    (void)frame;
    XAPIC(LAPIC_EOI) = 0;
    timer_done = tsc();
    timer_fired = 1;
}

static void msi_handler(struct interrupt_frame *frame)
{
    (void)frame;
    XAPIC(LAPIC_EOI) = 0;
    msis++;
    __asm__ volatile("outb %%al, %0" ::"i"(BENCH_LAPIC_PORT_MSI), "a"(0));
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    (void)magic;
    (void)multiboot_info;
    volatile uint32_t *results = BENCH_LAPIC_RESULTS;
    descriptors_init();
    lapic_init();
    interrupt_set_handler(VECTOR_SOFT, soft_handler);
    interrupt_set_handler(VECTOR_IPI, ipi_handler);
    interrupt_set_handler(VECTOR_TIMER, timer_handler);
    interrupt_set_handler(VECTOR_MSI, msi_handler);
    interrupt_set_handler(VECTOR_X2IPI, x2_ipi_handler);
    interrupt_set_handler(VECTOR_X2TIMER, x2_timer_handler);
    __asm__ volatile("sti");

    for (unsigned i = 0; i < BENCH_LAPIC_ROUNDS; i++) {
        uint32_t start = tsc();
        __asm__ volatile("int %0" ::"i"(VECTOR_SOFT) : "memory");
        results[i] = entered - start;
    }
    for (unsigned i = 0; i < BENCH_LAPIC_ROUNDS; i++) {
        uint32_t start = tsc();
        XAPIC(LAPIC_ICR_LOW) = ICR_SELF | ICR_FIXED | VECTOR_IPI;
        results[BENCH_LAPIC_ROUNDS + i] = entered - start;
        results[2 * BENCH_LAPIC_ROUNDS + i] = eoi_cost;
    }
    XAPIC(LAPIC_TIMER_DIVIDE) = TIMER_DIVIDE_1;
    XAPIC(LAPIC_LVT_TIMER) = LVT_TIMER_ONE_SHOT | VECTOR_TIMER;
    for (unsigned i = 0; i < BENCH_LAPIC_ROUNDS; i++) {
        timer_fired = 0;
        uint32_t start = tsc();
        XAPIC(LAPIC_TIMER_INITIAL) = 1;
        while (!timer_fired)
            __asm__ volatile("pause");
        results[3 * BENCH_LAPIC_ROUNDS + i] = timer_done - start;
    }
    __asm__ volatile("outb %%al, %0" ::"i"(BENCH_LAPIC_PORT_PHASES), "a"(0));

    while (msis < BENCH_LAPIC_ROUNDS)
        __asm__ volatile("sti; hlt" ::: "memory");

    lapic_use_x2apic();
    for (unsigned i = 0; i < BENCH_LAPIC_ROUNDS; i++) {
        uint32_t start = tsc();
        msr_write(X2APIC_ICR, ICR_SELF | ICR_FIXED | VECTOR_X2IPI, 0);
        results[4 * BENCH_LAPIC_ROUNDS + i] = entered - start;
        results[5 * BENCH_LAPIC_ROUNDS + i] = eoi_cost;
    }
    for (unsigned i = 0; i < BENCH_LAPIC_ROUNDS; i++) {
        uint32_t start = tsc();
        msr_write(X2APIC_SELF_IPI, VECTOR_X2IPI, 0);
        results[6 * BENCH_LAPIC_ROUNDS + i] = entered - start;
    }
    msr_write(X2APIC_LVT_TIMER, LVT_TIMER_DEADLINE | VECTOR_X2TIMER, 0);
    for (unsigned i = 0; i < BENCH_LAPIC_ROUNDS; i++) {
        timer_fired = 0;
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        msr_write(MSR_TSC_DEADLINE, lo, hi); /* passed when it is written */
        while (!timer_fired)
            __asm__ volatile("pause");
        results[7 * BENCH_LAPIC_ROUNDS + i] = timer_done - lo;
    }
    __asm__ volatile("outb %%al, %0" ::"i"(BENCH_LAPIC_PORT_X2APIC), "a"(0));
    guest_exit(0);
}
