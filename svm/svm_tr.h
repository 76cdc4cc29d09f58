/* The task register as the VMCB holds it.
 *
 * The ABI's TR is a busy TSS (type 3 or 11), which is what the CPU caches
 * after LTR or a task switch, what VM entry on VMX demands (SDM 3C,
 * 26.3.1.2) and what SET_SREGS accepts. AMD's VMRUN does not check TR's
 * type, and the CPU uses the cached TR only for its base, limit and
 * whether the TSS is 16- or 32-bit (type bit 3); the busy bit (type bit 1)
 * of the hidden copy has no architectural effect. QEMU 7.2's TCG, though,
 * aborts the whole emulator ("invalid tss type") when an interrupt or
 * exception from CPL>0 in 32-bit mode reads the stack pointer from a TSS
 * whose cached type is busy: it accepts only the available types 1 and 9,
 * which its own LTR leaves in the cache. So the VMCB holds TR with the busy
 * bit clear, and GET_SREGS sets it again: one state, hardware-valid either
 * way, that the emulator survives (README, known limits). */
#ifndef SVM_SVM_TR_H
#define SVM_SVM_TR_H

#include <stdint.h>

#include "svm/vmcb_layout.h"

#define TR_ATTR_TYPE_BUSY 0x2u

/* A system-segment TSS type (S clear, type 1/3 or 9/11). */
static inline int svm_tr_attr_is_tss(uint16_t attrib)
{
    return !(attrib & SEG_ATTR_S) && (attrib & 0x5u) == 0x1u;
}

static inline uint16_t svm_tr_attr_to_vmcb(uint16_t attrib)
{
    return svm_tr_attr_is_tss(attrib) ? (uint16_t)(attrib & ~TR_ATTR_TYPE_BUSY) : attrib;
}

static inline uint16_t svm_tr_attr_from_vmcb(uint16_t attrib)
{
    return svm_tr_attr_is_tss(attrib) ? (uint16_t)(attrib | TR_ATTR_TYPE_BUSY) : attrib;
}

#endif
