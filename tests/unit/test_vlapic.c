// sources: hv/vlapic.c hv/vlapic_x2apic.c
/* Unit tests for hv/vlapic.c: a guest's local APIC register by register,
 * priority and EOI order, the timer in its three modes against a TSC of
 * 1000 ticks a microsecond, x2APIC's MSR rules and destination matching. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>

#include "hv/vlapic.h"

#define TSC_PER_US 1000u
#define US(n) ((uint64_t)(n) * TSC_PER_US)

static struct vlapic fresh(uint32_t id)
{
    struct vlapic l;
    memset(&l, 0x5a, sizeof(l));
    vlapic_reset(&l, id, id == 0, TSC_PER_US * 1000);
    return l;
}

static void software_enable(struct vlapic *l)
{
    vlapic_mmio_write(l, LAPIC_SVR, LAPIC_SVR_ENABLE | 0xff, 0);
}

static void test_reset_state(void **state)
{
    (void)state;
    struct vlapic l = fresh(3);
    assert_int_equal(vlapic_mmio_read(&l, LAPIC_ID, 0), 3u << 24);
    assert_int_equal(vlapic_mmio_read(&l, LAPIC_VERSION, 0) & 0xff, 0x14);
    assert_int_equal(vlapic_mmio_read(&l, LAPIC_SVR, 0), 0xff);
    assert_int_equal(vlapic_mmio_read(&l, LAPIC_DFR, 0), 0xffffffffu);
    assert_true(vlapic_mmio_read(&l, LAPIC_LVT_LINT0, 0) & LAPIC_LVT_MASKED);
    assert_false(vlapic_enabled(&l));             /* software-disabled */
    assert_int_equal(l.apic_base, 0xfee00000ull | APIC_BASE_MSR_EN);
    assert_false(vlapic_accept(&l, 0x40, false)); /* dropped while disabled */
}

static void test_priority_and_eoi_order(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    software_enable(&l);
    assert_true(vlapic_accept(&l, 0x31, false));
    assert_true(vlapic_accept(&l, 0x52, false));
    assert_int_equal(vlapic_pending(&l), 0x52);
    vlapic_acknowledge(&l, 0x52);
    assert_int_equal(vlapic_ppr(&l), 0x50);
    assert_int_equal(vlapic_pending(&l), -1);    /* 0x31 is below PPR */
    assert_true(vlapic_accept(&l, 0x61, false));
    assert_int_equal(vlapic_pending(&l), 0x61);  /* nests above 0x52 */
    vlapic_acknowledge(&l, 0x61);
    assert_int_equal(vlapic_mmio_write(&l, LAPIC_EOI, 0, 0), VLAPIC_DONE);
    assert_int_equal(vlapic_ppr(&l), 0x50);      /* EOI retires the highest: 0x61 */
    vlapic_mmio_write(&l, LAPIC_EOI, 0, 0);
    assert_int_equal(vlapic_pending(&l), 0x31);
    /* TPR masks a priority class and below. */
    vlapic_mmio_write(&l, LAPIC_TPR, 0x30, 0);
    assert_int_equal(vlapic_pending(&l), -1);
    vlapic_mmio_write(&l, LAPIC_TPR, 0x2f, 0);
    assert_int_equal(vlapic_pending(&l), 0x31);
}

static void test_level_eoi_asks_for_broadcast(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    software_enable(&l);
    vlapic_accept(&l, 0x70, true);
    vlapic_acknowledge(&l, 0x70);
    assert_int_equal(vlapic_mmio_write(&l, LAPIC_EOI, 0, 0), VLAPIC_EOI_LEVEL);
    assert_int_equal(vlapic_last_eoi_vector(&l), 0x70);
    vlapic_accept(&l, 0x70, false);
    vlapic_acknowledge(&l, 0x70);
    assert_int_equal(vlapic_mmio_write(&l, LAPIC_EOI, 0, 0), VLAPIC_DONE);
}

