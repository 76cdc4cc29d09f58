// sources: guest-tools/vmm/devices/ioapic.c
/* Unit tests for the IOAPIC model (guest-tools/vmm/devices/ioapic.c):
 * registers as the guest reads them through IOREGSEL/IOWIN, the exact MSI
 * each entry sends, edge and level delivery, remote IRR and EOI, polarity,
 * and a seeded stream of garbage that must leave the model consistent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest-tools/vmm/devices/ioapic.h"

#define MAX_MESSAGES 64

struct recorder {
    unsigned count;
    uint64_t address[MAX_MESSAGES];
    uint32_t data[MAX_MESSAGES];
};

static void record_msi(void *ctx, uint64_t address, uint32_t data)
{
    struct recorder *r = ctx;
    if (r->count < MAX_MESSAGES) {
        r->address[r->count] = address;
        r->data[r->count] = data;
    }
    r->count++;
}

static struct ioapic ioapic;
static struct recorder sent;

static int setup(void **state)
{
    (void)state;
    memset(&sent, 0, sizeof(sent));
    memset(&ioapic, 0x5a, sizeof(ioapic)); /* init must not rely on zeroed memory */
    ioapic_init(&ioapic, 1, (struct msi_sink){ record_msi, &sent });
    return 0;
}

static uint32_t reg_read(uint8_t index)
{
    ioapic_write(&ioapic, IOAPIC_IOREGSEL, 4, index, 0);
    return ioapic_read(&ioapic, IOAPIC_IOWIN, 4, 0);
}

static void reg_write(uint8_t index, uint32_t value)
{
    ioapic_write(&ioapic, IOAPIC_IOREGSEL, 4, index, 0);
    ioapic_write(&ioapic, IOAPIC_IOWIN, 4, value, 0);
}

static void entry_write(unsigned pin, uint64_t entry)
{
    /* High dword first, as OSes do, so the entry is never live half-written. */
    reg_write(IOAPIC_REG_REDIRECTION + 2 * pin + 1, (uint32_t)(entry >> 32));
    reg_write(IOAPIC_REG_REDIRECTION + 2 * pin, (uint32_t)entry);
}

static uint64_t entry_read(unsigned pin)
{
    return (uint64_t)reg_read(IOAPIC_REG_REDIRECTION + 2 * pin + 1) << 32 |
           reg_read(IOAPIC_REG_REDIRECTION + 2 * pin);
}

static uint64_t make_entry(uint8_t vector, unsigned mode, uint8_t destination, uint64_t flags)
{
    return vector | (uint64_t)mode << IOAPIC_RTE_DELIVERY_SHIFT |
           (uint64_t)destination << IOAPIC_RTE_DEST_SHIFT | flags;
}

static void expect_message(unsigned index, uint64_t address, uint32_t data)
{
    assert_true(index < sent.count);
    assert_int_equal(sent.address[index], address);
    assert_int_equal(sent.data[index], data);
}

static void test_reset_state(void **state)
{
    (void)state;
    assert_int_equal(reg_read(IOAPIC_REG_ID), 0x01000000);
    assert_int_equal(reg_read(IOAPIC_REG_VERSION), 0x00170020);
    assert_int_equal(reg_read(IOAPIC_REG_ARBITRATION), 0x01000000);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        assert_int_equal(entry_read(pin), IOAPIC_RTE_MASKED);
    /* Pins going high on masked entries send nothing. */
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        ioapic_set_irq(&ioapic, pin, true);
    assert_int_equal(sent.count, 0);
}

