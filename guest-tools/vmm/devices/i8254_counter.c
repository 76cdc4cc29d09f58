/*
 * One 8254 counter. Its state is never stepped: the count and OUT are a
 * closed form of the tick, so a read, OUT or the next edge is a few
 * divisions at any time, however long the VMM did not call.
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
#include "guest-tools/vmm/devices/i8254_counter.h"

#define NS_PER_SECOND       1000000000ull
#define STATUS_OUT          0x80        /* read-back status byte */
#define STATUS_NULL_COUNT   0x40

enum counter_state {
    COUNTER_WAITING_COUNT,              /* control word written, no count yet */
    COUNTER_WAITING_TRIGGER,            /* modes 1, 5: count written, gate not risen */
    COUNTER_COUNTING,
    COUNTER_PAUSED,                     /* gate low in modes 0, 2, 3, 4 */
};

uint64_t i8254_ticks_from_ns(uint64_t ns)
{
    return ns / NS_PER_SECOND * I8254_INPUT_HZ +
           ns % NS_PER_SECOND * I8254_INPUT_HZ / NS_PER_SECOND;
}

uint64_t i8254_ns_from_tick(uint64_t tick)
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
    return counter->control & I8254_CONTROL_BCD;
}

static uint32_t modulus(const struct i8254_counter *counter)
{
    return is_bcd(counter) ? 10000 : 65536;
}

static unsigned access_mode(const struct i8254_counter *counter)
{
    return (counter->control >> I8254_CONTROL_ACCESS_SHIFT) & 3u;
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

bool i8254_counter_out(const struct i8254_counter *counter, uint64_t tick)
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
    counter->reload_tick = I8254_TICK_NEVER;
}

/* The first rise of OUT after tick `after` (I8254_TICK_NEVER if none comes without
 * a new write or gate change). In periodic modes every reload is a rise
 * (period 1 never leaves OUT low); at a pending reload the old and the new
 * waveform agree, so rises up to it come from the old one. */
uint64_t i8254_counter_next_rise(const struct i8254_counter *counter, uint64_t after)
{
    if (counter->state != COUNTER_COUNTING)
        return I8254_TICK_NEVER;
    if (!is_periodic(counter)) {
        if (counter->terminal_reached)
            return I8254_TICK_NEVER;
        uint64_t rise = counter->start_tick + counter->start_count;
        if (counter->mode == 4 || counter->mode == 5)
            rise++;                             /* the end of the strobe */
        return rise > after ? rise : I8254_TICK_NEVER;
    }
    uint64_t rise = counter->period < 2 ? I8254_TICK_NEVER : next_at_position(counter, after, 0);
    if (counter->reload_tick == I8254_TICK_NEVER || rise <= counter->reload_tick)
        return rise;
    struct i8254_counter reloaded = *counter;
    take_reload(&reloaded);
    return i8254_counter_next_rise(&reloaded, after);
}

void i8254_counter_catch_up(struct i8254_counter *counter, uint64_t tick)
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
    counter->reload_tick = I8254_TICK_NEVER;
    counter->null_count_until = tick + 1;
}

/* A complete count has reached CR: what it does depends on the mode. */
static void count_written(struct i8254_counter *counter, uint64_t tick)
{
    if (counter->mode == 1 || counter->mode == 5) {
        if (counter->state == COUNTER_WAITING_COUNT)
            counter->state = COUNTER_WAITING_TRIGGER;
        counter->null_count_until = I8254_TICK_NEVER;     /* until the next trigger */
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
        counter->null_count_until = I8254_TICK_NEVER;
    } else {
        start_counting(counter, tick);              /* loaded, but held by the gate */
        counter->state = COUNTER_PAUSED;
        counter->held_count = counter->start_count;
    }
}

/* Gate levels count in modes 0, 2, 3, 4; rises trigger in modes 1, 2, 3, 5
 * (data sheet, "Gate Pin Operations Summary"). */
void i8254_counter_set_gate(struct i8254_counter *counter, bool gate, uint64_t tick)
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
                i8254_counter_next_rise(counter, tick) == I8254_TICK_NEVER;
        counter->reload_tick = I8254_TICK_NEVER;
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

void i8254_counter_latch_status(struct i8254_counter *counter, uint64_t tick)
{
    if (counter->status_latched)
        return;                                     /* the first latch holds until read */
    counter->latched_status = (uint8_t)((i8254_counter_out(counter, tick) ? STATUS_OUT : 0) |
                                        (tick < counter->null_count_until ? STATUS_NULL_COUNT : 0) |
                                        counter->control);
    counter->status_latched = true;
}

void i8254_counter_latch_count(struct i8254_counter *counter, uint64_t tick)
{
    if (counter->count_latched)
        return;                                     /* the first latch holds until read */
    counter->latched_count = count_as_register(counter, current_count(counter, tick));
    counter->count_latched = true;
}

/* A control word resets the counter's logic: OUT to the mode's initial
 * level, counting stopped until a count comes, latches and byte order
 * cleared. The counting element keeps its value, which reads back until
 * then. Modes 6 and 7 are 2 and 3 (the data sheet's "X10", "X11"). */
void i8254_counter_program(struct i8254_counter *counter, uint8_t control, uint64_t tick)
{
    counter->held_count = current_count(counter, tick);
    counter->control = control & 0x3fu;
    counter->mode = (control >> I8254_CONTROL_MODE_SHIFT) & 7u;
    if (counter->mode > 5)
        counter->mode -= 4;
    counter->state = COUNTER_WAITING_COUNT;
    counter->held_count %= modulus(counter);
    counter->write_msb_next = false;
    counter->read_msb_next = false;
    counter->count_latched = false;
    counter->status_latched = false;
    counter->terminal_reached = false;
    counter->reload_tick = I8254_TICK_NEVER;
    counter->null_count_until = I8254_TICK_NEVER;
}

void i8254_counter_write(struct i8254_counter *counter, uint8_t value, uint64_t tick)
{
    switch (access_mode(counter)) {
    case I8254_ACCESS_LSB:
        counter->count_register = value;
        break;
    case I8254_ACCESS_MSB:
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

/* Without a latch the two bytes of a word come from different instants, as
 * on the chip: Linux's quick PIT calibration reads the MSB that way. */
uint8_t i8254_counter_read(struct i8254_counter *counter, uint64_t tick)
{
    if (counter->status_latched) {
        counter->status_latched = false;
        return counter->latched_status;
    }
    uint16_t count = counter->count_latched ? counter->latched_count
                                            : count_as_register(counter, current_count(counter, tick));
    bool msb = access_mode(counter) == I8254_ACCESS_MSB;
    if (access_mode(counter) == I8254_ACCESS_WORD) {
        msb = counter->read_msb_next;
        counter->read_msb_next = !msb;
    }
    if (access_mode(counter) != I8254_ACCESS_WORD || msb)
        counter->count_latched = false;
    return (uint8_t)(msb ? count >> 8 : count);
}

void i8254_counter_reset(struct i8254_counter *counter, bool gate)
{
    *counter = (struct i8254_counter){
        .control = I8254_ACCESS_WORD << I8254_CONTROL_ACCESS_SHIFT,     /* mode 0, binary */
        .state = COUNTER_WAITING_COUNT,
        .gate = gate,
        .reload_tick = I8254_TICK_NEVER,
        .null_count_until = I8254_TICK_NEVER,
    };
}