static void test_illegal_vectors_set_esr(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    software_enable(&l);
    assert_false(vlapic_accept(&l, 5, false));
    vlapic_mmio_write(&l, LAPIC_ICR_LOW, 0x4003, 0);  /* fixed, vector 3 */
    vlapic_mmio_write(&l, LAPIC_ESR, 0, 0);
    assert_int_equal(vlapic_mmio_read(&l, LAPIC_ESR, 0), (1u << 5) | (1u << 6));
    vlapic_mmio_write(&l, LAPIC_ESR, 0, 0);
    assert_int_equal(vlapic_mmio_read(&l, LAPIC_ESR, 0), 0);
}

static void test_oneshot_timer(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    software_enable(&l);
    vlapic_mmio_write(&l, LAPIC_TIMER_DIVIDE, 0xb, 0);       /* divide by 1 */
    vlapic_mmio_write(&l, LAPIC_LVT_TIMER, 0x40, 0);         /* one-shot, 0x40 */
    assert_int_equal(vlapic_mmio_write(&l, LAPIC_TIMER_INITIAL, 100000, US(10)),
                     VLAPIC_TIMER_CHANGED);
    assert_int_equal(vlapic_timer_next(&l), US(10) + US(100)); /* 100000 ns */
    assert_int_equal(vlapic_mmio_read(&l, LAPIC_TIMER_CURRENT, US(60)), 50000);
    vlapic_timer_expire(&l, US(109));
    assert_int_equal(vlapic_pending(&l), -1);
    vlapic_timer_expire(&l, US(110));
    assert_int_equal(vlapic_pending(&l), 0x40);
    assert_int_equal(vlapic_timer_next(&l), 0);
    assert_int_equal(vlapic_mmio_read(&l, LAPIC_TIMER_CURRENT, US(200)), 0);
}

/* A TSC of 3.78 MHz (Bochs' is near that): 30 ms is 113400 ticks, not the
 * 90000 that whole ticks per microsecond gave. */
static void test_timer_at_a_fractional_mhz_tsc(void **state)
{
    (void)state;
    struct vlapic l;
    vlapic_reset(&l, 0, true, 3780);
    software_enable(&l);
    vlapic_mmio_write(&l, LAPIC_TIMER_DIVIDE, 0xb, 0);
    vlapic_mmio_write(&l, LAPIC_LVT_TIMER, 0x40, 0);
    vlapic_mmio_write(&l, LAPIC_TIMER_INITIAL, 30000000, 1000);
    assert_int_equal(vlapic_timer_next(&l), 1000 + 113400);
    assert_int_equal(vlapic_mmio_read(&l, LAPIC_TIMER_CURRENT, 1000 + 56700), 15000000);
}

static void test_periodic_timer_with_divider(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    software_enable(&l);
    vlapic_mmio_write(&l, LAPIC_TIMER_DIVIDE, 0x3, 0);       /* divide by 16 */
    vlapic_mmio_write(&l, LAPIC_LVT_TIMER, (1u << 17) | 0x41, 0);
    vlapic_mmio_write(&l, LAPIC_TIMER_INITIAL, 62500, 0);    /* 1 ms */
    unsigned fired = 0;
    for (uint64_t t = 0; t <= US(1000000); t += US(50)) {
        uint64_t next = vlapic_timer_next(&l);
        if (next && t >= next) {
            vlapic_timer_expire(&l, t);
            if (vlapic_pending(&l) == 0x41) {
                vlapic_acknowledge(&l, 0x41);
                vlapic_mmio_write(&l, LAPIC_EOI, 0, t);
                fired++;
            }
        }
    }
    assert_int_equal(fired, 1000);
    /* Current count runs down within a period. */
    uint64_t start = l.timer_start;
    assert_int_equal(vlapic_mmio_read(&l, LAPIC_TIMER_CURRENT, start + US(500)), 31250);
}

