/* Model-specific register numbers and bits (Intel SDM vol. 4, AMD APM vol. 2
 * appendix A). */
#ifndef HV_MSR_H
#define HV_MSR_H

#define MSR_IA32_TSC                0x00000010
#define MSR_IA32_TSC_ADJUST         0x0000003b  /* SDM 3B 17.17.3 */
#define MSR_IA32_APIC_BASE          0x0000001b
#define   APIC_BASE_BSP             (1ull << 8)
#define   APIC_BASE_X2APIC          (1ull << 10)
#define   APIC_BASE_ENABLE          (1ull << 11)
#define MSR_IA32_FEATURE_CONTROL    0x0000003a
#define   FEATURE_CONTROL_LOCK      (1ull << 0)
#define   FEATURE_CONTROL_VMXON_SMX (1ull << 1)
#define   FEATURE_CONTROL_VMXON     (1ull << 2)
#define MSR_IA32_SPEC_CTRL          0x00000048
#define   SPEC_CTRL_IBRS            (1ull << 0)
#define   SPEC_CTRL_STIBP           (1ull << 1)
#define   SPEC_CTRL_SSBD            (1ull << 2)
#define MSR_IA32_PRED_CMD           0x00000049
#define   PRED_CMD_IBPB             (1ull << 0)
#define MSR_IA32_ARCH_CAPABILITIES  0x0000010a
#define MSR_IA32_SYSENTER_CS        0x00000174
#define MSR_IA32_SYSENTER_ESP       0x00000175
#define MSR_IA32_SYSENTER_EIP       0x00000176
/* Machine-check architecture (SDM 3B 15.3; APM vol. 2, 9.3). Bank i has
 * four MSRs from MC0_CTL + 4 * i: CTL, STATUS, ADDR, MISC. */
#define MSR_IA32_MCG_CAP            0x00000179
#define   MCG_CAP_COUNT             0xffull        /* banks */
#define   MCG_CAP_CTL_P             (1ull << 8)    /* MCG_CTL exists */
#define MSR_IA32_MCG_STATUS         0x0000017a
#define   MCG_STATUS_RIPV           (1ull << 0)    /* can resume at the pushed RIP */
#define   MCG_STATUS_EIPV           (1ull << 1)    /* the pushed RIP caused it */
#define   MCG_STATUS_MCIP           (1ull << 2)    /* in progress: a second one shuts down */
#define MSR_IA32_MCG_CTL            0x0000017b
#define MSR_IA32_MC0_CTL            0x00000400
#define   MCI_STATUS_VAL            (1ull << 63)
#define   MCI_STATUS_OVER           (1ull << 62)
#define   MCI_STATUS_UC             (1ull << 61)
#define   MCI_STATUS_EN             (1ull << 60)
#define   MCI_STATUS_MISCV          (1ull << 59)
#define   MCI_STATUS_ADDRV          (1ull << 58)
#define   MCI_STATUS_PCC            (1ull << 57)
#define MSR_IA32_PAT                0x00000277
#define MSR_IA32_VMX_BASIC          0x00000480
#define MSR_IA32_VMX_CR0_FIXED0     0x00000486
#define MSR_IA32_VMX_CR0_FIXED1     0x00000487
#define MSR_IA32_VMX_CR4_FIXED0     0x00000488
#define MSR_IA32_VMX_CR4_FIXED1     0x00000489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x0000048b
#define MSR_IA32_VMX_EPT_VPID_CAP   0x0000048c

#define MSR_X2APIC_BASE             0x00000800

#define MSR_EFER                    0xc0000080
#define   EFER_SCE                  (1ull << 0)
#define   EFER_LME                  (1ull << 8)
#define   EFER_LMA                  (1ull << 10)
#define   EFER_NXE                  (1ull << 11)
#define   EFER_SVME                 (1ull << 12)
#define MSR_STAR                    0xc0000081
#define MSR_LSTAR                   0xc0000082
#define MSR_CSTAR                   0xc0000083
#define MSR_SFMASK                  0xc0000084
#define MSR_FS_BASE                 0xc0000100
#define MSR_GS_BASE                 0xc0000101
#define MSR_KERNEL_GS_BASE          0xc0000102
#define MSR_TSC_AUX                 0xc0000103

#define MSR_VM_CR                   0xc0010114
#define   VM_CR_LOCK                (1ull << 3)
#define   VM_CR_SVMDIS              (1ull << 4)
#define MSR_VM_HSAVE_PA             0xc0010117

#endif
