// sources: hv/vlapic_x2apic.c
/* Unit tests for hv/vlapic.c's posts against a rewrite of the whole page
 * (SET_LAPIC, INIT) and a copy of it (GET_LAPIC). A post from another CPU
 * stores TMR, then IRR; a rewrite that fell between the two would leave
 * the vector pending with the image's trigger mode -- a level-triggered
 * interrupt taken as edge, its EOI never reported to the IOAPIC, the line
 * dead -- or pending in an APIC that INIT just reset, and a copy would
 * hold half the post. The window is a few instructions wide, so this file
 * includes hv/vlapic.c with a hook in it that holds the post there for
 * 50 ms while a second thread starts the rewrite or the copy: it must
 * wait for the post, and the page end as the rewrite left it. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <time.h>

struct vlapic;
static void between_tmr_and_irr(struct vlapic *l);
#define VLAPIC_BETWEEN_TMR_AND_IRR(l) between_tmr_and_irr(l)
#include "hv/vlapic.c"

#define VECTOR 0x45

enum rewrite { REWRITE_SET_PAGE, REWRITE_INIT, REWRITE_GET_PAGE, CHECK_BASE };

static struct vlapic apic;
static uint8_t image[LAPIC_PAGE_BYTES], copy[LAPIC_PAGE_BYTES];
static enum rewrite rewrite_kind;
static bool hold_post;
static unsigned hook_calls;
static volatile bool rewrite_started, rewrite_done, post_done;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t held = PTHREAD_COND_INITIALIZER;
static bool post_held, base_allowed;

static void sleep_ms(long ms)
{
    struct timespec t = { 0, ms * 1000000L };
    nanosleep(&t, NULL);
}

/* The post, between its TMR and IRR stores: lets the rewriter go, then
 * stays there long enough for an unguarded rewrite to finish. */
static void between_tmr_and_irr(struct vlapic *l)
{
    (void)l;
    hook_calls++;
    if (!hold_post)
        return;
    pthread_mutex_lock(&lock);
    post_held = true;
    pthread_cond_signal(&held);
    pthread_mutex_unlock(&lock);
    while (!rewrite_started)
        sleep_ms(1);
    sleep_ms(50);
    /* The rewrite waits for the post; a check of apic_base does not. */
    assert_int_equal(rewrite_done, rewrite_kind == CHECK_BASE);
}

static void *rewriter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!post_held)
        pthread_cond_wait(&held, &lock);
    pthread_mutex_unlock(&lock);
    rewrite_started = true;
    if (rewrite_kind == REWRITE_SET_PAGE)
        vlapic_set_page(&apic, image, 0);
    else if (rewrite_kind == REWRITE_INIT)
        vlapic_init_signal(&apic);
    else if (rewrite_kind == REWRITE_GET_PAGE)
        vlapic_get_page(&apic, copy, 0);
    else
        base_allowed = vlapic_base_allowed(&apic, APIC_BASE_DEFAULT);
    rewrite_done = true;
    return NULL;
}

static bool in(const struct vlapic *l, uint32_t base, uint8_t vector)
{
    return reg(l, base + (vector / 32) * 16) & (1u << (vector % 32));
}

static int reset(void **state)
{
    (void)state;
    memset(&apic, 0x5a, sizeof(apic));
    vlapic_reset(&apic, 0, true, 1000000);
    vlapic_mmio_write(&apic, LAPIC_SVR, LAPIC_SVR_ENABLE | 0xff, 0);
    hold_post = false;
    hook_calls = 0;
    rewrite_started = rewrite_done = post_done = post_held = false;
    return 0;
}

/* A post held between its stores while `kind` is tried from another
 * thread; returns what the post returned. */
static bool post_racing(enum rewrite kind, bool level)
{
    pthread_t thread;
    rewrite_kind = kind;
    hold_post = true;
    assert_int_equal(pthread_create(&thread, NULL, rewriter, NULL), 0);
    bool accepted = vlapic_accept(&apic, VECTOR, level);
    post_done = true;
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_true(rewrite_done);
    assert_int_equal(hook_calls, 1);
    return accepted;
}

static void test_a_post_alone_sets_tmr_and_irr(void **state)
{
    (void)state;
    assert_true(vlapic_accept(&apic, VECTOR, true));
    assert_int_equal(hook_calls, 1);
    assert_true(in(&apic, LAPIC_TMR, VECTOR));
    assert_true(in(&apic, LAPIC_IRR, VECTOR));
    assert_int_equal(vlapic_pending(&apic), VECTOR);
}

/* SET_LAPIC's image (enabled, nothing pending, TMR clear) against a
 * level-triggered post: the image comes after the whole post, so nothing
 * is pending, rather than the vector with TMR clear. */
