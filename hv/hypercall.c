#include "hv/hypercall.h"

#include "hv/apic.h"
#include "hv/console.h"
#include "hv/console_input.h"
#include "hv/cpuid.h"
#include "hv/fault_inject.h"
#include "hv/fpu.h"
#include "hv/guest_access.h"
#include "hv/handle.h"
#include "hv/hypercall_calls.h"
#include "hv/nested_tables.h"
#include "hv/time.h"
#include "hv/machine_check.h"
#include "hv/nmi.h"
#include "hv/speculation.h"
#include "hv/trap.h"
#include "hv/vcpu.h"
#include "hv/virt.h"
#include "hv/vm.h"

#define CONSOLE_WRITE_MAX 4096

/* The object a system handle names; it carries no state. */
static struct { int unused; } system_object;

/* Arguments 1-5 of a call, in the registers the ABI names. */
#define ARG1(r) ((r)->rsi)
#define ARG2(r) ((r)->rdx)


/* The system handle's calls pin nothing: its object has no state (one
 * lock-free read of the slot's state word decides). Every other call keeps
 * the slot pinned while its handler runs, so that a concurrent CLOSE
 * cannot free the object under it. */
#define CALL(handler, type, rights)                                            \
    { handler,                                                                   \
      (type) != HV_HANDLE_SYSTEM ? hypercall_dispatch_pinned : hypercall_dispatch_unpinned, \
      HANDLE_STATE_WANT(type, rights), HANDLE_STATE_MASK(type, rights) }

void *hypercall_system_object(void) { return &system_object; }

void hypercall_release_handle(void *object, enum hv_handle_type type)
{
    if (type == HV_HANDLE_VM)
        vm_put(object);
    else if (type == HV_HANDLE_VCPU)
        vm_put(((struct vcpu *)object)->vm);
}

/* ---- system handle ---- */

static long call_get_api_version(struct vm *cd, struct handle_slot *slot,
                                 const struct guest_gprs *call)
{
    (void)cd, (void)slot, (void)call;
    return HV_API_VERSION;
}

static long call_check_extension(struct vm *cd, struct handle_slot *slot,
                                 const struct guest_gprs *call)
{
    (void)cd, (void)slot;
    switch (ARG1(call)) {
    case HV_CAP_MAX_VCPUS: return HV_MAX_VCPUS;
    case HV_CAP_MAX_MEMORY_SLOTS: return HV_MAX_MEMORY_SLOTS;
    case HV_CAP_READONLY_MEM: return 1;
    case HV_CAP_DIRTY_LOG: return 1;
    case HV_CAP_DEBUGREGS: return 1;
    case HV_CAP_BACKEND: return virt->abi_backend;
    case HV_CAP_MAX_VMS: return MAX_CHILD_VMS;
    case HV_CAP_XSAVE_SIZE: return fpu_xsave_size();
    case HV_CAP_SUPPORTED_XCR0: return (long)fpu_supported_xcr0();
    case HV_CAP_MAX_CPUID: return HV_MAX_CPUID_ENTRIES;
    case HV_CAP_LAPIC: return 1;
    case HV_CAP_VCPU_EVENTS: return 1;
    case HV_CAP_USER_MSR: return 1;
    case HV_CAP_DECODED_MMIO: return 1;
    case HV_CAP_APIC_VIRTUALIZATION: return virt_apic_access_page;
    case HV_CAP_TSC_KHZ: return (long)tsc_khz();
    default: return 0;
    }
}

static long call_create_vm(struct vm *cd, struct handle_slot *slot,
                           const struct guest_gprs *call)
{
    (void)slot;
    if (ARG1(call) & ~(uint64_t)HV_VM_FLAGS_VALID)
        return -HV_EINVAL;
    long err;
    struct vm *vm = vm_create(false, (uint32_t)ARG1(call), &err);
    if (!vm)
        return err;
    hv_handle_t handle = handle_open(&cd->handles, HV_HANDLE_VM, HV_RIGHTS_ALL, vm);
    if (handle < 0)
        vm_put(vm);
    return handle;
}

static long call_console_write(struct vm *cd, struct handle_slot *slot,
                               const struct guest_gprs *call)
{
    (void)slot;
    uint64_t gpa = ARG1(call), length = ARG2(call);
    if (length > CONSOLE_WRITE_MAX)
        return -HV_E2BIG;
    if (length == 0)
        return 0;
    long err = control_range_check(cd, gpa, length, 1);
    if (err)
        return err;
    console_write(control_pointer(cd, gpa), length);
    return (long)length;
}

