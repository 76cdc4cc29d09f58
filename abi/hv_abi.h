/*
 * The hypercall ABI: the only contract between the hypervisor and the
 * control domain. Every structure has a fixed size and layout (checked
 * below) so that both sides, compiled separately, agree. abi/README.md
 * documents each call.
 *
 * Calling convention (both backends):
 *   instruction  VMMCALL (AMD SVM) or VMCALL (Intel VMX); which one is told
 *                by CPUID leaf HV_CPUID_FEATURES, EBX
 *   RAX          call number (HV_CALL_*)
 *   RDI          handle the call acts on
 *   RSI RDX R10 R8 R9   arguments 1..5
 *   result       RAX: >= 0 success, < 0 a negated HV_E* code (abi/hv_errno.h)
 *   preserved    every register but RAX
 * Pointers are guest-physical addresses in the caller's memory.
 */
#ifndef ABI_HV_ABI_H
#define ABI_HV_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "abi/hv_errno.h"

#define HV_API_VERSION 1

/* CPUID leaves the hypervisor answers in every guest. */
#define HV_CPUID_SIGNATURE  0x40000000u /* EAX max leaf, EBX:ECX:EDX "MicroVisor!" */
#define HV_CPUID_FEATURES   0x40000001u /* EAX API version, EBX backend */
#define HV_SIGNATURE_EBX    0x7263694du /* "Micr" */
#define HV_SIGNATURE_ECX    0x7369564fu /* "oVis" */
#define HV_SIGNATURE_EDX    0x0021726fu /* "or!\0" */
#define HV_BACKEND_SVM      1u
#define HV_BACKEND_VMX      2u

/* ---- call numbers ---------------------------------------------------- */
enum hv_call {
    /* on the system handle */
    HV_CALL_GET_API_VERSION = 0,
    HV_CALL_CHECK_EXTENSION = 1,
    HV_CALL_CREATE_VM = 2,
    HV_CALL_CONSOLE_WRITE = 3,
    HV_CALL_GET_STATS = 4,
    HV_CALL_WAKE_CPU = 5,
    HV_CALL_GET_SUPPORTED_CPUID = 6,
    HV_CALL_SEND_NMI = 7,
    HV_CALL_CONSOLE_READ = 8,
    HV_CALL_FAULT_INJECT = 9,     /* a test option: see abi/README.md */
    /* on a VM handle */
    HV_CALL_CREATE_VCPU = 16,
    HV_CALL_SET_MEMORY_REGION = 17,
    HV_CALL_GET_DIRTY_LOG = 18,
    /* on a vcpu handle */
    HV_CALL_RUN = 32,
    HV_CALL_GET_REGS = 33,
    HV_CALL_SET_REGS = 34,
    HV_CALL_GET_SREGS = 35,
    HV_CALL_SET_SREGS = 36,
    HV_CALL_GET_MSRS = 37,
    HV_CALL_SET_MSRS = 38,
    HV_CALL_TRANSLATE = 39,
    HV_CALL_INTERRUPT = 40,
    HV_CALL_DEBUG_GUEST = 41,
    HV_CALL_KICK = 42,
    HV_CALL_GET_FPU = 43,
    HV_CALL_SET_FPU = 44,
    HV_CALL_GET_XSAVE = 45,
    HV_CALL_SET_XSAVE = 46,
    HV_CALL_GET_XCRS = 47,
    HV_CALL_SET_XCRS = 48,
    HV_CALL_GET_DEBUGREGS = 49,
    HV_CALL_SET_DEBUGREGS = 50,
    HV_CALL_GET_CPUID = 51,
    HV_CALL_SET_CPUID = 52,
    HV_CALL_SIGNAL_MSI = 53,
    HV_CALL_GET_LAPIC = 54,
    HV_CALL_SET_LAPIC = 55,
    HV_CALL_GET_VCPU_EVENTS = 56,
    HV_CALL_SET_VCPU_EVENTS = 57,
    HV_CALL_GET_MP_STATE = 58,
    HV_CALL_SET_MP_STATE = 59,
    /* on any handle */
    HV_CALL_CLOSE = 64,
    HV_CALL_DUP = 65,
};

/* ---- handles and rights ---------------------------------------------- */
/* A handle is a positive 63-bit value: (generation << 16) | table index.
 * Its bits mean nothing to the caller; only the hypervisor decodes them. */
typedef int64_t hv_handle_t;

enum hv_handle_type {
    HV_HANDLE_NONE = 0,
    HV_HANDLE_SYSTEM = 1,
    HV_HANDLE_VM = 2,
    HV_HANDLE_VCPU = 3,
};

