/*
 * The run loop: enter the guest, look at why it came back, emulate port
 * I/O and resume, or stop and say why. Only HV_EXIT_IO (non-string) and
 * HV_EXIT_INTR resume by themselves; every other exit returns to the
 * caller, which may call vmm_run again where that makes sense.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
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
    if (vm->ports_reported[port / 64] & bit)
        return;
    vm->ports_reported[port / 64] |= bit;
    if (is_write)
        ctl_printf("guest %s: OUT of 0x%x (size %u) to unemulated port 0x%x "
                   "ignored (noted once per port)\n", vm->name, value, size,
                   port);
    else
        ctl_printf("guest %s: IN (size %u) from unemulated port 0x%x reads "
                   "all-ones (noted once per port)\n", vm->name, size, port);
}

static enum exit_action handle_io(struct vm_instance *vm,
                                  struct vmm_result *result)
{
    const struct hv_run *run = vm->run;
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
    data = (uint8_t *)vm->run + run->io.data_offset;
    if (is_write) {
        for (unsigned i = 0; i < size; i++)
            value |= (uint32_t)data[i] << (8 * i);
    }

    if (vmm_uart_is_port(port)) {
        vmm_uart_access(vm, port, is_write, data);
    } else if (port == VMM_PORT_DEBUG_EXIT && is_write) {
        result->exit_status = value;
        result->stop = VMM_STOP_EXITED;
        return EXIT_STOP;
    } else {
        access_other_port(vm, port, is_write, data, size, value);
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

static enum exit_action handle_exit(struct vm_instance *vm,
                                    uint64_t max_intr_exits,
                                    struct vmm_result *result)
{
    switch (vm->run->exit_reason) {
    case HV_EXIT_IO:
        return handle_io(vm, result);
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
        result->stop = stop_for_exit(vm->run->exit_reason);
        return EXIT_STOP;
    }
}

int vmm_run(struct vm_instance *vm, uint64_t max_intr_exits,
            uint64_t max_exits, struct vmm_result *result)
{
    memset(result, 0, sizeof(*result));
    for (;;) {
        long rc;

        if (max_exits != 0 && result->exits >= max_exits) {
            result->stop = VMM_STOP_EXIT_LIMIT;
            break;
        }
        rc = hv_run(vm->vcpu);
        if (rc < 0) {
            result->stop = VMM_STOP_ERROR;
            result->error = rc;
            break;
        }
        result->exits++;
        result->exit_reason = vm->run->exit_reason;
        result->rip = vm->run->exit_rip;
        if (handle_exit(vm, max_intr_exits, result) == EXIT_STOP)
            break;
    }
    /* The guest's last words before the VMM's verdict on them. */
    vmm_uart_flush(vm);
    vmm_report_stop(vm, result);
    return (int)result->error;
}
