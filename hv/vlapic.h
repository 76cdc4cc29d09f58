/* A guest's local APIC: the register page, interrupt acceptance and
 * priority, EOI and the timer, in xAPIC (MMIO page) and x2APIC (MSR) form.
 * Pure logic on one vcpu's state, with time passed in as TSC values, so
 * that tests/ can run it natively; hv/vcpu_lapic.c connects it to vcpus.
 *
 * The register page is kept as hardware lays it out (Intel SDM vol. 3A,
 * table 11-1): a 32-bit register at each 16-byte offset below 0x400. It is
 * what GET/SET_LAPIC move, and what APICv or AVIC would later back.
 *
 * Locking: the vcpu's claim covers all of it, except that another CPU's
 * IPI sets bits in IRR/TMR with atomic ORs (vlapic_accept) and then kicks
 * the vcpu. */
#ifndef HV_VLAPIC_H
#define HV_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets (SDM vol. 3A, table 11-1). */
#define LAPIC_ID        0x020
#define LAPIC_VERSION   0x030
#define LAPIC_TPR       0x080
#define LAPIC_APR       0x090
#define LAPIC_PPR       0x0a0
#define LAPIC_EOI       0x0b0
#define LAPIC_RRD       0x0c0
#define LAPIC_LDR       0x0d0
#define LAPIC_DFR       0x0e0
#define LAPIC_SVR       0x0f0
#define LAPIC_ISR       0x100
#define LAPIC_TMR       0x180
#define LAPIC_IRR       0x200
#define LAPIC_ESR       0x280
#define LAPIC_LVT_CMCI  0x2f0
#define LAPIC_ICR_LOW   0x300
#define LAPIC_ICR_HIGH  0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PERF  0x340
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE  0x3e0
#define LAPIC_SELF_IPI  0x3f0       /* x2APIC only */
#define LAPIC_PAGE_BYTES 0x400

#define LAPIC_SVR_ENABLE      (1u << 8)
#define LAPIC_LVT_MASKED      (1u << 16)
#define LAPIC_LVT_LEVEL       (1u << 15)
#define LAPIC_LVT_REMOTE_IRR  (1u << 14)
#define LAPIC_LVT_PENDING     (1u << 12)
#define LAPIC_LVT_DELIVERY(v) (((v) >> 8) & 7)
#define LAPIC_TIMER_MODE(v)   (((v) >> 17) & 3)
#define LAPIC_TIMER_ONESHOT   0
#define LAPIC_TIMER_PERIODIC  1
#define LAPIC_TIMER_DEADLINE  2

/* ICR fields (SDM vol. 3A, 11.6.1). */
#define LAPIC_ICR_VECTOR(v)     ((v) & 0xff)
#define LAPIC_ICR_DELIVERY(v)   (((v) >> 8) & 7)
#define LAPIC_ICR_LOGICAL       (1u << 11)
#define LAPIC_ICR_PENDING       (1u << 12)
#define LAPIC_ICR_ASSERT        (1u << 14)
#define LAPIC_ICR_LEVEL         (1u << 15)
#define LAPIC_ICR_SHORTHAND(v)  (((v) >> 18) & 3)
/* The x2APIC ICR's reserved bits, whose WRMSR gives #GP (SDM 10.12.9;
 * bit 12, delivery status in xAPIC mode, ignored, as KVM does). */
#define X2APIC_ICR_RESERVED     0xfff32000ull
enum { DELIVERY_FIXED = 0, DELIVERY_LOWEST = 1, DELIVERY_SMI = 2, DELIVERY_NMI = 4,
       DELIVERY_INIT = 5, DELIVERY_STARTUP = 6, DELIVERY_EXTINT = 7 };
enum { SHORTHAND_NONE = 0, SHORTHAND_SELF = 1, SHORTHAND_ALL = 2, SHORTHAND_OTHERS = 3 };

/* IA32_APIC_BASE bits and the x2APIC MSR range. */
#define APIC_BASE_MSR_BSP    (1ull << 8)
#define APIC_BASE_MSR_EXTD   (1ull << 10)
#define APIC_BASE_MSR_EN     (1ull << 11)
#define APIC_BASE_DEFAULT    0xfee00000ull
#define X2APIC_MSR_FIRST     0x800u
#define X2APIC_MSR_LAST      0x8ffu
#define MSR_TSC_DEADLINE     0x6e0u

/* Virtual bus clock of the timer: 1 GHz, one tick a nanosecond (what KVM
 * gives its guests too), so guests that calibrate it get round figures. */
#define VLAPIC_BUS_KHZ 1000000u

