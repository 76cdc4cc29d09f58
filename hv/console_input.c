#include "hv/console_input.h"

#include "hv/apic.h"
#include "hv/console.h"
#include "hv/ioapic.h"
#include "hv/percpu.h"
#include "hv/serial.h"
#include "hv/spinlock.h"
#include "hv/trap.h"

_Static_assert((CONSOLE_INPUT_RING_SIZE & (CONSOLE_INPUT_RING_SIZE - 1)) == 0,
               "the ring's indices wrap by masking");

/* A stuck UART that always claims data must not keep a CPU in the drain
 * loop: more than one ring's worth per drain is not real input. */
#define DRAIN_MAX CONSOLE_INPUT_RING_SIZE

static struct spinlock input_lock = SPINLOCK_INIT;
static uint8_t ring[CONSOLE_INPUT_RING_SIZE];
static uint32_t ring_head;      /* next byte to read; free-running */
static uint32_t ring_tail;      /* next byte to write; free-running */
static uint64_t received_total;
static uint64_t dropped_total;
static unsigned reader_cpu;     /* index of the CPU woken for input */

/* Under input_lock. Returns the bytes taken from the UART. */
static unsigned drain_uart(void)
{
    unsigned taken = 0;
    uint8_t byte;
    while (taken < DRAIN_MAX && serial_getc(COM1_PORT, &byte)) {
        taken++;
        received_total++;
        if (ring_tail - ring_head == CONSOLE_INPUT_RING_SIZE) {
            dropped_total++;
            continue;
        }
        ring[ring_tail++ & (CONSOLE_INPUT_RING_SIZE - 1)] = byte;
    }
    return taken;
}

/* The flag is set before the IPI, so the reader either sees it before it
 * halts or is woken by the IPI (which waits in its LAPIC while IF is
 * clear and ends the STI; HLT). */
static void notify_reader(void)
{
    unsigned index = __atomic_load_n(&reader_cpu, __ATOMIC_RELAXED);
    struct percpu *target = index < cpu_count ? percpu_of[index] : NULL;
    if (!target)
        return;
    __atomic_store_n(&target->console_input_pending, true, __ATOMIC_RELEASE);
    if (target != this_cpu())
        apic_send_ipi(target->apic_id, VECTOR_KICK);
}

static void console_input_interrupt(struct trap_frame *frame)
{
    (void)frame;
    spin_lock(&input_lock);
    unsigned taken = drain_uart();
    spin_unlock(&input_lock);
    apic_eoi();
    if (taken)
        notify_reader();
}

void console_input_init(const struct madt_info *madt, uint8_t vector, uint32_t apic_id)
{
    interrupt_register(vector, console_input_interrupt);
    if (apic_id > 0xff ||
        ioapic_route(madt->ioapic_address, madt->ioapic_gsi_base, madt->com1_gsi,
                     madt->com1_flags, vector, apic_id)) {
        pr_info("console: no IOAPIC route for COM1; input is read only when asked for");
        return;
    }
    /* Bytes typed before now would hold the IRQ line without an edge. */
    spin_lock(&input_lock);
    drain_uart();
    spin_unlock(&input_lock);
    serial_enable_receive_interrupt(COM1_PORT);
    pr_info("console: input from COM1 by interrupt (GSI %u, vector 0x%x)",
            madt->com1_gsi, vector);
}

uint64_t console_input_read(uint8_t *dst, uint64_t max)
{
    __atomic_store_n(&reader_cpu, this_cpu_index(), __ATOMIC_RELAXED);
    spin_lock(&input_lock);
    drain_uart();
    uint64_t n = 0;
    while (n < max && ring_head != ring_tail)
        dst[n++] = ring[ring_head++ & (CONSOLE_INPUT_RING_SIZE - 1)];
    spin_unlock(&input_lock);
    return n;
}

void console_input_counts(uint64_t *received, uint64_t *dropped)
{
    spin_lock(&input_lock);
    *received = received_total;
    *dropped = dropped_total;
    spin_unlock(&input_lock);
}

bool console_input_pending(void)
{
    return __atomic_load_n(&this_cpu()->console_input_pending, __ATOMIC_ACQUIRE);
}

bool console_input_take_pending(void)
{
    struct percpu *cpu = this_cpu();
    return __atomic_load_n(&cpu->console_input_pending, __ATOMIC_RELAXED) &&
           __atomic_exchange_n(&cpu->console_input_pending, false, __ATOMIC_ACQ_REL);
}
