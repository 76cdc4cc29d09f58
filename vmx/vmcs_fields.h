/* VMCS field encodings (Intel SDM vol. 3D, appendix B) and the control,
 * exit-reason and access-rights bits the backend uses (vol. 3C, 24-27). */
#ifndef VMX_VMCS_FIELDS_H
#define VMX_VMCS_FIELDS_H

/* 16-bit fields */
#define VMCS_VPID                      0x0000
#define VMCS_GUEST_ES_SELECTOR         0x0800 /* ES CS SS DS FS GS LDTR TR, step 2 */
#define VMCS_GUEST_TR_SELECTOR         0x080e
#define VMCS_HOST_ES_SELECTOR          0x0c00
#define VMCS_HOST_CS_SELECTOR          0x0c02
#define VMCS_HOST_SS_SELECTOR          0x0c04
#define VMCS_HOST_DS_SELECTOR          0x0c06
#define VMCS_HOST_FS_SELECTOR          0x0c08
#define VMCS_HOST_GS_SELECTOR          0x0c0a
#define VMCS_HOST_TR_SELECTOR          0x0c0c

/* 64-bit fields */
#define VMCS_IO_BITMAP_A               0x2000
#define VMCS_IO_BITMAP_B               0x2002
#define VMCS_MSR_BITMAP                0x2004
#define VMCS_TSC_OFFSET                0x2010
#define VMCS_VIRTUAL_APIC_ADDRESS      0x2012
#define VMCS_APIC_ACCESS_ADDRESS       0x2014
#define VMCS_EPT_POINTER               0x201a
#define VMCS_GUEST_PHYSICAL_ADDRESS    0x2400
#define VMCS_LINK_POINTER              0x2800
#define VMCS_GUEST_DEBUGCTL            0x2802
#define VMCS_GUEST_PAT                 0x2804
#define VMCS_GUEST_EFER                0x2806
#define VMCS_GUEST_PDPTE0              0x280a /* PDPTE0-3, step 2 */
#define VMCS_HOST_PAT                  0x2c00
#define VMCS_HOST_EFER                 0x2c02

/* 32-bit fields */
#define VMCS_PIN_CONTROLS              0x4000
#define VMCS_PROC_CONTROLS             0x4002
#define VMCS_EXCEPTION_BITMAP          0x4004
#define VMCS_CR3_TARGET_COUNT          0x400a
#define VMCS_EXIT_CONTROLS             0x400c
#define VMCS_EXIT_MSR_STORE_COUNT      0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT       0x4010
#define VMCS_ENTRY_CONTROLS            0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT      0x4014
#define VMCS_ENTRY_INTERRUPTION_INFO   0x4016
#define VMCS_ENTRY_EXCEPTION_ERROR     0x4018
#define VMCS_ENTRY_INSTRUCTION_LENGTH  0x401a
#define VMCS_TPR_THRESHOLD             0x401c
#define VMCS_PROC_CONTROLS2            0x401e
#define VMCS_INSTRUCTION_ERROR         0x4400
#define VMCS_EXIT_REASON               0x4402
#define VMCS_EXIT_INTERRUPTION_INFO    0x4404
#define VMCS_EXIT_INTERRUPTION_ERROR   0x4406
#define VMCS_IDT_VECTORING_INFO        0x4408
#define VMCS_IDT_VECTORING_ERROR       0x440a
#define VMCS_EXIT_INSTRUCTION_LENGTH   0x440c
#define VMCS_GUEST_ES_LIMIT            0x4800 /* ES..TR limits, step 2 */
#define VMCS_GUEST_GDTR_LIMIT          0x4810
#define VMCS_GUEST_IDTR_LIMIT          0x4812
#define VMCS_GUEST_ES_ACCESS           0x4814 /* ES..TR access rights, step 2 */
#define VMCS_GUEST_INTERRUPTIBILITY    0x4824
#define VMCS_GUEST_ACTIVITY            0x4826
#define VMCS_GUEST_SYSENTER_CS         0x482a
#define VMCS_PREEMPTION_TIMER_VALUE    0x482e
#define VMCS_HOST_SYSENTER_CS          0x4c00

