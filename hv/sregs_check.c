#include "hv/sregs_check.h"

#include <stdbool.h>

#define EFER_LME (1ull << 8)
#define EFER_ALLOWED 0xd01ull /* SCE LME LMA NXE */

int sregs_check(const struct hv_sregs *r, const struct cpu_limits *limits)
{
    bool long_mode = (r->efer & EFER_LME) && (r->cr0 & CR0_PG);
    if (r->efer & ~EFER_ALLOWED)
        return -HV_EINVAL;
    if ((r->cr0 & ~CR0_DEFINED) || ((r->cr0 & CR0_PG) && !(r->cr0 & CR0_PE)) ||
        ((r->cr0 & CR0_NW) && !(r->cr0 & CR0_CD)))
        return -HV_EINVAL;
    if (r->cr4 & ~limits->cr4_allowed)
        return -HV_EINVAL;
    if (long_mode && !(r->cr4 & CR4_PAE))
        return -HV_EINVAL;
    if (long_mode && r->cs.l && r->cs.db)
        return -HV_EINVAL;
    /* CR3 may not point beyond physical memory (long mode) or 4 GiB. */
    if (r->cr3 >> (long_mode ? limits->physical_bits : 32))
        return -HV_EINVAL;
    if (r->cr8 > 15)
        return -HV_EINVAL;
    return 0;
}
