// sources: guest-tools/vmm/devices/uart16550.c
/* Unit tests for the 16550A model (guest-tools/vmm/devices/uart16550.c):
 * the register sequences Linux's 8250 driver runs (autoconfig, startup's
 * THRE probe, interrupt-driven transmit and receive), the character
 * timeout, overrun, loopback, and a seeded fuzz loop over every port. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest-tools/vmm/devices/uart16550.h"

#define MS 1000000ull
#define US 1000ull

struct harness {
    struct uart16550 uart;
    bool irq;
    unsigned irq_raised;
    uint8_t tx[4096];
    size_t tx_len;
    uint64_t now;
};

static void record_irq(void *ctx, unsigned line, bool level)
{
    struct harness *h = ctx;

    assert_int_equal(line, 4);
    assert_true(level != h->irq); /* the model reports changes only */
    h->irq = level;
    if (level)
        h->irq_raised++;
}

static void record_tx(void *ctx, uint8_t byte)
{
    struct harness *h = ctx;

    if (h->tx_len < sizeof(h->tx))
        h->tx[h->tx_len++] = byte;
}

static struct harness *harness_new(void)
{
    struct harness *h = calloc(1, sizeof(*h));

    assert_non_null(h);
    uart16550_init(&h->uart, (struct irq_line){ .set = record_irq, .ctx = h, .line = 4 },
                   record_tx, h);
    return h;
}

static uint8_t in(struct harness *h, unsigned reg)
{
    return (uint8_t)uart16550_read(&h->uart, reg, 1, h->now);
}

static void out(struct harness *h, unsigned reg, uint8_t value)
{
    uart16550_write(&h->uart, reg, 1, value, h->now);
}

/* 115200 baud, 8N1: the usual console setting. */
static void set_115200_8n1(struct harness *h)
{
    out(h, UART_LCR, UART_LCR_DLAB | 0x03);
    out(h, UART_DLL, 1);
    out(h, UART_DLM, 0);
    out(h, UART_LCR, 0x03);
}

/* Linux autoconfig(): IER read-back, loopback MSR test, FIFO detection
 * through IIR bits 7:6, the EFR/16750/XScale checks a 16550A must fail,
 * and the final reset; then the scratch test of the 8250/16450 path. */