static void test_register_readback(void **state)
{
    (void)state;
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        /* Delivery status, remote IRR and bits 17-55 are not writable. */
        reg_write(IOAPIC_REG_REDIRECTION + 2 * pin, 0xffffffff);
        reg_write(IOAPIC_REG_REDIRECTION + 2 * pin + 1, 0xffffffff);
        assert_int_equal(reg_read(IOAPIC_REG_REDIRECTION + 2 * pin), 0x0001afff);
        assert_int_equal(reg_read(IOAPIC_REG_REDIRECTION + 2 * pin + 1), 0xff000000);
        entry_write(pin, make_entry(0x20 + pin, 0, pin, IOAPIC_RTE_MASKED));
    }
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        assert_int_equal(entry_read(pin), make_entry(0x20 + pin, 0, pin, IOAPIC_RTE_MASKED));

    /* ID is 4 bits at 27:24; the arbitration ID follows it. */
    reg_write(IOAPIC_REG_ID, 0xffffffff);
    assert_int_equal(reg_read(IOAPIC_REG_ID), 0x0f000000);
    assert_int_equal(reg_read(IOAPIC_REG_ARBITRATION), 0x0f000000);
    reg_write(IOAPIC_REG_ID, 0x02000000);
    assert_int_equal(reg_read(IOAPIC_REG_ID), 0x02000000);
    /* Version and arbitration are read-only. */
    reg_write(IOAPIC_REG_VERSION, 0);
    reg_write(IOAPIC_REG_ARBITRATION, 0x0f000000);
    assert_int_equal(reg_read(IOAPIC_REG_VERSION), 0x00170020);
    assert_int_equal(reg_read(IOAPIC_REG_ARBITRATION), 0x02000000);
    /* Indexes the chip lacks read zero and ignore writes. */
    const uint8_t absent[] = { 0x03, 0x0f, 0x40, 0x41, 0x80, 0xff };
    for (unsigned i = 0; i < sizeof(absent); i++) {
        reg_write(absent[i], 0xffffffff);
        assert_int_equal(reg_read(absent[i]), 0);
    }
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        assert_int_equal(entry_read(pin), make_entry(0x20 + pin, 0, pin, IOAPIC_RTE_MASKED));
}

static void test_mmio_window(void **state)
{
    (void)state;
    /* IOREGSEL holds 8 bits. */
    ioapic_write(&ioapic, IOAPIC_IOREGSEL, 4, 0xabcdef01, 0);
    assert_int_equal(ioapic_read(&ioapic, IOAPIC_IOREGSEL, 4, 0), 0x01);
    /* A byte write selects too; narrow reads take their byte lanes. */
    ioapic_write(&ioapic, IOAPIC_IOREGSEL, 1, IOAPIC_REG_VERSION, 0);
    assert_int_equal(ioapic_read(&ioapic, IOAPIC_IOWIN, 1, 0), 0x20);
    assert_int_equal(ioapic_read(&ioapic, IOAPIC_IOWIN + 2, 1, 0), 0x17);
    assert_int_equal(ioapic_read(&ioapic, IOAPIC_IOWIN + 2, 2, 0), 0x0017);
    /* A byte write to IOWIN replaces only that byte of the register. */
    ioapic_write(&ioapic, IOAPIC_IOREGSEL, 4, IOAPIC_REG_REDIRECTION + 2 * 5, 0);
    ioapic_write(&ioapic, IOAPIC_IOWIN, 1, 0x77, 0);
    assert_int_equal(entry_read(5), IOAPIC_RTE_MASKED | 0x77);
    /* EOI is write-only; offsets that decode nothing read zero. */
    assert_int_equal(ioapic_read(&ioapic, IOAPIC_EOI, 4, 0), 0);
    assert_int_equal(ioapic_read(&ioapic, 0x20, 4, 0), 0);
    assert_int_equal(ioapic_read(&ioapic, 0xffc, 4, 0), 0);
    /* Accesses no dword holds, or outside the window, float high. */
    assert_int_equal(ioapic_read(&ioapic, IOAPIC_IOWIN + 2, 4, 0), 0xffffffff);
    assert_int_equal(ioapic_read(&ioapic, IOAPIC_IOWIN, 8, 0), 0xffffffff);
    assert_int_equal(ioapic_read(&ioapic, IOAPIC_IOWIN, 3, 0), 0xffffff);
    assert_int_equal(ioapic_read(&ioapic, IOAPIC_MMIO_SIZE, 1, 0), 0xff);
}