/* natural-width fields */
#define VMCS_CR0_MASK                  0x6000
#define VMCS_CR4_MASK                  0x6002
#define VMCS_CR0_SHADOW                0x6004
#define VMCS_CR4_SHADOW                0x6006
#define VMCS_EXIT_QUALIFICATION        0x6400
#define VMCS_GUEST_LINEAR_ADDRESS      0x640a
#define VMCS_GUEST_CR0                 0x6800
#define VMCS_GUEST_CR3                 0x6802
#define VMCS_GUEST_CR4                 0x6804
#define VMCS_GUEST_ES_BASE             0x6806 /* ES..TR bases, step 2 */
#define VMCS_GUEST_GDTR_BASE           0x6816
#define VMCS_GUEST_IDTR_BASE           0x6818
#define VMCS_GUEST_DR7                 0x681a
#define VMCS_GUEST_RSP                 0x681c
#define VMCS_GUEST_RIP                 0x681e
#define VMCS_GUEST_RFLAGS              0x6820
#define VMCS_GUEST_PENDING_DEBUG       0x6822
#define VMCS_GUEST_SYSENTER_ESP        0x6824
#define VMCS_GUEST_SYSENTER_EIP        0x6826
#define VMCS_HOST_CR0                  0x6c00
#define VMCS_HOST_CR3                  0x6c02
#define VMCS_HOST_CR4                  0x6c04
#define VMCS_HOST_FS_BASE              0x6c06
#define VMCS_HOST_GS_BASE              0x6c08
#define VMCS_HOST_TR_BASE              0x6c0a
#define VMCS_HOST_GDTR_BASE            0x6c0c
#define VMCS_HOST_IDTR_BASE            0x6c0e
#define VMCS_HOST_SYSENTER_ESP         0x6c10
#define VMCS_HOST_SYSENTER_EIP         0x6c12
#define VMCS_HOST_RSP                  0x6c14
#define VMCS_HOST_RIP                  0x6c16

