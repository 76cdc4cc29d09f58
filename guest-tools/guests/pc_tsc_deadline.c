/*
 * pc_tsc_deadline: the local APIC timer's TSC-deadline mode (SDM vol. 3A,
 * 11.5.4.1), where CPUID.1:ECX[24] offers it: the interrupt comes once
 * the TSC reaches IA32_TSC_DEADLINE, never before, and the MSR then reads
 * 0; writing 0 disarms it; a deadline already past fires at once; the
 * initial-count register is ignored and the current count reads 0.
 * QEMU 7.2's TCG does not offer the mode: there the guest says so and
 * passes, so its reference platform is Bochs (pc_guest_tests.sh).
 */
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/guests/lib/timing.h"

#define TIMER_VECTOR 0x40
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define DEADLINE_MS  20
#define LATE_US      25000      /* an emulator on a loaded host */

static volatile uint32_t ticks;
static volatile uint64_t tick_tsc;

static void timer_tick(struct interrupt_frame *frame)
{
    (void)frame;
    tick_tsc = rdtsc();
    ticks++;
    lapic_eoi();
}

/* Waits with interrupts on until a tick or until ms have passed. */
static void wait_for_tick(uint32_t ms)
{
    uint64_t end = rdtsc() + ms_to_tsc(ms);

    irq_enable();
    while (ticks == 0 && rdtsc() < end)
        cpu_relax();
    irq_disable();
}

static void arm(uint64_t deadline)
{
    ticks = 0;
    wrmsr(MSR_TSC_DEADLINE, deadline);
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    uint32_t a, b, c, d;
    uint64_t deadline;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_tsc_deadline: local APIC timer in TSC-deadline mode");
    lapic_init();
    interrupt_set_handler(TIMER_VECTOR, timer_tick);
    cpuid(1, &a, &b, &c, &d);
    if ((c & CPUID_1_ECX_TSC_DEADLINE) == 0) {
        serial_puts("tsc-deadline: not offered by CPUID\n");
        pc_finish();
    }
    /* The mode must be set before the MSR is written (SDM 11.5.4.1); the
     * read-back orders the MMIO write before the WRMSR. */
    lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_DEADLINE | TIMER_VECTOR);
    (void)lapic_read(LAPIC_LVT_TIMER);

    deadline = rdtsc() + ms_to_tsc(DEADLINE_MS);
    arm(deadline);
    wait_for_tick(DEADLINE_MS + 100);
    check("tsc-deadline: one interrupt, at or after the deadline", ticks == 1 && tick_tsc >= deadline);
    check_range("tsc-deadline: interrupt within 25 ms of the deadline",
                ticks == 0 ? LATE_US + 1 : tsc_to_us(tick_tsc - deadline), 0, LATE_US);
    check("tsc-deadline: the MSR reads 0 once it fired", rdmsr(MSR_TSC_DEADLINE) == 0);

    arm(rdtsc() + ms_to_tsc(DEADLINE_MS));
    wrmsr(MSR_TSC_DEADLINE, 0);
    wait_for_tick(DEADLINE_MS + 30);
    check("tsc-deadline: writing 0 disarms it", ticks == 0);

    arm(rdtsc() - 1);
    wait_for_tick(LATE_US / 1000);
    check("tsc-deadline: a deadline already past fires at once", ticks == 1);

    ticks = 0;
    lapic_write(LAPIC_TIMER_INITIAL, 0x100000);
    check("tsc-deadline: initial count ignored, current count reads 0",
          lapic_read(LAPIC_TIMER_CURRENT) == 0);
    wait_for_tick(DEADLINE_MS);
    check("tsc-deadline: no interrupt from the ignored initial count", ticks == 0);
    pc_finish();
}