static long call_get_stats(struct vm *cd, struct handle_slot *slot,
                           const struct guest_gprs *call)
{
    (void)slot;
    struct hv_stats stats = { .free_frames = frame_free_count(&frames) };
    vm_stats(&stats.vms, &stats.vcpus, &stats.objects);
    stats.nested_table_pages = nested_table_pages();
    for (unsigned i = 0; i < cpu_count; i++)
        if (percpu_of[i])
            stats.idle_tsc += __atomic_load_n(&percpu_of[i]->idle_tsc, __ATOMIC_RELAXED);
    stats.handles = __atomic_load_n(&cd->handles.open_count, __ATOMIC_RELAXED);
    stats.nmis = nmi_count_all();
    stats.machine_checks = machine_check_count_all();
    stats.ibpb_switches = speculation_ibpb_switches();
    console_input_counts(&stats.console_input_bytes, &stats.console_input_dropped);
    return copy_to_control(cd, ARG1(call), &stats, sizeof(stats));
}

/* Typed console input, for the control domain's tools and its VMM's
 * guest consoles (hv/console_input.h). */
static long call_console_read(struct vm *cd, struct handle_slot *slot,
                              const struct guest_gprs *call)
{
    (void)slot;
    uint64_t gpa = ARG1(call), length = ARG2(call);
    if (length > HV_CONSOLE_READ_MAX)
        return -HV_E2BIG;
    if (length == 0)
        return 0;
    long err = control_range_check(cd, gpa, length, 1);
    if (err)
        return err;
    return (long)console_input_read(control_pointer(cd, gpa), length);
}

/* Ends a HLT of the control domain's vcpu on `cpu` (or the next one it
 * executes): the control domain's own cross-CPU wake-up, as it has no
 * interrupt controller of its own. */
static long call_wake_cpu(struct vm *cd, struct handle_slot *slot,
                          const struct guest_gprs *call)
{
    (void)cd, (void)slot;
    uint64_t cpu = ARG1(call);
    if (cpu >= cpu_count || !percpu_of[cpu])
        return -HV_ERANGE;
    struct percpu *target = percpu_of[cpu];
    __atomic_store_n(&target->wake_pending, true, __ATOMIC_RELEASE);
    if (target != this_cpu())
        apic_send_ipi(target->apic_id, VECTOR_KICK);
    return 0;
}

static long call_get_supported_cpuid(struct vm *cd, struct handle_slot *slot,
                                     const struct guest_gprs *call)
{
    (void)slot;
    return cpuid_get_supported(cd, ARG1(call));
}

/* The way to reach a CPU with an NMI: tests of the NMI paths, and a
 * watchdog in the control domain. The hypervisor counts it (GET_STATS). */
static long call_send_nmi(struct vm *cd, struct handle_slot *slot,
                          const struct guest_gprs *call)
{
    (void)cd, (void)slot;
    return nmi_send(ARG1(call));
}

/* A test option (hv/fault_inject.h): refused unless the hypervisor was
 * started with `fault_inject`. */
static long call_fault_inject(struct vm *cd, struct handle_slot *slot,
                              const struct guest_gprs *call)
{
    (void)cd, (void)slot;
    if (!fault_inject_enabled)
        return -HV_EPERM;
    return fault_inject_arm(ARG1(call));
}

/* ---- VM handle ---- */

static long call_create_vcpu(struct vm *cd, struct handle_slot *slot,
                             const struct guest_gprs *call)
{
    struct vm *vm = slot->object;
    uint64_t vcpu_slot = ARG1(call), run_gpa = ARG2(call);
    if (vcpu_slot >= HV_MAX_VCPUS)
        return -HV_ERANGE;
    long err = control_range_check(cd, run_gpa, HV_RUN_PAGE_SIZE, HV_RUN_PAGE_SIZE);
    if (err)
        return err;
    /* A slot taken is -HV_EEXIST before anything is allocated (with the
     * table full or memory short too); vcpu_create checks again under the
     * VM's lock. Then the handle's slot: a vcpu is in its VM's table as
     * soon as it exists, where another CPU's IPI or SIGNAL_MSI may be
     * touching it without a lock, so it must never be freed for want of a
     * handle. */
    if (__atomic_load_n(&vm->vcpus[vcpu_slot], __ATOMIC_RELAXED))
        return -HV_EEXIST;
    long index = handle_reserve(&cd->handles);
    if (index < 0)
        return index;
    struct vcpu *vcpu = vcpu_create(vm, (unsigned)vcpu_slot,
                                    control_pointer(cd, run_gpa), &err);
    if (!vcpu) {
        handle_unreserve(&cd->handles, (uint32_t)index);
        return err;
    }
    vm_get(vm); /* the vcpu handle's reference on its VM */
    return handle_publish(&cd->handles, (uint32_t)index, HV_HANDLE_VCPU, HV_RIGHTS_ALL, vcpu);
}

