#include "hv/vlapic.h"

#include "hv/vlapic_internal.h"

/* Version 0x14 (an integrated APIC), six LVT entries (max LVT 5). */
#define LAPIC_VERSION_VALUE 0x00050014u
/* Writable bits of each LVT entry (SDM vol. 3A, figure 11-8). */
#define LVT_TIMER_BITS   0x000700ffu
#define LVT_LINT_BITS    0x0001a7ffu
#define LVT_THERMAL_BITS 0x000107ffu
#define LVT_ERROR_BITS   0x000100ffu
#define SVR_BITS         0x000003ffu
#define ESR_SEND_ILLEGAL    (1u << 5)
#define ESR_RECEIVE_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REGISTER (1u << 7)


/* The vector bitmaps (ISR, TMR, IRR): 256 bits in eight registers, one
 * every 16 bytes. The word holding `vector` is at byte offset
 * vector / 32 * 16 from the first: byte arithmetic, so that the EOI's two
 * words (TMR's test, ISR's clear) share one offset with no scaling. */
static inline const uint32_t *bitmap_word_const(const struct vlapic *l, uint32_t base,
                                                uint8_t vector)
{
    return (const uint32_t *)((const uint8_t *)l->page + (uintptr_t)base +
                              (uintptr_t)((vector & 0xe0u) >> 1));
}

static inline uint32_t *bitmap_word(struct vlapic *l, uint32_t base, uint8_t vector)
{
    return (uint32_t *)bitmap_word_const(l, base, vector);
}

static bool bitmap_test(const struct vlapic *l, uint32_t base, uint8_t vector)
{
    return *bitmap_word_const(l, base, vector) & (1u << (vector % 32));
}

static void bitmap_clear(struct vlapic *l, uint32_t base, uint8_t vector)
{
    __atomic_and_fetch(bitmap_word(l, base, vector), ~(1u << (vector % 32)), __ATOMIC_RELAXED);
}

static void bitmap_set(struct vlapic *l, uint32_t base, uint8_t vector)
{
    __atomic_or_fetch(bitmap_word(l, base, vector), 1u << (vector % 32), __ATOMIC_RELEASE);
}

static uint8_t irr_word_bit(uint8_t vector) { return (uint8_t)(1u << (vector / 32)); }

/* Highest set vector of a bitmap (ISR's, after an EOI), or -1. */
static inline __attribute__((always_inline)) int bitmap_highest(const struct vlapic *l, uint32_t base)
{
    const uint32_t *words = &l->page[base / 4];
    for (int word = 7; word >= 0; word--) {
        uint32_t bits = __atomic_load_n(&words[word * 4], __ATOMIC_RELAXED);
        if (bits)
            return word * 32 + 31 - __builtin_clz(bits);
    }
    return -1;
}

/* The summary of IRR as its words are (after a reset or a whole page). */
static uint8_t irr_summary(const struct vlapic *l)
{
    uint8_t words = 0;
    for (unsigned w = 0; w < 8; w++)
        if (__atomic_load_n(&l->page[(LAPIC_IRR + w * 16) / 4], __ATOMIC_RELAXED))
            words |= (uint8_t)(1u << w);
    return words;
}

bool vlapic_enabled(const struct vlapic *l)
{
    return (l->apic_base & APIC_BASE_MSR_EN) && (reg(l, LAPIC_SVR) & LAPIC_SVR_ENABLE);
}

uint32_t vlapic_id(const struct vlapic *l)
{
    return vlapic_x2apic(l) ? reg(l, LAPIC_ID) : reg(l, LAPIC_ID) >> 24;
}

/* PPR from TPR and the highest in-service vector (SDM 10.8.3.1).
 * Computed wherever it is used (a read of the register, GET_LAPIC's
 * image), never kept in the page: under VMX's APIC-register
 * virtualization the guest's TPR writes reach the page without an exit
 * (SDM 3C 29.1.2), so a kept PPR could be stale. */
static inline uint32_t ppr_now(const struct vlapic *l)
{
    uint32_t tpr = reg(l, LAPIC_TPR) & 0xff;
    int isr = l->isr_top;
    uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr;
    return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr : isrv & 0xf0;
}

uint32_t vlapic_ppr(const struct vlapic *l) { return ppr_now(l); }

