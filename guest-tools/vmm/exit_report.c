/*
 * One line on the console for each stop of vmm_run, with the details a
 * person needs to see what the guest did. The run page still holds the
 * last exit when this runs.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/vmm/vmm_internal.h"

const char *vmm_stop_name(enum vmm_stop stop)
{
    switch (stop) {
    case VMM_STOP_EXITED:     return "exited";
    case VMM_STOP_HALTED:     return "halted";
    case VMM_STOP_SHUTDOWN:   return "triple fault";
    case VMM_STOP_MMIO:       return "unmapped access";
    case VMM_STOP_HYPERCALL:  return "hypercall";
    case VMM_STOP_FAIL_ENTRY: return "entry failed";
    case VMM_STOP_INTR_LIMIT: return "time slices used up";
    case VMM_STOP_EXIT_LIMIT: return "exit limit reached";
    case VMM_STOP_UNHANDLED:  return "unhandled exit";
    case VMM_STOP_ERROR:      return "run failed";
    }
    return "?";
}

static void report_mmio(const struct vmm_vcpu *vcpu, uint64_t rip)
{
    const struct hv_run *run = vcpu->run;
    char bytes[15 * 3 + 1] = "";
    unsigned n = run->mmio.insn_length;
    int used = 0;

    if (n > sizeof(run->mmio.insn_bytes))
        n = sizeof(run->mmio.insn_bytes);
    for (unsigned i = 0; i < n; i++)
        used += snprintf(bytes + used, sizeof(bytes) - used, " %02x",
                         run->mmio.insn_bytes[i]);
    ctl_printf("guest %s: access to unmapped guest-physical 0x%lx (%s) at rip "
               "0x%lx, instruction%s\n", vcpu->label, run->mmio.phys_addr,
               run->mmio.is_write ? "write" : "read", rip,
               n != 0 ? bytes : " unknown");
}

static void report_unhandled(const struct vmm_vcpu *vcpu, uint64_t rip)
{
    const struct hv_run *run = vcpu->run;

    switch (run->exit_reason) {
    case HV_EXIT_IO:
        ctl_printf("guest %s: %s I/O on port 0x%x (size %u, count %u%s) is not "
                   "emulated, at rip 0x%lx\n", vcpu->label,
                   run->io.direction == HV_IO_OUT ? "OUT" : "IN", run->io.port,
                   run->io.size, run->io.count, run->io.string ? ", string" : "",
                   rip);
        break;
    case HV_EXIT_EXCEPTION:
    case HV_EXIT_UNKNOWN:
        ctl_printf("guest %s: unhandled %s exit: hardware exit code 0x%lx, "
                   "info 0x%lx 0x%lx, at rip 0x%lx\n", vcpu->label,
                   run->exit_reason == HV_EXIT_EXCEPTION ? "exception" : "unknown",
                   run->hw.hardware_exit_reason, run->hw.info1, run->hw.info2,
                   rip);
        break;
    case HV_EXIT_INTERNAL_ERROR:
        if (run->internal.suberror == HV_INTERNAL_ERROR_DELIVERY_EVENT)
            ctl_printf("guest %s: the delivery of vector 0x%lx %s guest-physical 0x%lx, "
                       "which is MMIO, at rip 0x%lx\n", vcpu->label, run->internal.data[0],
                       run->internal.data[2] ? "wrote" : "read", run->internal.data[1], rip);
        else if (run->internal.suberror == HV_INTERNAL_ERROR_PAGE_WALK)
            ctl_printf("guest %s: its page walk %s guest-physical 0x%lx, which is MMIO, "
                       "translating 0x%lx at rip 0x%lx\n", vcpu->label,
                       run->internal.data[1] ? "wrote" : "read", run->internal.data[0],
                       run->internal.data[2], rip);
        else
            ctl_printf("guest %s: internal error in the hypervisor, suberror %u, "
                       "at rip 0x%lx\n", vcpu->label, run->internal.suberror, rip);
        break;
    default:
        ctl_printf("guest %s: unexpected exit reason %u at rip 0x%lx\n",
                   vcpu->label, run->exit_reason, rip);
        break;
    }
}

void vmm_report_stop(const struct vmm_vcpu *vcpu,
                     const struct vmm_result *result)
{
    const struct hv_run *run = vcpu->run;
    uint64_t rip = result->rip;

    switch (result->stop) {
    case VMM_STOP_EXITED:
        ctl_printf("guest %s exited with status %u\n", vcpu->label,
                   result->exit_status);
        break;
    case VMM_STOP_HALTED:
        ctl_printf("guest %s: halted (hlt) at rip 0x%lx\n", vcpu->label, rip);
        break;
    case VMM_STOP_SHUTDOWN:
        ctl_printf("guest %s: triple fault (shutdown) at rip 0x%lx\n",
                   vcpu->label, rip);
        vmm_dump_cpu_state(vcpu);
        break;
    case VMM_STOP_MMIO:
        report_mmio(vcpu, rip);
        break;
    case VMM_STOP_HYPERCALL:
        ctl_printf("guest %s: hypercall nr 0x%lx (args 0x%lx 0x%lx 0x%lx 0x%lx "
                   "0x%lx) at rip 0x%lx\n", vcpu->label, run->hypercall.nr,
                   run->hypercall.args[0], run->hypercall.args[1],
                   run->hypercall.args[2], run->hypercall.args[3],
                   run->hypercall.args[4], rip);
        break;
    case VMM_STOP_FAIL_ENTRY:
        ctl_printf("guest %s: the CPU refused to enter it: hardware reason "
                   "0x%lx on cpu %u\n", vcpu->label,
                   run->fail_entry.hardware_entry_failure_reason,
                   run->fail_entry.cpu);
        break;
    case VMM_STOP_INTR_LIMIT:
        ctl_printf("guest %s: time slice expired (interrupted) %lu times, "
                   "stopped at rip 0x%lx\n", vcpu->label, result->intr_exits, rip);
        break;
    case VMM_STOP_EXIT_LIMIT:
        ctl_printf("guest %s: stopped after %lu exits, at rip 0x%lx\n",
                   vcpu->label, result->exits, rip);
        break;
    case VMM_STOP_UNHANDLED:
        report_unhandled(vcpu, rip);
        break;
    case VMM_STOP_ERROR:
        ctl_printf("guest %s: RUN failed: %s (%ld)\n", vcpu->label,
                   hv_strerror(result->error), result->error);
        break;
    }
}