static void test_edge_delivery_exact_msi(void **state)
{
    (void)state;
    entry_write(4, make_entry(0x34, IOAPIC_DELIVERY_FIXED, 2, 0));
    assert_int_equal(sent.count, 0);
    ioapic_set_irq(&ioapic, 4, true);
    assert_int_equal(sent.count, 1);
    expect_message(0, 0xfee02000, 0x4034);
    /* Held high: no second message; a new rising edge sends again. */
    ioapic_set_irq(&ioapic, 4, true);
    ioapic_set_irq(&ioapic, 4, false);
    assert_int_equal(sent.count, 1);
    ioapic_set_irq(&ioapic, 4, true);
    assert_int_equal(sent.count, 2);
    expect_message(1, 0xfee02000, 0x4034);
    /* No remote IRR for edge entries; EOIs change nothing. */
    assert_int_equal(entry_read(4) & IOAPIC_RTE_REMOTE_IRR, 0);
    ioapic_eoi(&ioapic, 0x34);
    assert_int_equal(sent.count, 2);

    /* Logical destination, lowest priority. */
    entry_write(1, make_entry(0x41, IOAPIC_DELIVERY_LOWEST_PRIORITY, 0x0f,
                              IOAPIC_RTE_DEST_LOGICAL));
    ioapic_set_irq(&ioapic, 1, true);
    expect_message(2, 0xfee0f004, 0x4141);
    /* Destination 0xff (broadcast in physical mode) reaches bits 19:12. */
    entry_write(23, make_entry(0xfe, IOAPIC_DELIVERY_FIXED, 0xff, 0));
    ioapic_set_irq(&ioapic, 23, true);
    expect_message(3, 0xfeeff000, 0x40fe);
    assert_int_equal(sent.count, 4);
}

static void test_edge_while_masked_is_lost(void **state)
{
    (void)state;
    entry_write(3, make_entry(0x33, IOAPIC_DELIVERY_FIXED, 0, IOAPIC_RTE_MASKED));
    ioapic_set_irq(&ioapic, 3, true);
    entry_write(3, make_entry(0x33, IOAPIC_DELIVERY_FIXED, 0, 0));
    assert_int_equal(sent.count, 0);
    ioapic_set_irq(&ioapic, 3, false);
    ioapic_set_irq(&ioapic, 3, true);
    assert_int_equal(sent.count, 1);
    expect_message(0, 0xfee00000, 0x4033);
}

static void test_level_remote_irr_and_eoi(void **state)
{
    (void)state;
    entry_write(9, make_entry(0x39, IOAPIC_DELIVERY_FIXED, 1, IOAPIC_RTE_TRIGGER_LEVEL));
    ioapic_set_irq(&ioapic, 9, true);
    assert_int_equal(sent.count, 1);
    expect_message(0, 0xfee01000, 0xc039);
    assert_true(entry_read(9) & IOAPIC_RTE_REMOTE_IRR);
    /* Remote IRR holds further messages back while the line stays high. */
    ioapic_set_irq(&ioapic, 9, true);
    ioapic_set_irq(&ioapic, 9, false);
    ioapic_set_irq(&ioapic, 9, true);
    assert_int_equal(sent.count, 1);
    /* An EOI for another vector leaves it alone. */
    ioapic_eoi(&ioapic, 0x38);
    assert_int_equal(sent.count, 1);
    assert_true(entry_read(9) & IOAPIC_RTE_REMOTE_IRR);
    /* Our vector's EOI with the line still high: sent again at once. */
    ioapic_eoi(&ioapic, 0x39);
    assert_int_equal(sent.count, 2);
    expect_message(1, 0xfee01000, 0xc039);
    assert_true(entry_read(9) & IOAPIC_RTE_REMOTE_IRR);
    /* The device drops the line before the handler's EOI: nothing more. */
    ioapic_set_irq(&ioapic, 9, false);
    ioapic_eoi(&ioapic, 0x39);
    assert_int_equal(sent.count, 2);
    assert_int_equal(entry_read(9) & IOAPIC_RTE_REMOTE_IRR, 0);
    /* And the next assertion goes straight out. */
    ioapic_set_irq(&ioapic, 9, true);
    assert_int_equal(sent.count, 3);
}

