/*
 * The 8259A PIC pair. Each chip keeps IRR, ISR and IMR as the data sheet
 * describes them; INTR is recomputed after every change, the slave's first
 * since its INTR is the master's IR2 input.
 *
 * Triggering: a level-triggered line's IRR bit follows its pin. An
 * edge-triggered line's IRR bit is set by a rising edge and stays set until
 * the acknowledge, even if the pin falls first: device models pulse their
 * lines, and the acknowledge comes when the vcpu can take the interrupt, not
 * within the few hundred nanoseconds the data sheet asks a request to stay
 * up. A level request that goes away before the acknowledge still gives the
 * spurious IRQ7 (or IRQ15 from the slave, with the master's IR2 latched)
 * that guests expect and handle.
 */
#include "guest-tools/vmm/devices/i8259.h"

/* ICW1, written to the command port with bit 4 set. */
#define ICW1_IC4          0x01  /* an ICW4 follows */
#define ICW1_SNGL         0x02  /* one chip alone: no ICW3, no cascade */
#define ICW1_INIT         0x10
/* LTIM (bit 3) is ignored: the ELCR sets the trigger, as on PIIX/ICH. */

/* ICW4. Bit 0 (8086 mode) is assumed: an x86 CPU knows no other. */
#define ICW4_AEOI         0x02  /* automatic EOI at the end of the acknowledge */
#define ICW4_SFNM         0x10  /* special fully nested mode */

/* OCW2: bits 7:5 are R, SL and EOI; bits 2:0 the level for SL commands. */
#define OCW2_ROTATE_AEOI_CLEAR    0
#define OCW2_NON_SPECIFIC_EOI     1
#define OCW2_NOP                  2
#define OCW2_SPECIFIC_EOI         3
#define OCW2_ROTATE_AEOI_SET      4
#define OCW2_ROTATE_NON_SPECIFIC  5
#define OCW2_SET_PRIORITY         6
#define OCW2_ROTATE_SPECIFIC      7

/* OCW3, written to the command port with bits 4:3 = 01. */
#define OCW3_SELECT       0x08
#define OCW3_READ_ISR     0x01  /* with READ_REGISTER: ISR, else IRR */
#define OCW3_READ_REGISTER 0x02
#define OCW3_POLL         0x04
#define OCW3_SPECIAL_MASK 0x20  /* with SET_SPECIAL_MASK: enter, else leave */
#define OCW3_SET_SPECIAL_MASK 0x40

/* Initialisation: the ICW the data port takes next. */
enum { INIT_DONE, INIT_EXPECT_ICW2, INIT_EXPECT_ICW3, INIT_EXPECT_ICW4 };

/* ELCR bits the PIIX lets software set: IRQ 0, 1, 2, 8 and 13 are wired
 * to edge-only sources (timer, keyboard, cascade, RTC, FPU error). */
#define ELCR_MASTER_WRITABLE 0xf8
#define ELCR_SLAVE_WRITABLE  0xde

#define OPEN_BUS 0xff           /* what a read nothing answers gives */

static bool is_master(const struct i8259_pair *pic, const struct i8259_chip *chip)
{
    return chip == &pic->master;
}

/* 0 is the highest priority, 7 the lowest; rotation moves the origin. */
static unsigned priority_rank(const struct i8259_chip *chip, unsigned line)
{
    return (line - chip->lowest_priority - 1u) & 7u;
}

/* The line of highest priority among `lines`, or -1 when there is none. */
static int highest_priority_line(const struct i8259_chip *chip, uint8_t lines)
{
    for (unsigned rank = 0; rank < 8; rank++) {
        unsigned line = (chip->lowest_priority + 1u + rank) & 7u;
        if (lines & (1u << line))
            return (int)line;
    }
    return -1;
}

/* A master line whose acknowledge is handed to a slave (ICW3). */
static bool is_cascade_line(const struct i8259_pair *pic, const struct i8259_chip *chip,
                            unsigned line)
{
    return is_master(pic, chip) && !(chip->icw1 & ICW1_SNGL) && (chip->cascade & (1u << line));
}

