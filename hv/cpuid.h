/* Guest CPUID: what a guest's CPUID instruction returns, the table each
 * vcpu answers from, and the supported table the VMM's tables are checked
 * against (abi/README.md: GET_SUPPORTED_CPUID, SET_CPUID, GET_CPUID).
 *
 * A vcpu answers from its own table once the VMM has set one, and from
 * the default table (the supported one, with the vcpu's slot as its APIC
 * ID) until then. Leaves 0x40000000-0x400000ff are the hypervisor's and
 * never come from a table. Host CPUID is read at boot only, never on a
 * guest's CPUID exit.
 *
 * Files: cpuid_table.c (sorting, the leaf index, lookup; host-testable),
 * cpuid_check.c (which register of which leaf the VMM may set, and to
 * what; host-testable), cpuid_supported.c (the supported table from host
 * facts; host-testable), cpuid.c (the guest's CPUID exit and boot-time
 * set-up), vcpu_cpuid.c (the three calls).
 *
 * Locking: the default table is built by cpuid_init on the BSP before any
 * guest runs and only read afterwards. A vcpu's `cpuid` pointer and the
 * table it points to are read and replaced only by the CPU that has
 * claimed the vcpu (its CPUID exits, SET_CPUID, GET_CPUID). */
#ifndef HV_CPUID_H
#define HV_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"
#include "hv/vcpu.h"

/* Leaves a table can hold something other than zeros for: the basic ones
 * up to 0x1f and the extended ones up to 0x80000021. Every other leaf
 * outside the hypervisor's range reads as zeros (cpuid_check.c refuses
 * anything else for them). */
#define CPUID_BASIC_LEAVES   0x20u
#define CPUID_EXT_BASE       0x80000000u
#define CPUID_EXT_LEAVES     0x22u
#define CPUID_LEAF_SLOTS     (CPUID_BASIC_LEAVES + CPUID_EXT_LEAVES)

/* Register positions in cpuid_entry.regs, in the instruction's order. */
enum { CPUID_EAX = 0, CPUID_EBX = 1, CPUID_ECX = 2, CPUID_EDX = 3 };

/* Entry flags: the ABI's, plus one of the hypervisor's own. */
#define CPUID_ENTRY_INDEXED  HV_CPUID_FLAG_SIGNIFICANT_INDEX
/* Part of the answer depends on the vcpu's state or slot, filled in at each
 * CPUID (cpuid.c): OSXSAVE, OSPKE, the XSAVE size, default APIC IDs. */
#define CPUID_ENTRY_DYNAMIC  (1u << 31)

struct cpuid_entry {
    uint32_t function;
    uint32_t index;              /* 0 unless CPUID_ENTRY_INDEXED */
    uint32_t flags;              /* CPUID_ENTRY_* */
    uint32_t regs[4];            /* EAX EBX ECX EDX */
};

/* Entries sorted by (function, index) and an index from leaf to its first
 * entry, so that a CPUID exit finds its answer in a few loads. */
struct cpuid_table {
    uint16_t count;
    /* The default table: leaf 1 EBX[31:24], 0xB/0x1F EDX and 0x8000001E
     * EAX/EBX[7:0] take the vcpu's slot (stored as 0). */
    uint8_t apic_ids_from_slot;
    uint8_t first[CPUID_LEAF_SLOTS];  /* first entry of each leaf (0 if none) */
    uint8_t span[CPUID_LEAF_SLOTS];   /* its number of entries (subleaves) */
    /* Where the answer of a leaf that has one for every subleaf and
     * needs nothing of the vcpu's (its first entry neither
     * CPUID_ENTRY_INDEXED nor _DYNAMIC) is: a byte offset into the
     * table, 0 for every other leaf. One load tells the CPUID fast path
     * both whether it may answer and where from. */
    uint16_t static_answer[CPUID_LEAF_SLOTS];
    struct cpuid_entry entries[HV_MAX_CPUID_ENTRIES];
};
_Static_assert(HV_MAX_CPUID_ENTRIES < 256, "entry numbers and counts fit first[], span[]");
_Static_assert(sizeof(struct cpuid_table) <= 4096, "a vcpu's table is one page");

/* ---- cpuid_table.c ---------------------------------------------------- */

/* Index of `function` in first[]/span[], or CPUID_LEAF_SLOTS for a leaf no
 * table holds. */
static inline uint32_t cpuid_leaf_slot(uint32_t function)
{
    if (function < CPUID_BASIC_LEAVES)
        return function;
    uint32_t ext = function - CPUID_EXT_BASE; /* wraps for the leaves between */
    return ext < CPUID_EXT_LEAVES ? CPUID_BASIC_LEAVES + ext : CPUID_LEAF_SLOTS;
}

/* The entry answering (function, index), or NULL: zeros. The guest's CPUID
 * exit path; entries of one leaf are few (subleaves), so the scan is short. */
static inline const struct cpuid_entry *cpuid_table_find(const struct cpuid_table *table,
                                                         uint32_t function, uint32_t index)
{
    uint32_t slot = cpuid_leaf_slot(function);
    if (slot >= CPUID_LEAF_SLOTS)
        return NULL;
    const struct cpuid_entry *entry = &table->entries[table->first[slot]];
    for (unsigned n = table->span[slot]; n; n--, entry++)
        if (!(entry->flags & CPUID_ENTRY_INDEXED) || entry->index == index)
            return entry;
    return NULL;
}

