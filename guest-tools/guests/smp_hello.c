/*
 * smp_hello: every vcpu of an SMP guest says hello from its own CPU. Each
 * prints its index, the vcpu count and the initial APIC ID CPUID reports
 * (the hypervisor runs each vcpu on the physical CPU of the control-domain
 * vcpu that runs it, so the IDs differ), then checks in on a shared
 * counter. vcpu 0 waits for all of them and exits with 0x13; the others
 * halt. Under a plain multiboot loader it is one vcpu and exits at once.
 */
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/vmm/smp_entry.h"

/* Written by every vcpu with LOCK XADD; read by vcpu 0. */
static volatile uint32_t checked_in;

static uint32_t initial_apic_id(void)
{
    uint32_t a, b, c, d;

    cpuid(1, &a, &b, &c, &d);
    return b >> 24;             /* leaf 1 EBX bits 31..24 */
}

static void check_in(void)
{
    uint32_t one = 1;

    __asm__ volatile("lock xaddl %0, %1"
                     : "+r"(one), "+m"(checked_in) : : "memory");
}

int guest_main(uint32_t magic, uint32_t arg)
{
    uint32_t index = magic == VMM_SMP_MARKER ? arg : 0;
    uint32_t count = guest_vcpu_count;

    /* One serial_puts per piece, but the VMM keeps a line per vcpu, so
     * lines from vcpus printing at once do not mix. */
    serial_puts("hello from vcpu ");
    serial_put_dec(index);
    serial_puts(" of ");
    serial_put_dec(count);
    serial_puts(", APIC ID ");
    serial_put_dec(initial_apic_id());
    serial_puts("\n");
    check_in();

    if (index != 0) {
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    while (checked_in < count)
        __asm__ volatile("pause");
    serial_puts("all ");
    serial_put_dec(count);
    serial_puts(" vcpus checked in\n");
    return GUEST_STATUS_SMP_HELLO;
}
