/*
 * pc_x2apic: the local APIC in x2APIC mode (SDM vol. 3A, 11.12), where
 * CPUID.1:ECX[21] offers it. The switch from xAPIC through APIC_BASE
 * keeps the ID and version; the ID agrees with CPUID and the logical ID
 * is derived from it; SELF_IPI, the 64-bit ICR (fixed and NMI) and the
 * TPR work through MSRs; the timer keeps its one-shot and periodic
 * promises; a write to a read-only register and the illegal x2APIC ->
 * xAPIC transition raise #GP; the legal way back (through disabled)
 * leaves a working xAPIC. QEMU 7.2's TCG has no x2APIC: there the guest
 * says so and passes, so its reference platform is Bochs.
 */
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/guests/lib/timing.h"

#define TIMER_VECTOR   0x40
#define MSR_X2APIC_LDR 0x80d
#define MSR_SELF_IPI   0x83f
#define SETTLE_US      5000
#define MAX_ORDER      8
#define NMI_WAIT_MS    100          /* pc_lapic.c: an NMI may wait for an entry */

static volatile uint32_t order[MAX_ORDER], order_count, nmi_count, ticks;
static volatile uint64_t first_tick_tsc;

static void record_and_eoi(struct interrupt_frame *frame)
{
    if (order_count < MAX_ORDER)
        order[order_count] = frame->vector;
    order_count++;
    lapic_eoi();
}

static void count_nmi(struct interrupt_frame *frame)
{
    (void)frame;
    nmi_count++;
}

static void timer_tick(struct interrupt_frame *frame)
{
    (void)frame;
    if (ticks == 0)
        first_tick_tsc = rdtsc();
    ticks++;
    lapic_eoi();
}

static void let_interrupts_in(uint32_t us)
{
    irq_enable();
    delay_us(us);
    irq_disable();
}

static uint32_t cpuid_x2apic_id(void)
{
    uint32_t max_leaf, a, b, c, d;

    cpuid(0, &max_leaf, &b, &c, &d);
    if (max_leaf >= 0xb) {
        cpuid_subleaf(0xb, 0, &a, &b, &c, &d);
        return d;                   /* leaf 0xb EDX: x2APIC ID */
    }
    cpuid(1, &a, &b, &c, &d);
    return b >> 24;
}

static void check_identity(uint32_t xapic_id, uint32_t xapic_version)
{
    uint32_t id = lapic_id();
    uint32_t ldr = lapic_read(LAPIC_LDR);

    check("x2apic: APIC_BASE has EN and EXTD set after the switch",
          (rdmsr(MSR_APIC_BASE) & (APIC_BASE_ENABLE | APIC_BASE_EXTD)) ==
          (APIC_BASE_ENABLE | APIC_BASE_EXTD));
    check("x2apic: version register unchanged by the switch",
          lapic_read(LAPIC_VERSION) == xapic_version);
    check("x2apic: ID is the xAPIC ID and matches CPUID", id == xapic_id && id == cpuid_x2apic_id());
    check_range("x2apic: logical ID derived from the x2APIC ID (cluster, bit)", ldr,
                ((id >> 4) << 16) | (1u << (id & 0xf)), ((id >> 4) << 16) | (1u << (id & 0xf)));
}