uint32_t vlapic_tpr(const struct vlapic *l) { return reg(l, LAPIC_TPR); }

void vlapic_set_tpr(struct vlapic *l, uint32_t tpr)
{
    set_reg(l, LAPIC_TPR, tpr & 0xff);
}

/* Where a unit test holds a post between its TMR and IRR stores while
 * another thread tries a rewrite of the page (tests/unit/
 * test_vlapic_rewrite.c, which includes this file); nothing in the
 * hypervisor. */
#ifndef VLAPIC_BETWEEN_TMR_AND_IRR
#define VLAPIC_BETWEEN_TMR_AND_IRR(l) ((void)(l))
#endif

/* A whole rewrite of the page (struct vlapic's `posting`): new posts
 * wait until page_rewrite_end, and the ones under way finish first. */
static void page_rewrite_begin(struct vlapic *l)
{
    __atomic_or_fetch(&l->posting, 1u, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&l->posting, __ATOMIC_SEQ_CST) != 1u)
        __builtin_ia32_pause();
}

static void page_rewrite_end(struct vlapic *l)
{
    __atomic_and_fetch(&l->posting, ~1u, __ATOMIC_SEQ_CST);
}

/* A post's stores, apart from any rewrite: waits while one is under way. */
static void post_begin(struct vlapic *l)
{
    while (__atomic_fetch_add(&l->posting, 2u, __ATOMIC_SEQ_CST) & 1u) {
        __atomic_sub_fetch(&l->posting, 2u, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&l->posting, __ATOMIC_ACQUIRE) & 1u)
            __builtin_ia32_pause();
    }
}

static void post_end(struct vlapic *l)
{
    __atomic_sub_fetch(&l->posting, 2u, __ATOMIC_SEQ_CST);
}

void vlapic_reset_registers(struct vlapic *l)
{
    page_rewrite_begin(l);
    uint32_t id = reg(l, LAPIC_ID);
    for (unsigned i = 0; i < LAPIC_PAGE_BYTES / 4; i++)
        l->page[i] = 0;
    set_reg(l, LAPIC_ID, id);
    set_reg(l, LAPIC_VERSION, LAPIC_VERSION_VALUE);
    set_reg(l, LAPIC_DFR, 0xffffffffu);
    set_reg(l, LAPIC_SVR, 0xff);
    static const uint32_t lvts[] = { LAPIC_LVT_TIMER, LAPIC_LVT_THERMAL, LAPIC_LVT_PERF,
                                     LAPIC_LVT_LINT0, LAPIC_LVT_LINT1, LAPIC_LVT_ERROR };
    for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
        set_reg(l, lvts[i], LAPIC_LVT_MASKED);
    l->tsc_deadline = 0;
    l->timer_start = 0;
    l->timer_fire = 0;
    l->divide = 2;
    __atomic_store_n(&l->esr_pending, 0, __ATOMIC_RELAXED);
    l->last_eoi = 0;
    l->isr_top = -1;
    l->isr_count = 0;
    __atomic_store_n(&l->irr_words, 0, __ATOMIC_RELEASE);
    page_rewrite_end(l);
}

void vlapic_reset(struct vlapic *l, uint32_t id, bool bsp, uint32_t tsc_khz)
{
    l->posting = 0; /* a new vcpu's: no other CPU can post to it yet */
    l->tsc_khz = tsc_khz ? tsc_khz : 1;
    l->tsc_offset = 0; /* a new vcpu's, as its backend starts it */
    l->address_bits = 52;
    l->apic_base = APIC_BASE_DEFAULT | APIC_BASE_MSR_EN | (bsp ? APIC_BASE_MSR_BSP : 0);
    set_reg(l, LAPIC_ID, id << 24);
    vlapic_reset_registers(l);
}

void vlapic_init_signal(struct vlapic *l)
{
    vlapic_reset_registers(l);
}

/* Bus ticks (ns) to TSC ticks, and back, at the TSC's rate in kHz: whole
 * ticks per us would run a 3.8 MHz TSC's timers 21 % fast (Bochs). */
static uint64_t bus_to_tsc(const struct vlapic *l, uint64_t ns)
{
    return ns / 1000000 * l->tsc_khz + ns % 1000000 * l->tsc_khz / 1000000;
}

