/*
 * 16550A UART model; the interface and its limits are in uart16550.h.
 *
 * The interrupt state is not stored: the IIR value is derived from the
 * registers each time (priorities of data sheet table IV), and the IRQ pin
 * follows it after every call. Only the two conditions that are events, not
 * levels, are kept as flags: the THRE interrupt (set when the THR empties or
 * IER's THRE bit is turned on while it is empty, cleared by reading IIR or
 * writing THR) and the character timeout.
 */
#include "guest-tools/vmm/devices/uart16550.h"

#include "guest-tools/vmm/devices/byte_ports.h"

#define UART_CLOCK_HZ       1843200u /* the PC's baud clock crystal */
#define UART_TIMEOUT_CHARS  4u       /* data sheet: character timeout */
#define UART_POWER_ON_DIVISOR 12u    /* 9600 baud until the guest sets one */

/* The modem inputs of a PC serial port with a terminal attached: CTS, DSR
 * and DCD asserted, no ring. */
#define UART_MSR_CONNECTED (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)

static bool fifo_enabled(const struct uart16550 *uart)
{
    return (uart->fcr & UART_FCR_ENABLE) != 0;
}

static unsigned rx_capacity(const struct uart16550 *uart)
{
    return fifo_enabled(uart) ? UART16550_FIFO_SIZE : 1;
}

static unsigned rx_trigger_level(const struct uart16550 *uart)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };

    if (!fifo_enabled(uart))
        return 1;
    return levels[(uart->fcr & UART_FCR_TRIGGER_MASK) >> 6];
}

/* Four character times of the programmed frame: start bit, data bits,
 * parity, stop bits (1.5 for five data bits), each 16 baud clocks times the
 * divisor. Counted in half bits so that the 1.5 stop bits stay exact. */
static uint64_t rx_timeout_ns(const struct uart16550 *uart)
{
    unsigned data_bits = 5 + (uart->lcr & UART_LCR_WORD_LENGTH);
    unsigned half_bits = 2 * (1 + data_bits + 1);
    /* A zero divisor makes the baud generator count through all 2^16. */
    uint64_t divisor = uart->divisor ? uart->divisor : 65536;

    if (uart->lcr & UART_LCR_PARITY)
        half_bits += 2;
    if (uart->lcr & UART_LCR_STOP)
        half_bits += data_bits == 5 ? 1 : 2;
    return UART_TIMEOUT_CHARS * half_bits * divisor * 16 * 1000000000ull / (2 * UART_CLOCK_HZ);
}

/* The highest-priority pending interrupt (IIR bits 3:0). */
static uint8_t pending_interrupt(const struct uart16550 *uart)
{
    if ((uart->ier & UART_IER_RLSI) && uart->lsr_errors)
        return UART_IIR_RLSI;
    if (uart->ier & UART_IER_RDI) {
        if (uart->rx_timeout)
            return UART_IIR_TIMEOUT;
        if (uart->rx_count >= rx_trigger_level(uart))
            return UART_IIR_RDI;
    }
    if ((uart->ier & UART_IER_THRI) && uart->thr_interrupt)
        return UART_IIR_THRI;
    if ((uart->ier & UART_IER_MSI) && (uart->msr_deltas & UART_MSR_DELTA_MASK))
        return UART_IIR_MSI;
    return UART_IIR_NO_INT;
}

/* On a PC the INTR pin reaches the interrupt controller through a driver
 * enabled by OUT2; loopback disconnects OUT2 from its pin, so the IRQ line
 * is quiet then even though IIR still reports interrupts. */
static void update_irq(struct uart16550 *uart)
{
    bool level = pending_interrupt(uart) != UART_IIR_NO_INT && (uart->mcr & UART_MCR_OUT2) &&
                 !(uart->mcr & UART_MCR_LOOP);

    if (level != uart->irq_level) {
        uart->irq_level = level;
        irq_line_set(&uart->irq, level);
    }
}

/* The modem inputs: from the attached terminal, or in loopback from the
 * chip's own outputs (RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD). A change
 * sets the delta bits as the input pins would. */
