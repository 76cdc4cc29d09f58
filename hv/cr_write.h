/* What MOV to CR0 or CR4 does with a value, decided as the CPU decides it
 * (SDM 2B "MOV--Move to/from Control Registers"; 3A 2.5, 4.1.1, 4.10.1,
 * 9.8.5): the value the register takes, or #GP(0). For backends that must
 * carry out a write the hardware handed to them: VMX when the write
 * touches a bit the hypervisor owns, SVM for CR4 (hv/cr_write.c says
 * which rules apply). Host-testable: the CPU facts come in the context. */
#ifndef HV_CR_WRITE_H
#define HV_CR_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/sregs_check.h"

#define CR0_WP     (1ull << 16)
#define CR0_ET     (1ull << 4)
#define CR4_PSE    (1ull << 4)
#define CR4_MCE    (1ull << 6)
#define CR4_PGE    (1ull << 7)
#define CR4_LA57   (1ull << 12)
#define CR4_PCIDE  (1ull << 17)
#define CR4_SMEP   (1ull << 20)
#define CR4_SMAP   (1ull << 21)
#define CR4_PKE    (1ull << 22)
#define CR4_CET    (1ull << 23)
#define CR_EFER_LME (1ull << 8)
#define CR_EFER_LMA (1ull << 10)

/* The guest's state as the write finds it. */
struct cr_write_context {
    uint64_t cr0, cr3, cr4, efer;
    bool cs_l;                  /* the code segment is a 64-bit one */
    uint64_t cr4_allowed;       /* CR4 bits the guest's CPU has */
};

/* MOV to CR0: true with *result the value CR0 takes (reserved low bits
 * dropped, ET set as on every CPU since the i486), false for #GP(0). */
bool cr0_write_allowed(const struct cr_write_context *c, uint64_t value,
                       uint64_t *result);

/* MOV to CR4: true if the CPU takes `value` as it is, false for #GP(0). */
bool cr4_write_allowed(const struct cr_write_context *c, uint64_t value);

/* Whether the write changes the paging structures' meaning, so that the
 * guest's cached translations must go (SDM 3A 4.10.4.1; what MOV to CR0 or
 * CR4 flushes on a CPU). */
bool cr_write_flushes_tlb(uint64_t old_cr0, uint64_t new_cr0,
                          uint64_t old_cr4, uint64_t new_cr4);

/* Whether the write makes the CPU load the four PAE page-directory
 * pointers (SDM 3A 4.4.1): PAE paging outside IA-32e mode, entered now or
 * with a bit changed that their use depends on. */
bool cr_write_loads_pdptes(uint64_t old_cr0, uint64_t new_cr0, uint64_t old_cr4,
                           uint64_t new_cr4, uint64_t efer);

#endif