static uint64_t tsc_to_bus(const struct vlapic *l, uint64_t tsc)
{
    return tsc / l->tsc_khz * 1000000 + tsc % l->tsc_khz * 1000000 / l->tsc_khz;
}

static uint64_t period_tsc(const struct vlapic *l)
{
    return bus_to_tsc(l, (uint64_t)reg(l, LAPIC_TIMER_INITIAL) * l->divide);
}

static uint32_t timer_mode(const struct vlapic *l)
{
    return LAPIC_TIMER_MODE(reg(l, LAPIC_LVT_TIMER));
}

static void timer_arm(struct vlapic *l, uint64_t now)
{
    l->timer_start = now;
    uint64_t period = period_tsc(l);
    l->timer_fire = reg(l, LAPIC_TIMER_INITIAL) ? now + (period ? period : 1) : 0;
}

static uint32_t timer_current(const struct vlapic *l, uint64_t now)
{
    uint32_t initial = reg(l, LAPIC_TIMER_INITIAL);
    if (!initial || timer_mode(l) == LAPIC_TIMER_DEADLINE || now < l->timer_start)
        return 0;
    uint64_t elapsed = tsc_to_bus(l, now - l->timer_start) / l->divide;
    if (timer_mode(l) == LAPIC_TIMER_PERIODIC)
        return initial - (uint32_t)(elapsed % initial);
    if (!l->timer_fire || elapsed >= initial)
        return 0;
    return initial - (uint32_t)elapsed;
}

uint64_t vlapic_timer_next(const struct vlapic *l) { return l->timer_fire; }

static void raise_error(struct vlapic *l, uint32_t bits)
{
    __atomic_or_fetch(&l->esr_pending, bits, __ATOMIC_RELAXED);
    uint32_t lvt = reg(l, LAPIC_LVT_ERROR);
    if (!(lvt & LAPIC_LVT_MASKED))
        vlapic_accept(l, (uint8_t)lvt, false);
}

void vlapic_timer_expire(struct vlapic *l, uint64_t now)
{
    if (!l->timer_fire || now < l->timer_fire)
        return;
    uint32_t lvt = reg(l, LAPIC_LVT_TIMER);
    if (!(lvt & LAPIC_LVT_MASKED))
        vlapic_accept(l, (uint8_t)lvt, false);
    if (timer_mode(l) == LAPIC_TIMER_PERIODIC && reg(l, LAPIC_TIMER_INITIAL)) {
        /* One interrupt for any periods missed, as a CPU that had the
         * vector pending in IRR would take only one; the phase is kept. */
        uint64_t period = period_tsc(l);
        if (!period)
            period = 1;
        uint64_t missed = (now - l->timer_fire) / period + 1;
        l->timer_fire += missed * period;
        l->timer_start = l->timer_fire - period;
    } else {
        l->timer_fire = 0;
        if (timer_mode(l) == LAPIC_TIMER_DEADLINE)
            l->tsc_deadline = 0;
    }
}

uint64_t vlapic_deadline_tsc(const struct vlapic *l, uint64_t deadline)
{
    if (!deadline)
        return 0;
    int64_t offset = (int64_t)l->tsc_offset;
    uint64_t fire;
    if (offset >= 0)
        fire = deadline > (uint64_t)offset ? deadline - (uint64_t)offset : 1;
    else if (__builtin_add_overflow(deadline, -(uint64_t)offset, &fire))
        fire = UINT64_MAX;
    return fire ? fire : 1;
}

void vlapic_set_tsc_deadline(struct vlapic *l, uint64_t value)
{
    if (timer_mode(l) != LAPIC_TIMER_DEADLINE)
        return; /* ignored outside TSC-deadline mode (SDM 10.5.4.1) */
    l->tsc_deadline = value;
    l->timer_fire = vlapic_deadline_tsc(l, value);
}

void vlapic_set_tsc_offset(struct vlapic *l, uint64_t offset)
{
    l->tsc_offset = offset;
    if (timer_mode(l) == LAPIC_TIMER_DEADLINE)
        l->timer_fire = vlapic_deadline_tsc(l, l->tsc_deadline);
}

uint64_t vlapic_get_tsc_deadline(const struct vlapic *l)
{
    return timer_mode(l) == LAPIC_TIMER_DEADLINE ? l->tsc_deadline : 0;
}