static void test_set_page_waits_for_a_level_post(void **state)
{
    (void)state;
    vlapic_get_page(&apic, image, 0);
    assert_true(post_racing(REWRITE_SET_PAGE, true));
    assert_false(in(&apic, LAPIC_IRR, VECTOR));
    assert_false(in(&apic, LAPIC_TMR, VECTOR));
    assert_int_equal(vlapic_pending(&apic), -1);
}

/* An image with the vector pending and level-triggered against an edge
 * post of it: the image's, both bits set, not IRR with TMR cleared. */
static void test_set_page_waits_for_an_edge_post(void **state)
{
    (void)state;
    assert_true(vlapic_accept(&apic, VECTOR, true));
    vlapic_get_page(&apic, image, 0);          /* IRR and TMR set */
    hook_calls = 0;
    assert_true(post_racing(REWRITE_SET_PAGE, false));
    assert_true(in(&apic, LAPIC_IRR, VECTOR));
    assert_true(in(&apic, LAPIC_TMR, VECTOR));
    vlapic_acknowledge(&apic, VECTOR);
    assert_int_equal(vlapic_eoi_edge(&apic), VLAPIC_EOI_NOT_EDGE);
}

/* INIT against a post: the APIC reset after it, nothing left pending
 * once the guest enables it again. */
static void test_init_waits_for_a_post(void **state)
{
    (void)state;
    assert_true(post_racing(REWRITE_INIT, true));
    assert_false(in(&apic, LAPIC_IRR, VECTOR));
    assert_false(in(&apic, LAPIC_TMR, VECTOR));
    assert_false(vlapic_enabled(&apic));
    vlapic_mmio_write(&apic, LAPIC_SVR, LAPIC_SVR_ENABLE | 0xff, 0);
    assert_int_equal(vlapic_pending(&apic), -1);
}

static bool in_copy(uint32_t base, uint8_t vector)
{
    return copy[base + (vector / 32) * 16 + (vector % 32) / 8] & (1u << (vector % 8));
}

/* GET_LAPIC's copy against a level-triggered post: the whole post, TMR
 * and IRR, or none of it -- never the vector pending with the trigger
 * mode it had before, which a SET_LAPIC of the copy would make real. */
static void test_get_page_waits_for_a_post(void **state)
{
    (void)state;
    assert_true(post_racing(REWRITE_GET_PAGE, true));
    assert_true(in_copy(LAPIC_TMR, VECTOR));
    assert_true(in_copy(LAPIC_IRR, VECTOR));
    assert_int_equal(apic.posting, 0);
}

/* SET_SREGS' check of a new apic_base (here one that disables the APIC,
 * which vlapic_set_base does with a reset of the page) during a post: it
 * answers at once and changes nothing. Made on a copy of the APIC, the
 * copy would have counted the post for ever and its reset spun. */
static void test_base_check_does_not_wait_for_a_post(void **state)
{
    (void)state;
    uint64_t base = apic.apic_base;
    assert_true(post_racing(CHECK_BASE, false));
    assert_true(base_allowed);
    assert_int_equal(apic.apic_base, base);
    assert_true(in(&apic, LAPIC_IRR, VECTOR));
    assert_int_equal(apic.posting, 0);
}

/* A post that finds a rewrite under way waits for its end, then posts
 * into what the rewrite left. */
static void *late_poster(void *arg)
{
    (void)arg;
    assert_true(vlapic_accept(&apic, VECTOR, true));
    post_done = true;
    return NULL;
}

static void test_a_post_waits_for_a_rewrite_under_way(void **state)
{
    (void)state;
    pthread_t thread;
    apic.posting |= 1u;                        /* a rewrite under way */
    assert_int_equal(pthread_create(&thread, NULL, late_poster, NULL), 0);
    sleep_ms(50);
    assert_false(post_done);
    assert_false(in(&apic, LAPIC_IRR, VECTOR));
    page_rewrite_end(&apic);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_true(in(&apic, LAPIC_IRR, VECTOR));
    assert_true(in(&apic, LAPIC_TMR, VECTOR));
    assert_int_equal(apic.posting, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_a_post_alone_sets_tmr_and_irr, reset),
        cmocka_unit_test_setup(test_set_page_waits_for_a_level_post, reset),
        cmocka_unit_test_setup(test_set_page_waits_for_an_edge_post, reset),
        cmocka_unit_test_setup(test_init_waits_for_a_post, reset),
        cmocka_unit_test_setup(test_get_page_waits_for_a_post, reset),
        cmocka_unit_test_setup(test_base_check_does_not_wait_for_a_post, reset),
        cmocka_unit_test_setup(test_a_post_waits_for_a_rewrite_under_way, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