static void test_masked_timer_raises_nothing(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    software_enable(&l);
    vlapic_mmio_write(&l, LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | 0x40, 0);
    vlapic_mmio_write(&l, LAPIC_TIMER_INITIAL, 10, 0);
    vlapic_timer_expire(&l, US(1000));
    assert_int_equal(vlapic_pending(&l), -1);
}

static void test_tsc_deadline_mode(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    software_enable(&l);
    vlapic_set_tsc_deadline(&l, 12345);                      /* ignored: one-shot mode */
    assert_int_equal(vlapic_timer_next(&l), 0);
    vlapic_mmio_write(&l, LAPIC_LVT_TIMER, (2u << 17) | 0x42, 0);
    vlapic_mmio_write(&l, LAPIC_TIMER_INITIAL, 1000, 0);     /* ignored in this mode */
    assert_int_equal(vlapic_timer_next(&l), 0);
    vlapic_set_tsc_deadline(&l, US(500));
    assert_int_equal(vlapic_get_tsc_deadline(&l), US(500));
    assert_int_equal(vlapic_timer_next(&l), US(500));
    vlapic_timer_expire(&l, US(499));
    assert_int_equal(vlapic_pending(&l), -1);
    vlapic_timer_expire(&l, US(501));
    assert_int_equal(vlapic_pending(&l), 0x42);
    assert_int_equal(vlapic_get_tsc_deadline(&l), 0);        /* disarmed after firing */
    /* Leaving the mode disarms it. */
    vlapic_set_tsc_deadline(&l, US(900));
    vlapic_mmio_write(&l, LAPIC_LVT_TIMER, 0x42, 0);
    assert_int_equal(vlapic_timer_next(&l), 0);
}

static void test_x2apic_transitions_and_msrs(void **state)
{
    (void)state;
    struct vlapic l = fresh(5);
    uint64_t v;
    enum vlapic_action action;
    assert_false(vlapic_msr_read(&l, 0x802, &v, 0));          /* not in x2APIC mode */
    assert_false(vlapic_set_base(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EXTD)); /* EXTD without EN */
    assert_true(vlapic_set_base(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD));
    assert_true(vlapic_x2apic(&l));
    assert_true(vlapic_msr_read(&l, 0x802, &v, 0));
    assert_int_equal(v, 5);                                   /* the full 32-bit ID */
    assert_true(vlapic_msr_read(&l, 0x80d, &v, 0));
    assert_int_equal(v, 1u << 5);                             /* cluster 0, bit 5 */
    assert_false(vlapic_msr_write(&l, 0x80d, 1, 0, &action)); /* LDR read-only */
    assert_false(vlapic_msr_read(&l, 0x80e, &v, 0));          /* no DFR */
    assert_false(vlapic_msr_read(&l, 0x80b, &v, 0));          /* EOI write-only */
    assert_false(vlapic_msr_write(&l, 0x80b, 1, 0, &action)); /* EOI of a non-zero value */
    assert_false(vlapic_msr_write(&l, 0x808, 1ull << 32, 0, &action)); /* reserved half */
    assert_true(vlapic_msr_write(&l, 0x80f, 0x1ff, 0, &action));
    assert_true(vlapic_msr_write(&l, 0x83f, 0x55, 0, &action)); /* self IPI */
    assert_int_equal(vlapic_pending(&l), 0x55);
    assert_true(vlapic_msr_write(&l, 0x830, (7ull << 32) | 0x4060, 0, &action));
    assert_int_equal(action, VLAPIC_SEND_IPI);
    assert_true(vlapic_msr_read(&l, 0x830, &v, 0));
    assert_int_equal(v, (7ull << 32) | 0x4060);
    assert_int_equal(vlapic_mmio_write(&l, LAPIC_TPR, 0, 0), VLAPIC_MODE_ERROR);
    /* x2APIC cannot go back to xAPIC, only to disabled. */
    assert_false(vlapic_set_base(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN));
    assert_true(vlapic_set_base(&l, APIC_BASE_DEFAULT));
    assert_false(vlapic_set_base(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD));
    assert_true(vlapic_set_base(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN));
    assert_int_equal(vlapic_id(&l), 5);
    assert_false(vlapic_set_base(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN | 1));  /* reserved */
    /* Address bits: up to MAXPHYADDR - 1, 51 after reset. */
    assert_true(vlapic_base_allowed(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN | 1ull << 51));
    assert_false(vlapic_base_allowed(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN | 1ull << 52));
    l.address_bits = 40;
    assert_true(vlapic_base_allowed(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN | 1ull << 39));
    assert_false(vlapic_base_allowed(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN | 1ull << 40));
    assert_false(vlapic_set_base(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN | 1ull << 45));
    assert_int_equal(l.apic_base, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN);
}

