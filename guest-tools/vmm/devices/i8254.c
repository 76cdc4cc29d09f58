/*
 * The 8254 PIT as a PC wires it, and port 0x61: the ports, the commands
 * that address several counters, time, and IRQ0. The counters themselves
 * are in i8254_counter.c.
 */
#include "guest-tools/vmm/devices/i8254_counter.h"

#define REFRESH_TICKS       18u         /* a PC's DRAM refresh interval, 15.1 us */
#define OPEN_BUS            0xff
/* Read-back command: bits 5 and 4 are active low, 3-1 select counters 2-0. */
#define READ_BACK_NO_COUNT      0x20
#define READ_BACK_NO_STATUS     0x10
/* Port 0x61 (PIIX/ICH NMI status and control). */
#define SYSTEM_CONTROL_GATE2    0x01
#define SYSTEM_CONTROL_WRITABLE 0x0f
#define SYSTEM_CONTROL_REFRESH  0x10
#define SYSTEM_CONTROL_OUT2     0x20

static void write_control(struct i8254 *pit, uint8_t control, uint64_t tick)
{
    unsigned select = control >> I8254_CONTROL_SELECT_SHIFT;

    if (select == I8254_SELECT_READ_BACK) {
        for (unsigned i = 0; i < I8254_COUNTERS; i++) {
            struct i8254_counter *counter = &pit->counter[i];
            if (!(control & (2u << i)))
                continue;
            if (!(control & READ_BACK_NO_COUNT))
                i8254_counter_latch_count(counter, tick);
            if (!(control & READ_BACK_NO_STATUS))
                i8254_counter_latch_status(counter, tick);
        }
    } else if (((control >> I8254_CONTROL_ACCESS_SHIFT) & 3u) == I8254_ACCESS_LATCH) {
        i8254_counter_latch_count(&pit->counter[select], tick);
    } else {
        i8254_counter_program(&pit->counter[select], control, tick);
    }
}

static void set_irq0(struct i8254 *pit, bool level)
{
    pit->irq0_level = level;
    irq_line_set(&pit->irq0, level);
}

/* Make IRQ0 show counter 0 up to `tick`: a rise since the last call is a new
 * edge even if OUT has fallen again since (the fall is shown next time). */
static void sync_irq0(struct i8254 *pit, uint64_t tick)
{
    const struct i8254_counter *counter = &pit->counter[0];
    bool rose = i8254_counter_next_rise(counter, pit->irq0_tick) <= tick;
    bool out = i8254_counter_out(counter, tick);

    pit->irq0_tick = tick;
    if (rose) {
        if (pit->irq0_level)
            set_irq0(pit, false);
        set_irq0(pit, true);
    } else if (out != pit->irq0_level) {
        set_irq0(pit, out);
    }
}

/* Every entry starts here: time moves forward, IRQ0 catches up, reloads
 * that came due take over. */
static uint64_t advance(struct i8254 *pit, uint64_t now_ns)
{
    uint64_t tick = i8254_ticks_from_ns(now_ns);
    if (tick < pit->now_tick)
        tick = pit->now_tick;
    pit->now_tick = tick;
    sync_irq0(pit, tick);
    for (unsigned i = 0; i < I8254_COUNTERS; i++)
        i8254_counter_catch_up(&pit->counter[i], tick);
    return tick;
}

static uint8_t read_port(struct i8254 *pit, uint16_t port, uint64_t tick)
{
    if (port >= I8254_PORT && port < I8254_PORT + I8254_COUNTERS)
        return i8254_counter_read(&pit->counter[port - I8254_PORT], tick);
    if (port == I8254_SYSTEM_CONTROL_PORT)
        return (uint8_t)(pit->system_control |
                         ((tick / REFRESH_TICKS) & 1 ? SYSTEM_CONTROL_REFRESH : 0) |
                         (i8254_counter_out(&pit->counter[2], tick) ? SYSTEM_CONTROL_OUT2 : 0));
    return OPEN_BUS;                                /* 0x43 and what we do not decode */
}

static void write_port(struct i8254 *pit, uint16_t port, uint8_t value, uint64_t tick)
{
    if (port >= I8254_PORT && port < I8254_PORT + I8254_COUNTERS) {
        i8254_counter_write(&pit->counter[port - I8254_PORT], value, tick);
    } else if (port == I8254_PORT + 3) {
        write_control(pit, value, tick);
    } else if (port == I8254_SYSTEM_CONTROL_PORT) {
        pit->system_control = value & SYSTEM_CONTROL_WRITABLE;
        i8254_counter_set_gate(&pit->counter[2], value & SYSTEM_CONTROL_GATE2, tick);
    }
}

uint32_t i8254_read(struct i8254 *pit, uint16_t port, unsigned size, uint64_t now_ns)
{
    uint64_t tick = advance(pit, now_ns);
    uint32_t value = 0;

    for (unsigned i = 0; i < size && i < 4; i++)
        value |= (uint32_t)read_port(pit, (uint16_t)(port + i), tick) << (8 * i);
    return value;
}

void i8254_write(struct i8254 *pit, uint16_t port, unsigned size, uint32_t value,
                 uint64_t now_ns)
{
    uint64_t tick = advance(pit, now_ns);

    for (unsigned i = 0; i < size && i < 4; i++)
        write_port(pit, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)), tick);
    sync_irq0(pit, tick);                           /* a write can move OUT at once */
}

void i8254_update(struct i8254 *pit, uint64_t now_ns)
{
    (void)advance(pit, now_ns);
}

uint64_t i8254_next_event_ns(const struct i8254 *pit)
{
    uint64_t rise = i8254_counter_next_rise(&pit->counter[0], pit->irq0_tick);
    return rise == I8254_TICK_NEVER ? DEVICE_TIME_NEVER : i8254_ns_from_tick(rise);
}

void i8254_init(struct i8254 *pit, struct irq_line irq0)
{
    *pit = (struct i8254){ .irq0 = irq0 };
    for (unsigned i = 0; i < I8254_COUNTERS; i++)
        i8254_counter_reset(&pit->counter[i], i != 2);  /* 0, 1 tied high; 2 from port 0x61 */
}