#define HV_RIGHT_DUP     (1u << 0) /* may be duplicated */
#define HV_RIGHT_READ    (1u << 1) /* query: GET_* calls, GET_STATS, TRANSLATE,
                                      CONSOLE_READ */
#define HV_RIGHT_WRITE   (1u << 2) /* modify: SET_* calls, CONSOLE_WRITE */
#define HV_RIGHT_CREATE  (1u << 3) /* CREATE_VM / CREATE_VCPU */
#define HV_RIGHT_RUN     (1u << 4) /* RUN, KICK */
#define HV_RIGHTS_ALL    0x1fu

/* ---- extensions (CHECK_EXTENSION) ------------------------------------ */
enum hv_extension {
    HV_CAP_MAX_VCPUS = 1,        /* returns the maximum vcpus per VM */
    HV_CAP_MAX_MEMORY_SLOTS = 2, /* returns the number of memory slots */
    HV_CAP_READONLY_MEM = 3,     /* 1: HV_MEM_READONLY is supported */
    HV_CAP_BACKEND = 4,          /* returns HV_BACKEND_SVM or HV_BACKEND_VMX */
    HV_CAP_MAX_VMS = 5,          /* returns the maximum live VMs */
    HV_CAP_DIRTY_LOG = 6,        /* 1: HV_MEM_LOG_DIRTY and GET_DIRTY_LOG */
    HV_CAP_XSAVE_SIZE = 7,       /* returns the bytes GET/SET_XSAVE move */
    HV_CAP_SUPPORTED_XCR0 = 8,   /* returns the XCR0 bits a guest may set */
    HV_CAP_DEBUGREGS = 9,        /* 1: GET/SET_DEBUGREGS */
    HV_CAP_MAX_CPUID = 10,       /* returns the most entries SET_CPUID takes */
    HV_CAP_LAPIC = 11,           /* 1: a local APIC per vcpu in the hypervisor */
    HV_CAP_TSC_KHZ = 12,         /* returns the TSC frequency guests see, kHz */
    HV_CAP_VCPU_EVENTS = 13,     /* 1: GET/SET_VCPU_EVENTS */
    HV_CAP_USER_MSR = 14,        /* 1: CREATE_VM takes HV_VM_USER_MSR */
    HV_CAP_APIC_VIRTUALIZATION = 15, /* 1: the CPU virtualizes HV_VM_LAPIC
                                        VMs' xAPIC accesses */
    HV_CAP_DECODED_MMIO = 16,    /* 1: CREATE_VM takes HV_VM_DECODED_MMIO */
};

#define HV_MAX_VCPUS        64
#define HV_MAX_MEMORY_SLOTS 32
#define HV_MAX_GUEST_PHYS   (1ull << 40) /* child guest-physical space: 1 TiB */

/* ---- CREATE_VM ------------------------------------------------------- */
/* Argument 1: flags. With HV_VM_LAPIC each vcpu has a local APIC in the
 * hypervisor (the split irqchip of KVM_CAP_SPLIT_IRQCHIP): the xAPIC page
 * and x2APIC MSRs, its timer, IPIs, INIT/SIPI, HLT handled in the
 * hypervisor, SIGNAL_MSI. Without it a vcpu has no APIC and HLT exits. */
#define HV_VM_LAPIC (1u << 0)
/* With HV_VM_USER_MSR a guest's RDMSR or WRMSR of an MSR the hypervisor
 * does not handle ends RUN with HV_EXIT_X86_RDMSR/WRMSR (KVM's user-space
 * MSR exits) instead of giving the guest #GP. */
#define HV_VM_USER_MSR (1u << 1)
/* With HV_VM_DECODED_MMIO an HV_EXIT_MMIO made by a MOV, MOVZX or MOVSX
 * comes decoded (mmio.decoded 1: len and data), and the next RUN completes
 * the instruction with the VMM's data, as KVM_EXIT_MMIO. */
#define HV_VM_DECODED_MMIO (1u << 2)
#define HV_VM_FLAGS_VALID 0x7u

/* ---- SET_MEMORY_REGION ----------------------------------------------- */
#define HV_MEM_READONLY  (1u << 0)
/* Log writes for GET_DIRTY_LOG; not together with HV_MEM_READONLY. */
#define HV_MEM_LOG_DIRTY (1u << 1)