static void test_destination_matching(void **state)
{
    (void)state;
    struct vlapic l = fresh(2);
    assert_true(vlapic_matches(&l, 2, false));
    assert_false(vlapic_matches(&l, 3, false));
    assert_true(vlapic_matches(&l, 0xff, false));
    vlapic_mmio_write(&l, LAPIC_LDR, 0x04000000, 0);          /* flat: bit 2 */
    assert_true(vlapic_matches(&l, 0x06, true));
    assert_false(vlapic_matches(&l, 0x01, true));
    vlapic_mmio_write(&l, LAPIC_DFR, 0x0fffffff, 0);          /* cluster model */
    vlapic_mmio_write(&l, LAPIC_LDR, 0x31000000, 0);          /* cluster 3, bit 0 */
    assert_true(vlapic_matches(&l, 0x31, true));
    assert_true(vlapic_matches(&l, 0x33, true));
    assert_false(vlapic_matches(&l, 0x21, true));
    vlapic_set_base(&l, APIC_BASE_DEFAULT | APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD);
    assert_true(vlapic_matches(&l, 2, false));
    assert_true(vlapic_matches(&l, 0xffffffffu, false));
    assert_false(vlapic_matches(&l, 0xff, false));            /* not a broadcast here */
    assert_true(vlapic_matches(&l, 0x00000004, true));        /* cluster 0, bit 2 */
    assert_false(vlapic_matches(&l, 0x00010004, true));
}

/* Highest vector set in ISR, read off the page. */
static int isr_highest(const struct vlapic *l)
{
    for (int v = 255; v >= 0; v--)
        if (l->page[(LAPIC_ISR + (v / 32) * 16) / 4] & (1u << (v % 32)))
            return v;
    return -1;
}

/* What vlapic_pending must say, by a whole scan of IRR from the top. */
static int pending_by_scan(const struct vlapic *l)
{
    if (!vlapic_enabled(l))
        return -1;
    for (int v = 255; v >= 0; v--)
        if (l->page[(LAPIC_IRR + (v / 32) * 16) / 4] & (1u << (v % 32)))
            return ((uint32_t)v & 0xf0) <= (vlapic_ppr(l) & 0xf0) ? -1 : v;
    return -1;
}

/* IRR's summary (struct vlapic, irr_words): a word's bit stays while a
 * vector of that word waits and goes with the last one acknowledged;
 * what vlapic_pending says never depends on it being stale. */