static void update_modem_inputs(struct uart16550 *uart)
{
    uint8_t inputs = UART_MSR_CONNECTED;
    uint8_t changed;

    if (uart->mcr & UART_MCR_LOOP) {
        inputs = 0;
        if (uart->mcr & UART_MCR_RTS)
            inputs |= UART_MSR_CTS;
        if (uart->mcr & UART_MCR_DTR)
            inputs |= UART_MSR_DSR;
        if (uart->mcr & UART_MCR_OUT1)
            inputs |= UART_MSR_RI;
        if (uart->mcr & UART_MCR_OUT2)
            inputs |= UART_MSR_DCD;
    }
    changed = inputs ^ uart->msr_inputs;
    if (changed & UART_MSR_CTS)
        uart->msr_deltas |= UART_MSR_DCTS;
    if (changed & UART_MSR_DSR)
        uart->msr_deltas |= UART_MSR_DDSR;
    if (changed & UART_MSR_DCD)
        uart->msr_deltas |= UART_MSR_DDCD;
    /* Only the end of a ring counts (data sheet: TERI). */
    if ((changed & UART_MSR_RI) && !(inputs & UART_MSR_RI))
        uart->msr_deltas |= UART_MSR_TERI;
    uart->msr_inputs = inputs;
}

static void rx_clear(struct uart16550 *uart, uint64_t now_ns)
{
    uart->rx_head = 0;
    uart->rx_count = 0;
    uart->rx_timeout = false;
    uart->rx_activity_ns = now_ns;
}

/* One byte off the wire into the receiver; false on overrun (the byte is
 * lost and OE set, as when the shift register fills a full FIFO). */
static bool rx_push(struct uart16550 *uart, uint8_t byte, uint64_t now_ns)
{
    if (uart->rx_count >= rx_capacity(uart)) {
        uart->lsr_errors |= UART_LSR_OE;
        return false;
    }
    uart->rx_fifo[(uart->rx_head + uart->rx_count) % UART16550_FIFO_SIZE] = byte;
    uart->rx_count++;
    uart->rx_timeout = false;
    uart->rx_activity_ns = now_ns;
    return true;
}

static uint8_t rx_pop(struct uart16550 *uart, uint64_t now_ns)
{
    if (uart->rx_count == 0)
        return uart->rx_last;
    uart->rx_last = uart->rx_fifo[uart->rx_head];
    uart->rx_head = (uart->rx_head + 1) % UART16550_FIFO_SIZE;
    uart->rx_count--;
    /* Reading a byte restarts the timeout (data sheet: the timer resets
     * when the CPU reads one character from the FIFO). */
    uart->rx_timeout = false;
    uart->rx_activity_ns = now_ns;
    return uart->rx_last;
}

/* Time runs forward only; the character timeout is evaluated lazily here,
 * so a late call sees it as a timely one would. */
static void catch_up(struct uart16550 *uart, uint64_t now_ns)
{
    if (now_ns > uart->now_ns)
        uart->now_ns = now_ns;
    if (fifo_enabled(uart) && uart->rx_count > 0 && !uart->rx_timeout &&
        uart->now_ns - uart->rx_activity_ns >= rx_timeout_ns(uart))
        uart->rx_timeout = true;
}

static void transmit_byte(struct uart16550 *uart, uint8_t byte)
{
    if (uart->mcr & UART_MCR_LOOP)
        rx_push(uart, byte, uart->now_ns);
    else if (uart->transmit)
        uart->transmit(uart->transmit_ctx, byte);
    /* The byte leaves at once: the THR is empty again. */
    uart->thr_interrupt = true;
}

static void write_fcr(struct uart16550 *uart, uint8_t value)
{
    /* Turning the FIFOs on or off empties them (data sheet, FCR0). */
    if ((value ^ uart->fcr) & UART_FCR_ENABLE)
        rx_clear(uart, uart->now_ns);
    else if ((value & UART_FCR_ENABLE) && (value & UART_FCR_CLEAR_RCVR))
        rx_clear(uart, uart->now_ns);
    /* The transmit FIFO is always empty here: its clear bit has nothing to do. */
    uart->fcr = value & (UART_FCR_ENABLE | UART_FCR_DMA_SELECT | UART_FCR_TRIGGER_MASK);
}

static void write_ier(struct uart16550 *uart, uint8_t value)
{
    uint8_t enabled = (value & ~uart->ier) & UART_IER_THRI;

    uart->ier = value & UART_IER_MASK;
    /* Enabling the THRE interrupt while the THR is empty raises it: Linux's
     * transmit start and its UART_BUG_THRE probe depend on that edge. */
    if (enabled)
        uart->thr_interrupt = true;
}