struct vlapic {
    uint32_t page[LAPIC_PAGE_BYTES / 4]; /* register at offset o: page[o / 4] */
    uint64_t apic_base;         /* IA32_APIC_BASE */
    uint64_t tsc_deadline;      /* IA32_TSC_DEADLINE (the guest's TSC); 0 disarmed */
    /* The guest's TSC minus the host's (the backend's TSC offset): every
     * `now` and timer below is the host's TSC, the deadline the guest's. */
    uint64_t tsc_offset;
    uint64_t timer_start;       /* TSC the one-shot/periodic count started */
    uint64_t timer_fire;        /* TSC of the next expiry; 0 not armed */
    uint32_t tsc_khz;           /* host TSC rate, for the timer */
    uint32_t divide;            /* 1..128, from the divide register */
    uint32_t esr_pending;       /* errors since the last ESR write */
    uint8_t last_eoi;           /* vector the last EOI retired */
    /* MAXPHYADDR: IA32_APIC_BASE's address bits from it up are reserved
     * (a WRMSR setting one gives #GP). 52 after vlapic_reset; the vcpu
     * sets the CPU's. */
    uint8_t address_bits;
    /* The highest vector in ISR, or -1: ISR changes only on the vcpu's
     * own CPU (acknowledge, EOI, reset, SET_LAPIC), so PPR and EOI need
     * no scan of it but the one after an EOI. */
    int16_t isr_top;
    uint8_t isr_count;          /* vectors in ISR: an EOI that empties it
                                   needs no scan for the next */
    /* IRR's summary: bit w is set whenever IRR's word w may hold a
     * vector. Any CPU sets it after the word (vlapic_accept); the vcpu's
     * CPU clears it when an acknowledgement empties the word, then sets
     * it again if another CPU set a bit meanwhile. So an empty summary
     * is an empty IRR to any scan (a bit set after the scan comes with a
     * kick), and an EOI with nothing pending reads one byte, not eight
     * words. */
    uint8_t irr_words;
    /* Posts and whole rewrites of the page kept apart: bit 0 is set
     * while the vcpu's CPU rewrites the page (SET_LAPIC's
     * vlapic_set_page, INIT, RESET), and each post from any CPU counts 2
     * while it stores TMR and IRR. A rewrite waits for the posts under
     * way and holds off new ones, so that none is left half in the image
     * (its IRR bit with the image's TMR bit, or pending in an APIC that
     * INIT just reset). Posts do not wait for each other. */
    uint32_t posting;
};

/* What a register write asks of the caller, beyond the page change. */
enum vlapic_action {
    VLAPIC_DONE = 0,
    VLAPIC_SEND_IPI,          /* the ICR was written: read it, deliver */
    VLAPIC_EOI_LEVEL,         /* EOI of a level-triggered vector: broadcast */
    VLAPIC_TIMER_CHANGED,     /* the timer's next expiry moved */
    VLAPIC_MODE_ERROR,        /* the access is wrong for the mode: #GP */
};

/* The state after RESET (SDM 10.4.7.1), with APIC ID `id`. */
void vlapic_reset(struct vlapic *lapic, uint32_t id, bool bsp, uint32_t tsc_khz);
/* INIT keeps the APIC ID and base, resets the rest (SDM 10.4.7.3). */
void vlapic_init_signal(struct vlapic *lapic);

bool vlapic_enabled(const struct vlapic *lapic);  /* hardware and software */
/* Inline: every x2APIC WRMSR exit asks first. */
static inline bool vlapic_x2apic(const struct vlapic *lapic)
{
    return (lapic->apic_base & (APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD)) ==
           (APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD);
}
uint32_t vlapic_id(const struct vlapic *lapic);

/* xAPIC MMIO access at `offset` in the page (4-byte aligned, 4 bytes). */
uint32_t vlapic_mmio_read(struct vlapic *lapic, uint32_t offset, uint64_t now);
enum vlapic_action vlapic_mmio_write(struct vlapic *lapic, uint32_t offset, uint32_t value,
                                     uint64_t now);
/* x2APIC MSR access (0x800-0x8ff); false: #GP, as hardware. */
bool vlapic_msr_read(struct vlapic *lapic, uint32_t msr, uint64_t *value, uint64_t now);
bool vlapic_msr_write(struct vlapic *lapic, uint32_t msr, uint64_t value, uint64_t now,
                      enum vlapic_action *action);
/* The x2APIC ICR (0x830) written with a fixed IPI of a legal vector
 * (16-255), in x2APIC mode: the register as vlapic_msr_write leaves it,
 * for the caller to send (what it would answer VLAPIC_SEND_IPI for). */