static void test_eoi_register(void **state)
{
    (void)state;
    entry_write(10, make_entry(0x5a, IOAPIC_DELIVERY_FIXED, 0, IOAPIC_RTE_TRIGGER_LEVEL));
    entry_write(11, make_entry(0x5a, IOAPIC_DELIVERY_FIXED, 0, IOAPIC_RTE_TRIGGER_LEVEL));
    ioapic_set_irq(&ioapic, 10, true);
    ioapic_set_irq(&ioapic, 11, true);
    assert_int_equal(sent.count, 2);
    ioapic_set_irq(&ioapic, 11, false);
    /* A byte write to the reserved bits 15:8 is not an EOI. */
    ioapic_write(&ioapic, IOAPIC_EOI + 1, 1, 0x5a, 0);
    assert_int_equal(sent.count, 2);
    /* One EOI write clears every entry with the vector; pin 10 is still
     * high and sends again, pin 11 is low and stays quiet. */
    ioapic_write(&ioapic, IOAPIC_EOI, 4, 0x5a, 0);
    assert_int_equal(sent.count, 3);
    assert_true(entry_read(10) & IOAPIC_RTE_REMOTE_IRR);
    assert_int_equal(entry_read(11) & IOAPIC_RTE_REMOTE_IRR, 0);
}

static void test_level_unmask_delivers(void **state)
{
    (void)state;
    uint64_t entry = make_entry(0x45, IOAPIC_DELIVERY_FIXED, 0, IOAPIC_RTE_TRIGGER_LEVEL);
    entry_write(5, entry | IOAPIC_RTE_MASKED);
    ioapic_set_irq(&ioapic, 5, true);
    assert_int_equal(sent.count, 0);
    entry_write(5, entry);
    assert_int_equal(sent.count, 1);
    expect_message(0, 0xfee00000, 0xc045);
    /* Masking does not clear remote IRR; only the EOI does. */
    entry_write(5, entry | IOAPIC_RTE_MASKED);
    assert_true(entry_read(5) & IOAPIC_RTE_REMOTE_IRR);
    ioapic_eoi(&ioapic, 0x45);
    assert_int_equal(sent.count, 1);
    entry_write(5, entry);
    assert_int_equal(sent.count, 2);
}

static void test_polarity_active_low(void **state)
{
    (void)state;
    /* Edge, active low: the falling electrical edge is the assertion. */
    ioapic_set_irq(&ioapic, 16, true);
    entry_write(16, make_entry(0x50, IOAPIC_DELIVERY_FIXED, 0, IOAPIC_RTE_ACTIVE_LOW));
    assert_int_equal(sent.count, 0);
    ioapic_set_irq(&ioapic, 16, true);
    assert_int_equal(sent.count, 0);
    ioapic_set_irq(&ioapic, 16, false);
    assert_int_equal(sent.count, 1);
    ioapic_set_irq(&ioapic, 16, true);
    assert_int_equal(sent.count, 1);
    expect_message(0, 0xfee00000, 0x4050);

    /* Level, active low: asserted while the pin is low. */
    ioapic_set_irq(&ioapic, 17, true);
    entry_write(17, make_entry(0x51, IOAPIC_DELIVERY_FIXED, 0,
                               IOAPIC_RTE_ACTIVE_LOW | IOAPIC_RTE_TRIGGER_LEVEL));
    assert_int_equal(sent.count, 1);
    ioapic_set_irq(&ioapic, 17, false);
    assert_int_equal(sent.count, 2);
    expect_message(1, 0xfee00000, 0xc051);
    ioapic_eoi(&ioapic, 0x51);
    assert_int_equal(sent.count, 3); /* still low: asserted */
    ioapic_set_irq(&ioapic, 17, true);
    ioapic_eoi(&ioapic, 0x51);
    assert_int_equal(sent.count, 3);

    /* A pin no device drives is deasserted whatever the polarity (a
     * board's unused PCI line is pulled up): active low and level, it
     * stays quiet at unmask (it once fired, and again after every EOI),
     * until something drives it low. */
    entry_write(18, make_entry(0x52, IOAPIC_DELIVERY_FIXED, 0,
                               IOAPIC_RTE_ACTIVE_LOW | IOAPIC_RTE_TRIGGER_LEVEL));
    assert_int_equal(sent.count, 3);
    ioapic_eoi(&ioapic, 0x52);
    assert_int_equal(sent.count, 3);
    ioapic_set_irq(&ioapic, 18, false);
    assert_int_equal(sent.count, 4);
    expect_message(3, 0xfee00000, 0xc052);
}