/*
 * The request this chip would signal on INTR, or -1: the highest unmasked
 * request, if it outranks the highest level in service. In special mask mode
 * masked levels in service hold nothing off; in special fully nested mode a
 * slave may interrupt again while its cascade line is in service.
 */
static int chip_pending_line(const struct i8259_pair *pic, const struct i8259_chip *chip)
{
    int request = highest_priority_line(chip, chip->irr & (uint8_t)~chip->imr);
    if (request < 0)
        return -1;
    uint8_t blocking = chip->isr;
    if (chip->special_mask)
        blocking &= (uint8_t)~chip->imr;
    int in_service = highest_priority_line(chip, blocking);
    if (in_service < 0)
        return request;
    unsigned request_rank = priority_rank(chip, (unsigned)request);
    unsigned service_rank = priority_rank(chip, (unsigned)in_service);
    if (request_rank < service_rank)
        return request;
    if (request == in_service && (chip->icw4 & ICW4_SFNM) &&
        is_cascade_line(pic, chip, (unsigned)request))
        return request;
    return -1;
}

static void chip_set_pin(struct i8259_chip *chip, unsigned line, bool level)
{
    uint8_t bit = (uint8_t)(1u << line);
    bool was_high = chip->pin_level & bit;

    if (level) {
        chip->pin_level |= bit;
        if ((chip->level_triggered & bit) || !was_high)
            chip->irr |= bit;
    } else {
        chip->pin_level &= (uint8_t)~bit;
        if (chip->level_triggered & bit)
            chip->irr &= (uint8_t)~bit;
    }
}

/* Drive the master's IR2 from the slave, then INTR from the master, and
 * report INTR if it changed. Called after anything that can change them. */
static void update_intr(struct i8259_pair *pic)
{
    chip_set_pin(&pic->master, I8259_CASCADE_LINE, chip_pending_line(pic, &pic->slave) >= 0);
    bool intr = chip_pending_line(pic, &pic->master) >= 0;
    if (intr != pic->intr_level) {
        pic->intr_level = intr;
        irq_line_set(&pic->intr, intr);
    }
}

/* The chip's half of an acknowledge (INTA or poll) of `line`: the request is
 * consumed (a level one stays while its pin is high) and goes in service,
 * unless automatic EOI ends it at once. */
static void chip_accept(struct i8259_chip *chip, unsigned line)
{
    uint8_t bit = (uint8_t)(1u << line);

    if (!(chip->level_triggered & bit))
        chip->irr &= (uint8_t)~bit;
    if (!(chip->icw4 & ICW4_AEOI))
        chip->isr |= bit;
    else if (chip->rotate_on_auto_eoi)
        chip->lowest_priority = (uint8_t)line;
}

uint8_t i8259_acknowledge(struct i8259_pair *pic)
{
    struct i8259_chip *master = &pic->master, *slave = &pic->slave;
    int line = chip_pending_line(pic, master);
    uint8_t vector;

    if (line < 0) {
        vector = master->vector_base | 7u;          /* spurious IRQ7 */
    } else {
        chip_accept(master, (unsigned)line);
        if (!is_cascade_line(pic, master, (unsigned)line)) {
            vector = master->vector_base | (uint8_t)line;
        } else if ((slave->icw1 & ICW1_SNGL) || (slave->cascade & 7u) != (unsigned)line) {
            vector = OPEN_BUS;                       /* no slave answers this address */
        } else {
            int slave_line = chip_pending_line(pic, slave);
            if (slave_line < 0) {
                vector = slave->vector_base | 7u;    /* spurious IRQ15 */
            } else {
                chip_accept(slave, (unsigned)slave_line);
                vector = slave->vector_base | (uint8_t)slave_line;
            }
        }
    }
    update_intr(pic);
    return vector;
}

/* OCW3 poll: the read is the acknowledge, without a vector: bit 7 says
 * whether there was a request, bits 2:0 which. Each poll is one read. */