struct hv_memory_region {
    uint32_t slot;          /* 0 .. HV_MAX_MEMORY_SLOTS-1 */
    uint32_t flags;         /* HV_MEM_* */
    uint64_t guest_phys;    /* page aligned */
    uint64_t size;          /* page multiple; 0 deletes the slot */
    uint64_t control_addr;  /* page aligned, in the caller's memory */
};
_Static_assert(sizeof(struct hv_memory_region) == 32, "hv_memory_region");

/* ---- GET_DIRTY_LOG --------------------------------------------------- */
/* Argument 1 the slot, argument 2 the guest-physical address of a bitmap
 * in the caller's memory, 8-byte aligned, of HV_DIRTY_LOG_BYTES(slot size)
 * bytes: bit (n % 64) of 64-bit word n / 64 stands for the slot's page n
 * (4 KiB pages from its guest_phys), set if the guest wrote to the page
 * since the previous GET_DIRTY_LOG of the slot (or since its creation). */
#define HV_DIRTY_LOG_BYTES(size) (((size) / 4096 + 63) / 64 * 8)

/* ---- registers ------------------------------------------------------- */
struct hv_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags;
};
_Static_assert(sizeof(struct hv_regs) == 144, "hv_regs");

struct hv_segment {
    uint64_t base;
    uint32_t limit;     /* byte granular: 0xfffff with g=1 is 0xffffffff */
    uint16_t selector;
    uint8_t type;       /* descriptor type field, 4 bits */
    uint8_t present, dpl, db, s, l, g, avl;
    uint8_t unusable;
    uint8_t padding;
};
_Static_assert(sizeof(struct hv_segment) == 24, "hv_segment");

struct hv_dtable {
    uint64_t base;
    uint16_t limit;
    uint16_t padding[3];
};
_Static_assert(sizeof(struct hv_dtable) == 16, "hv_dtable");

struct hv_sregs {
    struct hv_segment cs, ds, es, fs, gs, ss;
    struct hv_segment tr, ldt;
    struct hv_dtable gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t apic_base;
};
_Static_assert(sizeof(struct hv_sregs) == 8 * 24 + 2 * 16 + 7 * 8, "hv_sregs");

/* ---- GET_MSRS / SET_MSRS --------------------------------------------- */
/* A header and `count` entries, contiguous in the caller's memory. The
 * calls process entries in order and stop at the first MSR that is not
 * virtualised (or, for SET, at a value it refuses); they return how many
 * were processed, as KVM_GET_MSRS/KVM_SET_MSRS do. */
#define HV_MAX_MSRS 64            /* larger counts get -HV_E2BIG */

struct hv_msr_entry {
    uint32_t index;               /* the MSR's architectural number */
    uint32_t reserved;            /* ignored */
    uint64_t data;
};
_Static_assert(sizeof(struct hv_msr_entry) == 16, "hv_msr_entry");

struct hv_msrs {
    uint32_t count;               /* 0 .. HV_MAX_MSRS */
    uint32_t padding;             /* ignored */
    struct hv_msr_entry entries[];
};
_Static_assert(sizeof(struct hv_msrs) == 8, "hv_msrs");
_Static_assert(offsetof(struct hv_msrs, entries) == 8, "hv_msrs.entries");

/* The MSRs the calls virtualise (Intel SDM vol. 4 numbering). */
#define HV_MSR_TSC              0x00000010u
#define HV_MSR_SYSENTER_CS      0x00000174u
#define HV_MSR_SYSENTER_ESP     0x00000175u
#define HV_MSR_SYSENTER_EIP     0x00000176u
#define HV_MSR_PAT              0x00000277u
#define HV_MSR_EFER             0xc0000080u
#define HV_MSR_STAR             0xc0000081u
#define HV_MSR_LSTAR            0xc0000082u
#define HV_MSR_CSTAR            0xc0000083u
#define HV_MSR_SFMASK           0xc0000084u
#define HV_MSR_FS_BASE          0xc0000100u
#define HV_MSR_GS_BASE          0xc0000101u
#define HV_MSR_KERNEL_GS_BASE   0xc0000102u
#define HV_MSR_TSC_AUX          0xc0000103u
#define HV_MSR_SPEC_CTRL        0x00000048u
#define HV_MSR_PRED_CMD         0x00000049u /* write-only: IBPB */
#define HV_MSR_ARCH_CAPABILITIES 0x0000010au /* read-only */
#define HV_MSR_TSC_DEADLINE     0x000006e0u /* HV_VM_LAPIC VMs */

