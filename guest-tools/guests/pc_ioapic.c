/*
 * pc_ioapic: device interrupts through the I/O APIC with the 8259s
 * masked, as a modern OS runs a PC. The I/O APIC's address and the ISA
 * IRQ -> GSI map (IRQ 0 usually arrives on input 2) come from the MADT;
 * the guest writes its own redirection entries:
 *   the PIT's IRQ 0 at 100 Hz arrives at 100 Hz (60% of them at least,
 *   for a loaded emulator), and not at all while
 *   its entry is masked; the entry reads back as written;
 *   an ExtINT entry whose logical destination names no CPU (what Linux's
 *   check_timer programs to "unlock" a chipset's ExtINT logic) sends
 *   nothing anywhere;
 *   COM1's transmitter-empty interrupt arrives once on IRQ 4 when the
 *   guest enables it, with IIR naming it.
 * Anything reaching a PIC vector would end the guest ("unexpected
 * interrupt"), so the masked 8259s are checked along the way.
 */
#include "guest-tools/guests/lib/acpi.h"
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/ioapic.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/guests/lib/timing.h"
#include "guest-tools/guests/lib/uart.h"

#define PIT_VECTOR   0x30
#define UART_VECTOR  0x34
#define TICK_HZ      100
#define PIT_IRQ      0
#define DELIVERY_EXTINT (7u << 8)
#define ENTRY_WRITABLE_BITS 0x1afffu   /* all but delivery status and remote IRR */

static struct madt_info madt;
static volatile uint32_t pit_count, uart_count, uart_iir;

static void pit_interrupt(struct interrupt_frame *frame)
{
    (void)frame;
    pit_count++;
    lapic_eoi();
}

static void uart_interrupt(struct interrupt_frame *frame)
{
    (void)frame;
    uart_iir = inb(UART_IIR);
    outb(UART_IER, 0);              /* once is enough: no more THRE interrupts */
    uart_count++;
    lapic_eoi();
}

static uint32_t input_of(uint32_t isa_irq)
{
    return madt.isa_gsi[isa_irq] - madt.ioapic_gsi_base;
}

static void wait_ms(uint32_t ms)
{
    irq_enable();
    delay_us(ms * 1000);
    irq_disable();
}

static void check_pit(uint8_t self)
{
    uint32_t low = ioapic_isa_entry(madt.isa_flags[PIT_IRQ], PIT_VECTOR), seen;

    pit_start(PIT_HZ / TICK_HZ);
    ioapic_route(input_of(PIT_IRQ), low, self);
    /* At most the ticks of the time the window really took (pc_pic's
     * rule: the wait may end late when the vcpu waits for the VMM), and
     * one more for the phase. */
    uint64_t window_start = rdtsc();
    check("ioapic: the PIT's entry reads back as written",
          (ioapic_entry_low(input_of(PIT_IRQ)) & ENTRY_WRITABLE_BITS) == low);
    wait_ms(500);
    uint32_t ticks = tsc_to_us(rdtsc() - window_start) / (1000000 / TICK_HZ);
    check_range("ioapic: PIT IRQ 0 through its entry, 100 Hz for 500 ms "
                "(30 to the ticks in the time taken + 2)", pit_count, 30, ticks + 2);
    ioapic_route(input_of(PIT_IRQ), low | IOAPIC_MASKED, self);
    wait_ms(2);                     /* one already sent to the LAPIC still comes */
    seen = pit_count;
    wait_ms(100);
    check("ioapic: a masked entry delivers nothing", pit_count == seen);
}

/* A CPU that took the message would fetch its vector from the masked
 * 8259s (the spurious IRQ 7's), which ends the guest as unexpected. */
static void check_extint_to_no_cpu(void)
{
    uint32_t low = (ioapic_isa_entry(madt.isa_flags[PIT_IRQ], 0) & ~0x7ffu) |
                   DELIVERY_EXTINT | IOAPIC_LOGICAL;
    uint32_t seen = pit_count;

    ioapic_route(input_of(PIT_IRQ), low, 0);
    wait_ms(100);
    ioapic_route(input_of(PIT_IRQ), IOAPIC_MASKED, 0);
    check("ioapic: an ExtINT entry to logical destination 0 reaches no CPU", pit_count == seen);
}

static void check_uart(uint8_t self)
{
    uint32_t input = input_of(COM1_IRQ);

    ioapic_route(input, ioapic_isa_entry(madt.isa_flags[COM1_IRQ], UART_VECTOR), self);
    outb(UART_MCR, MCR_DTR | MCR_OUT2);
    while ((inb(UART_LSR) & LSR_THR_EMPTY) == 0)
        cpu_relax();                /* the last line has left the UART */
    irq_enable();
    outb(UART_IER, IER_THR_EMPTY);
    delay_us(50000);
    irq_disable();
    outb(UART_IER, 0);
    outb(UART_MCR, MCR_DTR);
    ioapic_route(input, IOAPIC_MASKED, self);
    check("ioapic: COM1 transmitter-empty interrupt once through IRQ 4, IIR names it",
          uart_count == 1 && (uart_iir & (IIR_NONE | IIR_ID_MASK)) == IIR_THR_EMPTY);
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    uint8_t self;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_ioapic: PIT and UART interrupts through the I/O APIC");
    lapic_init();
    self = (uint8_t)lapic_id();
    interrupt_set_handler(PIT_VECTOR, pit_interrupt);
    interrupt_set_handler(UART_VECTOR, uart_interrupt);
    if (!check("ioapic: the MADT lists an I/O APIC",
               acpi_parse_madt(&madt) == 0 && madt.ioapic_address != 0))
        pc_finish();
    ioapic_init(madt.ioapic_address);
    check("ioapic: version register counts 24 or more redirection entries",
          ioapic_entries() >= 24);
    ioapic_mask_all();
    check_pit(self);
    check_extint_to_no_cpu();
    check_uart(self);
    pc_finish();
}