static long call_set_memory_region(struct vm *cd, struct handle_slot *slot,
                                   const struct guest_gprs *call)
{
    struct hv_memory_region region;
    long err = copy_from_control(cd, &region, ARG1(call), sizeof(region));
    return err ?: vm_set_memory_region(slot->object, cd, &region);
}

static long call_get_dirty_log(struct vm *cd, struct handle_slot *slot,
                               const struct guest_gprs *call)
{
    return vm_get_dirty_log(slot->object, cd, ARG1(call), ARG2(call));
}

/* ---- any handle ---- */

static long call_close(struct vm *cd, struct handle_slot *slot,
                       const struct guest_gprs *call)
{
    (void)call;
    return handle_close(&cd->handles, slot);
}

static long call_dup(struct vm *cd, struct handle_slot *slot,
                     const struct guest_gprs *call)
{
    uint64_t rights = ARG1(call);
    if (rights & ~(uint64_t)HV_RIGHTS_ALL)
        return -HV_EINVAL;
    if (rights & ~(uint64_t)handle_slot_rights(slot))
        return -HV_EPERM;
    enum hv_handle_type type = handle_slot_type(slot);
    void *object = slot->object;
    if (type == HV_HANDLE_VM)
        vm_get(object);
    else if (type == HV_HANDLE_VCPU)
        vm_get(((struct vcpu *)object)->vm);
    hv_handle_t handle = handle_open(&cd->handles, type, (uint16_t)rights, object);
    if (handle < 0)
        hypercall_release_handle(object, type);
    return handle;
}

/* Numbers below the highest that name no call get a handler returning
 * -HV_ENOSYS that checks no handle, so that the dispatch needs no test for
 * a hole: the range designator fills every entry, the ones named after it
 * override their own (hence the warning turned off, as Linux does for its
 * system call table). */
static long call_unknown(struct vm *cd, struct handle_slot *slot,
                         const struct guest_gprs *call)
{
    (void)cd, (void)slot, (void)call;
    return -HV_ENOSYS;
}

/* RUN and GET_REGS until hypercall_bind_backend: never called, as no
 * control domain runs before a backend is chosen. */
