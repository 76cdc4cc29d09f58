/*
 * Memory-slot churn: SET_MEMORY_REGION adds and deletes, cycle after
 * cycle, of small slots spread over the whole 1 TiB child guest-physical
 * space, so that nearly every add needs nested page-table pages of its
 * own, checked with GET_STATS: each add must take exactly the tables its
 * shape needs (nested_table_pages), each delete must give them back, and
 * free_frames must come back to where it started. A hypervisor that
 * frees the tables only when the VM dies fails at the first check.
 *
 * Used by the conformance suite (hvtest_region_churn.c, a few thousand
 * cycles) and by the `region_churn` tool, which runs a million cycles for
 * the system test of that name.
 *
 * The VM: its RAM in slot 0 within [0, 2 MiB) (as hvt_guest_create and
 * vmm_create make it), no other slot; region_churn_setup adds slot
 * REGION_CHURN_KEPT_SLOT, a page that stays mapped all along at
 * REGION_CHURN_KEPT_GPA (below 4 GiB, so that a 32-bit guest reaches it),
 * whose tables some churn slots share. The cycle shapes (one per cycle
 * number, repeating) and the tables each add must take:
 *   4 KiB in a GiB of its own               2 (PD, PT)
 *   16 KiB across a 2 MiB boundary          3 (PD, 2 PTs)
 *   16 KiB across a 1 GiB boundary          4 (2 PDs, 2 PTs)
 *   8 KiB with HV_MEM_LOG_DIRTY             2, and the bitmap's frame
 *   2 MiB, 2 MiB aligned                    1 or 2 (PD; a PT if 4 KiB pages)
 *   4 KiB in the kept page's 2 MiB          0 (every table shared), or
 *   4 KiB in the first GiB beside slot 0    1 (its own PT)
 * plus the page directory pointer table of the upper 512 GiB for a slot
 * that reaches there (the lower one is the RAM's). The numbers hold for
 * NPT and EPT alike: both have four levels.
 */
#ifndef GUEST_TOOLS_TOOLS_REGION_CHURN_H
#define GUEST_TOOLS_TOOLS_REGION_CHURN_H

#include <stdint.h>

#include "abi/hv_abi.h"

#define REGION_CHURN_KEPT_SLOT 1
#define REGION_CHURN_SLOT      2
#define REGION_CHURN_KEPT_GPA  ((3ull << 30) + (6ull << 20))
#define REGION_CHURN_BACKING   (2ull << 20)    /* bytes, 2 MiB aligned */
#define REGION_CHURN_SHAPES    6

struct region_churn {
    /* set by the caller */
    hv_handle_t sys;
    long vm;                   /* VM handle, RAM in slot 0 below 2 MiB */
    uint64_t kept_page;        /* control address of the kept page */
    uint64_t backing;          /* control address of REGION_CHURN_BACKING
                                  bytes backing every churn slot */
    uint64_t check_every;      /* GET_STATS around every n-th cycle (>= 1) */
    /* results */
    struct hv_stats base;      /* after setup, before the first cycle */
    uint64_t cycles;           /* cycles completed */
    uint64_t most_tables;      /* highest nested_table_pages seen */
    char failure[200];         /* first failure; empty while passing */
};

/* Maps the kept page and records the base figures. 0, or -1 with
 * c->failure set. */
int region_churn_setup(struct region_churn *c);

/* Runs cycles [first, first + count). 0, or -1 at the first failure (the
 * churn slot is then left deleted where that could be done). */
int region_churn_run(struct region_churn *c, uint64_t first, uint64_t count);

/* GET_STATS is back at c->base: 0, or -1 with c->failure set. */
int region_churn_check_base(struct region_churn *c, const char *when);

#endif
