/*
 * The 8254 PIT and port 0x61. Time is counted in input clocks ("ticks") of
 * 1193182 Hz since guest time 0. A counter's state is never stepped: it is a
 * closed form of the tick, so a read, OUT or the next edge is a few divisions
 * at any time however long the VMM did not call.
 *
 * A counting counter is one of two shapes (8254 data sheet, "Modes"):
 *   one-shot (modes 0, 1, 4, 5): the count is start_count at start_tick and
 *     drops by one each tick, wrapping past 0 as the chip does; OUT makes its
 *     terminal change when the count reaches 0 (mode 0, 1: rises and stays;
 *     mode 4, 5: a one-tick low strobe).
 *   periodic (modes 2, 3): a waveform of `period` ticks, at position `phase`
 *     at start_tick. Position 0 is the reload: mode 2 is low on the last
 *     tick of the period, mode 3 high for the first half (rounded up). A
 *     count written while counting takes over at the next reload (mode 2)
 *     or half-cycle (mode 3), at reload_tick.
 * Otherwise the counter waits (for a count, or for a gate trigger in modes 1
 * and 5), or is paused by its gate, holding held_count.
 *
 * Counting starts on the clock after the count is written or the gate
 * triggers (start_tick = tick + 1), as the data sheet's "N + 1 clocks" for
 * mode 0 has it.
 */
#include "guest-tools/vmm/devices/i8254.h"

#define NS_PER_SECOND       1000000000ull
#define TICK_NEVER          UINT64_MAX
#define REFRESH_TICKS       18u         /* a PC's DRAM refresh interval, 15.1 us */
#define OPEN_BUS            0xff

/* Control word (port 0x43). */
#define CONTROL_SELECT_SHIFT    6       /* counter 0-2; 3 is read-back */
#define CONTROL_ACCESS_SHIFT    4       /* 0 latch, 1 LSB, 2 MSB, 3 LSB then MSB */
#define CONTROL_MODE_SHIFT      1
#define CONTROL_BCD             0x01
#define SELECT_READ_BACK        3
#define ACCESS_LATCH            0
#define ACCESS_LSB              1
#define ACCESS_MSB              2
#define ACCESS_WORD             3
/* Read-back command: bits 5 and 4 are active low. */
#define READ_BACK_NO_COUNT      0x20
#define READ_BACK_NO_STATUS     0x10
/* Status byte. */
#define STATUS_OUT              0x80
#define STATUS_NULL_COUNT       0x40
/* Port 0x61. */
#define SYSTEM_CONTROL_GATE2    0x01
#define SYSTEM_CONTROL_WRITABLE 0x0f
#define SYSTEM_CONTROL_REFRESH  0x10
#define SYSTEM_CONTROL_OUT2     0x20

enum counter_state {
    COUNTER_WAITING_COUNT,              /* control word written, no count yet */
    COUNTER_WAITING_TRIGGER,            /* modes 1, 5: count written, gate not risen */
    COUNTER_COUNTING,
    COUNTER_PAUSED,                     /* gate low in modes 0, 2, 3, 4 */
};

static uint64_t ticks_from_ns(uint64_t ns)
{
    return ns / NS_PER_SECOND * I8254_INPUT_HZ +
           ns % NS_PER_SECOND * I8254_INPUT_HZ / NS_PER_SECOND;
}

/* The first nanosecond at which ticks_from_ns() reaches `tick`. */
static uint64_t ns_from_tick(uint64_t tick)
{
    return tick / I8254_INPUT_HZ * NS_PER_SECOND +
           (tick % I8254_INPUT_HZ * NS_PER_SECOND + I8254_INPUT_HZ - 1) / I8254_INPUT_HZ;
}

static bool is_periodic(const struct i8254_counter *counter)
{
    return counter->mode == 2 || counter->mode == 3;
}

static bool is_bcd(const struct i8254_counter *counter)
{
    return counter->control & CONTROL_BCD;
}

static uint32_t modulus(const struct i8254_counter *counter)
{
    return is_bcd(counter) ? 10000 : 65536;
}

static unsigned access_mode(const struct i8254_counter *counter)
{
    return (counter->control >> CONTROL_ACCESS_SHIFT) & 3u;
}

/* CR as a count, 1 .. modulus. A BCD register with digits above 9 is
 * nonsense; it is kept within the modulus rather than trusted. */
static uint32_t written_count(const struct i8254_counter *counter)
{
    uint32_t raw = counter->count_register, count = raw;
    if (is_bcd(counter))
        count = ((raw >> 12) & 15u) * 1000 + ((raw >> 8) & 15u) * 100 +
                ((raw >> 4) & 15u) * 10 + (raw & 15u);
    count %= modulus(counter);
    return count ? count : modulus(counter);
}

