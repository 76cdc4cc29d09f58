/* The VMCB: AMD APM vol. 2, appendix B (layout) and 15.5-15.20 (fields). */
#ifndef SVM_VMCB_LAYOUT_H
#define SVM_VMCB_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

struct vmcb_control {
    uint32_t intercept_cr;          /* 0x000: reads 15:0, writes 31:16 */
    uint32_t intercept_dr;          /* 0x004 */
    uint32_t intercept_exceptions;  /* 0x008 */
    uint32_t intercept_misc1;       /* 0x00c: INTERCEPT_* below */
    uint32_t intercept_misc2;       /* 0x010: INTERCEPT2_* below */
    uint32_t intercept_misc3;       /* 0x014 */
    uint8_t reserved1[0x3c - 0x18];
    uint16_t pause_filter_threshold;/* 0x03c */
    uint16_t pause_filter_count;    /* 0x03e */
    uint64_t iopm_base;             /* 0x040 */
    uint64_t msrpm_base;            /* 0x048 */
    uint64_t tsc_offset;            /* 0x050 */
    uint32_t asid;                  /* 0x058 */
    uint8_t tlb_control;            /* 0x05c */
    uint8_t reserved2[3];
    uint64_t int_control;           /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING.. */
    uint64_t int_state;             /* 0x068: bit 0 interrupt shadow */
    uint64_t exit_code;             /* 0x070 */
    uint64_t exit_info1;            /* 0x078 */
    uint64_t exit_info2;            /* 0x080 */
    uint64_t exit_int_info;         /* 0x088 */
    uint64_t np_control;            /* 0x090: bit 0 NP_ENABLE */
    uint64_t avic_apic_bar;         /* 0x098 */
    uint64_t ghcb;                  /* 0x0a0 */
    uint64_t event_inject;          /* 0x0a8 */
    uint64_t n_cr3;                 /* 0x0b0 */
    uint64_t virt_ext;              /* 0x0b8 */
    uint32_t clean;                 /* 0x0c0 */
    uint32_t reserved3;
    uint64_t next_rip;              /* 0x0c8 */
    uint8_t insn_length;            /* 0x0d0 */
    uint8_t insn_bytes[15];         /* 0x0d1 */
    uint8_t reserved4[0x400 - 0xe0];
};

struct vmcb_segment {
    uint16_t selector;
    uint16_t attrib;    /* descriptor bits 40-47 and 52-55, packed: 15.5.1 */
    uint32_t limit;
    uint64_t base;
};

struct vmcb_save {
    struct vmcb_segment es, cs, ss, ds, fs, gs;   /* 0x400 */
    struct vmcb_segment gdtr, ldtr, idtr, tr;     /* 0x460 */
    uint8_t reserved1[0xcb - 0xa0];
    uint8_t cpl;                    /* 0x4cb */
    uint32_t reserved2;
    uint64_t efer;                  /* 0x4d0 */
    uint8_t reserved3[0x148 - 0xd8];
    uint64_t cr4;                   /* 0x548 */
    uint64_t cr3;                   /* 0x550 */
    uint64_t cr0;                   /* 0x558 */
    uint64_t dr7;                   /* 0x560 */
    uint64_t dr6;                   /* 0x568 */
    uint64_t rflags;                /* 0x570 */
    uint64_t rip;                   /* 0x578 */
    uint8_t reserved4[0x1d8 - 0x180];
    uint64_t rsp;                   /* 0x5d8 */
    uint64_t s_cet, ssp, isst_addr; /* 0x5e0 */
    uint64_t rax;                   /* 0x5f8 */
    uint64_t star, lstar, cstar, sfmask;          /* 0x600 */
    uint64_t kernel_gs_base;        /* 0x620 */
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip; /* 0x628 */
    uint64_t cr2;                   /* 0x640 */
    uint8_t reserved5[0x268 - 0x248];
    uint64_t g_pat;                 /* 0x668 */
    uint64_t dbgctl;                /* 0x670 */
    uint64_t br_from, br_to, last_excp_from, last_excp_to; /* 0x678 */
    uint8_t reserved6[0x2e0 - 0x298];
    /* The guest's SPEC_CTRL, loaded by VMRUN and saved by #VMEXIT where
     * CPUID Fn8000_000A EDX[20] (V_SPEC_CTRL) says so (APM table B-2). */
    uint64_t spec_ctrl;             /* 0x6e0 */
};