bool vlapic_accept(struct vlapic *l, uint8_t vector, bool level)
{
    post_begin(l);
    bool accepted = vlapic_enabled(l);
    if (accepted && vector < 16) {
        /* Another CPU's post: ORed atomically, as the owner's own
         * errors and its ESR write (an exchange) touch the word too. */
        __atomic_or_fetch(&l->esr_pending, ESR_RECEIVE_ILLEGAL, __ATOMIC_RELAXED);
        accepted = false;
    } else if (accepted) {
        if (level)
            bitmap_set(l, LAPIC_TMR, vector);
        else
            bitmap_clear(l, LAPIC_TMR, vector);
        VLAPIC_BETWEEN_TMR_AND_IRR(l);
        bitmap_set(l, LAPIC_IRR, vector);
        __atomic_or_fetch(&l->irr_words, irr_word_bit(vector), __ATOMIC_RELEASE);
    }
    post_end(l);
    return accepted;
}

/* What the guest should take now: IRR's highest vector above PPR, or -1.
 * IRR is read only in the words its summary names, highest first: a word
 * set but not yet in the summary is one another CPU is filling, whose
 * kick follows (struct vlapic). So one pending vector costs one word's
 * read, not a scan down from the top, and an empty IRR one byte's (the
 * EOI's path, inline there). */
static inline __attribute__((always_inline)) int pending(const struct vlapic *l)
{
    unsigned summary = __atomic_load_n(&l->irr_words, __ATOMIC_ACQUIRE);
    if (!summary || !vlapic_enabled(l))
        return -1;
    const uint32_t *words = &l->page[LAPIC_IRR / 4];
    do {
        int word = 31 - __builtin_clz(summary);
        uint32_t bits = __atomic_load_n(&words[word * 4], __ATOMIC_RELAXED);
        if (bits) {
            int irr = word * 32 + 31 - __builtin_clz(bits);
            return ((uint32_t)irr & 0xf0) <= (ppr_now(l) & 0xf0) ? -1 : irr;
        }
        summary &= ~(1u << word);
    } while (summary);
    return -1;
}

int vlapic_pending(const struct vlapic *l) { return pending(l); }

int vlapic_tpr_threshold(const struct vlapic *l)
{
    unsigned summary = __atomic_load_n(&l->irr_words, __ATOMIC_ACQUIRE);
    const uint32_t *words = &l->page[LAPIC_IRR / 4];
    while (summary) {
        int word = 31 - __builtin_clz(summary);
        uint32_t bits = __atomic_load_n(&words[word * 4], __ATOMIC_RELAXED);
        if (bits) {
            uint32_t irr_class = (uint32_t)(word * 32 + 31 - __builtin_clz(bits)) >> 4;
            return irr_class <= (reg(l, LAPIC_TPR) & 0xff) >> 4 ? (int)irr_class : 0;
        }
        summary &= ~(1u << word);
    }
    return 0;
}

void vlapic_acknowledge(struct vlapic *l, uint8_t vector)
{
    /* Only this CPU clears IRR's bits: one not set (a vector taken at
     * once, vlapic_take_at_once) has nothing to clear. */
    uint32_t bit = 1u << (vector % 32), *word = bitmap_word(l, LAPIC_IRR, vector);
    if ((__atomic_load_n(word, __ATOMIC_RELAXED) & bit) &&
        __atomic_and_fetch(word, ~bit, __ATOMIC_SEQ_CST) == 0) {
        /* This emptied the word: out of the summary, unless another CPU
         * set a bit in it meanwhile (struct vlapic). */
        __atomic_and_fetch(&l->irr_words, (uint8_t)~irr_word_bit(vector), __ATOMIC_SEQ_CST);
        if (__atomic_load_n(word, __ATOMIC_SEQ_CST))
            __atomic_or_fetch(&l->irr_words, irr_word_bit(vector), __ATOMIC_SEQ_CST);
    }
    l->isr_count += !bitmap_test(l, LAPIC_ISR, vector);
    bitmap_set(l, LAPIC_ISR, vector);
    if (vector > l->isr_top)
        l->isr_top = vector;
}

bool vlapic_take_at_once(struct vlapic *l, uint8_t vector)
{
    if (!vlapic_enabled(l) || vector < 16 || (vector & 0xf0) <= (ppr_now(l) & 0xf0))
        return false;
    bitmap_clear(l, LAPIC_TMR, vector);
    vlapic_acknowledge(l, vector);
    return true;
}

