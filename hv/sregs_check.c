/* SET_SREGS' rules for the control registers and EFER (hv/sregs_check.h):
 * SDM 3C 27.3.1.1 and APM vol. 2 15.5.1, each rule with the manual that
 * asks for it. The segment registers follow in hv/sregs_segments.c. */
#include "hv/sregs_check.h"

#define EFER_LME (1ull << 8)
#define EFER_ALLOWED 0xd01ull /* SCE LME LMA NXE */
#define CR0_WP (1ull << 16)
#define CR4_PCIDE (1ull << 17)
#define CR4_CET (1ull << 23)

static const char *control_refusal(const struct hv_sregs *r, const struct cpu_limits *limits)
{
    /* IA-32e mode is active exactly when LME and PG are both set: LMA is
     * recomputed from them, never taken from the caller. */
    bool ia32e = (r->efer & EFER_LME) && (r->cr0 & CR0_PG);
    if (r->efer & ~EFER_ALLOWED)
        return "EFER reserved bits";        /* SDM, APM */
    if (r->cr0 & ~CR0_DEFINED)
        return "CR0 reserved bits";         /* SDM (FIXED1), APM (63:32) */
    if ((r->cr0 & CR0_PG) && !(r->cr0 & CR0_PE))
        return "CR0.PG without CR0.PE";     /* SDM, APM (long mode) */
    if ((r->cr0 & CR0_NW) && !(r->cr0 & CR0_CD))
        return "CR0.NW without CR0.CD";     /* APM */
    if (r->cr4 & ~limits->cr4_allowed)
        return "CR4 bit the CPU lacks";     /* SDM (FIXED1), APM */
    if (ia32e && !(r->cr4 & CR4_PAE))
        return "IA-32e mode without CR4.PAE"; /* SDM, APM */
    if (!ia32e && (r->cr4 & CR4_PCIDE))
        return "CR4.PCIDE outside IA-32e mode"; /* SDM */
    if ((r->cr4 & CR4_CET) && !(r->cr0 & CR0_WP))
        return "CR4.CET without CR0.WP";    /* SDM */
    /* CR3 may not point beyond physical memory (SDM, APM long mode); a
     * 32-bit mode's CR3 is 32 bits wide, so above 4 GiB is refused too. */
    if (r->cr3 >> (ia32e ? limits->physical_bits : 32))
        return "CR3 beyond the physical address width";
    if (r->cr8 > 15)
        return "CR8 above 15";              /* bits 63:4 reserved */
    return NULL;
}

const char *sregs_refusal(const struct hv_sregs *r, const struct cpu_limits *limits)
{
    const char *why = control_refusal(r, limits);
    return why ? why : sregs_segments_refusal(r, limits);
}

int sregs_check(const struct hv_sregs *r, const struct cpu_limits *limits)
{
    return sregs_refusal(r, limits) ? -HV_EINVAL : 0;
}

bool sregs_pae_paging(const struct hv_sregs *r)
{
    return (r->cr0 & CR0_PG) && (r->cr4 & CR4_PAE) && !(r->efer & EFER_LME);
}

bool pae_pdptes_valid(const uint64_t pdpte[4], unsigned physical_bits, uint64_t reserved_low)
{
    /* Bit 63 (execute-disable elsewhere) is reserved in both. */
    uint64_t reserved = reserved_low | ~((1ull << physical_bits) - 1);
    for (int i = 0; i < 4; i++)
        if ((pdpte[i] & 1) && (pdpte[i] & reserved))
            return false;
    return true;
}