struct vmcb {
    struct vmcb_control control;
    struct vmcb_save save;
    uint8_t reserved[4096 - 0x400 - sizeof(struct vmcb_save)];
};

_Static_assert(offsetof(struct vmcb_control, iopm_base) == 0x040, "VMCB iopm");
_Static_assert(offsetof(struct vmcb_control, asid) == 0x058, "VMCB asid");
_Static_assert(offsetof(struct vmcb_control, exit_code) == 0x070, "VMCB exit code");
_Static_assert(offsetof(struct vmcb_control, np_control) == 0x090, "VMCB NP");
_Static_assert(offsetof(struct vmcb_control, event_inject) == 0x0a8, "VMCB eventinj");
_Static_assert(offsetof(struct vmcb_control, next_rip) == 0x0c8, "VMCB nRIP");
_Static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area");
_Static_assert(offsetof(struct vmcb, save.tr) == 0x490, "VMCB TR");
_Static_assert(offsetof(struct vmcb, save.cpl) == 0x4cb, "VMCB CPL");
_Static_assert(offsetof(struct vmcb, save.efer) == 0x4d0, "VMCB EFER");
_Static_assert(offsetof(struct vmcb, save.cr4) == 0x548, "VMCB CR4");
_Static_assert(offsetof(struct vmcb, save.rip) == 0x578, "VMCB RIP");
_Static_assert(offsetof(struct vmcb, save.rsp) == 0x5d8, "VMCB RSP");
_Static_assert(offsetof(struct vmcb, save.rax) == 0x5f8, "VMCB RAX");
_Static_assert(offsetof(struct vmcb, save.cr2) == 0x640, "VMCB CR2");
_Static_assert(offsetof(struct vmcb, save.g_pat) == 0x668, "VMCB G_PAT");
_Static_assert(offsetof(struct vmcb, save.spec_ctrl) == 0x6e0, "VMCB SPEC_CTRL");
_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");

/* intercept_cr (vector 0): reads of CRn at bit n, writes at bit 16 + n */
#define INTERCEPT_CR0_WRITE  (1u << 16)
#define INTERCEPT_CR8_READ   (1u << 8)
#define INTERCEPT_CR4_WRITE  (1u << 20)
#define INTERCEPT_CR8_WRITE  (1u << 24)
/* intercept_exceptions (vector 2): one bit per exception vector */
#define INTERCEPT_EXCEPTION_MC (1u << 18)
/* intercept_misc1 (vector 3, APM B-1) */
#define INTERCEPT_INTR       (1u << 0)
#define INTERCEPT_NMI        (1u << 1)
#define INTERCEPT_VINTR      (1u << 4)
#define INTERCEPT_CPUID      (1u << 18)
#define INTERCEPT_IRET       (1u << 20)
#define INTERCEPT_INVD       (1u << 22)
#define INTERCEPT_HLT        (1u << 24)
#define INTERCEPT_INVLPGA    (1u << 26)
#define INTERCEPT_IOIO_PROT  (1u << 27)
#define INTERCEPT_MSR_PROT   (1u << 28)
#define INTERCEPT_TASK_SWITCH (1u << 29)
#define INTERCEPT_SHUTDOWN   (1u << 31)
/* intercept_misc2 (vector 4) */
#define INTERCEPT2_VMRUN     (1u << 0)
#define INTERCEPT2_VMMCALL   (1u << 1)
#define INTERCEPT2_VMLOAD    (1u << 2)
#define INTERCEPT2_VMSAVE    (1u << 3)
#define INTERCEPT2_STGI      (1u << 4)
#define INTERCEPT2_CLGI      (1u << 5)
#define INTERCEPT2_SKINIT    (1u << 6)
#define INTERCEPT2_MONITOR   (1u << 10)
#define INTERCEPT2_MWAIT     (1u << 11)
#define INTERCEPT2_XSETBV    (1u << 13)