static long call_before_backend(struct vm *cd, struct handle_slot *slot,
                                const struct guest_gprs *call)
{
    (void)cd, (void)slot, (void)call;
    return -HV_ENODEV;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
struct call_spec hypercall_table[HYPERCALL_COUNT] = {
    [0 ... HYPERCALL_COUNT - 1] = { call_unknown, hypercall_dispatch_unpinned, 0, 0 },
    [HV_CALL_GET_API_VERSION] = CALL(call_get_api_version, HV_HANDLE_SYSTEM, 0),
    [HV_CALL_CHECK_EXTENSION] = CALL(call_check_extension, HV_HANDLE_SYSTEM, 0),
    [HV_CALL_CREATE_VM] = CALL(call_create_vm, HV_HANDLE_SYSTEM, HV_RIGHT_CREATE),
    [HV_CALL_CONSOLE_WRITE] = CALL(call_console_write, HV_HANDLE_SYSTEM, HV_RIGHT_WRITE),
    [HV_CALL_GET_STATS] = CALL(call_get_stats, HV_HANDLE_SYSTEM, HV_RIGHT_READ),
    [HV_CALL_WAKE_CPU] = CALL(call_wake_cpu, HV_HANDLE_SYSTEM, HV_RIGHT_RUN),
    [HV_CALL_GET_SUPPORTED_CPUID] = CALL(call_get_supported_cpuid, HV_HANDLE_SYSTEM, HV_RIGHT_READ),
    [HV_CALL_SEND_NMI] = CALL(call_send_nmi, HV_HANDLE_SYSTEM, HV_RIGHT_RUN),
    [HV_CALL_CONSOLE_READ] = CALL(call_console_read, HV_HANDLE_SYSTEM, HV_RIGHT_READ),
    [HV_CALL_FAULT_INJECT] = CALL(call_fault_inject, HV_HANDLE_SYSTEM, HV_RIGHT_WRITE),
    [HV_CALL_CREATE_VCPU] = CALL(call_create_vcpu, HV_HANDLE_VM, HV_RIGHT_CREATE),
    [HV_CALL_SET_MEMORY_REGION] = CALL(call_set_memory_region, HV_HANDLE_VM, HV_RIGHT_WRITE),
    [HV_CALL_GET_DIRTY_LOG] = CALL(call_get_dirty_log, HV_HANDLE_VM, HV_RIGHT_READ),
    [HV_CALL_RUN] = CALL(call_before_backend, HV_HANDLE_VCPU, HV_RIGHT_RUN),
    [HV_CALL_GET_REGS] = CALL(call_before_backend, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_SET_REGS] = CALL(call_set_regs, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_GET_SREGS] = CALL(call_get_sregs, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_SET_SREGS] = CALL(call_set_sregs, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_GET_MSRS] = CALL(call_get_msrs, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_SET_MSRS] = CALL(call_set_msrs, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_TRANSLATE] = CALL(call_translate, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_INTERRUPT] = CALL(call_interrupt, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_DEBUG_GUEST] = CALL(call_debug_guest, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_KICK] = CALL(call_kick, HV_HANDLE_VCPU, HV_RIGHT_RUN),
    [HV_CALL_GET_FPU] = CALL(call_get_fpu, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_SET_FPU] = CALL(call_set_fpu, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_GET_XSAVE] = CALL(call_get_xsave, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_SET_XSAVE] = CALL(call_set_xsave, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_GET_XCRS] = CALL(call_get_xcrs, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_SET_XCRS] = CALL(call_set_xcrs, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_SIGNAL_MSI] = CALL(call_signal_msi, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_GET_LAPIC] = CALL(call_get_lapic, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_SET_LAPIC] = CALL(call_set_lapic, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_GET_VCPU_EVENTS] = CALL(call_get_vcpu_events, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_SET_VCPU_EVENTS] = CALL(call_set_vcpu_events, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_GET_MP_STATE] = CALL(call_get_mp_state, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_SET_MP_STATE] = CALL(call_set_mp_state, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_GET_CPUID] = CALL(call_get_cpuid, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_SET_CPUID] = CALL(call_set_cpuid, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_GET_DEBUGREGS] = CALL(call_get_debugregs, HV_HANDLE_VCPU, HV_RIGHT_READ),
    [HV_CALL_SET_DEBUGREGS] = CALL(call_set_debugregs, HV_HANDLE_VCPU, HV_RIGHT_WRITE),
    [HV_CALL_CLOSE] = CALL(call_close, HV_HANDLE_NONE, 0),
    [HV_CALL_DUP] = CALL(call_dup, HV_HANDLE_NONE, HV_RIGHT_DUP),
};
#pragma GCC diagnostic pop

void hypercall_bind_backend(void)
{
    hypercall_table[HV_CALL_RUN].handler = virt->call_run;
    hypercall_table[HV_CALL_RUN].entry = virt->pinned_run;
    hypercall_table[HV_CALL_GET_REGS].handler = virt->call_get_regs;
    hypercall_table[HV_CALL_GET_REGS].entry = virt->pinned_get_regs;
    hypercall_table[HV_CALL_SET_REGS].entry = virt->pinned_set_regs;
}

long hypercall_dispatch_checked(struct vm *caller, uint64_t nr,
                                const struct guest_gprs *call)
{
    /* A number that names no call is -HV_ENOSYS whatever the handle. */
    if (nr >= HYPERCALL_COUNT || hypercall_table[nr].handler == call_unknown)
        return -HV_ENOSYS;
    const struct call_spec *spec = &hypercall_table[nr];
    long err = 0;
    struct handle_slot *slot = handle_get(&caller->handles, (hv_handle_t)call->rdi,
                                          call_spec_type(spec), call_spec_rights(spec), &err);
    if (!slot)
        return err;
    long result = spec->handler(caller, slot, call);
    handle_put(&caller->handles, slot);
    return result;
}

int hypercall_dispatch_unpinned(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                                uint64_t state)
{
    (void)state;
    *rax = (uint64_t)hypercall_table[*rax].handler(control->vm, slot, &control->gprs);
    return 0;
}

/* Out of line even here, so that a pin's test stays one jump. */
__attribute__((noinline)) int hypercall_dispatch_refused(struct vcpu *control, uint64_t *rax)
{
    *rax = (uint64_t)hypercall_dispatch_checked(control->vm, *rax, &control->gprs);
    return 0;
}

int hypercall_dispatch_pinned(struct vcpu *control, uint64_t *rax, struct handle_slot *slot,
                              uint64_t state)
{
    return hypercall_pinned_with(control, rax, slot, state, hypercall_table[*rax].handler);
}