/* ---- TRANSLATE ------------------------------------------------------- */
/* The shape of KVM's kvm_translation. */
struct hv_translation {
    uint64_t linear_address;      /* in */
    uint64_t physical_address;    /* out: all ones when not valid */
    uint8_t valid;                /* out: 1 if the address is mapped */
    uint8_t writeable;            /* out: every level allows writes */
    uint8_t usermode;             /* out: every level allows user access */
    uint8_t executable;           /* out: no level forbids execution (NX) */
    uint8_t padding[4];
};
_Static_assert(sizeof(struct hv_translation) == 24, "hv_translation");
_Static_assert(offsetof(struct hv_translation, valid) == 16, "hv_translation.valid");

/* ---- INTERRUPT ------------------------------------------------------- */
#define HV_MAX_INTERRUPT_VECTOR 255   /* larger vectors get -HV_EINVAL */

/* ---- DEBUG_GUEST ----------------------------------------------------- */
/* The shape of KVM's kvm_guest_debug (x86). */
#define HV_GUESTDBG_ENABLE      (1u << 0)
#define HV_GUESTDBG_SINGLESTEP  (1u << 1)
#define HV_GUESTDBG_USE_HW_BP   (1u << 2)
#define HV_GUESTDBG_VALID       0x7u      /* other bits get -HV_EINVAL */

struct hv_guest_debug {
    uint32_t control;             /* HV_GUESTDBG_* */
    uint32_t pad;                 /* ignored */
    uint64_t debugreg[8];         /* 0-3: breakpoint addresses; 7: DR7 */
};
_Static_assert(sizeof(struct hv_guest_debug) == 72, "hv_guest_debug");
_Static_assert(offsetof(struct hv_guest_debug, debugreg) == 8, "hv_guest_debug.debugreg");

/* ---- GET_FPU / SET_FPU ------------------------------------------------ */
/* The shape of KVM's kvm_fpu: the x87 and SSE state in FXSAVE's terms. */
struct hv_fpu {
    uint8_t fpr[8][16];           /* ST0-ST7 (80 bits each, in 16 bytes) */
    uint16_t fcw, fsw;
    uint8_t ftwx;                 /* abridged tag word, as FXSAVE stores it */
    uint8_t pad1;
    uint16_t last_opcode;
    uint64_t last_ip, last_dp;
    uint8_t xmm[16][16];
    uint32_t mxcsr;
    uint32_t pad2;
};
_Static_assert(sizeof(struct hv_fpu) == 416, "hv_fpu");
_Static_assert(offsetof(struct hv_fpu, xmm) == 152, "hv_fpu.xmm");

/* ---- GET_XSAVE / SET_XSAVE ------------------------------------------- */
/* The vcpu's extended state in the standard (non-compacted) XSAVE format
 * of the SDM, vol. 1, 13.4: legacy region, XSAVE header at 512 (XSTATE_BV
 * at 512, XCOMP_BV at 520), components at the offsets CPUID 0xD gives.
 * Argument 2 is the buffer's size: at least CHECK_EXTENSION(
 * HV_CAP_XSAVE_SIZE) and at most HV_MAX_XSAVE_SIZE. */
#define HV_XSAVE_HEADER_OFFSET 512u
#define HV_MAX_XSAVE_SIZE      65536u
#define HV_XCR0_X87      (1ull << 0)
#define HV_XCR0_SSE      (1ull << 1)
#define HV_XCR0_AVX      (1ull << 2)
#define HV_XCR0_OPMASK   (1ull << 5)
#define HV_XCR0_ZMM_HI256 (1ull << 6)
#define HV_XCR0_HI16_ZMM (1ull << 7)
#define HV_XCR0_PKRU     (1ull << 9)

/* ---- GET_XCRS / SET_XCRS --------------------------------------------- */
/* The shape of KVM's kvm_xcrs. Only XCR0 exists. */
#define HV_MAX_XCRS 16
struct hv_xcr {
    uint32_t xcr;                 /* 0 */
    uint32_t reserved;            /* ignored */
    uint64_t value;
};
struct hv_xcrs {
    uint32_t nr_xcrs;             /* GET: filled in; SET: 0 .. HV_MAX_XCRS */
    uint32_t flags;               /* must be 0 */
    struct hv_xcr xcrs[HV_MAX_XCRS];
    uint64_t padding[16];
};
_Static_assert(sizeof(struct hv_xcrs) == 8 + 16 * 16 + 128, "hv_xcrs");

/* ---- GET_DEBUGREGS / SET_DEBUGREGS ----------------------------------- */
/* The shape of KVM's kvm_debugregs: the guest's own DR0-DR3, DR6, DR7. */
struct hv_debugregs {
    uint64_t db[4];
    uint64_t dr6;
    uint64_t dr7;
    uint64_t flags;               /* must be 0 */
    uint64_t reserved[9];         /* ignored */
};
_Static_assert(sizeof(struct hv_debugregs) == 128, "hv_debugregs");