/* int_control (15.21.1): a virtual interrupt the guest takes at its
 * priority, whatever V_TPR says; with INTERCEPT_VINTR it only makes an
 * exit when the guest could take it (the interrupt window). */
#define V_IRQ                (1ull << 8)
#define V_INTR_PRIO_MAX      (0xfull << 16)
#define V_IGN_TPR            (1ull << 20)
#define V_INTR_MASKING       (1ull << 24)
#define INT_STATE_SHADOW     1ull
#define NP_ENABLE            1ull
#define TLB_CONTROL_NONE     0
#define TLB_CONTROL_FLUSH_ALL 1
#define TLB_CONTROL_FLUSH_ASID 3   /* with flush-by-ASID only */

/* EVENTINJ (15.20) */
#define EVENT_VALID          (1ull << 31)
#define EVENT_ERROR_VALID    (1ull << 11)
#define EVENT_TYPE_MASK      (7ull << 8)
#define EVENT_TYPE_INTR      (0ull << 8)
#define EVENT_TYPE_NMI       (2ull << 8)
#define EVENT_TYPE_EXCEPTION (3ull << 8)
#define EVENT_TYPE_SOFT_INTERRUPT (4ull << 8)

/* intercept_dr (vector 1, APM B-1): bit n reads of DRn, bit 16 + n writes */
#define INTERCEPT_DR_READ(n)  (1u << (n))
#define INTERCEPT_DR_WRITE(n) (1u << (16 + (n)))

/* Exit codes (appendix C) */
#define VMEXIT_DR_READ_BASE  0x20 /* + n: MOV from DRn */
#define VMEXIT_DR_WRITE_BASE 0x30 /* + n: MOV to DRn */
#define VMEXIT_CR8_READ      0x08
#define VMEXIT_CR0_WRITE     0x10
#define VMEXIT_CR4_WRITE     0x14  /* EXITINFO1 bit 63: GPR in bits 3:0 valid */
#define VMEXIT_CR8_WRITE     0x18
#define VMEXIT_EXCEPTION_BASE 0x40
#define VMEXIT_EXCEPTION_DB  0x41
#define VMEXIT_EXCEPTION_MC  0x52
#define VMEXIT_INTR          0x60
#define VMEXIT_NMI           0x61
#define VMEXIT_VINTR         0x64
#define VMEXIT_CPUID         0x72
#define VMEXIT_IRET          0x74
#define VMEXIT_INVD          0x76
#define VMEXIT_HLT           0x78
#define VMEXIT_INVLPGA       0x7a
#define VMEXIT_IOIO          0x7b
#define VMEXIT_MSR           0x7c
#define VMEXIT_TASK_SWITCH   0x7d
#define VMEXIT_SHUTDOWN      0x7f
#define VMEXIT_VMRUN         0x80
#define VMEXIT_VMMCALL       0x81
#define VMEXIT_VMLOAD        0x82
#define VMEXIT_VMSAVE        0x83
#define VMEXIT_STGI          0x84
#define VMEXIT_CLGI          0x85
#define VMEXIT_SKINIT        0x86
#define VMEXIT_MONITOR       0x8a
#define VMEXIT_MWAIT         0x8b
#define VMEXIT_XSETBV        0x8d
#define VMEXIT_NPF           0x400
/* EXITINFO1 of VMEXIT_NPF, bit 33: the fault was in the walk of the
 * guest's own page tables (APM 15.25.6). */
#define NPF_INFO_PAGE_WALK   (1ull << 33)
#define VMEXIT_INVALID       0xffffffffu /* compare the low 32 bits */

/* IOIO EXITINFO1 (15.10.2) */
#define IOIO_IN              (1u << 0)
#define IOIO_STRING          (1u << 2)
#define IOIO_REP             (1u << 3)
#define IOIO_SIZE_SHIFT      4 /* bits 4-6: 8, 16, 32-bit */

/* Segment attribute bits in VMCB format. */
#define SEG_ATTR_S           (1u << 4)
#define SEG_ATTR_P           (1u << 7)
#define SEG_ATTR_L           (1u << 9)
#define SEG_ATTR_DB          (1u << 10)
#define SEG_ATTR_G           (1u << 11)

#endif
