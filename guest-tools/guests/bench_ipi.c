/*
 * bench_ipi: the guest half of `bench`'s two-CPU local APIC figures
 * (issue 11), in a 2-vcpu VM with the hypervisor's local APICs
 * (HV_VM_LAPIC), both vcpus in x2APIC mode as Linux drives them. The VMM
 * runs vcpu 0 on control-domain CPU 0 and vcpu 1 on CPU 1. Under Bochs
 * the CPUs run side by side and share one TSC, so a TSC difference between
 * the two vcpus is the length of the path between them in instructions.
 * Each phase stores BENCH_IPI_ROUNDS deltas at BENCH_IPI_RESULTS, phase p
 * from word p * BENCH_IPI_ROUNDS:
 *   0  IPI to a vcpu in its guest: vcpu 0's TSC before its ICR write
 *      (fixed, to vcpu 1's APIC ID) to vcpu 1's handler, vcpu 1 spinning
 *      with interrupts on;
 *   1  wake from HLT by an IPI: the same with vcpu 1 halted, which the
 *      hypervisor keeps asleep until the IPI's kick;
 *   2, 3  the sender's share in phases 0 and 1: its ICR write to its next
 *      instruction (the WRMSR exit, the delivery and the kick).
 * Then vcpu 0 says so with an OUT to BENCH_IPI_PORT_PHASES and is not run
 * again; the VMM times SIGNAL_MSI to vcpu 1 (halted) itself, until the
 * handler's count at BENCH_IPI_MSI_COUNT moves. When BENCH_IPI_QUIT is
 * set, vcpu 1's next interrupt makes it OUT to BENCH_IPI_PORT_DONE.
 */
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/vmm/smp_entry.h"

#define BENCH_IPI_ROUNDS      1100
#define BENCH_IPI_RESULTS     ((volatile uint32_t *)0x300000)
#define BENCH_IPI_MSI_COUNT   ((volatile uint32_t *)0x2ff000)
#define BENCH_IPI_QUIT        ((volatile uint32_t *)0x2ff004)
#define BENCH_IPI_AP_ID       ((volatile uint32_t *)0x2ff008)
#define BENCH_IPI_PORT_PHASES 0x94
#define BENCH_IPI_PORT_DONE   0x95
#define VECTOR_IPI            0x50
#define VECTOR_MSI            0x51
#define X2APIC_EOI            0x80b
#define X2APIC_ICR            0x830
/* What vcpu 0 waits after vcpu 1's last handler before the next IPI, so
 * that vcpu 1 is back in its loop, or asleep in the hypervisor. */
#define SETTLE_TICKS          20000

enum ap_mode { AP_SPIN, AP_HALT };

static volatile uint32_t tables_ready, ap_ready, ap_mode, ap_count, ap_entered;

static inline uint32_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return lo;
}

static inline void msr_write(uint32_t msr, uint32_t lo, uint32_t hi)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"(lo), "d"(hi) : "memory");
}

static void ipi_handler(struct interrupt_frame *frame)
{
    (void)frame;
    ap_entered = tsc();
    msr_write(X2APIC_EOI, 0, 0);
    ap_count++;
}

static void msi_handler(struct interrupt_frame *frame)
{
    (void)frame;
    msr_write(X2APIC_EOI, 0, 0);
    (*BENCH_IPI_MSI_COUNT)++;
}

static __attribute__((noreturn)) void ap_main(uint32_t index)
{
    (void)index;
    while (!tables_ready)   /* vcpu 0 builds the GDT and IDT */
        __asm__ volatile("pause");
    descriptors_load();
    lapic_use_x2apic();     /* first: lapic.c's mode flag is both CPUs' */
    lapic_init();
    *BENCH_IPI_AP_ID = lapic_id();
    __asm__ volatile("sti");
    ap_ready = 1;
    while (!*BENCH_IPI_QUIT) {
        if (ap_mode == AP_HALT)
            __asm__ volatile("hlt" ::: "memory");
        else
            __asm__ volatile("pause" ::: "memory");
    }
    __asm__ volatile("outb %%al, %0" ::"i"(BENCH_IPI_PORT_DONE), "a"(0));
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void settle(void)
{
    uint32_t start = tsc();
    while (tsc() - start < SETTLE_TICKS)
        __asm__ volatile("pause");
}

/* One phase: BENCH_IPI_ROUNDS IPIs to vcpu 1, each after the last one's
 * handler ran and vcpu 1 settled. */
static void time_ipis(volatile uint32_t *results, volatile uint32_t *sent,
                      uint32_t ap_id)
{
    for (unsigned i = 0; i < BENCH_IPI_ROUNDS; i++) {
        uint32_t seen = ap_count;
        settle();
        uint32_t start = tsc();
        msr_write(X2APIC_ICR, ICR_FIXED | VECTOR_IPI, ap_id);
        sent[i] = tsc() - start;
        while (ap_count == seen)
            __asm__ volatile("pause");
        results[i] = ap_entered - start;
    }
}

int guest_main(uint32_t magic, uint32_t arg)
{
    if (magic == VMM_SMP_MARKER)
        ap_main(arg);
    descriptors_init();
    interrupt_set_handler(VECTOR_IPI, ipi_handler);
    interrupt_set_handler(VECTOR_MSI, msi_handler);
    tables_ready = 1;
    lapic_use_x2apic();
    lapic_init();
    if (guest_vcpu_count < 2) {
        serial_puts("bench_ipi: needs 2 vcpus\n");
        return GUEST_STATUS_UNEXPECTED;
    }
    while (!ap_ready)
        __asm__ volatile("pause");
    uint32_t ap_id = *BENCH_IPI_AP_ID;
    time_ipis(BENCH_IPI_RESULTS, BENCH_IPI_RESULTS + 2 * BENCH_IPI_ROUNDS, ap_id);
    ap_mode = AP_HALT;
    time_ipis(BENCH_IPI_RESULTS + BENCH_IPI_ROUNDS, BENCH_IPI_RESULTS + 3 * BENCH_IPI_ROUNDS,
              ap_id);
    __asm__ volatile("outb %%al, %0" ::"i"(BENCH_IPI_PORT_PHASES), "a"(0));
    for (;;)
        __asm__ volatile("cli; hlt");
}