/* ---- GET/SET_CPUID, GET_SUPPORTED_CPUID ------------------------------ */
/* The shape of KVM's kvm_cpuid2 / kvm_cpuid_entry2: a header and `count`
 * entries, contiguous in the caller's memory. */
#define HV_MAX_CPUID_ENTRIES 128      /* larger counts get -HV_E2BIG */
#define HV_CPUID_FLAG_SIGNIFICANT_INDEX (1u << 0) /* `index` selects */

struct hv_cpuid_entry {
    uint32_t function;
    uint32_t index;
    uint32_t flags;               /* HV_CPUID_FLAG_* */
    uint32_t eax, ebx, ecx, edx;
    uint32_t padding[3];          /* ignored */
};
_Static_assert(sizeof(struct hv_cpuid_entry) == 40, "hv_cpuid_entry");

/* Aligned as the calls want it (8), so that one on a caller's stack is. */
struct hv_cpuid {
    uint32_t count;               /* in: room (GET) or entries (SET); out: entries */
    uint32_t padding;             /* ignored */
    struct hv_cpuid_entry entries[];
} __attribute__((aligned(8)));
_Static_assert(sizeof(struct hv_cpuid) == 8 && _Alignof(struct hv_cpuid) == 8, "hv_cpuid");

/* ---- GET_LAPIC / SET_LAPIC ------------------------------------------- */
/* The shape of KVM's kvm_lapic_state: the xAPIC register page's first 1 KiB,
 * a 32-bit register at each 16-byte offset (Intel SDM vol. 3A, table 11-1).
 * In x2APIC mode the ID register holds the full 32-bit ID. */
#define HV_LAPIC_REGS_SIZE 1024
struct hv_lapic_state {
    uint8_t regs[HV_LAPIC_REGS_SIZE];
} __attribute__((aligned(8)));    /* as the calls want it */
_Static_assert(sizeof(struct hv_lapic_state) == 1024 && _Alignof(struct hv_lapic_state) == 8,
               "hv_lapic_state");

/* ---- SIGNAL_MSI ------------------------------------------------------ */
/* Argument 1 the MSI address, argument 2 the data, as the x86 platform
 * lays them out (SDM vol. 3A, 11.11): address 0xfeeXXXXX, destination ID in
 * bits 19:12 (bits 63:32 hold bits 31:8 of an x2APIC ID), bit 2 logical
 * destination; data: vector 7:0, delivery mode 10:8, level 14, trigger 15. */
#define HV_MSI_ADDRESS_BASE 0xfee00000ull

/* ---- GET/SET_VCPU_EVENTS --------------------------------------------- */
/* The shape of KVM's kvm_vcpu_events: events waiting to be delivered and
 * the guest's interrupt shadow and NMI masking. `flags` says which parts
 * SET applies (GET sets them all); the first three are KVM's. */
#define HV_VCPUEVENT_VALID_NMI_PENDING (1u << 0) /* nmi.pending */
#define HV_VCPUEVENT_VALID_SIPI_VECTOR (1u << 1) /* sipi_vector (HV_VM_LAPIC) */
#define HV_VCPUEVENT_VALID_SHADOW      (1u << 2) /* interrupt.shadow */
#define HV_VCPUEVENT_VALID_EXCEPTION   (1u << 3) /* exception */
#define HV_VCPUEVENT_VALID_INTERRUPT   (1u << 4) /* interrupt.injected, nr, soft */
#define HV_VCPUEVENT_VALID_NMI         (1u << 5) /* nmi.injected, nmi.masked */
#define HV_VCPUEVENT_VALID_ALL         0x3fu

struct hv_vcpu_events {
    struct {
        uint8_t injected;         /* an exception is to be delivered */
        uint8_t nr;               /* its vector, 0-31 */
        uint8_t has_error_code;
        uint8_t pending;          /* SET: as injected; GET: always 0 */
        uint32_t error_code;      /* 16 bits */
    } exception;
    struct {
        uint8_t injected;         /* an external interrupt is to be delivered */
        uint8_t nr;
        uint8_t soft;             /* GET: an INT n being delivered; SET: 0 */
        uint8_t shadow;           /* STI/MOV SS shadow: 1 STI, 2 MOV SS */
    } interrupt;
    struct {
        uint8_t injected;         /* an NMI is to be delivered */
        uint8_t pending;          /* an NMI waits for the window */
        uint8_t masked;           /* NMIs blocked (inside an NMI handler) */
        uint8_t pad;
    } nmi;
    uint32_t sipi_vector;
    uint32_t flags;               /* HV_VCPUEVENT_VALID_* (SET: what to apply) */
    uint8_t reserved[40];         /* zero */
} __attribute__((aligned(8)));    /* as the calls want it */
_Static_assert(sizeof(struct hv_vcpu_events) == 64 && _Alignof(struct hv_vcpu_events) == 8,
               "hv_vcpu_events");