static uint16_t count_as_register(const struct i8254_counter *counter, uint32_t count)
{
    count %= modulus(counter);
    if (!is_bcd(counter))
        return (uint16_t)count;
    return (uint16_t)((count / 1000) << 12 | (count / 100 % 10) << 8 |
                      (count / 10 % 10) << 4 | count % 10);
}

static uint64_t elapsed(const struct i8254_counter *counter, uint64_t tick)
{
    return tick > counter->start_tick ? tick - counter->start_tick : 0;
}

/* Mode 3's first half-cycle, when OUT is high: the longer one for odd counts. */
static uint32_t high_half(uint32_t period)
{
    return (period + 1) / 2;
}

static uint32_t position(const struct i8254_counter *counter, uint64_t tick)
{
    return (uint32_t)((elapsed(counter, tick) + counter->phase) % counter->period);
}

/* The first tick after `after` (and after start_tick) at `target` position. */
static uint64_t next_at_position(const struct i8254_counter *counter, uint64_t after,
                                 uint32_t target)
{
    uint64_t first = (after > counter->start_tick ? after : counter->start_tick) + 1;
    uint32_t now_at = position(counter, first);
    return first + (target + counter->period - now_at) % counter->period;
}

/* The count as the counting element holds it (0 .. modulus - 1 after the
 * wrap). Mode 3 counts down by two per tick, from the count rounded down
 * to even, once per half-cycle. */
static uint32_t current_count(const struct i8254_counter *counter, uint64_t tick)
{
    if (counter->state != COUNTER_COUNTING || tick < counter->start_tick)
        return counter->held_count;             /* not loaded before the next clock */
    if (!is_periodic(counter)) {
        uint32_t m = modulus(counter);
        return (counter->start_count + m - (uint32_t)(elapsed(counter, tick) % m)) % m;
    }
    uint32_t at = position(counter, tick);
    if (counter->mode == 2)
        return counter->period - at;
    uint32_t even = counter->period & ~1u, half = high_half(counter->period);
    uint32_t into_half = at < half ? at : at - half;
    return even > 2 * into_half ? even - 2 * into_half : 0;
}

static bool current_out(const struct i8254_counter *counter, uint64_t tick)
{
    switch (counter->state) {
    case COUNTER_WAITING_COUNT:
        return counter->mode != 0;
    case COUNTER_WAITING_TRIGGER:
        return true;
    case COUNTER_PAUSED:                        /* mode 4 may stop inside its strobe */
        if (counter->mode == 0 || counter->mode == 4)
            return counter->terminal_reached || (counter->mode == 4 && counter->held_count != 0);
        return true;
    default:
        break;
    }
    if (is_periodic(counter)) {
        uint32_t at = position(counter, tick);
        if (counter->mode == 2)
            return counter->period < 2 || at != counter->period - 1;
        return at < high_half(counter->period);
    }
    uint64_t counted = elapsed(counter, tick);
    if (counter->terminal_reached)
        return true;
    if (counter->mode == 0 || counter->mode == 1)
        return counted >= counter->start_count;
    return counted != counter->start_count;
}

/* Switch a periodic counter to the count written while it ran: at a reload
 * the new waveform starts high; between mode 3's half-cycles, at its low half. */
static void take_reload(struct i8254_counter *counter)
{
    counter->start_tick = counter->reload_tick;
    counter->period = written_count(counter);
    counter->phase = counter->reload_at_half ? high_half(counter->period) % counter->period : 0;
    counter->reload_tick = TICK_NEVER;
}

/* The first rise of OUT after tick `after` (TICK_NEVER if none comes without
 * a new write or gate change). In periodic modes every reload is a rise
 * (period 1 never leaves OUT low); at a pending reload the old and the new
 * waveform agree, so rises up to it come from the old one. */
static uint64_t next_rise(const struct i8254_counter *counter, uint64_t after)
{
    if (counter->state != COUNTER_COUNTING)
        return TICK_NEVER;
    if (!is_periodic(counter)) {
        if (counter->terminal_reached)
            return TICK_NEVER;
        uint64_t rise = counter->start_tick + counter->start_count;
        if (counter->mode == 4 || counter->mode == 5)
            rise++;                             /* the end of the strobe */
        return rise > after ? rise : TICK_NEVER;
    }
    uint64_t rise = counter->period < 2 ? TICK_NEVER : next_at_position(counter, after, 0);
    if (counter->reload_tick == TICK_NEVER || rise <= counter->reload_tick)
        return rise;
    struct i8254_counter reloaded = *counter;
    take_reload(&reloaded);
    return next_rise(&reloaded, after);
}

