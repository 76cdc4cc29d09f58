#include "hv/nmi.h"

#include "abi/hv_errno.h"
#include "hv/apic.h"
#include "hv/percpu.h"
#include "hv/run_watchdog.h"
#include "hv/trap.h"

/* Vector 2. An NMI carries no cause: for the hypervisor it is a test's or
 * a watchdog's knock, and all it does is count. It runs on the NMI's IST
 * stack with NMIs blocked until its IRETQ, so it never nests; it touches
 * no lock, so it may interrupt any code, console output included. GS is
 * the hypervisor's whenever an NMI can be taken: on SVM, GIF holds NMIs
 * back while the guest's GS base is loaded around VMRUN. */
static void nmi_handler(struct trap_frame *frame)
{
    (void)frame;
    if (!percpu_ready)
        return; /* an NMI before this CPU's GS is set: nothing to count on */
    if (run_watchdog_nmi_taken())
        return; /* its exit ends the RUN; not a test's NMI */
    __atomic_fetch_add(&this_cpu()->nmi_count, 1, __ATOMIC_RELAXED);
}

void nmi_init(void)
{
    interrupt_register(VECTOR_NMI, nmi_handler);
}

uint64_t nmi_count_all(void)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < cpu_count; i++)
        if (percpu_of[i])
            total += __atomic_load_n(&percpu_of[i]->nmi_count, __ATOMIC_RELAXED);
    return total;
}

long nmi_send(uint64_t cpu)
{
    if (cpu >= cpu_count || !percpu_of[cpu])
        return -HV_ERANGE;
    /* Delivery mode NMI ignores the vector; physical destination, the
     * sender's own APIC ID included. */
    apic_send_ipi(percpu_of[cpu]->apic_id, ICR_NMI | ICR_ASSERT);
    return 0;
}
