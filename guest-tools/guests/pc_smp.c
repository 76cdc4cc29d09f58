/*
 * pc_smp: the guest brings up its APs itself, as an OS does: the APIC IDs
 * from the MADT, a real-mode trampoline below 1 MiB, INIT, STARTUP,
 * STARTUP to each (lib/smp.c). Each AP reports from its own CPU that it
 * reached protected mode and that its APIC ID matches its CPUID. Then
 * IPIs between all of them:
 *   a ring: a fixed IPI goes round CPU 0 -> 1 -> ... -> 0, each handler
 *   passing it on, RING_ROUNDS times; every CPU must receive exactly
 *   RING_ROUNDS;
 *   a broadcast (all-excluding-self shorthand) reaches each AP once and
 *   not the sender;
 *   a logical (flat model) destination naming all APs reaches each once.
 * The test runs it with 4 vcpus (-smp 4 / cpus=4), which it also prints.
 */
#include "guest-tools/guests/lib/acpi.h"
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/guests/lib/smp.h"
#include "guest-tools/guests/lib/timing.h"

#define RING_VECTOR      0x41
#define BROADCAST_VECTOR 0x42
#define LOGICAL_VECTOR   0x43
#define RING_ROUNDS      50
#define MAX_CPUS         (SMP_MAX_APS + 1)
#define FLAT_MAX_CPUS    8          /* the flat logical model's 8 bits */
#define SETTLE_US        10000

static struct madt_info madt;
static volatile uint32_t checked_in;
static volatile uint32_t cpu_count;
static volatile uint32_t apic_ids[MAX_CPUS];   /* by CPU index; 0 is the boot CPU */
static volatile uint32_t ring_received[MAX_CPUS], broadcast_received[MAX_CPUS],
    logical_received[MAX_CPUS];
static volatile uint32_t hops, ring_total;

static uint32_t my_index(void)
{
    uint32_t id = lapic_id();

    for (uint32_t i = 0; i < cpu_count; i++)
        if (apic_ids[i] == id)
            return i;
    return 0;
}

/* Passes the ring's IPI on to the next CPU until it went round enough. */
static void ring_ipi(struct interrupt_frame *frame)
{
    uint32_t index = my_index(), hop;

    (void)frame;
    ring_received[index]++;
    hop = atomic_fetch_inc(&hops) + 1;
    lapic_eoi();
    if (hop < ring_total)
        lapic_send_ipi(apic_ids[(index + 1) % cpu_count], ICR_FIXED | RING_VECTOR);
}

static void broadcast_ipi(struct interrupt_frame *frame)
{
    (void)frame;
    broadcast_received[my_index()]++;
    lapic_eoi();
}

static void logical_ipi(struct interrupt_frame *frame)
{
    (void)frame;
    logical_received[my_index()]++;
    lapic_eoi();
}

/* Flat model: bit `index` of the 8-bit logical ID (SDM 11.6.2.2). */
static void set_logical_id(uint32_t index)
{
    lapic_write(LAPIC_DFR, 0xffffffffu);
    lapic_write(LAPIC_LDR, index < FLAT_MAX_CPUS ? (1u << index) << 24 : 0);
}

static void ap_main(uint32_t index)
{
    uint32_t a, b, c, d;

    descriptors_load();
    lapic_init();
    set_logical_id(index);
    apic_ids[index] = lapic_id();
    cpuid(1, &a, &b, &c, &d);
    /* The boot CPU waits for this check-in before it starts the next AP,
     * so the APs' lines come one at a time. */
    serial_puts("smp: ap ");
    serial_put_dec(index);
    check(" up in protected mode, APIC ID matches CPUID", apic_ids[index] == b >> 24);
    atomic_fetch_inc(&checked_in);
    for (;;)
        irq_enable_and_halt();
}

/* With interrupts on, until *counter reaches target or ms pass. */
static void wait_for(volatile uint32_t *counter, uint32_t target, uint32_t ms)
{
    uint64_t end = rdtsc() + ms_to_tsc(ms);

    irq_enable();
    while (*counter < target && rdtsc() < end)
        cpu_relax();
    delay_us(SETTLE_US);            /* anything extra would arrive now */
    irq_disable();
}

static int each_received(volatile uint32_t *received, uint32_t boot_cpu, uint32_t ap)
{
    if (received[0] != boot_cpu)
        return 0;
    for (uint32_t i = 1; i < cpu_count; i++)
        if (received[i] != ap)
            return 0;
    return 1;
}

static uint32_t sum(volatile uint32_t *received)
{
    uint32_t total = 0;

    for (uint32_t i = 0; i < cpu_count; i++)
        total += received[i];
    return total;
}

/* Until the per-CPU counts add up to target (or a second passes), then
 * a little longer for any extra delivery. */
static void wait_for_sum(volatile uint32_t *received, uint32_t target)
{
    uint64_t end = rdtsc() + ms_to_tsc(1000);

    while (sum(received) < target && rdtsc() < end)
        cpu_relax();
    delay_us(SETTLE_US);
}

static void check_ipis(void)
{
    ring_total = RING_ROUNDS * cpu_count;
    lapic_send_ipi(apic_ids[1], ICR_FIXED | RING_VECTOR);
    wait_for(&hops, ring_total, 10000);
    check("smp: fixed IPI ring, 50 rounds: every vcpu received 50",
          hops == ring_total && each_received(ring_received, RING_ROUNDS, RING_ROUNDS));

    lapic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_FIXED | BROADCAST_VECTOR);
    wait_for_sum(broadcast_received, cpu_count - 1);
    check("smp: all-excluding-self IPI reached every AP once, not the sender",
          each_received(broadcast_received, 0, 1));

    if (cpu_count <= FLAT_MAX_CPUS) {
        uint32_t all_aps = ((1u << cpu_count) - 1) & ~1u;

        lapic_send_ipi(all_aps, ICR_LOGICAL | ICR_FIXED | LOGICAL_VECTOR);
        wait_for_sum(logical_received, cpu_count - 1);
        check("smp: logical-destination IPI to all APs reached each once",
              each_received(logical_received, 0, 1));
    }
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    uint32_t listed, started;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_smp: APs started by the guest, IPIs between them");
    lapic_init();
    set_logical_id(0);
    interrupt_set_handler(RING_VECTOR, ring_ipi);
    interrupt_set_handler(BROADCAST_VECTOR, broadcast_ipi);
    interrupt_set_handler(LOGICAL_VECTOR, logical_ipi);
    if (!check("smp: MADT found", acpi_parse_madt(&madt) == 0))
        pc_finish();
    listed = madt.processors < MAX_CPUS ? madt.processors : MAX_CPUS;
    report_value("smp: processors in the MADT", madt.processors, "");
    apic_ids[0] = lapic_id();
    cpu_count = 1;
    started = smp_start_aps(madt.apic_ids, listed, ap_main, &checked_in);
    cpu_count = started + 1;
    report_value("smp: APs started by INIT, STARTUP, STARTUP", started, "");
    check("smp: every AP the MADT lists checked in", started + 1 == listed);
    if (started > 0)
        check_ipis();
    pc_finish();
}