/* ---- GET/SET_MP_STATE ------------------------------------------------ */
/* KVM's numbers. An AP vcpu starts in UNINITIALIZED when the VM's vcpu 0
 * (the BSP) has a local APIC; INIT takes it to INIT_RECEIVED, SIPI starts
 * it in real mode at the vector's page. */
enum hv_mp_state {
    HV_MP_STATE_RUNNABLE = 0,
    HV_MP_STATE_UNINITIALIZED = 1,
    HV_MP_STATE_INIT_RECEIVED = 2,
    HV_MP_STATE_HALTED = 3,
    HV_MP_STATE_SIPI_RECEIVED = 4,
};

/* ---- the run page ---------------------------------------------------- */
/* Exit reasons, numbered as KVM numbers its own. */
enum hv_exit_reason {
    HV_EXIT_UNKNOWN = 0,
    HV_EXIT_EXCEPTION = 1,
    HV_EXIT_IO = 2,
    HV_EXIT_HYPERCALL = 3,
    HV_EXIT_DEBUG = 4,
    HV_EXIT_HLT = 5,
    HV_EXIT_MMIO = 6,
    HV_EXIT_IRQ_WINDOW_OPEN = 7,
    HV_EXIT_SHUTDOWN = 8,
    HV_EXIT_FAIL_ENTRY = 9,
    HV_EXIT_INTR = 10,
    HV_EXIT_INTERNAL_ERROR = 17,
    HV_EXIT_IOAPIC_EOI = 26,      /* EOI of a level-triggered vector */
    HV_EXIT_X86_RDMSR = 29,       /* an MSR the hypervisor does not know */
    HV_EXIT_X86_WRMSR = 30,
    HV_EXIT_DEADLINE = 32,        /* the run page's deadline passed */
    HV_EXIT_TASK_SWITCH = 64,     /* ours (KVM emulates it in the kernel):
                                     VMX only, for the VMM to perform */
};

/* HV_EXIT_TASK_SWITCH: what started the switch (the SDM's exit
 * qualification, bits 31:30), and for HV_TASK_SWITCH_GATE the event
 * whose delivery met a task gate in the IDT (the SDM's interruption
 * types). */
enum hv_task_switch_source {
    HV_TASK_SWITCH_CALL = 0,
    HV_TASK_SWITCH_IRET = 1,
    HV_TASK_SWITCH_JMP = 2,
    HV_TASK_SWITCH_GATE = 3,
};
enum hv_task_switch_event {
    HV_TASK_SWITCH_EVENT_EXTERNAL = 0,
    HV_TASK_SWITCH_EVENT_NMI = 2,
    HV_TASK_SWITCH_EVENT_EXCEPTION = 3,
    HV_TASK_SWITCH_EVENT_SOFT_INTERRUPT = 4,   /* INT n */
    HV_TASK_SWITCH_EVENT_PRIV_SOFT_EXCEPTION = 5, /* INT1 */
    HV_TASK_SWITCH_EVENT_SOFT_EXCEPTION = 6,   /* INT3, INTO */
};

/* HV_EXIT_INTERNAL_ERROR suberrors. */
/* A machine check the CPU cannot resume from (MCG_STATUS.RIPV clear) hit
 * while the guest ran. data[0] MCG_STATUS, data[1] the banks that held an
 * error (bit i: bank i), data[2] MCi_STATUS and data[3] MCi_ADDR of the
 * lowest of them (0 when none). */
#define HV_INTERNAL_ERROR_MACHINE_CHECK 1u
/* The delivery of an event (an interrupt, NMI or exception) to the guest
 * made an access that the hypervisor would give the VMM as HV_EXIT_MMIO
 * or emulate as the local APIC: the guest's IDT or the stack it pushes
 * on is there. data[0] the event's vector, data[1] the guest-physical
 * address, data[2] 1 for a write. The event is still pending. KVM's
 * KVM_INTERNAL_ERROR_DELIVERY_EV. */