void vlapic_x2apic_write_icr(struct vlapic *lapic, uint64_t value);
/* IA32_APIC_BASE writes, with the mode transitions hardware allows
 * (SDM 10.12.5); false: #GP. */
bool vlapic_set_base(struct vlapic *lapic, uint64_t value);
/* Whether vlapic_set_base would take `value`, with nothing changed: a
 * SET_SREGS checks its apic_base before any of its state is set. */
bool vlapic_base_allowed(const struct vlapic *lapic, uint64_t value);
/* TSC_DEADLINE MSR: armed in TSC-deadline mode only, reads 0 outside it.
 * The value is the guest's TSC, which fires when the host's reaches it
 * less the offset (SDM 10.5.4.1: the deadline is compared with the TSC
 * the guest reads). */
void vlapic_set_tsc_deadline(struct vlapic *lapic, uint64_t value);
uint64_t vlapic_get_tsc_deadline(const struct vlapic *lapic);
/* The guest's TSC moved (a write of IA32_TSC or TSC_ADJUST): an armed
 * deadline keeps its value, so it fires at another host time. */
void vlapic_set_tsc_offset(struct vlapic *lapic, uint64_t offset);
/* The host TSC at which the guest's reaches `deadline`: 0 for 0, else
 * never 0 (0 means unarmed); 1 for a deadline before the host's TSC
 * began, UINT64_MAX for one past the host's range. */
uint64_t vlapic_deadline_tsc(const struct vlapic *lapic, uint64_t deadline);

/* Interrupt acceptance: sets IRR (and TMR for level). Safe against a
 * concurrent owner: only atomic ORs. false if the APIC is disabled (hardware
 * drops the interrupt). */
bool vlapic_accept(struct vlapic *lapic, uint8_t vector, bool level);
/* The highest vector the guest should take now (IRR above PPR), or -1. */
int vlapic_pending(const struct vlapic *lapic);
/* For a CPU that takes the guest's TPR writes itself (VMX's TPR shadow):
 * the priority class of IRR's highest vector when TPR alone holds it
 * back, so that a TPR write below it exits (SDM 3C 29.1.2), else 0. */
int vlapic_tpr_threshold(const struct vlapic *lapic);
/* An edge-triggered `vector` the CPU takes the moment it is sent, when
 * nothing above PPR waits in IRR (the caller knows) and the CPU can take
 * an interrupt: straight into ISR, PPR up, true. false, nothing done: it
 * would not be taken now (APIC disabled, illegal vector, not above PPR),
 * so it goes through vlapic_accept. */
bool vlapic_take_at_once(struct vlapic *lapic, uint8_t vector);
/* The CPU took `vector`: IRR to ISR, PPR up. */
void vlapic_acknowledge(struct vlapic *lapic, uint8_t vector);
uint32_t vlapic_ppr(const struct vlapic *lapic);
/* The task priority as CR8 moves it (SDM 10.8.6.1: CR8 is TPR[7:4]),
 * PPR following. */
uint32_t vlapic_tpr(const struct vlapic *lapic);
void vlapic_set_tpr(struct vlapic *lapic, uint32_t tpr);

/* The LVT timer: TSC of the next expiry (0: none), and its expiry at
 * `now` (raises the vector, re-arms a periodic timer). */
uint64_t vlapic_timer_next(const struct vlapic *lapic);
void vlapic_timer_expire(struct vlapic *lapic, uint64_t now);

/* For VLAPIC_EOI_LEVEL: the vector the last EOI retired. */
uint8_t vlapic_last_eoi_vector(const struct vlapic *lapic);
/* The x2APIC EOI's fast path (hv/vcpu_lapic.c), in one call: EOI, then
 * what is pending as vlapic_pending says; or VLAPIC_EOI_NOT_EDGE, nothing
 * done, when the vector it would retire is level-triggered (the IOAPIC
 * must hear of that EOI). */
#define VLAPIC_EOI_NOT_EDGE (-2)
int vlapic_eoi_edge(struct vlapic *lapic);

/* Destination matching of an IPI or MSI (SDM 10.6.2): physical ID or
 * logical (flat/cluster by DFR; x2APIC cluster), with 0xff (xAPIC) or
 * 0xffffffff (x2APIC) broadcast. */
bool vlapic_matches(const struct vlapic *lapic, uint32_t dest, bool logical);

/* GET/SET_LAPIC: the page as the ABI gives it; set recomputes the timer.
 * Both keep posts out while they copy (struct vlapic's `posting`), on the
 * vcpu's claimed CPU. */
void vlapic_get_page(struct vlapic *lapic, uint8_t *out, uint64_t now);
void vlapic_set_page(struct vlapic *lapic, const uint8_t *in, uint64_t now);

#endif
