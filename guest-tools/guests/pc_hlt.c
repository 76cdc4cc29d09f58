/*
 * pc_hlt: `sti; hlt` with the local APIC timer armed 100 ms ahead sleeps
 * until the timer and no longer: the HLT returns through the timer's
 * interrupt, 90-200 ms after arming. Nothing else is unmasked (PIC and
 * LINT pins masked, no other LVT entry), so an earlier wake-up would be
 * a spurious one. Under the hypervisor the HLT sleeps there (issue 11);
 * whether the CPU idled is the hypervisor's statistic, not the guest's.
 */
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/guests/lib/timing.h"

#define TIMER_VECTOR 0x40
#define SLEEP_US     100000

static volatile uint32_t ticks;
static volatile uint64_t tick_tsc;

static void timer_tick(struct interrupt_frame *frame)
{
    (void)frame;
    tick_tsc = rdtsc();
    ticks++;
    lapic_eoi();
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    uint64_t armed, woke;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_hlt: HLT sleeps until the local APIC timer");
    lapic_init();
    lapic_timer_calibrate();
    interrupt_set_handler(TIMER_VECTOR, timer_tick);
    
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_ONE_SHOT | TIMER_VECTOR);
    armed = rdtsc();
    lapic_write(LAPIC_TIMER_INITIAL, lapic_timer_count(SLEEP_US, TIMER_DIVIDE_16));
    irq_enable_and_halt();
    woke = rdtsc();
    irq_disable();
    check("hlt: woken by the local APIC timer's interrupt", ticks == 1);
    check_range("hlt: woke 90-200 ms after arming a 100 ms timer", tsc_to_us(woke - armed),
                90000, 200000);
    check("hlt: the interrupt came no earlier than the wake-up",
          ticks == 1 && tick_tsc <= woke && tick_tsc >= armed);
    pc_finish();
}