static void test_irr_summary_follows_its_words(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    software_enable(&l);
    assert_int_equal(l.irr_words, 0);
    assert_true(vlapic_accept(&l, 0x41, false));
    assert_true(vlapic_accept(&l, 0x45, false));   /* the same word, 2 */
    assert_true(vlapic_accept(&l, 0xe0, false));   /* word 7 */
    assert_int_equal(l.irr_words, 1u << 2 | 1u << 7);
    assert_int_equal(vlapic_pending(&l), 0xe0);
    vlapic_acknowledge(&l, 0xe0);
    assert_int_equal(l.irr_words, 1u << 2);
    assert_int_equal(vlapic_pending(&l), -1);      /* below the in-service 0xe0 */
    assert_int_equal(vlapic_eoi_edge(&l), 0x45);
    assert_int_equal(vlapic_pending(&l), 0x45);
    vlapic_acknowledge(&l, 0x45);
    assert_int_equal(l.irr_words, 1u << 2);        /* 0x41 still waits */
    assert_int_equal(vlapic_eoi_edge(&l), 0x41);
    assert_int_equal(vlapic_pending(&l), 0x41);
    vlapic_acknowledge(&l, 0x41);
    assert_int_equal(l.irr_words, 0);
    assert_int_equal(vlapic_eoi_edge(&l), -1);
    assert_int_equal(vlapic_pending(&l), -1);
    /* Taken at once, a vector never was in IRR: the summary stays empty. */
    assert_true(vlapic_take_at_once(&l, 0x90));
    assert_int_equal(l.irr_words, 0);
    assert_int_equal(vlapic_eoi_edge(&l), -1);
    /* A level-triggered vector's EOI is not this path's. */
    assert_true(vlapic_accept(&l, 0x66, true));
    vlapic_acknowledge(&l, 0x66);
    assert_int_equal(vlapic_eoi_edge(&l), VLAPIC_EOI_NOT_EDGE);
    assert_int_equal(isr_highest(&l), 0x66);
    /* An INIT empties IRR, and the summary with it. */
    assert_true(vlapic_accept(&l, 0x70, false));
    vlapic_init_signal(&l);
    assert_int_equal(l.irr_words, 0);
}

/* The x2APIC self-IPI fast path's ICR store (vlapic_x2apic_write_icr)
 * leaves the register as the MSR write does, for any fixed IPI of a
 * legal vector, whatever else the value holds but reserved bits, which
 * the MSR write refuses (#GP) and the fast path leaves to it. */
static void test_x2apic_icr_store_matches_the_msr_write(void **state)
{
    (void)state;
    uint64_t seed = 99;
    for (unsigned i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t value = seed & ~0x700ull;          /* delivery mode fixed */
        if ((value & 0xff) < 16)
            value |= 0x40;
        struct vlapic a = fresh(3), b = fresh(3);
        assert_true(vlapic_set_base(&a, 0xfee00000ull | APIC_BASE_MSR_EN));
        assert_true(vlapic_set_base(&a, 0xfee00000ull | APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD));
        b = a;
        enum vlapic_action action;
        if (value & X2APIC_ICR_RESERVED) {
            assert_false(vlapic_msr_write(&a, X2APIC_MSR_FIRST + (LAPIC_ICR_LOW >> 4), value, 0,
                                          &action));
            value &= ~X2APIC_ICR_RESERVED;
        }
        assert_true(vlapic_msr_write(&a, X2APIC_MSR_FIRST + (LAPIC_ICR_LOW >> 4), value, 0, &action));
        assert_int_equal(action, VLAPIC_SEND_IPI);
        vlapic_x2apic_write_icr(&b, value);
        assert_memory_equal(a.page, b.page, sizeof(a.page));
    }
}

static void test_page_round_trip_keeps_timer(void **state)
{
    (void)state;
    struct vlapic a = fresh(1), b = fresh(9);
    uint8_t page[LAPIC_PAGE_BYTES];
    software_enable(&a);
    vlapic_mmio_write(&a, LAPIC_TIMER_DIVIDE, 0xb, 0);
    vlapic_mmio_write(&a, LAPIC_LVT_TIMER, 0x44, 0);
    vlapic_mmio_write(&a, LAPIC_TIMER_INITIAL, 1000000, 0);
    vlapic_accept(&a, 0x80, false);
    vlapic_get_page(&a, page, US(400));
    vlapic_set_page(&b, page, US(5000));
    assert_int_equal(vlapic_id(&b), 1);
    assert_int_equal(vlapic_pending(&b), 0x80);
    assert_int_equal(vlapic_mmio_read(&b, LAPIC_TIMER_CURRENT, US(5000)), 600000);
    assert_int_equal(vlapic_timer_next(&b), US(5600));
}