static uint8_t chip_poll(struct i8259_pair *pic, struct i8259_chip *chip)
{
    chip->poll = false;
    int line = chip_pending_line(pic, chip);
    if (line < 0)
        return 0;
    chip_accept(chip, (unsigned)line);
    update_intr(pic);
    return (uint8_t)(0x80u | (unsigned)line);
}

/* ICW1 resets the chip as the data sheet lists: IMR and ISR cleared, IR7
 * lowest priority, special mask off, IRR reads selected, ICW4 functions off
 * until an ICW4 sets them, and the edge sense reset, so that a line already
 * high must fall and rise again to interrupt. */
static void chip_start_init(struct i8259_chip *chip, uint8_t icw1)
{
    chip->icw1 = icw1;
    chip->icw4 = 0;
    chip->imr = 0;
    chip->isr = 0;
    chip->irr = chip->pin_level & chip->level_triggered;
    chip->lowest_priority = 7;
    chip->read_isr = false;
    chip->poll = false;
    chip->special_mask = false;
    chip->rotate_on_auto_eoi = false;
    chip->init_step = INIT_EXPECT_ICW2;
}

static void chip_write_ocw2(struct i8259_chip *chip, uint8_t ocw2)
{
    unsigned level = ocw2 & 7u;
    int highest = highest_priority_line(chip, chip->isr);

    switch (ocw2 >> 5) {
    case OCW2_ROTATE_AEOI_CLEAR:
        chip->rotate_on_auto_eoi = false;
        break;
    case OCW2_ROTATE_AEOI_SET:
        chip->rotate_on_auto_eoi = true;
        break;
    case OCW2_NON_SPECIFIC_EOI:
    case OCW2_ROTATE_NON_SPECIFIC:
        /* Fully nested: the highest level in service is the one that ends. */
        if (highest < 0)
            break;
        chip->isr &= (uint8_t)~(1u << highest);
        if (ocw2 >> 5 == OCW2_ROTATE_NON_SPECIFIC)
            chip->lowest_priority = (uint8_t)highest;
        break;
    case OCW2_SPECIFIC_EOI:
        chip->isr &= (uint8_t)~(1u << level);
        break;
    case OCW2_ROTATE_SPECIFIC:
        chip->isr &= (uint8_t)~(1u << level);
        chip->lowest_priority = (uint8_t)level;
        break;
    case OCW2_SET_PRIORITY:
        chip->lowest_priority = (uint8_t)level;
        break;
    case OCW2_NOP:
        break;
    }
}

static void chip_write_ocw3(struct i8259_chip *chip, uint8_t ocw3)
{
    if (ocw3 & OCW3_POLL)
        chip->poll = true;
    if (ocw3 & OCW3_READ_REGISTER)
        chip->read_isr = ocw3 & OCW3_READ_ISR;
    if (ocw3 & OCW3_SET_SPECIAL_MASK)
        chip->special_mask = ocw3 & OCW3_SPECIAL_MASK;
}

static void chip_write_data(struct i8259_chip *chip, uint8_t value)
{
    switch (chip->init_step) {
    case INIT_EXPECT_ICW2:
        chip->vector_base = value & 0xf8u;
        if (!(chip->icw1 & ICW1_SNGL))
            chip->init_step = INIT_EXPECT_ICW3;
        else
            chip->init_step = (chip->icw1 & ICW1_IC4) ? INIT_EXPECT_ICW4 : INIT_DONE;
        break;
    case INIT_EXPECT_ICW3:
        chip->cascade = value;
        chip->init_step = (chip->icw1 & ICW1_IC4) ? INIT_EXPECT_ICW4 : INIT_DONE;
        break;
    case INIT_EXPECT_ICW4:
        chip->icw4 = value;
        chip->init_step = INIT_DONE;
        break;
    default:
        chip->imr = value;                          /* OCW1 */
        break;
    }
}

static void chip_write(struct i8259_chip *chip, unsigned offset, uint8_t value)
{
    if (offset == 1)
        chip_write_data(chip, value);
    else if (value & ICW1_INIT)
        chip_start_init(chip, value);
    else if (value & OCW3_SELECT)
        chip_write_ocw3(chip, value);
    else
        chip_write_ocw2(chip, value);
}

