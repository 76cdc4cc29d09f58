#include "hv/cr_write.h"

bool cr0_write_allowed(const struct cr_write_context *c, uint64_t value,
                       uint64_t *result)
{
    bool paging_on = !(c->cr0 & CR0_PG) && (value & CR0_PG);
    bool paging_off = (c->cr0 & CR0_PG) && !(value & CR0_PG);
    /* Bits 63:32 are reserved, and two combinations are invalid. */
    if ((value >> 32) || ((value & CR0_PG) && !(value & CR0_PE)) ||
        ((value & CR0_NW) && !(value & CR0_CD)))
        return false;
    /* Activating IA-32e mode needs PAE, and cannot happen from a 64-bit
     * code segment (SDM 3A 9.8.5). */
    if (paging_on && (c->efer & CR_EFER_LME) && (!(c->cr4 & CR4_PAE) || c->cs_l))
        return false;
    /* Paging cannot go off in 64-bit mode (leave through compatibility
     * mode), nor with PCIDs on. */
    if (paging_off && (((c->efer & CR_EFER_LMA) && c->cs_l) || (c->cr4 & CR4_PCIDE)))
        return false;
    /* Shadow stacks rely on write protection. */
    if (!(value & CR0_WP) && (c->cr4 & CR4_CET))
        return false;
    /* Reserved bits below 32 are ignored, not refused; ET reads as 1. */
    *result = (value & CR0_DEFINED) | CR0_ET;
    return true;
}

bool cr4_write_allowed(const struct cr_write_context *c, uint64_t value)
{
    bool ia32e = c->efer & CR_EFER_LMA;
    /* Reserved bits, and bits of features this CPU lacks. */
    if (value & ~c->cr4_allowed)
        return false;
    /* IA-32e mode cannot be left by clearing PAE, nor change paging depth. */
    if (ia32e && (!(value & CR4_PAE) || ((value ^ c->cr4) & CR4_LA57)))
        return false;
    /* PCIDs come on only in IA-32e mode, with PCID 0 current. */
    if ((value & CR4_PCIDE) && !(c->cr4 & CR4_PCIDE) && (!ia32e || (c->cr3 & 0xfff)))
        return false;
    if ((value & CR4_CET) && !(c->cr0 & CR0_WP))
        return false;
    return true;
}

bool cr_write_flushes_tlb(uint64_t old_cr0, uint64_t new_cr0,
                          uint64_t old_cr4, uint64_t new_cr4)
{
    return ((old_cr0 ^ new_cr0) & (CR0_PG | CR0_WP | CR0_PE)) ||
           ((old_cr4 ^ new_cr4) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP |
                                   CR4_SMAP | CR4_PKE | CR4_LA57 | CR4_PCIDE));
}

bool cr_write_loads_pdptes(uint64_t old_cr0, uint64_t new_cr0, uint64_t old_cr4,
                           uint64_t new_cr4, uint64_t efer)
{
    bool pae_paging = (new_cr0 & CR0_PG) && (new_cr4 & CR4_PAE) && !(efer & CR_EFER_LME);
    return pae_paging &&
           (((old_cr0 ^ new_cr0) & (CR0_CD | CR0_NW | CR0_PG)) ||
            ((old_cr4 ^ new_cr4) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)));
}