/* Empties the table. */
void cpuid_table_reset(struct cpuid_table *table, bool apic_ids_from_slot);
/* Appends an entry (any order). 0 or -HV_E2BIG when full. */
int cpuid_table_append(struct cpuid_table *table, const struct cpuid_entry *entry);
/* Sorts the entries, marks the dynamic ones and builds the leaf index.
 * 0, or -HV_EINVAL when two entries answer the same (function, index). */
int cpuid_table_seal(struct cpuid_table *table);
/* The entry as the ABI shows it; with `slot` >= 0 the default table's APIC
 * ID fields are filled with it (GET_CPUID), with -1 left 0. */
void cpuid_entry_to_abi(const struct cpuid_table *table, const struct cpuid_entry *entry,
                        int slot, struct hv_cpuid_entry *out);
/* Writes the vcpu slot into the APIC ID fields of a default-table answer. */
void cpuid_fill_apic_ids(uint32_t function, uint32_t regs[4], uint32_t slot);

/* ---- cpuid_check.c ---------------------------------------------------- */

/* Checks one entry of SET_CPUID against the supported table and turns it
 * into the table's form: 0, or -HV_EINVAL for unknown flags, an indexed
 * leaf given without CPUID_ENTRY_INDEXED, a feature bit outside the
 * supported mask, or a non-zero register of a leaf that is not offered. */
int cpuid_check_entry(const struct hv_cpuid_entry *in, const struct cpuid_table *supported,
                      struct cpuid_entry *out);

/* ---- cpuid_supported.c ------------------------------------------------ */

/* What the supported table is built from: the host's CPUID and what the
 * hypervisor virtualises. */
struct cpuid_host {
    void (*query)(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
    uint64_t supported_xcr0;     /* fpu_supported_xcr0() */
    uint32_t xsave_size;         /* fpu_xsave_size() */
    uint32_t guest_instructions; /* virt->guest_instructions(): VIRT_GUEST_* */
    uint64_t tsc_khz;            /* the TSC's measured rate; 0: unknown */
};

/* Fills `table` (reset, then sealed) with every leaf and subleaf guests may
 * see, feature registers holding the bits the hypervisor virtualises and
 * the others the default values. 0, or -HV_E2BIG (a hypervisor bug: the
 * host would need more entries than a table holds). */
int cpuid_build_supported(struct cpuid_table *table, const struct cpuid_host *host);

/* ---- cpuid.c ------------------------------------------------------------ */

/* The supported (and default) table; valid after cpuid_init. */
extern struct cpuid_table cpuid_supported;

/* Whether the supported CPUID shows IA32_TSC_ADJUST (CPUID.7.EBX[1]): the
 * MSR exists for vcpus exactly then. Valid after cpuid_init. */
bool cpuid_offers_tsc_adjust(void);

/* Builds cpuid_supported from this CPU. On the BSP, after virt_select and
 * before the control domain starts. 0 or a negative HV_E* code. */
int cpuid_init(void);

/* ---- vcpu_cpuid.c --------------------------------------------------------- */

struct vm;
struct vcpu;

/* The calls (abi/README.md); `gpa` is the caller's struct hv_cpuid. */
long cpuid_get_supported(struct vm *cd, uint64_t gpa);
long vcpu_get_cpuid(struct vm *cd, struct vcpu *vcpu, uint64_t gpa);
long vcpu_set_cpuid(struct vm *cd, struct vcpu *vcpu, uint64_t gpa);
/* Frees the table SET_CPUID gave the vcpu, if any (vcpu destruction). */
void vcpu_free_cpuid(struct vcpu *vcpu);

/* The common case of a guest's CPUID, inline for the backends' exit
 * paths: a leaf with a single answer that depends on no subleaf and on
 * nothing of the vcpu's (neither CPUID_ENTRY_INDEXED nor _DYNAMIC). The
 * leaf is read from *rax, where the backend keeps the guest's RAX, and
 * the answer written there and to vcpu->gprs' RBX, RCX and RDX; returns
 * false, having changed nothing, for every other leaf (then
 * cpuid_emulate answers, the hypervisor's leaves among them). */
static inline bool cpuid_answer_static(struct vcpu *vcpu, uint64_t *rax)
{
    uint32_t slot = cpuid_leaf_slot((uint32_t)*rax);
    if (slot >= CPUID_LEAF_SLOTS)
        return false;
    const struct cpuid_table *table = vcpu->cpuid ? vcpu->cpuid : &cpuid_supported;
    uint32_t offset = table->static_answer[slot];
    if (!offset)
        return false;
    const struct cpuid_entry *entry = (const struct cpuid_entry *)((const uint8_t *)table + offset);
    *rax = entry->regs[CPUID_EAX];
    vcpu->gprs.rbx = entry->regs[CPUID_EBX];
    vcpu->gprs.rcx = entry->regs[CPUID_ECX];
    vcpu->gprs.rdx = entry->regs[CPUID_EDX];
    return true;
}

#endif
