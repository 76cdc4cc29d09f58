/* The two second-level page-table formats, built by one builder
 * (mmu/page_table.c) from one slot model: AMD's nested page tables use the
 * long-mode entry format with U set at every level (APM 15.25.5); Intel's
 * EPT has its own bits (SDM 3C 28.2.2), chosen so that bit 0 (read) stands
 * where the builder expects "present", and bit 7 (large page) where it
 * expects PS. */
#ifndef MMU_NESTED_FORMATS_H
#define MMU_NESTED_FORMATS_H

#include "mmu/page_table.h"

#define NPT_TABLE_FLAGS (PTE_PRESENT | PTE_WRITE | PTE_USER)
#define NPT_LEAF_READ   (PTE_PRESENT | PTE_USER)
#define NPT_LEAF_WRITE  PTE_WRITE

#define EPT_READ            (1ull << 0)
#define EPT_WRITE           (1ull << 1)
#define EPT_EXECUTE         (1ull << 2)
#define EPT_MEMORY_TYPE_WB  (6ull << 3)
#define EPT_LARGE_PAGE      (1ull << 7)

#define EPT_TABLE_FLAGS (EPT_READ | EPT_WRITE | EPT_EXECUTE)
#define EPT_LEAF_READ   (EPT_READ | EPT_EXECUTE | EPT_MEMORY_TYPE_WB)
#define EPT_LEAF_WRITE  EPT_WRITE

_Static_assert(EPT_READ == PTE_PRESENT, "EPT read bit stands for present");
_Static_assert(EPT_LARGE_PAGE == PTE_LARGE, "EPT large-page bit is PS");

#endif