static uint8_t read_byte(void *chip, unsigned offset, uint64_t now_ns)
{
    struct uart16550 *uart = chip;
    bool dlab = (uart->lcr & UART_LCR_DLAB) != 0;
    uint8_t value;

    catch_up(uart, now_ns);
    switch (offset) {
    case UART_RBR:
        value = dlab ? (uint8_t)uart->divisor : rx_pop(uart, uart->now_ns);
        break;
    case UART_IER:
        value = dlab ? (uint8_t)(uart->divisor >> 8) : uart->ier;
        break;
    case UART_IIR:
        value = pending_interrupt(uart);
        /* Reading IIR acknowledges a THRE interrupt it reports. */
        if (value == UART_IIR_THRI)
            uart->thr_interrupt = false;
        if (fifo_enabled(uart))
            value |= UART_IIR_FIFO_ON;
        break;
    case UART_LCR:
        value = uart->lcr;
        break;
    case UART_MCR:
        value = uart->mcr;
        break;
    case UART_LSR:
        value = UART_LSR_THRE | UART_LSR_TEMT | uart->lsr_errors;
        if (uart->rx_count)
            value |= UART_LSR_DR;
        uart->lsr_errors = 0;
        break;
    case UART_MSR:
        value = uart->msr_inputs | uart->msr_deltas;
        uart->msr_deltas = 0;
        break;
    case UART_SCR:
        value = uart->scr;
        break;
    default:
        return 0xff; /* past the chip's eight ports: nothing answers */
    }
    update_irq(uart);
    return value;
}

static void write_byte(void *chip, unsigned offset, uint8_t value, uint64_t now_ns)
{
    struct uart16550 *uart = chip;
    bool dlab = (uart->lcr & UART_LCR_DLAB) != 0;

    catch_up(uart, now_ns);
    switch (offset) {
    case UART_THR:
        if (dlab)
            uart->divisor = (uint16_t)((uart->divisor & 0xff00) | value);
        else
            transmit_byte(uart, value);
        break;
    case UART_IER:
        if (dlab)
            uart->divisor = (uint16_t)((uart->divisor & 0x00ff) | (value << 8));
        else
            write_ier(uart, value);
        break;
    case UART_FCR:
        write_fcr(uart, value);
        break;
    case UART_LCR:
        uart->lcr = value;
        break;
    case UART_MCR:
        uart->mcr = value & UART_MCR_MASK;
        update_modem_inputs(uart);
        break;
    case UART_SCR:
        uart->scr = value;
        break;
    default:
        return; /* LSR and MSR are read-only; past the chip: nothing */
    }
    update_irq(uart);
}

void uart16550_init(struct uart16550 *uart, struct irq_line irq,
                    void (*transmit)(void *ctx, uint8_t byte), void *transmit_ctx)
{
    *uart = (struct uart16550){
        .irq = irq,
        .transmit = transmit,
        .transmit_ctx = transmit_ctx,
        .divisor = UART_POWER_ON_DIVISOR,
        .msr_inputs = UART_MSR_CONNECTED,
    };
}

uint32_t uart16550_read(struct uart16550 *uart, unsigned offset, unsigned size, uint64_t now_ns)
{
    return byte_port_read(uart, read_byte, offset, size, now_ns);
}

void uart16550_write(struct uart16550 *uart, unsigned offset, unsigned size, uint32_t value,
                     uint64_t now_ns)
{
    byte_port_write(uart, write_byte, offset, size, value, now_ns);
}

size_t uart16550_receive_room(const struct uart16550 *uart)
{
    /* In loopback the serial input is cut off from the receiver. */
    if (uart->mcr & UART_MCR_LOOP)
        return 0;
    return rx_capacity(uart) - uart->rx_count;
}

size_t uart16550_receive(struct uart16550 *uart, const uint8_t *bytes, size_t count,
                         uint64_t now_ns)
{
    size_t taken = 0;

    catch_up(uart, now_ns);
    if (uart->mcr & UART_MCR_LOOP)
        return 0;
    for (size_t i = 0; i < count; i++)
        if (rx_push(uart, bytes[i], uart->now_ns))
            taken++;
    update_irq(uart);
    return taken;
}

void uart16550_advance(struct uart16550 *uart, uint64_t now_ns)
{
    catch_up(uart, now_ns);
    update_irq(uart);
}

uint64_t uart16550_next_event_ns(const struct uart16550 *uart)
{
    /* Only a timeout that would interrupt needs the VMM's attention; a
     * polling driver reading IIR or LSR is served by catch_up. */
    if (!(uart->ier & UART_IER_RDI) || !fifo_enabled(uart) || uart->rx_count == 0 ||
        uart->rx_timeout)
        return DEVICE_TIME_NEVER;
    return uart->rx_activity_ns + rx_timeout_ns(uart);
}
