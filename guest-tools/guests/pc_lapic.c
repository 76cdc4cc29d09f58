/*
 * pc_lapic: the local APIC's interrupt acceptance in xAPIC mode, as the
 * SDM (vol. 3A, 11.8) describes it: a self-IPI waits in the IRR while
 * interrupts are off and is delivered once; pending vectors go out
 * highest first; a higher vector preempts a handler that re-enabled
 * interrupts, a lower one waits until the EOI, and an EOI retires only
 * the highest in-service vector; the TPR holds back every priority class
 * at or below its own; an NMI IPI to oneself arrives with IF clear.
 */
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/guests/lib/timing.h"

#define SETTLE_US 5000          /* ample time for a pending interrupt to arrive */
#define MAX_ORDER 8
#define NMI_WAIT_MS 100
#define EFLAGS_TF   (1u << 8)

static volatile uint32_t order[MAX_ORDER];
static volatile uint32_t order_count;
static volatile uint32_t nmi_count;
/* What the nesting handlers saw, checked afterwards. */
static volatile int nested_isr_both, low_isr_after_eoi, high_isr_after_eoi;
static volatile int held_while_in_service, released_by_eoi;

static void note(uint32_t vector)
{
    if (order_count < MAX_ORDER)
        order[order_count] = vector;
    order_count++;
}

static void record_and_eoi(struct interrupt_frame *frame)
{
    note(frame->vector);
    lapic_eoi();
}

static void count_nmi(struct interrupt_frame *frame)
{
    (void)frame;
    nmi_count++;
}

static int order_is(uint32_t count, uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t expected[3] = { a, b, c };

    if (order_count != count)
        return 0;
    for (uint32_t i = 0; i < count; i++)
        if (order[i] != expected[i])
            return 0;
    return 1;
}

static void reset_order(void)
{
    order_count = 0;
}

static void self_ipi(uint8_t vector)
{
    lapic_send_ipi(0, ICR_SELF | ICR_FIXED | vector);
}

/* With interrupts on for a moment, whatever is deliverable arrives. */
static void let_interrupts_in(void)
{
    irq_enable();
    delay_us(SETTLE_US);
    irq_disable();
}

static void check_identity(void)
{
    uint32_t a, b, c, d;
    uint32_t version = lapic_read(LAPIC_VERSION);

    cpuid(1, &a, &b, &c, &d);
    check("lapic: version register names an integrated APIC",
          (version & 0xff) >= 0x10 && (version & 0xff) <= 0x15);
    check("lapic: ID register matches the initial APIC ID in CPUID", lapic_id() == b >> 24);
    check("lapic: APIC_BASE marks this CPU as the boot CPU",
          (rdmsr(MSR_APIC_BASE) & APIC_BASE_BSP) != 0);
}

static void check_self_ipi(void)
{
    int pending;

    reset_order();
    self_ipi(0x40);
    pending = lapic_vector_bit(LAPIC_IRR, 0x40);
    check("lapic: self-IPI waits in the IRR while interrupts are off",
          pending && order_count == 0);
    let_interrupts_in();
    check("lapic: self-IPI delivered once after STI, ISR clear after EOI",
          order_is(1, 0x40, 0, 0) && !lapic_vector_bit(LAPIC_ISR, 0x40));
}

static void check_priority_order(void)
{
    reset_order();
    self_ipi(0x50);
    self_ipi(0x90);
    self_ipi(0x60);
    let_interrupts_in();
    check("lapic: pending vectors 0x50, 0x90, 0x60 delivered as 0x90, 0x60, 0x50",
          order_is(3, 0x90, 0x60, 0x50));
}

/* 0x58 re-enables interrupts and raises 0xa8, which must preempt it. */
static void low_then_high(struct interrupt_frame *frame)
{
    note(frame->vector);
    self_ipi(0xa8);
    irq_enable();
    delay_us(SETTLE_US);
    irq_disable();
    low_isr_after_eoi = lapic_vector_bit(LAPIC_ISR, 0x58) && !lapic_vector_bit(LAPIC_ISR, 0xa8);
    note(frame->vector);
    lapic_eoi();
}

static void high_nested(struct interrupt_frame *frame)
{
    note(frame->vector);
    nested_isr_both = lapic_vector_bit(LAPIC_ISR, 0x58) && lapic_vector_bit(LAPIC_ISR, 0xa8);
    lapic_eoi();
}

/* 0xb8 raises 0x68, which must wait for 0xb8's EOI even with IF set. */
static void high_then_low(struct interrupt_frame *frame)
{
    note(frame->vector);
    self_ipi(0x68);
    irq_enable();
    delay_us(SETTLE_US);
    held_while_in_service = order_count == 1 && lapic_vector_bit(LAPIC_IRR, 0x68);
    lapic_eoi();
    delay_us(SETTLE_US);
    irq_disable();
    released_by_eoi = order_count == 2;
    high_isr_after_eoi = !lapic_vector_bit(LAPIC_ISR, 0xb8);
}