static void test_special_delivery_modes_are_edge(void **state)
{
    (void)state;
    /* NMI, INIT, SMI, ExtINT programmed level are sent as edge messages
     * and never wait for an EOI. */
    const unsigned modes[] = { IOAPIC_DELIVERY_NMI, IOAPIC_DELIVERY_INIT, IOAPIC_DELIVERY_SMI,
                               IOAPIC_DELIVERY_EXTINT };
    for (unsigned i = 0; i < 4; i++) {
        entry_write(i, make_entry(0, modes[i], 3, IOAPIC_RTE_TRIGGER_LEVEL));
        ioapic_set_irq(&ioapic, i, true);
        expect_message(i, 0xfee03000, 0x4000 | modes[i] << 8);
        assert_int_equal(entry_read(i) & IOAPIC_RTE_REMOTE_IRR, 0);
        ioapic_set_irq(&ioapic, i, true); /* held: nothing */
    }
    assert_int_equal(sent.count, 4);
    /* Reserved delivery modes 3 and 6 send nothing. */
    entry_write(6, make_entry(0x66, 3, 0, 0));
    entry_write(7, make_entry(0x67, 6, 0, IOAPIC_RTE_TRIGGER_LEVEL));
    ioapic_set_irq(&ioapic, 6, true);
    ioapic_set_irq(&ioapic, 7, true);
    assert_int_equal(sent.count, 4);
    assert_int_equal(entry_read(6), make_entry(0x66, 3, 0, 0));
}

static void test_edge_switch_clears_remote_irr(void **state)
{
    (void)state;
    uint64_t level = make_entry(0x61, IOAPIC_DELIVERY_FIXED, 0, IOAPIC_RTE_TRIGGER_LEVEL);
    entry_write(12, level);
    ioapic_set_irq(&ioapic, 12, true);
    ioapic_set_irq(&ioapic, 12, false);
    assert_true(entry_read(12) & IOAPIC_RTE_REMOTE_IRR);
    /* Older Linux unsticks a level entry by turning it edge and back. */
    entry_write(12, level & ~IOAPIC_RTE_TRIGGER_LEVEL);
    assert_int_equal(entry_read(12) & IOAPIC_RTE_REMOTE_IRR, 0);
    entry_write(12, level);
    ioapic_set_irq(&ioapic, 12, true);
    assert_int_equal(sent.count, 2);
}

static void test_irq_line_and_unconnected_sink(void **state)
{
    (void)state;
    entry_write(8, make_entry(0x48, IOAPIC_DELIVERY_FIXED, 0, 0));
    struct irq_line line = { ioapic_irq_input, &ioapic, 8 };
    irq_line_set(&line, true);
    expect_message(0, 0xfee00000, 0x4048);
    /* Pins beyond 23 do not exist. */
    ioapic_set_irq(&ioapic, IOAPIC_PINS, true);
    ioapic_set_irq(&ioapic, 1000, true);
    assert_int_equal(sent.count, 1);
    /* Without a sink the model still works; the message is dropped. */
    ioapic_init(&ioapic, 0, (struct msi_sink){ NULL, NULL });
    entry_write(8, make_entry(0x48, IOAPIC_DELIVERY_FIXED, 0, IOAPIC_RTE_TRIGGER_LEVEL));
    ioapic_set_irq(&ioapic, 8, true);
    assert_true(entry_read(8) & IOAPIC_RTE_REMOTE_IRR);
}