/* The deadline is the guest's TSC (host + offset): it fires when the
 * host's TSC reaches it less the offset, and moves with the offset; one
 * before the host's TSC began fires at once, none is lost past its top. */
static void test_tsc_deadline_follows_the_guest_tsc(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    software_enable(&l);
    vlapic_mmio_write(&l, LAPIC_LVT_TIMER, (2u << 17) | 0x42, 0);
    vlapic_set_tsc_offset(&l, US(1000));                     /* guest 1 ms ahead */
    vlapic_set_tsc_deadline(&l, US(1500));
    assert_int_equal(vlapic_get_tsc_deadline(&l), US(1500));
    assert_int_equal(vlapic_timer_next(&l), US(500));
    vlapic_set_tsc_offset(&l, (uint64_t)-US(2000));          /* now 2 ms behind */
    assert_int_equal(vlapic_get_tsc_deadline(&l), US(1500));
    assert_int_equal(vlapic_timer_next(&l), US(3500));
    vlapic_timer_expire(&l, US(3499));
    assert_int_equal(vlapic_pending(&l), -1);
    vlapic_timer_expire(&l, US(3500));
    assert_int_equal(vlapic_pending(&l), 0x42);
    vlapic_set_tsc_offset(&l, US(1000000));
    vlapic_set_tsc_deadline(&l, US(5));                      /* before host TSC 0 */
    assert_int_equal(vlapic_timer_next(&l), 1);
    assert_int_equal(vlapic_deadline_tsc(&l, 0), 0);
    vlapic_set_tsc_offset(&l, (uint64_t)-US(1000));
    assert_int_equal(vlapic_deadline_tsc(&l, UINT64_MAX - 1), UINT64_MAX);
}

/* SET_LAPIC of the page GET_LAPIC gave keeps an armed TSC deadline (it
 * is an MSR, not in the page): it once left the deadline reading back
 * but never firing. */
static void test_page_round_trip_keeps_tsc_deadline(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    uint8_t page[LAPIC_PAGE_BYTES];
    software_enable(&l);
    vlapic_mmio_write(&l, LAPIC_LVT_TIMER, (2u << 17) | 0x42, 0);
    vlapic_set_tsc_deadline(&l, US(800));
    vlapic_get_page(&l, page, US(100));
    vlapic_set_page(&l, page, US(200));
    assert_int_equal(vlapic_get_tsc_deadline(&l), US(800));
    assert_int_equal(vlapic_timer_next(&l), US(800));
    vlapic_timer_expire(&l, US(801));
    assert_int_equal(vlapic_pending(&l), 0x42);
    /* A page in another timer mode leaves no deadline behind. */
    vlapic_set_tsc_deadline(&l, US(900));
    vlapic_get_page(&l, page, US(850));
    page[LAPIC_LVT_TIMER + 2] = 0;            /* one-shot */
    vlapic_set_page(&l, page, US(860));
    assert_int_equal(vlapic_timer_next(&l), 0);
    page[LAPIC_LVT_TIMER + 2] = 0x04;         /* TSC-deadline again (bits 18:17 = 2) */
    vlapic_set_page(&l, page, US(870));
    assert_int_equal(vlapic_get_tsc_deadline(&l), 0);
}