uint8_t vlapic_last_eoi_vector(const struct vlapic *l) { return l->last_eoi; }

/* Retires in-service vector `isr` (isr_top): `bit` in ISR's word, which
 * lies at the same offset from ISR's first as `tmr` from TMR's (the
 * caller has looked at TMR's). */
static inline __attribute__((always_inline)) void retire(struct vlapic *l, int isr,
                                                         const uint32_t *tmr, uint32_t bit)
{
    uint32_t *isr_word = (uint32_t *)tmr - (LAPIC_TMR - LAPIC_ISR) / 4;
    __atomic_and_fetch(isr_word, ~bit, __ATOMIC_RELAXED);
    l->isr_top = --l->isr_count ? (int16_t)bitmap_highest(l, LAPIC_ISR) : -1;
    l->last_eoi = (uint8_t)isr;
}

enum vlapic_action vlapic_eoi(struct vlapic *l)
{
    int isr = l->isr_top;
    if (isr < 0)
        return VLAPIC_DONE;
    const uint32_t *tmr = bitmap_word_const(l, LAPIC_TMR, (uint8_t)isr);
    uint32_t bit = 1u << (isr % 32);
    retire(l, isr, tmr, bit);
    return *tmr & bit ? VLAPIC_EOI_LEVEL : VLAPIC_DONE;
}

int vlapic_eoi_edge(struct vlapic *l)
{
    int isr = l->isr_top;
    if (isr >= 0) {
        const uint32_t *tmr = bitmap_word_const(l, LAPIC_TMR, (uint8_t)isr);
        uint32_t bit = 1u << (isr % 32);
        if (*tmr & bit)
            return VLAPIC_EOI_NOT_EDGE;
        retire(l, isr, tmr, bit);
    }
    return pending(l);
}

static uint32_t lvt_bits(uint32_t offset)
{
    switch (offset) {
    case LAPIC_LVT_TIMER: return LVT_TIMER_BITS;
    case LAPIC_LVT_LINT0:
    case LAPIC_LVT_LINT1: return LVT_LINT_BITS;
    case LAPIC_LVT_THERMAL:
    case LAPIC_LVT_PERF: return LVT_THERMAL_BITS;
    case LAPIC_LVT_ERROR: return LVT_ERROR_BITS;
    default: return 0;
    }
}

static enum vlapic_action write_lvt(struct vlapic *l, uint32_t offset, uint32_t value, uint64_t now)
{
    uint32_t old = reg(l, offset);
    value &= lvt_bits(offset);
    if (!(reg(l, LAPIC_SVR) & LAPIC_SVR_ENABLE))
        value |= LAPIC_LVT_MASKED; /* software-disabled: masks stay set */
    if (offset == LAPIC_LVT_LINT0 || offset == LAPIC_LVT_LINT1)
        value = (value & ~LAPIC_LVT_REMOTE_IRR) | (old & LAPIC_LVT_REMOTE_IRR);
    set_reg(l, offset, value);
    if (offset != LAPIC_LVT_TIMER || LAPIC_TIMER_MODE(old) == LAPIC_TIMER_MODE(value))
        return VLAPIC_DONE;
    /* A mode change disarms the timer (SDM 10.5.4.1). */
    l->timer_fire = 0;
    l->tsc_deadline = 0;
    set_reg(l, LAPIC_TIMER_INITIAL, 0);
    (void)now;
    return VLAPIC_TIMER_CHANGED;
}

static uint32_t divide_of(uint32_t config)
{
    uint32_t code = (config & 3) | ((config >> 1) & 4);
    return code == 7 ? 1 : 2u << code;
}

