// sources: hv/vlapic.c hv/vlapic_x2apic.c
/* The hypervisor's local APIC (hv/vlapic.c) as a guest and its VMM drive
 * it: xAPIC stores and loads at every 4-byte offset, x2APIC MSRs, APIC
 * base changes, interrupts arriving and being taken, EOIs, the timer
 * expiring, TSC-deadline writes, INIT, and SET_LAPIC with any page. Each
 * step is one operation the callers in hv/vcpu_lapic.c make, with their
 * preconditions. After every step the state the EOI and injection fast
 * paths trust instead of scanning must agree with the register page:
 * the ISR's count and top, IRR's word summary, PPR, and what
 * vlapic_pending answers. */
#include "tests/fuzz/fuzz_input.h"

#include "hv/vlapic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TSC_KHZ 1000000u

static uint32_t word(const struct vlapic *l, uint32_t base, unsigned w)
{
    return l->page[(base + w * 16) / 4];
}

static int highest(const struct vlapic *l, uint32_t base)
{
    for (int w = 7; w >= 0; w--)
        if (word(l, base, (unsigned)w))
            return w * 32 + 31 - __builtin_clz(word(l, base, (unsigned)w));
    return -1;
}

static void check_consistent(const struct vlapic *l)
{
    unsigned in_service = 0;
    for (unsigned w = 0; w < 8; w++) {
        in_service += (unsigned)__builtin_popcount(word(l, LAPIC_ISR, w));
        if (word(l, LAPIC_IRR, w))
            fuzz_check(l->irr_words & (1u << w));
    }
    fuzz_check(l->isr_count == in_service);
    fuzz_check(l->isr_top == highest(l, LAPIC_ISR));
    uint32_t tpr = l->page[LAPIC_TPR / 4] & 0xff;
    uint32_t isrv = l->isr_top < 0 ? 0 : (uint32_t)l->isr_top & 0xf0;
    fuzz_check(vlapic_ppr(l) == ((tpr & 0xf0) >= isrv ? tpr : isrv));
    int irr = highest(l, LAPIC_IRR), want = -1;
    if (vlapic_enabled(l) && irr >= 0 && ((uint32_t)irr & 0xf0) > (vlapic_ppr(l) & 0xf0))
        want = irr;
    fuzz_check(vlapic_pending(l) == want);
    fuzz_check(l->posting == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    static struct vlapic l;
    static uint8_t page[LAPIC_PAGE_BYTES];
    uint64_t now = 1000;
    enum vlapic_action action;
    uint64_t value;

    memset(&l, 0, sizeof(l));
    vlapic_reset(&l, (uint32_t)fuzz_take(&in, 1), true, TSC_KHZ);
    vlapic_set_tsc_offset(&l, 0);
    check_consistent(&l);
    while (fuzz_more(&in)) {
        uint8_t op = (uint8_t)fuzz_take(&in, 1);
        /* Time only moves on: mostly a little, sometimes past a timer. */
        now += (op & 0x80) ? fuzz_take(&in, 3) * 64 : (op >> 5) & 3;
        switch (op & 0x1f) {
        case 0: case 1: case 2: /* the guest's xAPIC store, the most common */
            vlapic_mmio_write(&l, (uint32_t)fuzz_take(&in, 2) & 0xffc,
                              (uint32_t)fuzz_take(&in, 4), now);
            break;
        case 3:
            vlapic_mmio_read(&l, (uint32_t)fuzz_take(&in, 2) & 0xffc, now);
            break;
        case 4: case 5: {
            uint32_t msr = X2APIC_MSR_FIRST + (uint32_t)fuzz_take(&in, 1);
            value = fuzz_take(&in, 8);
            if (op & 0x10)
                value &= 0xffffffffu;
            vlapic_msr_write(&l, msr, value, now, &action);
            break;
        }
        case 6:
            vlapic_msr_read(&l, X2APIC_MSR_FIRST + (uint32_t)fuzz_take(&in, 1), &value, now);
            break;
        case 7: {
            /* Mostly the transitions a guest makes: enable, x2APIC, off. */
            static const uint64_t bases[4] = {
                APIC_BASE_DEFAULT | APIC_BASE_MSR_EN,
                APIC_BASE_DEFAULT | APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD,
                APIC_BASE_DEFAULT, 0 };
            uint8_t pick = (uint8_t)fuzz_take(&in, 1);
            value = pick < 4 ? bases[pick] | (l.apic_base & APIC_BASE_MSR_BSP) : fuzz_take(&in, 8);
            vlapic_set_base(&l, value);
            break;
        }
        case 8: case 9: case 10: { /* another CPU's IPI or a device's MSI */
            uint8_t vector = (uint8_t)fuzz_take(&in, 1);
            vlapic_accept(&l, vector, op & 0x10);
            break;
        }
        case 11: case 12: { /* the CPU takes what is pending */
            int vector = vlapic_pending(&l);
            if (vector >= 0)
                vlapic_acknowledge(&l, (uint8_t)vector);
            break;
        }
        case 13: case 14: { /* the EOI's fast path */
            int isr = l.isr_top;
            int next = vlapic_eoi_edge(&l);
            if (next == VLAPIC_EOI_NOT_EDGE) {
                fuzz_check(isr >= 0 && l.isr_top == isr);
                vlapic_mmio_write(&l, LAPIC_EOI, 0, now);
            } else {
                fuzz_check(next == vlapic_pending(&l));
            }
            break;
        }
        case 15: { /* a self-IPI taken at once: only when nothing waits */
            uint8_t vector = (uint8_t)fuzz_take(&in, 1);
            if (vlapic_pending(&l) < 0 && vlapic_take_at_once(&l, vector))
                fuzz_check(l.isr_top >= vector);
            break;
        }
        case 16: {
            uint64_t next = vlapic_timer_next(&l);
            if (next && now >= next)
                vlapic_timer_expire(&l, now);
            break;
        }
        case 17:
            vlapic_set_tsc_deadline(&l, (op & 0x40) ? now + fuzz_take(&in, 2) : fuzz_take(&in, 8));
            break;
        case 18:
            vlapic_set_tsc_offset(&l, fuzz_take(&in, 8));
            break;
        case 19: {
            uint64_t deadline = fuzz_take(&in, 8);
            fuzz_check((vlapic_deadline_tsc(&l, deadline) == 0) == (deadline == 0));
            break;
        }
        case 20: /* SET_LAPIC with any image, or the one GET_LAPIC gave */
            if (op & 0x40) {
                vlapic_get_page(&l, page, now);
            } else {
                for (unsigned i = 0; i < sizeof(page); i++)
                    page[i] = (uint8_t)fuzz_take(&in, 1);
            }
            vlapic_set_page(&l, page, now);
            break;
        case 21:
            vlapic_init_signal(&l);
            break;
        case 22:
            vlapic_matches(&l, (uint32_t)fuzz_take(&in, 4), op & 0x40);
            break;
        case 23: /* its caller's precondition: x2APIC mode */
            if (vlapic_x2apic(&l))
                vlapic_x2apic_write_icr(&l, (uint64_t)fuzz_take(&in, 4) << 32 |
                                            (0x10 + fuzz_take(&in, 1) % 0xf0));
            break;
        default:
            vlapic_get_page(&l, page, now);
            break;
        }
        check_consistent(&l);
    }
    return 0;
}