static void test_page_with_isr_retires_in_order(void **state)
{
    (void)state;
    struct vlapic a = fresh(0), b = fresh(0);
    uint8_t page[LAPIC_PAGE_BYTES];
    software_enable(&a);
    vlapic_get_page(&a, page, 0);
    page[LAPIC_ISR + 0x10 + 1] = 0x01;        /* vector 0x28 */
    page[LAPIC_ISR + 0x20 + 2] = 0x04;        /* vector 0x52 */
    vlapic_set_page(&b, page, 0);
    assert_int_equal(vlapic_ppr(&b), 0x50);
    assert_true(vlapic_accept(&b, 0x48, false));
    assert_int_equal(vlapic_pending(&b), -1);  /* below the in-service 0x52 */
    vlapic_mmio_write(&b, LAPIC_EOI, 0, 0);
    assert_int_equal(vlapic_last_eoi_vector(&b), 0x52);
    assert_int_equal(vlapic_ppr(&b), 0x20);
    assert_int_equal(vlapic_pending(&b), 0x48);
    vlapic_mmio_write(&b, LAPIC_EOI, 0, 0);
    assert_int_equal(vlapic_last_eoi_vector(&b), 0x28);
    assert_int_equal(vlapic_ppr(&b), 0);
    assert_int_equal(isr_highest(&b), -1);
}

static void test_garbage_writes_keep_invariants(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    uint64_t seed = 12345;
    for (unsigned i = 0; i < 200000; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t offset = (uint32_t)(seed >> 33) & 0x3f0;
        uint32_t value = (uint32_t)(seed >> 7);
        uint64_t now = i * 10ull;
        enum vlapic_action action;
        if (seed & (1ull << 62))
            vlapic_msr_write(&l, X2APIC_MSR_FIRST + (offset >> 4), value, now, &action);
        else
            vlapic_mmio_write(&l, offset, value, now);
        vlapic_timer_expire(&l, now);
        if (seed & (1ull << 60))   /* IPIs and MSIs, in any word of IRR */
            vlapic_accept(&l, (uint8_t)(value >> 3), false);
        int v = vlapic_pending(&l);
        assert_int_equal(v, pending_by_scan(&l)); /* the summary's shortcut */
        if (v >= 0 && (seed & (1ull << 59)))
            vlapic_acknowledge(&l, (uint8_t)v);
        if (seed & (1ull << 61))
            vlapic_set_base(&l, value & 1 ? 0xfee00000ull | APIC_BASE_MSR_EN : (uint64_t)value << 20);
        assert_true(l.divide >= 1 && l.divide <= 128);
        assert_true(vlapic_ppr(&l) <= 0xff);
        assert_int_equal(l.isr_top, isr_highest(&l));
        unsigned in_service = 0;
        for (unsigned word = 0; word < 8; word++) {
            in_service += (unsigned)__builtin_popcount(l.page[(LAPIC_ISR + word * 16) / 4]);
            if (l.page[(LAPIC_IRR + word * 16) / 4]) /* IRR's summary covers it */
                assert_true(l.irr_words & (1u << word));
        }
        assert_int_equal(l.isr_count, in_service);
    }
}

/* SET_LAPIC (vlapic_set_page) on one CPU while another CPU posts an IPI
 * (vlapic_accept: the IRR bit, then IRR's summary): whichever comes
 * first, a vector left in IRR must be in the summary, or the guest never
 * takes it (pending() reads only the words the summary names). The two
 * start together each round; a round whose post lands between the
 * summary's computation and its store once lost the vector. */
static struct vlapic racing;
static uint8_t racing_image[LAPIC_PAGE_BYTES];
static pthread_barrier_t racing_start, racing_done;
static const unsigned racing_rounds = 50000;

static void *post_each_round(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < racing_rounds; i++) {
        pthread_barrier_wait(&racing_start);
        for (volatile unsigned spin = i % 64; spin; spin--)
            ;
        vlapic_accept(&racing, (uint8_t)(0x80 + i % 64), false);
        pthread_barrier_wait(&racing_done);
    }
    return NULL;
}

