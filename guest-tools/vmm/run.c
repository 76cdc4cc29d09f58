/*
 * The run loop: enter the guest, look at why it came back, emulate port
 * I/O and resume, or stop and say why. Only HV_EXIT_IO (non-string) and
 * HV_EXIT_INTR resume by themselves; every other exit returns to the
 * caller, which may call vmm_run again where that makes sense.
 *
 * vmm_run_smp hands vcpu k to control-domain CPU k: a RUN enters the guest
 * on the CPU that calls it, so that is what puts each vcpu on its own CPU.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/smp.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/vmm/vmm_internal.h"

/* What handling one exit decided. */
enum exit_action {
    EXIT_RESUME,
    EXIT_STOP,
};

/* A port this VMM does not emulate: IN reads all-ones (a floating ISA
 * bus), OUT is dropped; each port is mentioned once so a guest probing
 * hardware shows what it probed without flooding the console. */
static void access_other_port(struct vm_instance *vm, uint16_t port,
                              int is_write, uint8_t *data, unsigned size,
                              uint32_t value)
{
    uint64_t bit = 1ull << (port % 64);

    if (!is_write)
        memset(data, 0xff, size);
    /* Shared by the VM's vcpus, which may exit on several CPUs at once:
     * the atomic OR lets exactly one of them report the port. */
    if (__atomic_fetch_or(&vm->ports_reported[port / 64], bit,
                          __ATOMIC_RELAXED) & bit)
        return;
    if (is_write)
        ctl_printf("guest %s: OUT of 0x%x (size %u) to unemulated port 0x%x "
                   "ignored (noted once per port)\n", vm->name, value, size,
                   port);
    else
        ctl_printf("guest %s: IN (size %u) from unemulated port 0x%x reads "
                   "all-ones (noted once per port)\n", vm->name, size, port);
}

static enum exit_action handle_io(struct vmm_vcpu *vcpu,
                                  struct vmm_result *result)
{
    const struct hv_run *run = vcpu->run;
    unsigned size = run->io.size;
    uint16_t port = run->io.port;
    int is_write = run->io.direction == HV_IO_OUT;
    uint8_t *data;
    uint32_t value = 0;

    /* String I/O needs guest memory access and RCX/RSI/RDI updates: not
     * done here. A bad size or offset would be a hypervisor bug; refuse
     * rather than write outside the run page. */
    if (run->io.string || run->io.count != 1 ||
        (size != 1 && size != 2 && size != 4) ||
        run->io.data_offset > HV_RUN_PAGE_SIZE - size) {
        result->stop = VMM_STOP_UNHANDLED;
        return EXIT_STOP;
    }
    data = (uint8_t *)vcpu->run + run->io.data_offset;
    if (is_write) {
        for (unsigned i = 0; i < size; i++)
            value |= (uint32_t)data[i] << (8 * i);
    }

    if (vmm_uart_is_port(port)) {
        vmm_uart_access(vcpu, port, is_write, data);
    } else if (port == VMM_PORT_DEBUG_EXIT && is_write) {
        /* Per vcpu: the status goes to this vcpu's result only. */
        result->exit_status = value;
        result->stop = VMM_STOP_EXITED;
        return EXIT_STOP;
    } else {
        access_other_port(vcpu->vm, port, is_write, data, size, value);
    }
    return EXIT_RESUME;
}

/* Maps an exit the VMM does not resume to why the run stopped. */
static enum vmm_stop stop_for_exit(uint32_t exit_reason)
{
    switch (exit_reason) {
    case HV_EXIT_HLT:        return VMM_STOP_HALTED;
    case HV_EXIT_SHUTDOWN:   return VMM_STOP_SHUTDOWN;
    case HV_EXIT_MMIO:       return VMM_STOP_MMIO;
    case HV_EXIT_HYPERCALL:  return VMM_STOP_HYPERCALL;
    case HV_EXIT_FAIL_ENTRY: return VMM_STOP_FAIL_ENTRY;
    default:                 return VMM_STOP_UNHANDLED;
    }
}

static enum exit_action handle_exit(struct vmm_vcpu *vcpu,
                                    uint64_t max_intr_exits,
                                    struct vmm_result *result)
{
    switch (vcpu->run->exit_reason) {
    case HV_EXIT_IO:
        return handle_io(vcpu, result);
    case HV_EXIT_INTR:
        /* The time slice ended: resume unless the caller's budget is spent
         * (that is how a guest that never exits is stopped). */
        result->intr_exits++;
        if (max_intr_exits != 0 && result->intr_exits >= max_intr_exits) {
            result->stop = VMM_STOP_INTR_LIMIT;
            return EXIT_STOP;
        }
        return EXIT_RESUME;
    default:
        result->stop = stop_for_exit(vcpu->run->exit_reason);
        return EXIT_STOP;
    }
}

int vmm_run_vcpu(struct vm_instance *vm, unsigned index,
                 uint64_t max_intr_exits, uint64_t max_exits,
                 struct vmm_result *result)
{
    struct vmm_vcpu *vcpu;

    if (index >= vm->vcpu_count)
        return -HV_EINVAL;
    vcpu = &vm->vcpus[index];
    memset(result, 0, sizeof(*result));
    for (;;) {
        long rc;

        if (max_exits != 0 && result->exits >= max_exits) {
            result->stop = VMM_STOP_EXIT_LIMIT;
            break;
        }
        rc = hv_run(vcpu->handle);
        if (rc < 0) {
            result->stop = VMM_STOP_ERROR;
            result->error = rc;
            break;
        }
        result->exits++;
        result->exit_reason = vcpu->run->exit_reason;
        result->rip = vcpu->run->exit_rip;
        if (handle_exit(vcpu, max_intr_exits, result) == EXIT_STOP)
            break;
    }
    /* The guest's last words before the VMM's verdict on them. */
    vmm_uart_flush(vcpu);
    vmm_report_stop(vcpu, result);
    if (result != &vcpu->result)
        vcpu->result = *result;
    return (int)result->error;
}

int vmm_run(struct vm_instance *vm, uint64_t max_intr_exits,
            uint64_t max_exits, struct vmm_result *result)
{
    return vmm_run_vcpu(vm, 0, max_intr_exits, max_exits, result);
}

/* The job control-domain CPU k runs: vcpu k until it stops. */
static void run_vcpu_job(unsigned cpu, void *arg)
{
    struct vmm_vcpu *vcpu = arg;

    (void)cpu;
    vmm_run_vcpu(vcpu->vm, vcpu->index, vcpu->max_intr_exits,
                 vcpu->max_exits, &vcpu->result);
}

int vmm_run_smp(struct vm_instance *vm, uint64_t max_intr_exits,
                uint64_t max_exits)
{
    unsigned n = vm->vcpu_count;

    if (n == 0 || n > smp_cpu_count()) {
        ctl_printf("guest %s: %u vcpus need as many control-domain CPUs, "
                   "there are %u\n", vm->name, n, smp_cpu_count());
        return -HV_EINVAL;
    }
    for (unsigned k = 0; k < n; k++) {
        vm->vcpus[k].max_intr_exits = max_intr_exits;
        vm->vcpus[k].max_exits = max_exits;
    }
    /* CPU 0 runs its own job inline, so hand out the others first. */
    for (unsigned k = n; k-- > 0;)
        smp_call(k, run_vcpu_job, &vm->vcpus[k]);
    for (unsigned k = 1; k < n; k++)
        smp_wait(k);
    for (unsigned k = 0; k < n; k++)
        if (vm->vcpus[k].result.error != 0)
            return (int)vm->vcpus[k].result.error;
    return 0;
}