/* Writes common to both modes; offset is the xAPIC offset. */
enum vlapic_action vlapic_write_register(struct vlapic *l, uint32_t offset, uint32_t value,
                                         uint64_t now)
{
    switch (offset) {
    case LAPIC_TPR:
        vlapic_set_tpr(l, value);
        return VLAPIC_DONE;
    case LAPIC_EOI:
        return vlapic_eoi(l);
    case LAPIC_SVR: {
        set_reg(l, LAPIC_SVR, value & SVR_BITS);
        if (!(value & LAPIC_SVR_ENABLE)) {
            static const uint32_t lvts[] = { LAPIC_LVT_TIMER, LAPIC_LVT_THERMAL, LAPIC_LVT_PERF,
                                             LAPIC_LVT_LINT0, LAPIC_LVT_LINT1, LAPIC_LVT_ERROR };
            for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
                set_reg(l, lvts[i], reg(l, lvts[i]) | LAPIC_LVT_MASKED);
        }
        return VLAPIC_DONE;
    }
    case LAPIC_ESR:
        /* A write latches the errors seen since the last one (10.5.3). */
        set_reg(l, LAPIC_ESR, __atomic_exchange_n(&l->esr_pending, 0, __ATOMIC_RELAXED));
        return VLAPIC_DONE;
    case LAPIC_ICR_LOW:
        set_reg(l, LAPIC_ICR_LOW, value & LAPIC_ICR_LOW_WRITABLE);
        if (LAPIC_ICR_DELIVERY(value) == DELIVERY_FIXED && LAPIC_ICR_VECTOR(value) < 16) {
            raise_error(l, ESR_SEND_ILLEGAL);
            return VLAPIC_DONE;
        }
        return VLAPIC_SEND_IPI;
    case LAPIC_LVT_TIMER:
    case LAPIC_LVT_THERMAL:
    case LAPIC_LVT_PERF:
    case LAPIC_LVT_LINT0:
    case LAPIC_LVT_LINT1:
    case LAPIC_LVT_ERROR:
        return write_lvt(l, offset, value, now);
    case LAPIC_TIMER_INITIAL:
        if (timer_mode(l) == LAPIC_TIMER_DEADLINE)
            return VLAPIC_DONE;
        set_reg(l, LAPIC_TIMER_INITIAL, value);
        timer_arm(l, now);
        return VLAPIC_TIMER_CHANGED;
    case LAPIC_TIMER_DIVIDE: {
        uint32_t current = timer_current(l, now);
        set_reg(l, LAPIC_TIMER_DIVIDE, value & 0xb);
        l->divide = divide_of(value);
        if (l->timer_fire && timer_mode(l) != LAPIC_TIMER_DEADLINE) {
            /* Keep the count where it is, at the new rate. */
            l->timer_fire = now + bus_to_tsc(l, (uint64_t)current * l->divide);
            l->timer_start = l->timer_fire - period_tsc(l);
        }
        return VLAPIC_TIMER_CHANGED;
    }
    default:
        raise_error(l, ESR_ILLEGAL_REGISTER);
        return VLAPIC_DONE;
    }
}

uint32_t vlapic_read_register(struct vlapic *l, uint32_t offset, uint64_t now)
{
    if (offset == LAPIC_TIMER_CURRENT)
        return timer_current(l, now);
    if (offset == LAPIC_PPR)
        return ppr_now(l);
    if (offset >= LAPIC_PAGE_BYTES)
        return 0;
    return __atomic_load_n(&l->page[offset / 4], __ATOMIC_ACQUIRE);
}

uint32_t vlapic_mmio_read(struct vlapic *l, uint32_t offset, uint64_t now)
{
    offset &= 0xff0;
    if (vlapic_x2apic(l) || offset == LAPIC_EOI || offset == LAPIC_SELF_IPI)
        return 0;
    return vlapic_read_register(l, offset, now);
}

enum vlapic_action vlapic_mmio_write(struct vlapic *l, uint32_t offset, uint32_t value,
                                     uint64_t now)
{
    offset &= 0xff0;
    if (vlapic_x2apic(l))
        return VLAPIC_MODE_ERROR;
    switch (offset) {
    case LAPIC_ID:
        set_reg(l, LAPIC_ID, value & 0xff000000u);
        return VLAPIC_DONE;
    case LAPIC_LDR:
        set_reg(l, LAPIC_LDR, value & 0xff000000u);
        return VLAPIC_DONE;
    case LAPIC_DFR:
        set_reg(l, LAPIC_DFR, value | 0x0fffffffu);
        return VLAPIC_DONE;
    case LAPIC_ICR_HIGH:
        set_reg(l, LAPIC_ICR_HIGH, value & 0xff000000u);
        return VLAPIC_DONE;
    case LAPIC_VERSION: case LAPIC_APR: case LAPIC_PPR: case LAPIC_RRD:
    case LAPIC_TIMER_CURRENT: case LAPIC_SELF_IPI: case LAPIC_LVT_CMCI:
        return VLAPIC_DONE; /* read-only or absent: writes are dropped */
    default:
        if (offset >= LAPIC_ISR && offset < LAPIC_ESR)
            return VLAPIC_DONE;
        return vlapic_write_register(l, offset, value, now);
    }
}

