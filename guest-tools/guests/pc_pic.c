/*
 * pc_pic: the PIT's IRQ0 through the 8259 master in "virtual wire" mode
 * (the local APIC's LINT0 in ExtINT delivery, as firmware sets up a PC
 * for a legacy OS; SDM vol. 3A, 11.5.1), in protected mode through the
 * IDT and in real mode through the IVT:
 *   while masked, IRQ0 is latched in the IRR and not delivered;
 *   unmasked, 100 Hz arrive at 100 Hz, each in service until its EOI;
 *   after a switch to real mode (lib/realmode.S) they arrive there too.
 * Rates are counted against the TSC, with room for an emulator on a
 * loaded host: QEMU drops the periods its timer misses, so up to 40%
 * may be lost; never more than two extra.
 */
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/i8259.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/guests/lib/realmode.h"
#include "guest-tools/guests/lib/timing.h"

#define PIC_MASTER_BASE 0x20        /* pc_start's i8259_init */
#define IRQ0_VECTOR     PIC_MASTER_BASE
#define SPURIOUS_IRQ7   (PIC_MASTER_BASE + 7)
#define TICK_HZ         100

static volatile uint32_t irq0_count;
static volatile int in_service_seen;

static void irq0(struct interrupt_frame *frame)
{
    (void)frame;
    if (irq0_count == 0)
        in_service_seen = (i8259_read_isr() & 1) != 0;
    irq0_count++;
    i8259_eoi(0);
}

/* A master IRQ7 with nothing in service is the 8259's spurious
 * interrupt: it takes no EOI (8259A data sheet). */
static void spurious_irq7(struct interrupt_frame *frame)
{
    (void)frame;
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    uint32_t counted;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_pic: PIT IRQ0 through the 8259 in protected and real mode");
    lapic_init();
    lapic_write(LAPIC_LVT_LINT0, LVT_DELIVERY_EXTINT);
    interrupt_set_handler(IRQ0_VECTOR, irq0);
    interrupt_set_handler(SPURIOUS_IRQ7, spurious_irq7);
    pit_start(PIT_HZ / TICK_HZ);

    irq_enable();
    delay_us(30000);
    irq_disable();
    check("pic: IRQ0 latched in the IRR while masked, not delivered",
          (i8259_read_irr() & 1) != 0 && irq0_count == 0);

    /* At most the ticks of the time the window really took: the loop may
     * end well after its 500 ms when the vcpu waits for the VMM (under
     * Bochs at 4 M instructions a second, 21 ms once, two more ticks).
     * The one latched above comes first; at most one more for the phase.
     * At least 60 % of the 500 ms's: ticks the vcpu missed while it
     * waited merge, as on a PC whose CPU cannot keep up. */
    i8259_set_mask(0xfffe);
    uint64_t window_start = rdtsc();
    irq_enable();
    delay_us(500000);
    irq_disable();
    uint32_t ticks = tsc_to_us(rdtsc() - window_start) / (1000000 / TICK_HZ);
    counted = irq0_count;
    check_range("pic: protected mode, 100 Hz for 500 ms (30 to the ticks in the time taken + 2)",
                counted, 30, ticks + 2);
    check("pic: IRQ0 in service until its EOI, ISR clear after",
          in_service_seen && (i8259_read_isr() & 1) == 0);

    counted = realmode_count_irq0(IRQ0_VECTOR, rdtsc() + ms_to_tsc(300));
    check_range("pic: real mode through the IVT, 100 Hz for 300 ms (18-32 interrupts)",
                counted, 18, 32);
    counted = irq0_count;
    irq_enable();
    delay_us(50000);
    irq_disable();
    i8259_set_mask(0xffff);
    check("pic: back in protected mode, IRQ0 arrives through the IDT again", irq0_count > counted);
    pc_finish();
}