/* A count written while a periodic counter runs takes over at its reload tick. */
static void apply_reload(struct i8254_counter *counter, uint64_t tick)
{
    if (counter->reload_tick <= tick)
        take_reload(counter);
}

static void start_counting(struct i8254_counter *counter, uint64_t tick)
{
    counter->held_count = current_count(counter, tick);
    counter->state = COUNTER_COUNTING;
    counter->start_tick = tick + 1;
    counter->start_count = written_count(counter);
    counter->period = counter->start_count;
    counter->phase = 0;
    counter->terminal_reached = false;
    counter->reload_tick = TICK_NEVER;
    counter->null_count_until = tick + 1;
}

/* A complete count has reached CR: what it does depends on the mode. */
static void count_written(struct i8254_counter *counter, uint64_t tick)
{
    if (counter->mode == 1 || counter->mode == 5) {
        if (counter->state == COUNTER_WAITING_COUNT)
            counter->state = COUNTER_WAITING_TRIGGER;
        counter->null_count_until = TICK_NEVER;     /* until the next trigger */
    } else if (is_periodic(counter) && counter->state == COUNTER_COUNTING &&
               tick >= counter->start_tick) {
        uint64_t reload = next_at_position(counter, tick, 0);
        counter->reload_at_half = false;
        if (counter->mode == 3 && counter->period >= 2) {
            uint64_t half = next_at_position(counter, tick, high_half(counter->period));
            counter->reload_at_half = half < reload;
            reload = half < reload ? half : reload;
        }
        counter->reload_tick = reload;
        counter->null_count_until = reload;
    } else if (counter->gate) {
        start_counting(counter, tick);
    } else if (is_periodic(counter)) {
        counter->state = COUNTER_PAUSED;            /* the gate's rise loads it */
        counter->null_count_until = TICK_NEVER;
    } else {
        start_counting(counter, tick);              /* loaded, but held by the gate */
        counter->state = COUNTER_PAUSED;
        counter->held_count = counter->start_count;
    }
}

/* Gate levels count in modes 0, 2, 3, 4; rises trigger in modes 1, 2, 3, 5
 * (data sheet, "Gate Pin Operations Summary"). */
static void set_gate(struct i8254_counter *counter, bool gate, uint64_t tick)
{
    if (gate == counter->gate)
        return;
    counter->gate = gate;
    bool one_shot_held = counter->mode == 0 || counter->mode == 4;

    if (!gate) {
        if (counter->state != COUNTER_COUNTING || counter->mode == 1 || counter->mode == 5)
            return;
        /* A count not loaded yet still is: held at once, as when written with the gate low. */
        counter->held_count = one_shot_held && tick < counter->start_tick
                                  ? counter->start_count : current_count(counter, tick);
        if (one_shot_held)
            counter->terminal_reached = counter->terminal_reached ||
                next_rise(counter, tick) == TICK_NEVER;
        counter->reload_tick = TICK_NEVER;
        counter->state = COUNTER_PAUSED;
    } else if (one_shot_held) {
        if (counter->state != COUNTER_PAUSED)
            return;
        counter->state = COUNTER_COUNTING;          /* resume where it stopped */
        counter->start_tick = tick;
        counter->start_count = counter->held_count;
    } else if (counter->state != COUNTER_WAITING_COUNT) {
        start_counting(counter, tick);
    }
}

static uint8_t status_byte(const struct i8254_counter *counter, uint64_t tick)
{
    return (uint8_t)((current_out(counter, tick) ? STATUS_OUT : 0) |
                     (tick < counter->null_count_until ? STATUS_NULL_COUNT : 0) |
                     counter->control);
}

static void latch_count(struct i8254_counter *counter, uint64_t tick)
{
    if (counter->count_latched)
        return;                                     /* the first latch holds until read */
    counter->latched_count = count_as_register(counter, current_count(counter, tick));
    counter->count_latched = true;
}

static void program_counter(struct i8254_counter *counter, uint8_t control, uint64_t tick)
{
    counter->held_count = current_count(counter, tick);
    counter->control = control & 0x3fu;
    counter->mode = (control >> CONTROL_MODE_SHIFT) & 7u;
    if (counter->mode > 5)
        counter->mode -= 4;
    counter->state = COUNTER_WAITING_COUNT;
    counter->held_count %= modulus(counter);
    counter->write_msb_next = false;
    counter->read_msb_next = false;
    counter->count_latched = false;
    counter->status_latched = false;
    counter->terminal_reached = false;
    counter->reload_tick = TICK_NEVER;
    counter->null_count_until = TICK_NEVER;
}