/* Posts wait meanwhile, as for a rewrite: a copy read between a post's
 * TMR and IRR stores would hold the vector with the other trigger mode,
 * which a SET_LAPIC of it would make real. */
void vlapic_get_page(struct vlapic *l, uint8_t *out, uint64_t now)
{
    page_rewrite_begin(l);
    for (unsigned i = 0; i < LAPIC_PAGE_BYTES / 4; i++) {
        uint32_t v = i * 4 == LAPIC_TIMER_CURRENT ? timer_current(l, now)
                     : i * 4 == LAPIC_PPR             ? ppr_now(l)
                                                      : __atomic_load_n(&l->page[i], __ATOMIC_RELAXED);
        for (unsigned b = 0; b < 4; b++)
            out[i * 4 + b] = (uint8_t)(v >> (8 * b));
    }
    page_rewrite_end(l);
}

void vlapic_set_page(struct vlapic *l, const uint8_t *in, uint64_t now)
{
    uint32_t page[LAPIC_PAGE_BYTES / 4];
    for (unsigned i = 0; i < LAPIC_PAGE_BYTES / 4; i++)
        page[i] = (uint32_t)in[i * 4] | (uint32_t)in[i * 4 + 1] << 8 |
                  (uint32_t)in[i * 4 + 2] << 16 | (uint32_t)in[i * 4 + 3] << 24;
    uint32_t current = page[LAPIC_TIMER_CURRENT / 4];
    /* Posts from other CPUs wait meanwhile (vlapic_accept). */
    page_rewrite_begin(l);
    for (unsigned i = 0; i < LAPIC_PAGE_BYTES / 4; i++)
        __atomic_store_n(&l->page[i], page[i], __ATOMIC_RELAXED);
    /* What the CPU computes is recomputed, whatever the image said. */
    set_reg(l, LAPIC_VERSION, LAPIC_VERSION_VALUE);
    set_reg(l, LAPIC_TIMER_CURRENT, 0);
    set_reg(l, LAPIC_PPR, 0); /* computed where it is read (ppr_now) */
    set_reg(l, LAPIC_TIMER_DIVIDE, reg(l, LAPIC_TIMER_DIVIDE) & 0xb);
    l->divide = divide_of(reg(l, LAPIC_TIMER_DIVIDE));
    if (vlapic_x2apic(l))
        set_reg(l, LAPIC_LDR, vlapic_x2apic_ldr(reg(l, LAPIC_ID)));
    /* IRR's summary, of the image alone: posts wait for the end. */
    __atomic_store_n(&l->irr_words, irr_summary(l), __ATOMIC_SEQ_CST);
    page_rewrite_end(l);
    l->isr_top = (int16_t)bitmap_highest(l, LAPIC_ISR);
    l->isr_count = 0;
    for (unsigned word = 0; word < 8; word++)
        for (uint32_t bits = reg(l, LAPIC_ISR + word * 16); bits; bits &= bits - 1)
            l->isr_count++;
    l->timer_fire = 0;
    /* IA32_TSC_DEADLINE is no register of the page (KVM keeps it an MSR
     * too): an armed deadline goes on in TSC-deadline mode, and reads 0
     * in the others, as a mode change by the guest leaves it. */
    if (timer_mode(l) == LAPIC_TIMER_DEADLINE)
        l->timer_fire = vlapic_deadline_tsc(l, l->tsc_deadline);
    else
        l->tsc_deadline = 0;
    if (timer_mode(l) != LAPIC_TIMER_DEADLINE && reg(l, LAPIC_TIMER_INITIAL) && current) {
        if (current > reg(l, LAPIC_TIMER_INITIAL))
            current = reg(l, LAPIC_TIMER_INITIAL);
        l->timer_fire = now + bus_to_tsc(l, (uint64_t)current * l->divide);
        l->timer_start = l->timer_fire - period_tsc(l);
    }
}
