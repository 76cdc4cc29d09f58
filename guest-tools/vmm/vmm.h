/*
 * A small VMM on top of libhv: one VM with one or more vcpus and its RAM
 * at guest-physical 0 (beyond VMM_RAM_BELOW_4G_MAX, from 4 GiB), a loader
 * for multiboot1 ELF32 kernels and flat binaries, and a run loop that
 * emulates the few devices the test guests use (a COM1 16550 transmitter
 * and QEMU's isa-debug-exit port). The virtual PC (pc/pc_vm.h) builds on
 * the same VM instance with its own run loop.
 *
 * Memory: vmm_create takes everything it needs (run page, guest RAM,
 * bookkeeping) from the page allocator and vmm_destroy releases it back to
 * the mark taken at creation, so VMs must be destroyed in the reverse order
 * of their creation.
 *
 * Concurrency: vcpu k of an SMP VM is run by control-domain CPU k
 * (vmm_run_smp), and each vmm_vcpu (handle, run page, UART line, result)
 * is touched only by the CPU running it. What the vcpus share is written
 * only with atomics (the bitmap of ports already reported); the debug-exit
 * port is per vcpu (each vcpu's result holds the status it wrote). Creating,
 * loading and destroying belong to one control-domain CPU with no vcpu
 * running.
 *
 * Every function returns 0 or a negated HV_E* code and prints a one-line
 * reason on failure, naming the guest.
 */
#ifndef GUEST_TOOLS_VMM_VMM_H
#define GUEST_TOOLS_VMM_VMM_H

#include <stdint.h>

#include "abi/hv_abi.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/vmm/guest_console.h"
#include "guest-tools/vmm/smp_entry.h"

#define VMM_NAME_MAX       32
#define VMM_MIN_RAM_MIB    2       /* 1 MiB of low memory plus the kernel */
#define VMM_MAX_RAM_MIB    (1u << 20) /* HV_MAX_GUEST_PHYS: 1 TiB */
#define VMM_MAX_VCPUS      HV_MAX_VCPUS
/* RAM up to this much is mapped from guest-physical 0; the rest from 4 GiB,
 * so that the top of the 32-bit space stays free for devices (the IOAPIC at
 * 0xfec00000, the local APIC at 0xfee00000), as on a PC. */
#define VMM_RAM_BELOW_4G_MAX 0xc0000000ull
#define VMM_RAM_ABOVE_4G_BASE 0x100000000ull

/* Emulated guest ports. */
#define VMM_PORT_DEBUG_EXIT 0xf4   /* QEMU isa-debug-exit: status = value */
#define VMM_PORT_COM1       0x3f8  /* 16550 UART: 0x3f8 .. 0x3ff */

/* The transmit side of a 16550 at COM1: enough for a polling printer. */
struct vmm_uart {
    uint8_t lcr;                       /* line control; bit 7 = DLAB */
    struct guest_console_line line;    /* guest output not yet printed */
};

/* Why vmm_run returned. */
enum vmm_stop {
    VMM_STOP_EXITED,       /* guest wrote its status to VMM_PORT_DEBUG_EXIT */
    VMM_STOP_HALTED,       /* HLT; RIP is past it, vmm_run may resume */
    VMM_STOP_SHUTDOWN,     /* triple fault: needs new state to run again */
    VMM_STOP_MMIO,         /* access outside the guest's memory */
    VMM_STOP_HYPERCALL,    /* VMMCALL/VMCALL; RIP is past it */
    VMM_STOP_FAIL_ENTRY,   /* the CPU refused the guest state */
    VMM_STOP_INTR_LIMIT,   /* max_intr_exits time slices used up */
    VMM_STOP_EXIT_LIMIT,   /* max_exits exits seen */
    VMM_STOP_UNHANDLED,    /* an exit this VMM does not emulate */
    VMM_STOP_ERROR,        /* RUN itself failed: see error */
};

struct vmm_result {
    enum vmm_stop stop;
    uint32_t exit_reason;   /* HV_EXIT_* of the last exit */
    uint32_t exit_status;   /* VMM_STOP_EXITED: the value written */
    long error;             /* VMM_STOP_ERROR: RUN's negated HV_E* code */
    uint64_t rip;           /* exit_rip of the last exit */
    uint64_t exits;         /* exits seen by this vmm_run call */
    uint64_t intr_exits;    /* of which HV_EXIT_INTR */
};

struct vm_instance;

/* One vcpu of a VM; cache-line aligned so that CPUs running neighbouring
 * vcpus do not share lines. */
struct vmm_vcpu {
    struct vm_instance *vm;
    unsigned index;
    hv_handle_t handle;                /* owned; 0 when not open */
    struct hv_run *run;                /* its run page */
    char label[VMM_NAME_MAX + 8];      /* "<name>" or, SMP, "<name>/<k>" */
    char prefix[VMM_NAME_MAX + 18];    /* "[guest <label>] " for its output */
    struct vmm_uart uart;              /* its own line: no mixed output */
    struct vmm_result result;          /* of its last run */
    uint64_t max_intr_exits, max_exits; /* limits for vmm_run_smp's job */
} __attribute__((aligned(64)));