static void check_ipis(void)
{
    order_count = 0;
    wrmsr(MSR_SELF_IPI, 0x48);
    check("x2apic: SELF_IPI vector waits in the IRR while interrupts are off",
          lapic_vector_bit(LAPIC_IRR, 0x48) && order_count == 0);
    let_interrupts_in(SETTLE_US);
    check("x2apic: SELF_IPI vector delivered once", order_count == 1 && order[0] == 0x48);

    order_count = 0;
    lapic_send_ipi(lapic_id(), ICR_FIXED | 0x50);
    let_interrupts_in(SETTLE_US);
    check("x2apic: fixed IPI through the 64-bit ICR to its own ID", order_count == 1 && order[0] == 0x50);

    lapic_send_ipi(lapic_id(), ICR_NMI);
    for (uint64_t end = rdtsc() + ms_to_tsc(NMI_WAIT_MS); nmi_count == 0 && rdtsc() < end;)
        cpu_relax();
    delay_us(SETTLE_US);            /* and no second one */
    check("x2apic: NMI IPI to its own ID taken with interrupts off", nmi_count == 1);

    order_count = 0;
    lapic_write(LAPIC_TPR, 0x80);
    wrmsr(MSR_SELF_IPI, 0x70);
    wrmsr(MSR_SELF_IPI, 0xa0);
    let_interrupts_in(SETTLE_US);
    check("x2apic: TPR 0x80 holds back 0x70, lets 0xa0 through",
          order_count == 1 && order[0] == 0xa0 && lapic_vector_bit(LAPIC_IRR, 0x70));
    lapic_write(LAPIC_TPR, 0);
    let_interrupts_in(SETTLE_US);
    check("x2apic: TPR 0 releases 0x70", order_count == 2 && order[1] == 0x70);
}

static void check_timer(void)
{
    uint64_t armed;

    lapic_timer_calibrate();
    ticks = 0;
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_ONE_SHOT | TIMER_VECTOR);
    armed = rdtsc();
    lapic_write(LAPIC_TIMER_INITIAL, lapic_timer_count(20000, TIMER_DIVIDE_16));
    let_interrupts_in(70000);
    check_range("x2apic timer one-shot 20 ms: first interrupt after 19-45 ms",
                ticks == 0 ? 0 : tsc_to_us(first_tick_tsc - armed), 19000, 45000);
    check("x2apic timer one-shot: exactly one interrupt", ticks == 1);

    ticks = 0;
    lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | TIMER_VECTOR);
    lapic_write(LAPIC_TIMER_INITIAL, lapic_timer_count(10000, TIMER_DIVIDE_16));
    let_interrupts_in(200000);
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    check_range("x2apic timer periodic 10 ms: interrupts in 200 ms (12-21)", ticks, 12, 21);
}

static void check_faults_and_way_back(uint32_t xapic_id)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    check("x2apic: writing the read-only logical ID register raises #GP",
          wrmsr_checked(MSR_X2APIC_LDR, 0) < 0);
    check("x2apic: switching straight back to xAPIC raises #GP",
          wrmsr_checked(MSR_APIC_BASE, (base & ~(uint64_t)APIC_BASE_EXTD) | APIC_BASE_ENABLE) < 0);
    lapic_leave_x2apic();
    check("x2apic: back in xAPIC mode through the disabled state, same ID",
          (rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD) == 0 && lapic_id() == xapic_id);
    order_count = 0;
    lapic_send_ipi(0, ICR_SELF | ICR_FIXED | 0x48);
    let_interrupts_in(SETTLE_US);
    check("x2apic: xAPIC self-IPI works again", order_count == 1 && order[0] == 0x48);
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    static const uint8_t vectors[] = { 0x48, 0x50, 0x70, 0xa0 };
    uint32_t xapic_id, xapic_version;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_x2apic: local APIC in x2APIC mode");
    lapic_init();
    for (uint32_t i = 0; i < sizeof(vectors); i++)
        interrupt_set_handler(vectors[i], record_and_eoi);
    interrupt_set_handler(TIMER_VECTOR, timer_tick);
    interrupt_set_handler(VECTOR_NMI, count_nmi);
    if (!lapic_x2apic_offered()) {
        serial_puts("x2apic: not offered by CPUID\n");
        pc_finish();
    }
    xapic_id = lapic_id();
    xapic_version = lapic_read(LAPIC_VERSION);
    lapic_use_x2apic();
    lapic_init();
    check_identity(xapic_id, xapic_version);
    check_ipis();
    check_timer();
    check_faults_and_way_back(xapic_id);
    pc_finish();
}