#define HV_INTERNAL_ERROR_DELIVERY_EVENT 2u
/* The guest's own page walk (its page tables, not an instruction's
 * operand) read or wrote a guest-physical address that the hypervisor
 * would give the VMM as HV_EXIT_MMIO or emulate as the local APIC, or set
 * an accessed or dirty bit in a read-only slot. data[0] the
 * guest-physical address, data[1] 1 for a write, data[2] the linear
 * address being translated (~0 when the CPU does not say). The guest has
 * not advanced. KVM cannot emulate such an access either. */
#define HV_INTERNAL_ERROR_PAGE_WALK 3u

#define HV_IO_IN  0
#define HV_IO_OUT 1

#define HV_RUN_PAGE_SIZE     4096u
#define HV_RUN_IO_DATA_OFFSET 1024u /* I/O data lives here in the run page */

struct hv_run {
    /* in: set by the VMM before RUN */
    uint8_t request_interrupt_window; /* exit HV_EXIT_IRQ_WINDOW_OPEN when
                                         the guest can take an interrupt */
    uint8_t immediate_exit;           /* return HV_EXIT_INTR without entering */
    uint8_t padding1[6];

    /* out: set by the hypervisor when RUN returns */
    uint32_t exit_reason;             /* HV_EXIT_* */
    uint8_t ready_for_interrupt_injection;
    uint8_t if_flag;
    uint16_t padding2;
    uint64_t exit_rip;                /* guest RIP at the exit */
    uint64_t exit_count;              /* exits of this vcpu so far */

    union {
        /* HV_EXIT_UNKNOWN, HV_EXIT_EXCEPTION */
        struct {
            uint64_t hardware_exit_reason;
            uint64_t info1, info2;
        } hw;
        /* HV_EXIT_FAIL_ENTRY */
        struct {
            uint64_t hardware_entry_failure_reason;
            uint32_t cpu;
            uint32_t padding;
        } fail_entry;
        /* HV_EXIT_IO: for OUT the data is at data_offset when RUN returns;
         * for IN the VMM stores it there and the next RUN completes the
         * instruction. String (INS/OUTS) accesses report string = 1 and are
         * left to the VMM to emulate. */
        struct {
            uint8_t direction;        /* HV_IO_IN / HV_IO_OUT */
            uint8_t size;             /* 1, 2 or 4 */
            uint16_t port;
            uint32_t count;           /* repetitions (1 unless rep string) */
            uint64_t data_offset;     /* from the start of the run page */
            uint8_t string;
            uint8_t padding[7];
        } io;
        /* HV_EXIT_MMIO: an access to a guest-physical address without
         * memory (or a write to read-only memory). RIP is at the
         * instruction. decoded 0: the VMM emulates it from insn_bytes and
         * advances RIP with SET_REGS. decoded 1 (HV_VM_DECODED_MMIO): `len`
         * bytes at phys_addr, `data` the value written; for a read the VMM
         * puts the value in `data`, and the next RUN completes either. */
        struct {
            uint64_t phys_addr;
            uint64_t linear_addr;     /* ~0 when unknown */
            uint8_t is_write;
            uint8_t insn_length;      /* bytes valid in insn_bytes */
            uint8_t insn_bytes[15];
            uint8_t decoded;          /* 1: len and data below hold the access */
            uint8_t len;              /* bytes accessed: 1, 2, 4 or 8 */
            uint8_t padding[3];
            uint64_t data;            /* write: the value; read: the VMM's answer */
        } mmio;
        /* HV_EXIT_IOAPIC_EOI */
        struct {
            uint8_t vector;
            uint8_t padding[7];
        } eoi;
        /* HV_EXIT_X86_RDMSR / HV_EXIT_X86_WRMSR: the VMM sets error = 1 to
         * give the guest #GP, or (RDMSR) data; the next RUN completes it. */
        struct {
            uint8_t error;
            uint8_t padding[3];
            uint32_t index;
            uint64_t data;
        } msr;
        /* HV_EXIT_HYPERCALL: the child executed VMMCALL/VMCALL. RIP is
         * already past it; the VMM sets RAX with SET_REGS if it answers. */
        struct {
            uint64_t nr;              /* guest RAX */
            uint64_t args[5];         /* guest RDI RSI RDX R10 R8 */
        } hypercall;
        /* HV_EXIT_DEBUG: a single step or a hardware breakpoint of
         * DEBUG_GUEST; pc is the guest RIP, dr6 says which (BS, B0-B3) */
        struct {
            uint64_t exception;
            uint64_t pc;
            uint64_t dr6, dr7;
        } debug;
        /* HV_EXIT_SHUTDOWN: triple fault or shutdown; the vcpu cannot
         * resume until its state is set again. */
        /* HV_EXIT_TASK_SWITCH: a task switch the CPU began and left to
         * the VMM (abi/README.md section 8): nothing of it is done. */
        struct {
            uint16_t selector;        /* the new task's TSS */
            uint8_t source;           /* HV_TASK_SWITCH_* */
            uint8_t event;            /* GATE: HV_TASK_SWITCH_EVENT_* */
            uint8_t vector;           /* GATE: the event's vector */
            uint8_t has_error_code;   /* GATE: an exception's error code */
            uint8_t insn_length;      /* the instruction at RIP, when it
                                         made the switch; else 0 */
            uint8_t padding;
            uint32_t error_code;
            uint32_t padding2;
        } task_switch;
        /* HV_EXIT_INTERNAL_ERROR: the hypervisor could not go on with
         * the guest; suberror says why (HV_INTERNAL_ERROR_*). */
        struct {
            uint32_t suberror;
            uint32_t padding;
            uint64_t data[4];
        } internal;
        uint8_t padding3[256];
    };
    /* in: a TSC value at which RUN returns HV_EXIT_DEADLINE (0: none), so
     * that the VMM's timed devices need no polling */
    uint64_t deadline_tsc;
};
_Static_assert(offsetof(struct hv_run, exit_reason) == 8, "hv_run.exit_reason");
_Static_assert(offsetof(struct hv_run, io) == 32, "hv_run union");
_Static_assert(offsetof(struct hv_run, mmio.data) == 32 + 40, "hv_run.mmio.data");
_Static_assert(offsetof(struct hv_run, deadline_tsc) == 32 + 256, "hv_run.deadline_tsc");
_Static_assert(sizeof(struct hv_run) == 32 + 256 + 8, "hv_run");