static uint8_t chip_read(struct i8259_pair *pic, struct i8259_chip *chip, unsigned offset)
{
    if (chip->poll)
        return chip_poll(pic, chip);
    if (offset == 1)
        return chip->imr;
    return chip->read_isr ? chip->isr : chip->irr;
}

/* A line that turns level-triggered takes its pin's level at once; one that
 * turns edge-triggered keeps a request it had. */
static void elcr_write(struct i8259_chip *chip, uint8_t value, uint8_t writable)
{
    chip->level_triggered = value & writable;
    chip->irr = (chip->irr & (uint8_t)~chip->level_triggered) |
                (chip->pin_level & chip->level_triggered);
}

static uint8_t read_port(struct i8259_pair *pic, uint16_t port)
{
    switch (port) {
    case I8259_MASTER_PORT:
    case I8259_MASTER_PORT + 1:
        return chip_read(pic, &pic->master, port & 1u);
    case I8259_SLAVE_PORT:
    case I8259_SLAVE_PORT + 1:
        return chip_read(pic, &pic->slave, port & 1u);
    case I8259_ELCR_PORT:
        return pic->master.level_triggered;
    case I8259_ELCR_PORT + 1:
        return pic->slave.level_triggered;
    default:
        return OPEN_BUS;
    }
}

static void write_port(struct i8259_pair *pic, uint16_t port, uint8_t value)
{
    switch (port) {
    case I8259_MASTER_PORT:
    case I8259_MASTER_PORT + 1:
        chip_write(&pic->master, port & 1u, value);
        break;
    case I8259_SLAVE_PORT:
    case I8259_SLAVE_PORT + 1:
        chip_write(&pic->slave, port & 1u, value);
        break;
    case I8259_ELCR_PORT:
        elcr_write(&pic->master, value, ELCR_MASTER_WRITABLE);
        break;
    case I8259_ELCR_PORT + 1:
        elcr_write(&pic->slave, value, ELCR_SLAVE_WRITABLE);
        break;
    default:
        return;
    }
    update_intr(pic);
}

uint32_t i8259_read(struct i8259_pair *pic, uint16_t port, unsigned size, uint64_t now_ns)
{
    uint32_t value = 0;

    (void)now_ns;                                   /* the PIC has no clock */
    for (unsigned i = 0; i < size && i < 4; i++)
        value |= (uint32_t)read_port(pic, (uint16_t)(port + i)) << (8 * i);
    return value;
}

void i8259_write(struct i8259_pair *pic, uint16_t port, unsigned size, uint32_t value,
                 uint64_t now_ns)
{
    (void)now_ns;
    for (unsigned i = 0; i < size && i < 4; i++)
        write_port(pic, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)));
}

void i8259_set_irq(struct i8259_pair *pic, unsigned line, bool level)
{
    if (line >= I8259_LINES || line == I8259_CASCADE_LINE)
        return;
    if (line < 8)
        chip_set_pin(&pic->master, line, level);
    else
        chip_set_pin(&pic->slave, line - 8, level);
    update_intr(pic);
}

void i8259_irq_input(void *pair, unsigned line, bool level)
{
    i8259_set_irq(pair, line, level);
}

bool i8259_intr(const struct i8259_pair *pic)
{
    return pic->intr_level;
}

static void chip_power_on(struct i8259_chip *chip, uint8_t vector_base, uint8_t cascade)
{
    *chip = (struct i8259_chip){
        .vector_base = vector_base,
        .cascade = cascade,
        .icw1 = ICW1_INIT | ICW1_IC4,
        .icw4 = 0x01,                               /* 8086 mode */
        .lowest_priority = 7,
        .init_step = INIT_DONE,
    };
}

void i8259_init(struct i8259_pair *pic, struct irq_line intr)
{
    chip_power_on(&pic->master, 0x00, 1u << I8259_CASCADE_LINE);
    chip_power_on(&pic->slave, 0x08, I8259_CASCADE_LINE);
    pic->intr = intr;
    pic->intr_level = false;
}