struct vm_instance {
    char name[VMM_NAME_MAX];
    hv_handle_t sys;                   /* system handle, not owned */
    hv_handle_t vm;                    /* owned; 0 when not open */
    hv_handle_t vcpu;                  /* vcpu 0's handle, for 1-vcpu users */
    struct hv_run *run;                /* vcpu 0's run page, likewise */
    unsigned vcpu_count;
    struct vmm_vcpu *vcpus;            /* vcpu_count of them */
    uint8_t *ram;                      /* where guest-physical 0 lives here */
    uint64_t ram_size;                 /* all of it */
    uint64_t ram_below_4g;             /* mapped from guest-physical 0 (slot 0);
                                        * ram + ram_below_4g is at 4 GiB (slot 1) */
    int aps_wait_for_sipi;             /* loaders start vcpu 0 only, the others
                                        * stay in their reset state for the
                                        * guest's INIT-SIPI-SIPI (HV_VM_LAPIC) */
    uint32_t flags;                    /* CREATE_VM's: HV_VM_LAPIC, ... */
    uint64_t *ports_reported;          /* bitmap of 65536 ports noted once */
    struct page_mark mark;             /* allocator state before creation */
};

/* Makes a VM with ram_mib MiB of zeroed RAM at guest-physical 0 (memory
 * slot 0; what passes VMM_RAM_BELOW_4G_MAX in slot 1 from 4 GiB) and
 * vcpu 0 in the reset state. name labels its output. */
int vmm_create(struct vm_instance *vm, hv_handle_t sys, const char *name,
               uint64_t ram_mib);

/* The same with vcpus vcpus (1..VMM_MAX_VCPUS), each with its own handle,
 * run page and output line; labels are "<name>/<k>" when vcpus > 1. */
int vmm_create_smp(struct vm_instance *vm, hv_handle_t sys, const char *name,
                   uint64_t ram_mib, unsigned vcpus);

/* The same with CREATE_VM flags (HV_VM_LAPIC: local APICs in the
 * hypervisor, HLT handled there). */
int vmm_create_with(struct vm_instance *vm, hv_handle_t sys, const char *name,
                    uint64_t ram_mib, unsigned vcpus, uint32_t vm_flags);

/* Loads an image and sets the vcpus to start it in 32-bit protected mode,
 * paging off: a multiboot1 ELF32 kernel (EAX = 0x2BADB002, EBX = multiboot
 * info with memory sizes and cmdline) or else a flat binary at 0x100000
 * (EAX = EBX = 0). Vcpus other than 0 start at the same entry point with
 * the registers of smp_entry.h. */
int vmm_load_image(struct vm_instance *vm, const void *image, uint64_t size,
                   const char *cmdline);

/* vmm_load_image on a boot module, its cmdline passed to the guest. */
int vmm_load_module(struct vm_instance *vm, const struct hv_boot_module *mod);

/* vmm_load_module with boot modules for a multiboot kernel: each of
 * `extra` (count of them) is passed to it as a multiboot module, with its
 * own command line. A flat binary gets none. */
int vmm_load_module_with(struct vm_instance *vm, const struct hv_boot_module *mod,
                         const struct hv_boot_module *const *extra, unsigned count);

/* Loads a Linux bzImage by the x86 boot protocol (linux_boot.h) with its
 * initrd (NULL: none) and command line, hands over the ACPI RSDP's
 * address (0: none), and sets vcpu 0 to the protocol's entry state; the
 * other vcpus must wait for INIT-SIPI (vm->aps_wait_for_sipi). Refuses
 * an image that is not a bzImage or does not fit, with a message. */
int vmm_load_linux(struct vm_instance *vm, const uint8_t *kernel, uint64_t kernel_size,
                   const uint8_t *initrd, uint64_t initrd_size, const char *cmdline,
                   uint64_t rsdp_address);

/* Where guest-physical [gpa, gpa + len) lives in the control domain, or
 * NULL if not all of it is the VM's RAM. */
void *vmm_guest_ram(const struct vm_instance *vm, uint64_t gpa, uint64_t len);

/* Runs the vcpu until an exit it does not resume; HV_EXIT_INTR resumes
 * until max_intr_exits of them, and any exit until max_exits in all (0:
 * no limit). Prints one line saying why it stopped and fills result.
 * Returns result->error (0 unless RUN failed). May be called again to
 * resume after a stop that allows it. */
int vmm_run(struct vm_instance *vm, uint64_t max_intr_exits,
            uint64_t max_exits, struct vmm_result *result);

/* vmm_run on vcpu `index`, from whichever control-domain CPU calls it;
 * the result is also kept in vm->vcpus[index].result. */
int vmm_run_vcpu(struct vm_instance *vm, unsigned index,
                 uint64_t max_intr_exits, uint64_t max_exits,
                 struct vmm_result *result);

/* Runs vcpu k on control-domain CPU k, all at once, until each stops (the
 * limits apply to each vcpu); results in vm->vcpus[k].result. Needs
 * vcpu_count <= smp_cpu_count(). Returns 0 or the first vcpu's error. */
int vmm_run_smp(struct vm_instance *vm, uint64_t max_intr_exits,
                uint64_t max_exits);

/* Closes the handles and returns the memory to the allocator. Safe on a
 * partly created or already destroyed instance. */
void vmm_destroy(struct vm_instance *vm);

/* "exited", "halted", "triple fault", ...: for summaries. */
const char *vmm_stop_name(enum vmm_stop stop);

#endif