static uint64_t rng_state;
static uint32_t next_random(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static void test_garbage_keeps_invariants(void **state)
{
    (void)state;
    const uint64_t offsets[] = { IOAPIC_IOREGSEL, IOAPIC_IOWIN, IOAPIC_EOI, 0x11, 0x43, 0xfff };
    const uint64_t reserved = 0x00fffffffffe0000ull | IOAPIC_RTE_DELIVERY_STATUS;
    rng_state = 0x1234abcd;
    for (unsigned step = 0; step < 200000; step++) {
        uint32_t choice = next_random() % 8;
        uint32_t value = next_random();
        uint64_t offset = next_random() % 3 ? offsets[next_random() % 6] : next_random() % 0x1100;
        unsigned size = next_random() % 6;
        if (choice < 3)
            ioapic_write(&ioapic, offset, size, value, 0);
        else if (choice < 5)
            (void)ioapic_read(&ioapic, offset, size, 0);
        else if (choice < 7)
            ioapic_set_irq(&ioapic, value % 32, next_random() & 1);
        else
            ioapic_eoi(&ioapic, (uint8_t)value);
        sent.count = 0;

        assert_true(ioapic.id <= IOAPIC_ID_MASK);
        for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
            uint64_t entry = ioapic.redirection[pin];
            assert_int_equal(entry & reserved, 0);
            /* Remote IRR only on entries that take part in the EOI handshake. */
            if (entry & IOAPIC_RTE_REMOTE_IRR) {
                unsigned mode = (entry >> IOAPIC_RTE_DELIVERY_SHIFT) & 7;
                assert_true(entry & IOAPIC_RTE_TRIGGER_LEVEL);
                assert_true(mode == IOAPIC_DELIVERY_FIXED || mode == IOAPIC_DELIVERY_LOWEST_PRIORITY);
            }
        }
        assert_int_equal(ioapic.pin_levels >> IOAPIC_PINS, 0);
    }
    /* Still a working IOAPIC afterwards. */
    assert_int_equal(reg_read(IOAPIC_REG_VERSION), 0x00170020);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        reg_write(IOAPIC_REG_REDIRECTION + 2 * pin, (uint32_t)IOAPIC_RTE_MASKED);
        ioapic_set_irq(&ioapic, pin, false);
    }
    entry_write(2, make_entry(0x22, IOAPIC_DELIVERY_FIXED, 0, 0));
    sent.count = 0;
    ioapic_set_irq(&ioapic, 2, true);
    assert_int_equal(sent.count, 1);
    expect_message(0, 0xfee00000, 0x4022);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reset_state, setup),
        cmocka_unit_test_setup(test_register_readback, setup),
        cmocka_unit_test_setup(test_mmio_window, setup),
        cmocka_unit_test_setup(test_edge_delivery_exact_msi, setup),
        cmocka_unit_test_setup(test_edge_while_masked_is_lost, setup),
        cmocka_unit_test_setup(test_level_remote_irr_and_eoi, setup),
        cmocka_unit_test_setup(test_eoi_register, setup),
        cmocka_unit_test_setup(test_level_unmask_delivers, setup),
        cmocka_unit_test_setup(test_polarity_active_low, setup),
        cmocka_unit_test_setup(test_special_delivery_modes_are_edge, setup),
        cmocka_unit_test_setup(test_edge_switch_clears_remote_irr, setup),
        cmocka_unit_test_setup(test_irq_line_and_unconnected_sink, setup),
        cmocka_unit_test_setup(test_garbage_keeps_invariants, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
