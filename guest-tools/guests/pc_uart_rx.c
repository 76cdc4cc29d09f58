/*
 * pc_uart_rx: typed input reaches the guest through COM1's receive
 * interrupt, routed by the guest's own I/O APIC entry for IRQ 4 (the
 * 8259s masked). The guest enables the FIFOs (trigger level 1), enables
 * the received-data interrupt, prints a prompt and sleeps in HLT; only
 * the interrupt handler reads the UART, so the line can arrive no other
 * way. A local APIC timer wakes it every 100 ms to give up after a
 * minute.
 *
 * The test answers the prompt "uart: waiting for a line on COM1" with
 * "hello from the test harness" and CR (tests/system/pc_guests.sh: a FIFO
 * on QEMU's COM1 input), or the `pc` tool types it from the module's
 * input= option, which waits for RTS; the guest prints the line back.
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

#define UART_VECTOR     0x34
#define WATCHDOG_VECTOR 0x40
#define GIVE_UP_MS      60000
#define LINE_MAX        64

static struct madt_info madt;
static char line[LINE_MAX];
static volatile uint32_t length, line_done, rx_interrupts;
/* An IIR other than received data, character timeout or none: "none"
 * is fine, an edge raised by a byte the previous handler already read. */
static volatile uint32_t other_iir_seen;

static void uart_interrupt(struct interrupt_frame *frame)
{
    uint8_t iir = inb(UART_IIR) & (IIR_NONE | IIR_ID_MASK);

    (void)frame;
    if (iir != IIR_RECEIVED && iir != IIR_TIMEOUT && iir != IIR_NONE)
        other_iir_seen = 1;
    while (inb(UART_LSR) & LSR_DATA_READY) {
        char c = (char)inb(UART_RBR);

        if (c == '\r' || c == '\n') {
            if (length > 0)
                line_done = 1;
        } else if (length + 1 < LINE_MAX && !line_done) {
            line[length++] = c;
        }
    }
    rx_interrupts++;
    lapic_eoi();
}

static void watchdog(struct interrupt_frame *frame)
{
    (void)frame;
    lapic_eoi();
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    uint8_t self;
    uint64_t give_up;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_uart_rx: COM1 receive interrupt through the I/O APIC");
    lapic_init();
    lapic_timer_calibrate();
    self = (uint8_t)lapic_id();
    interrupt_set_handler(UART_VECTOR, uart_interrupt);
    interrupt_set_handler(WATCHDOG_VECTOR, watchdog);
    if (!check("uart: the MADT lists an I/O APIC",
               acpi_parse_madt(&madt) == 0 && madt.ioapic_address != 0))
        pc_finish();
    ioapic_init(madt.ioapic_address);
    ioapic_mask_all();
    ioapic_route(madt.isa_gsi[COM1_IRQ] - madt.ioapic_gsi_base,
                 ioapic_isa_entry(madt.isa_flags[COM1_IRQ], UART_VECTOR), self);

    outb(UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
    while (inb(UART_LSR) & LSR_DATA_READY)
        (void)inb(UART_RBR);        /* nothing typed before the prompt counts */
    outb(UART_IER, IER_RECEIVED);
    outb(UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);   /* ready: input may come */
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | WATCHDOG_VECTOR);
    lapic_write(LAPIC_TIMER_INITIAL, lapic_timer_count(100000, TIMER_DIVIDE_16));

    serial_puts("uart: waiting for a line on COM1\n");
    give_up = rdtsc() + ms_to_tsc(GIVE_UP_MS);
    while (!line_done && rdtsc() < give_up)
        irq_enable_and_halt();
    irq_disable();
    outb(UART_IER, 0);
    lapic_write(LAPIC_TIMER_INITIAL, 0);

    check("uart: a line arrived through the receive interrupt", line_done && rx_interrupts > 0);
    check("uart: IIR named only received data or a character timeout", !other_iir_seen);
    line[length] = '\0';
    serial_puts("uart: the line was \"");
    serial_puts(line);
    serial_puts("\"\n");
    pc_finish();
}