static void write_control(struct i8254 *pit, uint8_t control, uint64_t tick)
{
    unsigned select = control >> CONTROL_SELECT_SHIFT;

    if (select == SELECT_READ_BACK) {
        for (unsigned i = 0; i < I8254_COUNTERS; i++) {
            struct i8254_counter *counter = &pit->counter[i];
            if (!(control & (2u << i)))
                continue;
            if (!(control & READ_BACK_NO_COUNT))
                latch_count(counter, tick);
            if (!(control & READ_BACK_NO_STATUS) && !counter->status_latched) {
                counter->latched_status = status_byte(counter, tick);
                counter->status_latched = true;
            }
        }
    } else if (((control >> CONTROL_ACCESS_SHIFT) & 3u) == ACCESS_LATCH) {
        latch_count(&pit->counter[select], tick);
    } else {
        program_counter(&pit->counter[select], control, tick);
    }
}

static void write_count(struct i8254_counter *counter, uint8_t value, uint64_t tick)
{
    switch (access_mode(counter)) {
    case ACCESS_LSB:
        counter->count_register = value;
        break;
    case ACCESS_MSB:
        counter->count_register = (uint16_t)(value << 8);
        break;
    default:
        if (!counter->write_msb_next) {
            counter->first_byte = value;
            counter->write_msb_next = true;
            if (counter->mode == 0) {               /* the first byte stops mode 0 */
                counter->held_count = current_count(counter, tick);
                counter->state = COUNTER_WAITING_COUNT;
            }
            return;
        }
        counter->count_register = (uint16_t)(counter->first_byte | value << 8);
        counter->write_msb_next = false;
        break;
    }
    count_written(counter, tick);
}

static uint8_t read_count(struct i8254_counter *counter, uint64_t tick)
{
    if (counter->status_latched) {
        counter->status_latched = false;
        return counter->latched_status;
    }
    uint16_t count = counter->count_latched ? counter->latched_count
                                            : count_as_register(counter, current_count(counter, tick));
    bool msb = access_mode(counter) == ACCESS_MSB;
    if (access_mode(counter) == ACCESS_WORD) {
        msb = counter->read_msb_next;
        counter->read_msb_next = !msb;
    }
    if (access_mode(counter) != ACCESS_WORD || msb)
        counter->count_latched = false;
    return (uint8_t)(msb ? count >> 8 : count);
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
    bool rose = next_rise(counter, pit->irq0_tick) <= tick;
    bool out = current_out(counter, tick);

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
    uint64_t tick = ticks_from_ns(now_ns);
    if (tick < pit->now_tick)
        tick = pit->now_tick;
    pit->now_tick = tick;
    sync_irq0(pit, tick);
    for (unsigned i = 0; i < I8254_COUNTERS; i++)
        apply_reload(&pit->counter[i], tick);
    return tick;
}

static uint8_t read_port(struct i8254 *pit, uint16_t port, uint64_t tick)
{
    if (port >= I8254_PORT && port < I8254_PORT + I8254_COUNTERS)
        return read_count(&pit->counter[port - I8254_PORT], tick);
    if (port == I8254_SYSTEM_CONTROL_PORT)
        return (uint8_t)(pit->system_control |
                         ((tick / REFRESH_TICKS) & 1 ? SYSTEM_CONTROL_REFRESH : 0) |
                         (current_out(&pit->counter[2], tick) ? SYSTEM_CONTROL_OUT2 : 0));
    return OPEN_BUS;                                /* 0x43 and what we do not decode */
}

static void write_port(struct i8254 *pit, uint16_t port, uint8_t value, uint64_t tick)
{
    if (port >= I8254_PORT && port < I8254_PORT + I8254_COUNTERS) {
        write_count(&pit->counter[port - I8254_PORT], value, tick);
    } else if (port == I8254_PORT + 3) {
        write_control(pit, value, tick);
    } else if (port == I8254_SYSTEM_CONTROL_PORT) {
        pit->system_control = value & SYSTEM_CONTROL_WRITABLE;
        set_gate(&pit->counter[2], value & SYSTEM_CONTROL_GATE2, tick);
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
    uint64_t rise = next_rise(&pit->counter[0], pit->irq0_tick);
    return rise == TICK_NEVER ? DEVICE_TIME_NEVER : ns_from_tick(rise);
}

void i8254_init(struct i8254 *pit, struct irq_line irq0)
{
    *pit = (struct i8254){ .irq0 = irq0 };
    for (unsigned i = 0; i < I8254_COUNTERS; i++) {
        struct i8254_counter *counter = &pit->counter[i];
        counter->control = ACCESS_WORD << CONTROL_ACCESS_SHIFT;     /* mode 0, binary */
        counter->state = COUNTER_WAITING_COUNT;
        counter->gate = i != 2;                     /* 0 and 1 tied high; 2 from port 0x61 */
        counter->reload_tick = TICK_NEVER;
        counter->null_count_until = TICK_NEVER;
    }
}