static void test_set_page_racing_a_post_keeps_its_vector_pending(void **state)
{
    (void)state;
    racing = fresh(0);
    software_enable(&racing);
    vlapic_get_page(&racing, racing_image, 0); /* IRR empty */
    pthread_t poster;
    pthread_barrier_init(&racing_start, NULL, 2);
    pthread_barrier_init(&racing_done, NULL, 2);
    assert_int_equal(pthread_create(&poster, NULL, post_each_round, NULL), 0);
    unsigned lost = 0;
    for (unsigned i = 0; i < racing_rounds; i++) {
        pthread_barrier_wait(&racing_start);
        for (volatile unsigned spin = (i * 7) % 64; spin; spin--)
            ;
        vlapic_set_page(&racing, racing_image, 0);
        pthread_barrier_wait(&racing_done);
        bool in_irr = false;
        for (unsigned w = 0; w < 8; w++)
            in_irr |= racing.page[(LAPIC_IRR + w * 16) / 4] != 0;
        lost += in_irr && vlapic_pending(&racing) < 0;
    }
    pthread_join(poster, NULL);
    assert_int_equal(lost, 0);
}

/* A TPR the CPU wrote into the page itself (VMX's TPR shadow, no exit):
 * PPR, what is pending and the threshold follow it at once. */
static void test_tpr_written_by_the_cpu(void **state)
{
    (void)state;
    struct vlapic l = fresh(0);
    software_enable(&l);
    assert_true(vlapic_accept(&l, 0x51, false));
    assert_int_equal(vlapic_pending(&l), 0x51);
    assert_int_equal(vlapic_tpr_threshold(&l), 0);
    l.page[LAPIC_TPR / 4] = 0x60;           /* raised behind the vlapic's back */
    assert_int_equal(vlapic_pending(&l), -1);
    assert_int_equal(vlapic_ppr(&l), 0x60);
    assert_int_equal(vlapic_mmio_read(&l, LAPIC_PPR, 0), 0x60);
    assert_int_equal(vlapic_tpr_threshold(&l), 5); /* a write below class 5 exits */
    assert_false(vlapic_take_at_once(&l, 0x52));
    l.page[LAPIC_TPR / 4] = 0x40;
    assert_int_equal(vlapic_pending(&l), 0x51);
    assert_int_equal(vlapic_tpr_threshold(&l), 0);
    /* Held back by ISR, not by TPR: the EOI's exit brings it, no threshold. */
    vlapic_acknowledge(&l, 0x51);
    assert_true(vlapic_accept(&l, 0x55, false));
    assert_int_equal(vlapic_pending(&l), -1);
    assert_int_equal(vlapic_tpr_threshold(&l), 0);
    uint8_t image[LAPIC_PAGE_BYTES];
    l.page[LAPIC_TPR / 4] = 0x70;
    vlapic_get_page(&l, image, 0);
    assert_int_equal(image[LAPIC_PPR], 0x70);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_state),
        cmocka_unit_test(test_priority_and_eoi_order),
        cmocka_unit_test(test_level_eoi_asks_for_broadcast),
        cmocka_unit_test(test_page_with_isr_retires_in_order),
        cmocka_unit_test(test_illegal_vectors_set_esr),
        cmocka_unit_test(test_oneshot_timer),
        cmocka_unit_test(test_timer_at_a_fractional_mhz_tsc),
        cmocka_unit_test(test_periodic_timer_with_divider),
        cmocka_unit_test(test_masked_timer_raises_nothing),
        cmocka_unit_test(test_tsc_deadline_mode),
        cmocka_unit_test(test_page_round_trip_keeps_tsc_deadline),
        cmocka_unit_test(test_tsc_deadline_follows_the_guest_tsc),
        cmocka_unit_test(test_x2apic_transitions_and_msrs),
        cmocka_unit_test(test_destination_matching),
        cmocka_unit_test(test_irr_summary_follows_its_words),
        cmocka_unit_test(test_x2apic_icr_store_matches_the_msr_write),
        cmocka_unit_test(test_page_round_trip_keeps_timer),
        cmocka_unit_test(test_garbage_writes_keep_invariants),
        cmocka_unit_test(test_set_page_racing_a_post_keeps_its_vector_pending),
        cmocka_unit_test(test_tpr_written_by_the_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