/* ---- GET_STATS: what a leak test compares before and after ----------- */
struct hv_stats {
    uint64_t free_frames;
    uint64_t vms;             /* live VM objects (the control domain excluded) */
    uint64_t vcpus;           /* live child vcpu objects */
    uint64_t handles;         /* open handles in the caller's table */
    uint64_t objects;         /* all objects in the hypervisor's caches */
    uint64_t nmis;            /* NMIs the hypervisor took, all CPUs */
    uint64_t machine_checks;  /* machine checks the hypervisor took */
    uint64_t nested_table_pages; /* NPT/EPT table pages of all child VMs */
    uint64_t idle_tsc;        /* TSC ticks CPUs slept for halted vcpus */
    uint64_t ibpb_switches;   /* IBPBs issued on VM switches, all CPUs */
    uint64_t console_input_bytes;   /* bytes typed at the console since boot */
    uint64_t console_input_dropped; /* of them, lost to a full input ring */
    uint64_t reserved[4];     /* zero; room for later counters */
};
_Static_assert(sizeof(struct hv_stats) == 128, "hv_stats");

/* CONSOLE_READ takes at most this many bytes per call. */
#define HV_CONSOLE_READ_MAX 4096

/* ---- boot information for the control domain ------------------------- */
/* The hypervisor starts every control-domain vcpu in 64-bit mode at the
 * image's entry with RDI = guest-physical address of this structure and
 * RSI = the vcpu's index (0 .. cpu_count-1; vcpu i runs on physical CPU i).
 * RSP is 0: the image sets up its own stacks. Paging identity-maps all of
 * the control domain's memory with 2 MiB pages. */
#define HV_BOOT_MAGIC 0x48564254534f4f42ull /* "BOOTSTVH" */
#define HV_BOOT_MAX_MODULES 16

struct hv_boot_module {
    uint64_t guest_phys;      /* copy of the module in control-domain memory */
    uint64_t size;
    char cmdline[112];
};
_Static_assert(sizeof(struct hv_boot_module) == 128, "hv_boot_module");

struct hv_boot_info {
    uint64_t magic;
    uint32_t api_version;
    uint32_t cpu_count;
    hv_handle_t system_handle;
    uint64_t memory_size;     /* control-domain RAM: [0, memory_size) */
    uint64_t free_start;      /* first free byte above the image */
    uint64_t free_end;        /* end of RAM free for the domain's own use */
    uint32_t module_count;
    uint32_t backend;         /* HV_BACKEND_* */
    char cmdline[256];
    struct hv_boot_module modules[HV_BOOT_MAX_MODULES];
};
_Static_assert(sizeof(struct hv_boot_info) == 56 + 256 + 16 * 128, "hv_boot_info");

#endif