static void check_nesting(void)
{
    reset_order();
    interrupt_set_handler(0x58, low_then_high);
    interrupt_set_handler(0xa8, high_nested);
    self_ipi(0x58);
    let_interrupts_in();
    check("lapic: 0xa8 preempts the 0x58 handler that re-enabled interrupts",
          order_is(3, 0x58, 0xa8, 0x58) && nested_isr_both);
    check("lapic: EOI retires only the highest in-service vector", low_isr_after_eoi);

    reset_order();
    interrupt_set_handler(0xb8, high_then_low);
    interrupt_set_handler(0x68, record_and_eoi);
    self_ipi(0xb8);
    let_interrupts_in();
    check("lapic: 0x68 waits in the IRR while 0xb8 is in service", held_while_in_service);
    check("lapic: 0x68 delivered at 0xb8's EOI", released_by_eoi && high_isr_after_eoi &&
          order_is(2, 0xb8, 0x68, 0));
}

static void check_task_priority(void)
{
    reset_order();
    lapic_write(LAPIC_TPR, 0x80);
    self_ipi(0x70);
    self_ipi(0x85);
    self_ipi(0xa0);
    let_interrupts_in();
    check("lapic: TPR 0x80 holds back 0x70 and 0x85, lets 0xa0 through",
          order_is(1, 0xa0, 0, 0) && lapic_vector_bit(LAPIC_IRR, 0x70) &&
          lapic_vector_bit(LAPIC_IRR, 0x85));
    check("lapic: PPR equals TPR 0x80 with nothing in service",
          (lapic_read(LAPIC_PPR) & 0xff) == 0x80);
    lapic_write(LAPIC_TPR, 0x70);
    let_interrupts_in();
    check("lapic: TPR 0x70 releases 0x85 only", order_is(2, 0xa0, 0x85, 0));
    lapic_write(LAPIC_TPR, 0);
    let_interrupts_in();
    check("lapic: TPR 0 releases 0x70", order_is(3, 0xa0, 0x85, 0x70));
}

/* The NMI is given up to NMI_WAIT_MS: under a hypervisor it may wait for
 * the vcpu's next entry (seen: ~16 ms on VMX under Bochs). */
static void check_nmi(void)
{
    uint64_t end;

    interrupt_set_handler(VECTOR_NMI, count_nmi);
    lapic_send_ipi(lapic_id(), ICR_NMI);
    end = rdtsc() + ms_to_tsc(NMI_WAIT_MS);
    while (nmi_count == 0 && rdtsc() < end)
        cpu_relax();
    delay_us(SETTLE_US);            /* and no second one */
    check("lapic: NMI IPI to its own APIC ID taken with interrupts off", nmi_count == 1);
}

/* An NMI handler whose IRET faults while a second NMI waits for it: the
 * fault's handler gets the frame the CPU makes, with no trap flag in it
 * (on SVM the hypervisor single-steps over that IRET to see NMIs
 * unblocked), repairs the IRET's frame, and both NMIs are taken. When the
 * second one comes (inside the #GP handler or after the repaired IRET)
 * is the CPU's affair: not checked. */
static volatile uint32_t faulting_nmis, iret_faults, iret_fault_eflags;

static void nmi_with_faulting_iret(struct interrupt_frame *frame)
{
    if (faulting_nmis++ == 0) {
        lapic_send_ipi(lapic_id(), ICR_NMI);   /* held: NMIs are blocked */
        frame->cs = 0;                         /* the stub's IRET: #GP(0) */
    }
}

static void iret_fault(struct interrupt_frame *frame)
{
    /* The faulting IRET's EIP, CS and EFLAGS lie right above this
     * frame: a fault at the same privilege pushes no stack pointer. */
    uint32_t *iret_frame = &frame->eflags + 1;

    iret_faults++;
    iret_fault_eflags = frame->eflags;
    iret_frame[1] = GDT_CODE32;
}

static void check_nmi_iret_fault(void)
{
    uint64_t end;

    interrupt_set_handler(VECTOR_NMI, nmi_with_faulting_iret);
    interrupt_set_handler(VECTOR_GP, iret_fault);
    lapic_send_ipi(lapic_id(), ICR_NMI);
    end = rdtsc() + ms_to_tsc(NMI_WAIT_MS);
    while (faulting_nmis < 2 && rdtsc() < end)
        cpu_relax();
    delay_us(SETTLE_US);
    interrupt_set_handler(VECTOR_GP, 0);
    CHECK_VALUES("lapic: an NMI handler's faulting IRET: #GP without a trap flag, both NMIs",
                 iret_faults == 1 && !(iret_fault_eflags & EFLAGS_TF) && faulting_nmis == 2,
                 { "faults", iret_faults }, { "eflags", iret_fault_eflags },
                 { "nmis", faulting_nmis });
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    static const uint8_t plain_vectors[] = { 0x40, 0x50, 0x60, 0x70, 0x85, 0x90, 0xa0 };

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_lapic: local APIC interrupt acceptance (xAPIC)");
    lapic_init();
    for (uint32_t i = 0; i < sizeof(plain_vectors); i++)
        interrupt_set_handler(plain_vectors[i], record_and_eoi);
    check_identity();
    check_self_ipi();
    check_priority_order();
    check_nesting();
    check_task_priority();
    check_nmi();
    check_nmi_iret_fault();
    pc_finish();
}