static void test_linux_autoconfig(void **state)
{
    (void)state;
    struct harness *h = harness_new();

    uint8_t saved_ier = in(h, UART_IER);
    out(h, UART_IER, 0);
    assert_int_equal(in(h, UART_IER) & 0x0f, 0);
    out(h, UART_IER, 0x0f);
    assert_int_equal(in(h, UART_IER) & 0x0f, 0x0f);
    out(h, UART_IER, saved_ier);

    uint8_t saved_mcr = in(h, UART_MCR);
    out(h, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
    assert_int_equal(in(h, UART_MSR) & 0xf0, UART_MSR_DCD | UART_MSR_CTS);
    out(h, UART_MCR, saved_mcr);

    out(h, UART_LCR, 0xbf);  /* EFR access on 16650+: FCR here */
    out(h, UART_FCR, 0);
    out(h, UART_LCR, 0);
    out(h, UART_FCR, UART_FCR_ENABLE);
    assert_int_equal(in(h, UART_IIR) >> 6, 3); /* 16550A */

    out(h, UART_LCR, 0xbf);
    assert_int_not_equal(in(h, UART_IIR), 0); /* no EFR: not a 16650 */
    out(h, UART_LCR, 0);
    out(h, UART_FCR, UART_FCR_ENABLE | 0x20); /* 16750's 64-byte bit */
    uint8_t without_dlab = in(h, UART_IIR) >> 5;
    out(h, UART_FCR, UART_FCR_ENABLE);
    out(h, UART_LCR, UART_LCR_DLAB);
    out(h, UART_FCR, UART_FCR_ENABLE | 0x20);
    uint8_t with_dlab = in(h, UART_IIR) >> 5;
    out(h, UART_FCR, UART_FCR_ENABLE);
    out(h, UART_LCR, 0);
    assert_int_equal(without_dlab, 6);
    assert_int_equal(with_dlab, 6);

    uint8_t ier = in(h, UART_IER);
    out(h, UART_IER, ier | 0x40); /* XScale's UUE bit does not stick */
    assert_int_equal(in(h, UART_IER) & 0x40, 0);
    out(h, UART_IER, ier);

    out(h, UART_SCR, 0xa5);
    assert_int_equal(in(h, UART_SCR), 0xa5);
    out(h, UART_SCR, 0x5a);
    assert_int_equal(in(h, UART_SCR), 0x5a);

    out(h, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    out(h, UART_FCR, 0);
    (void)in(h, UART_RBR);
    out(h, UART_IER, 0);
    assert_int_equal(in(h, UART_IIR), UART_IIR_NO_INT);
    assert_int_equal(in(h, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    assert_int_equal(h->tx_len, 0);
    assert_int_equal(h->irq_raised, 0);
    free(h);
}

/* serial8250_do_startup's THRE probe: enabling THRI with the THR empty
 * must show a THRE interrupt in IIR each time, or Linux marks the port
 * UART_BUG_THRE / UART_BUG_TXEN and drives it with a timer. */
static void test_linux_thre_probe(void **state)
{
    (void)state;
    struct harness *h = harness_new();

    out(h, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    for (int round = 0; round < 2; round++) {
        out(h, UART_IER, UART_IER_THRI);
        h->now += US;
        uint8_t iir1 = in(h, UART_IIR);
        out(h, UART_IER, 0);
        out(h, UART_IER, UART_IER_THRI);
        h->now += US;
        uint8_t iir = in(h, UART_IIR);
        out(h, UART_IER, 0);
        assert_int_equal(iir1 & UART_IIR_ID_MASK, UART_IIR_THRI);
        assert_int_equal(iir & UART_IIR_ID_MASK, UART_IIR_THRI);
    }
    assert_false(h->irq);
    free(h);
}

/* SeaBIOS's detect_serial: IER reads back THRI alone, and IIR (bits 5:0)
 * shows the THRE interrupt it raised; no IRQ without OUT2. */
static void test_seabios_detect(void **state)
{
    (void)state;
    struct harness *h = harness_new();

    out(h, UART_IER, UART_IER_THRI);
    assert_int_equal(in(h, UART_IER), UART_IER_THRI);
    assert_int_equal(in(h, UART_IIR) & 0x3f, UART_IIR_THRI);
    out(h, UART_IER, 0);
    assert_false(h->irq);
    assert_int_equal(h->irq_raised, 0);
    free(h);
}

/* Interrupt-driven transmit: the THRE interrupt raises the line, the
 * handler fills the THR, and the line stays up until THRI is turned off. */
static void test_transmit_with_thre_interrupts(void **state)
{
    (void)state;
    struct harness *h = harness_new();
    const char *text = "hello, 16550A\r\n";

    set_115200_8n1(h);
    out(h, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    out(h, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    out(h, UART_IER, UART_IER_RDI | UART_IER_THRI);
    assert_true(h->irq);

    size_t sent = 0;
    while (h->irq) {
        uint8_t iir = in(h, UART_IIR);
        assert_int_equal(iir, UART_IIR_FIFO_ON | UART_IIR_THRI);
        assert_false(h->irq); /* reading IIR acknowledged it */
        assert_true(in(h, UART_LSR) & UART_LSR_THRE);
        for (int i = 0; i < 4 && text[sent]; i++)
            out(h, UART_THR, (uint8_t)text[sent++]);
        if (!text[sent])
            out(h, UART_IER, UART_IER_RDI);
    }
    assert_int_equal(h->tx_len, strlen(text));
    assert_memory_equal(h->tx, text, strlen(text));
    assert_int_equal(in(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
    assert_int_equal(in(h, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
                     UART_LSR_THRE | UART_LSR_TEMT);
    free(h);
}

/* Without OUT2 (and in loopback) a PC's IRQ line stays quiet while IIR
 * still reports the interrupt; setting OUT2 lets it through. */
static void test_out2_gates_irq(void **state)
{
    (void)state;
    struct harness *h = harness_new();

    out(h, UART_IER, UART_IER_THRI);
    assert_false(h->irq);
    out(h, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
    assert_false(h->irq);
    out(h, UART_MCR, UART_MCR_OUT2);
    assert_true(h->irq);
    out(h, UART_MCR, 0);
    assert_false(h->irq);
    assert_int_equal(in(h, UART_IIR), UART_IIR_THRI);
    free(h);
}

static void start_receiver(struct harness *h, uint8_t trigger_bits)
{
    set_115200_8n1(h);
    out(h, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR | trigger_bits);
    out(h, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    out(h, UART_IER, UART_IER_RDI | UART_IER_RLSI);
}

static size_t drain(struct harness *h, uint8_t *buf, size_t cap)
{
    size_t n = 0;

    while ((in(h, UART_LSR) & UART_LSR_DR) && n < cap)
        buf[n++] = in(h, UART_RBR);
    return n;
}

/* Trigger level 14: thirteen bytes wait, the fourteenth interrupts. */
static void test_receive_trigger_level(void **state)
{
    (void)state;
    struct harness *h = harness_new();
    uint8_t got[32];

    start_receiver(h, 0xc0);
    assert_int_equal(uart16550_receive(&h->uart, (const uint8_t *)"0123456789abc", 13, h->now), 13);
    assert_false(h->irq);
    assert_int_equal(in(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
    assert_int_equal(uart16550_receive_room(&h->uart), 3);
    assert_int_equal(uart16550_receive(&h->uart, (const uint8_t *)"d", 1, h->now), 1);
    assert_true(h->irq);
    assert_int_equal(in(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RDI);
    assert_int_equal(drain(h, got, sizeof(got)), 14);
    assert_memory_equal(got, "0123456789abcd", 14);
    assert_false(h->irq);
    assert_int_equal(uart16550_next_event_ns(&h->uart), DEVICE_TIME_NEVER);
    free(h);
}

/* A typed line shorter than the trigger level arrives through the
 * character timeout: 4 character times (10 bits each at 115200 baud). */
static void check_timeout(uint8_t trigger_bits)
{
    struct harness *h = harness_new();
    const uint64_t timeout = 4 * 10 * 16 * 1000000000ull / 1843200;
    uint8_t got[8];

    start_receiver(h, trigger_bits);
    h->now = 5 * MS;
    assert_int_equal(uart16550_receive(&h->uart, (const uint8_t *)"ls\n", 3, h->now), 3);
    assert_false(h->irq);
    assert_int_equal(uart16550_next_event_ns(&h->uart), h->now + timeout);

    uart16550_advance(&h->uart, h->now + timeout - 1);
    assert_false(h->irq);
    h->now += timeout;
    uart16550_advance(&h->uart, h->now);
    assert_true(h->irq);
    assert_int_equal(uart16550_next_event_ns(&h->uart), DEVICE_TIME_NEVER);
    assert_int_equal(in(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_TIMEOUT);
    assert_int_equal(drain(h, got, sizeof(got)), 3);
    assert_memory_equal(got, "ls\n", 3);
    assert_false(h->irq);
    assert_int_equal(in(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
    free(h);
}

static void test_receive_timeout_trigger_8(void **state)
{
    (void)state;
    check_timeout(0x80);
}

static void test_receive_timeout_trigger_14(void **state)
{
    (void)state;
    check_timeout(0xc0);
}

/* Reading a byte restarts the timer; a frame of 7E2 at 9600 baud sets the
 * timeout's length. A polling reader sees the timeout without advance. */
static void test_timeout_restarts_on_read(void **state)
{
    (void)state;
    struct harness *h = harness_new();
    /* 1 start + 7 data + parity + 2 stop = 11 bits, divisor 12. */
    const uint64_t timeout = 4 * 11 * 12 * 16 * 1000000000ull / 1843200;

    out(h, UART_LCR, UART_LCR_DLAB);
    out(h, UART_DLL, 12);
    out(h, UART_LCR, 0x02 | UART_LCR_PARITY | UART_LCR_STOP);
    out(h, UART_FCR, UART_FCR_ENABLE | 0x40);
    out(h, UART_IER, UART_IER_RDI);
    uart16550_receive(&h->uart, (const uint8_t *)"abc", 3, h->now);
    h->now += timeout / 2;
    assert_int_equal(in(h, UART_RBR), 'a');
    assert_int_equal(uart16550_next_event_ns(&h->uart), h->now + timeout);
    h->now += timeout - 1;
    assert_int_equal(in(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
    h->now += 1;
    assert_int_equal(in(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_TIMEOUT);
    free(h);
}

/* More bytes than the FIFO holds: the excess is lost, OE is set and
 * reported as a line-status interrupt until LSR is read. */
static void test_receive_overflow(void **state)
{
    (void)state;
    struct harness *h = harness_new();
    uint8_t bytes[20], got[32];

    for (unsigned i = 0; i < sizeof(bytes); i++)
        bytes[i] = (uint8_t)('A' + i);
    start_receiver(h, 0xc0);
    assert_int_equal(uart16550_receive(&h->uart, bytes, sizeof(bytes), h->now), 16);
    assert_true(h->irq);
    assert_int_equal(in(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RLSI);
    assert_int_equal(in(h, UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
    assert_int_equal(in(h, UART_LSR) & UART_LSR_OE, 0); /* read clears it */
    assert_int_equal(in(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RDI);
    assert_int_equal(drain(h, got, sizeof(got)), 16);
    assert_memory_equal(got, bytes, 16);
    assert_false(h->irq);

    /* FIFOs off: the receive buffer holds one byte. */
    out(h, UART_FCR, 0);
    assert_int_equal(uart16550_receive_room(&h->uart), 1);
    assert_int_equal(uart16550_receive(&h->uart, (const uint8_t *)"xy", 2, h->now), 1);
    assert_int_equal(in(h, UART_IIR), UART_IIR_RLSI);
    assert_int_equal(in(h, UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
    assert_int_equal(in(h, UART_IIR), UART_IIR_RDI);
    assert_int_equal(in(h, UART_RBR), 'x');
    assert_int_equal(in(h, UART_IIR), UART_IIR_NO_INT);
    assert_int_equal(in(h, UART_RBR), 'x'); /* an empty RBR repeats its last byte */
    free(h);
}

/* Clearing the receive FIFO, and toggling the FIFO enable, drops its bytes. */
static void test_fifo_clear(void **state)
{
    (void)state;
    struct harness *h = harness_new();

    start_receiver(h, 0);
    uart16550_receive(&h->uart, (const uint8_t *)"abc", 3, h->now);
    assert_true(h->irq);
    out(h, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR);
    assert_false(h->irq);
    assert_int_equal(in(h, UART_LSR) & UART_LSR_DR, 0);
    uart16550_receive(&h->uart, (const uint8_t *)"abc", 3, h->now);
    out(h, UART_FCR, UART_FCR_CLEAR_RCVR); /* FIFO off: also empties it */
    assert_int_equal(in(h, UART_LSR) & UART_LSR_DR, 0);
    assert_int_equal(in(h, UART_IIR) & UART_IIR_FIFO_ON, 0);
    free(h);
}

/* Loopback: transmitted bytes come back to the receiver, the modem inputs
 * follow MCR with delta bits and a modem-status interrupt in IIR, and
 * console input is cut off. */
static void test_loopback(void **state)
{
    (void)state;
    struct harness *h = harness_new();

    assert_int_equal(in(h, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
    out(h, UART_FCR, UART_FCR_ENABLE);
    out(h, UART_IER, UART_IER_MSI);
    out(h, UART_MCR, UART_MCR_LOOP);
    assert_int_equal(in(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_MSI);
    assert_int_equal(in(h, UART_MSR), UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
    assert_int_equal(in(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);

    out(h, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1 | UART_MCR_DTR);
    assert_int_equal(in(h, UART_MSR), UART_MSR_RI | UART_MSR_DSR | UART_MSR_DDSR);
    out(h, UART_MCR, UART_MCR_LOOP);
    assert_int_equal(in(h, UART_MSR), UART_MSR_TERI | UART_MSR_DDSR);

    out(h, UART_THR, 'q');
    assert_int_equal(h->tx_len, 0);
    assert_true(in(h, UART_LSR) & UART_LSR_DR);
    assert_int_equal(in(h, UART_RBR), 'q');
    assert_int_equal(uart16550_receive_room(&h->uart), 0);
    assert_int_equal(uart16550_receive(&h->uart, (const uint8_t *)"z", 1, h->now), 0);
    assert_int_equal(in(h, UART_LSR) & UART_LSR_DR, 0);

    out(h, UART_MCR, 0);
    assert_int_equal(in(h, UART_MSR) & 0xf0, UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
    out(h, UART_THR, 'r');
    assert_int_equal(h->tx_len, 1);
    free(h);
}

/* DLAB turns offsets 0 and 1 into the divisor latch: writing the divisor
 * transmits nothing and does not touch IER. Wide accesses reach
 * consecutive registers as on the ISA bus. */
static void test_divisor_latch_and_wide_access(void **state)
{
    (void)state;
    struct harness *h = harness_new();

    out(h, UART_IER, 0x05);
    out(h, UART_LCR, UART_LCR_DLAB | 0x03);
    uart16550_write(&h->uart, UART_DLL, 2, 0x1234, h->now);
    assert_int_equal(uart16550_read(&h->uart, UART_DLL, 2, h->now), 0x1234);
    out(h, UART_LCR, 0x03);
    assert_int_equal(h->tx_len, 0);
    assert_int_equal(in(h, UART_IER), 0x05);
    assert_int_equal(uart16550_read(&h->uart, UART_LCR, 4, h->now),
                     0x03u | 0u << 8 | (uint32_t)(UART_LSR_THRE | UART_LSR_TEMT) << 16 |
                         (uint32_t)(UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD) << 24);
    assert_int_equal(uart16550_read(&h->uart, 7, 2, h->now), 0xff00);
    assert_int_equal(uart16550_read(&h->uart, 0, 3, h->now), UINT32_MAX);
    free(h);
}

/* Garbage on every port, console input and time jumps (also backwards):
 * the model keeps its invariants and the IRQ line matches IIR and OUT2. */
static void test_fuzz(void **state)
{
    (void)state;
    struct harness *h = harness_new();
    static const unsigned sizes[] = { 1, 1, 1, 1, 2, 4, 3, 0 };

    srand(16550);
    for (int i = 0; i < 200000; i++) {
        unsigned offset = (unsigned)rand() % 10;
        unsigned size = sizes[rand() % 8];
        uint32_t value = (uint32_t)rand();
        switch (rand() % 6) {
        case 0:
        case 1:
            uart16550_read(&h->uart, offset, size, h->now);
            break;
        case 2:
        case 3:
            uart16550_write(&h->uart, offset, size, value, h->now);
            break;
        case 4: {
            uint8_t bytes[24];
            size_t n = (size_t)rand() % sizeof(bytes);
            for (size_t j = 0; j < n; j++)
                bytes[j] = (uint8_t)rand();
            assert_true(uart16550_receive(&h->uart, bytes, n, h->now) <= n);
            break;
        }
        default:
            uart16550_advance(&h->uart, h->now);
            break;
        }
        h->now = rand() % 50 ? h->now + (uint64_t)(rand() % 100000) : (uint64_t)rand();

        struct uart16550 *u = &h->uart;
        assert_true(u->rx_count <= UART16550_FIFO_SIZE);
        assert_true(u->rx_head < UART16550_FIFO_SIZE);
        assert_int_equal(u->ier & ~UART_IER_MASK, 0);
        /* Reading IIR acknowledges a THRE interrupt it reports, so read
         * until it shows something a read leaves alone; the line then
         * follows that value and OUT2. */
        uint8_t iir;
        int reads = 0;
        do {
            iir = (uint8_t)(uart16550_read(u, UART_IIR, 1, h->now) & UART_IIR_ID_MASK);
            assert_true(iir == UART_IIR_NO_INT || iir == UART_IIR_MSI || iir == UART_IIR_THRI ||
                        iir == UART_IIR_RDI || iir == UART_IIR_RLSI || iir == UART_IIR_TIMEOUT);
            assert_true(++reads <= 2);
        } while (iir == UART_IIR_THRI);
        bool gated = (u->mcr & UART_MCR_OUT2) && !(u->mcr & UART_MCR_LOOP);
        assert_true(h->irq == (gated && iir != UART_IIR_NO_INT));
        assert_true(uart16550_read(u, UART_LSR, 1, h->now) & UART_LSR_THRE);
    }
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_autoconfig),
        cmocka_unit_test(test_linux_thre_probe),
        cmocka_unit_test(test_seabios_detect),
        cmocka_unit_test(test_transmit_with_thre_interrupts),
        cmocka_unit_test(test_out2_gates_irq),
        cmocka_unit_test(test_receive_trigger_level),
        cmocka_unit_test(test_receive_timeout_trigger_8),
        cmocka_unit_test(test_receive_timeout_trigger_14),
        cmocka_unit_test(test_timeout_restarts_on_read),
        cmocka_unit_test(test_receive_overflow),
        cmocka_unit_test(test_fifo_clear),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_divisor_latch_and_wide_access),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