/* Segment order of the guest-state arrays above. */
enum vmx_segment { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

/* Pin-based controls (24.6.1) */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define PIN_NMI_EXITING                (1u << 3)
#define PIN_VIRTUAL_NMIS               (1u << 5)
#define PIN_PREEMPTION_TIMER           (1u << 6)
/* Primary processor-based controls (24.6.2) */
#define PROC_INTERRUPT_WINDOW_EXITING  (1u << 2)
#define PROC_USE_TSC_OFFSETTING        (1u << 3)
#define PROC_HLT_EXITING               (1u << 7)
#define PROC_INVLPG_EXITING            (1u << 9)
#define PROC_MWAIT_EXITING             (1u << 10)
#define PROC_CR3_LOAD_EXITING          (1u << 15)
#define PROC_CR3_STORE_EXITING         (1u << 16)
#define PROC_CR8_LOAD_EXITING          (1u << 19)
#define PROC_CR8_STORE_EXITING         (1u << 20)
#define PROC_USE_TPR_SHADOW            (1u << 21)
#define PROC_NMI_WINDOW_EXITING        (1u << 22)
#define PROC_MOV_DR_EXITING            (1u << 23)
#define PROC_USE_IO_BITMAPS            (1u << 25)
#define PROC_USE_MSR_BITMAPS           (1u << 28)
#define PROC_MONITOR_EXITING           (1u << 29)
#define PROC_SECONDARY_CONTROLS        (1u << 31)
/* Secondary processor-based controls */
#define PROC2_VIRTUALIZE_APIC_ACCESSES (1u << 0)
#define PROC2_ENABLE_EPT               (1u << 1)
#define PROC2_ENABLE_RDTSCP            (1u << 3)
#define PROC2_ENABLE_VPID              (1u << 5)
#define PROC2_UNRESTRICTED_GUEST       (1u << 7)
#define PROC2_APIC_REGISTER_VIRTUALIZATION (1u << 8)
#define PROC2_ENABLE_INVPCID           (1u << 12)
/* VM-exit controls (24.7.1) */
#define EXIT_SAVE_DEBUG_CONTROLS       (1u << 2)
#define EXIT_HOST_ADDRESS_SPACE_SIZE   (1u << 9)
#define EXIT_SAVE_PAT                  (1u << 18)
#define EXIT_LOAD_PAT                  (1u << 19)
#define EXIT_SAVE_EFER                 (1u << 20)
#define EXIT_LOAD_EFER                 (1u << 21)
#define EXIT_SAVE_PREEMPTION_TIMER     (1u << 22)
/* VM-entry controls (24.8.1) */
#define ENTRY_LOAD_DEBUG_CONTROLS      (1u << 2)
#define ENTRY_IA32E_MODE_GUEST         (1u << 9)
#define ENTRY_LOAD_PAT                 (1u << 14)
#define ENTRY_LOAD_EFER                (1u << 15)

/* Capability MSRs (appendix A) */
#define MSR_VMX_PINBASED_CTLS          0x481
#define MSR_VMX_PROCBASED_CTLS         0x482
#define MSR_VMX_EXIT_CTLS              0x483
#define MSR_VMX_ENTRY_CTLS             0x484
#define MSR_VMX_MISC                   0x485
#define MSR_VMX_PROCBASED_CTLS2        0x48b
#define MSR_VMX_EPT_VPID_CAP           0x48c
#define MSR_VMX_TRUE_PINBASED_CTLS     0x48d
#define MSR_VMX_TRUE_PROCBASED_CTLS    0x48e
#define MSR_VMX_TRUE_EXIT_CTLS         0x48f
#define MSR_VMX_TRUE_ENTRY_CTLS        0x490

/* Basic exit reasons (appendix C) */
#define EXIT_REASON_EXCEPTION_NMI      0
#define EXIT_REASON_EXTERNAL_INTERRUPT 1
#define EXIT_REASON_TRIPLE_FAULT       2
#define EXIT_REASON_INTERRUPT_WINDOW   7
#define EXIT_REASON_NMI_WINDOW         8
#define EXIT_REASON_TASK_SWITCH        9
#define EXIT_REASON_CPUID              10
#define EXIT_REASON_HLT                12
#define EXIT_REASON_INVD               13
#define EXIT_REASON_VMCALL             18
#define EXIT_REASON_VMCLEAR            19 /* 19-27: VMX instructions */
#define EXIT_REASON_VMXON              27
#define EXIT_REASON_CR_ACCESS          28
#define EXIT_REASON_DR_ACCESS          29
#define EXIT_REASON_IO                 30
#define EXIT_REASON_RDMSR              31
#define EXIT_REASON_WRMSR              32
#define EXIT_REASON_INVALID_GUEST      33
#define EXIT_REASON_MSR_LOADING        34
#define EXIT_REASON_MWAIT              36
#define EXIT_REASON_MONITOR            39
#define EXIT_REASON_MACHINE_CHECK      41 /* during VM entry */
#define EXIT_REASON_TPR_BELOW_THRESHOLD 43
#define EXIT_REASON_APIC_ACCESS        44
#define EXIT_REASON_EPT_VIOLATION      48
#define EXIT_REASON_EPT_MISCONFIG      49
#define EXIT_REASON_INVEPT             50
#define EXIT_REASON_PREEMPTION_TIMER   52
#define EXIT_REASON_INVVPID            53
#define EXIT_REASON_XSETBV             55
#define EXIT_REASON_APIC_WRITE         56
#define EXIT_REASON_ENTRY_FAILED       (1u << 31)

/* EPT violation qualification, bits 7 and 8 (SDM 3C table 28-7): bit 7
 * with bit 8 clear is an access to a paging-structure entry during the
 * translation of the guest linear address, the guest's page walk. */
#define EPT_QUAL_LINEAR_KIND           (3u << 7)
#define EPT_QUAL_PAGE_WALK             (1u << 7)

/* Access rights (24.4.1) */
#define AR_UNUSABLE                    (1u << 16)
#define AR_DPL_SHIFT                   5

/* Event injection (24.8.3) */
#define INTR_INFO_VALID                (1u << 31)
#define INTR_INFO_DELIVER_ERROR        (1u << 11)
#define INTR_TYPE_MASK                 (7u << 8)
#define INTR_TYPE_EXTERNAL             (0u << 8)
#define INTR_TYPE_NMI                  (2u << 8)
#define INTR_TYPE_HARDWARE_EXCEPTION   (3u << 8)
#define INTR_TYPE_SOFTWARE_INTERRUPT   (4u << 8) /* INT n */
#define INTR_TYPE_PRIVILEGED_SOFTWARE  (5u << 8) /* INT1 (ICEBP) */
#define INTR_TYPE_SOFTWARE_EXCEPTION   (6u << 8) /* INT3, INTO */
/* Exit interruption information and EPT-violation qualification: the
 * exit came in the middle of an IRET that had ended NMI blocking
 * (SDM 3C 27.2.3) */
#define INTR_INFO_NMI_UNBLOCKED_BY_IRET (1u << 12)
/* Guest interruptibility state (24.4.2): blocking by STI, by MOV SS */
#define INTERRUPTIBILITY_STI          1u
#define INTERRUPTIBILITY_STI_MOV_SS    3u
#define INTERRUPTIBILITY_NMI           (1u << 3)

/* EPT pointer (24.6.11); the entries are in mmu/nested_formats.h */
#define EPTP_WB                        6ull
#define EPTP_WALK_LENGTH_4             (3ull << 3)

#endif
