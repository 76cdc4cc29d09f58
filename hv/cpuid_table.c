/* A CPUID table: entries kept sorted by (function, index), with an index
 * from each leaf to its entries, so that the guest's CPUID exit does a
 * bounded lookup and never a search of the whole table. Host-testable. */
#include "hv/cpuid.h"

#include <stddef.h>

#include "hv/cpuid_bits.h"

void cpuid_table_reset(struct cpuid_table *table, bool apic_ids_from_slot)
{
    table->count = 0;
    table->apic_ids_from_slot = apic_ids_from_slot;
    for (unsigned i = 0; i < CPUID_LEAF_SLOTS; i++) {
        table->first[i] = table->span[i] = 0;
        table->static_answer[i] = 0;
    }
}

int cpuid_table_append(struct cpuid_table *table, const struct cpuid_entry *entry)
{
    if (table->count >= HV_MAX_CPUID_ENTRIES)
        return -HV_E2BIG;
    table->entries[table->count++] = *entry;
    return 0;
}

static bool entry_before(const struct cpuid_entry *a, const struct cpuid_entry *b)
{
    return a->function < b->function || (a->function == b->function && a->index < b->index);
}

/* Whether part of the entry's answer is computed at each CPUID (cpuid.c
 * does it): CR4-dependent bits, the XSAVE size for the live XCR0, and the
 * default table's APIC IDs. */
static bool entry_is_dynamic(const struct cpuid_table *table, const struct cpuid_entry *e)
{
    switch (e->function) {
    case CPUID_LEAF_FEATURES:
        return true;
    case CPUID_LEAF_EXT_FEATURES:
    case CPUID_LEAF_XSAVE:
        return e->index == 0;
    case CPUID_LEAF_TOPOLOGY:
    case CPUID_LEAF_TOPOLOGY_V2:
    case CPUID_LEAF_AMD_TOPOLOGY:
        return table->apic_ids_from_slot;
    default:
        return false;
    }
}

int cpuid_table_seal(struct cpuid_table *table)
{
    struct cpuid_entry *e = table->entries;
    unsigned count = table->count;
    /* Insertion sort: at most HV_MAX_CPUID_ENTRIES, once per SET_CPUID, and
     * a VMM's list usually comes sorted already. */
    for (unsigned i = 1; i < count; i++) {
        struct cpuid_entry moving = e[i];
        unsigned j = i;
        for (; j > 0 && entry_before(&moving, &e[j - 1]); j--)
            e[j] = e[j - 1];
        e[j] = moving;
    }
    for (unsigned i = 1; i < count; i++)
        if (e[i].function == e[i - 1].function && e[i].index == e[i - 1].index)
            return -HV_EINVAL;
    for (unsigned i = 0; i < CPUID_LEAF_SLOTS; i++) {
        table->first[i] = table->span[i] = 0;
        table->static_answer[i] = 0;
    }
    for (unsigned i = 0; i < count; i++) {
        e[i].flags &= ~CPUID_ENTRY_DYNAMIC;
        if (entry_is_dynamic(table, &e[i]))
            e[i].flags |= CPUID_ENTRY_DYNAMIC;
        uint32_t slot = cpuid_leaf_slot(e[i].function);
        if (slot >= CPUID_LEAF_SLOTS)
            continue; /* kept for GET_CPUID; reads as zeros anyway */
        if (table->span[slot] == 0) {
            table->first[slot] = (uint8_t)i;
            if (!(e[i].flags & (CPUID_ENTRY_INDEXED | CPUID_ENTRY_DYNAMIC)))
                table->static_answer[slot] =
                    (uint16_t)(offsetof(struct cpuid_table, entries) + i * sizeof(*e));
        }
        table->span[slot]++;
    }
    return 0;
}

void cpuid_fill_apic_ids(uint32_t function, uint32_t regs[4], uint32_t slot)
{
    switch (function) {
    case CPUID_LEAF_FEATURES:
        regs[CPUID_EBX] = (regs[CPUID_EBX] & 0x00ffffffu) | slot << CPUID_1_EBX_APIC_ID_SHIFT;
        break;
    case CPUID_LEAF_TOPOLOGY:
    case CPUID_LEAF_TOPOLOGY_V2:
        regs[CPUID_EDX] = slot;  /* the x2APIC ID */
        break;
    case CPUID_LEAF_AMD_TOPOLOGY:
        regs[CPUID_EAX] = slot;  /* extended APIC ID */
        regs[CPUID_EBX] = (regs[CPUID_EBX] & ~0xffu) | (slot & 0xffu); /* core ID */
        break;
    }
}

void cpuid_entry_to_abi(const struct cpuid_table *table, const struct cpuid_entry *entry,
                        int slot, struct hv_cpuid_entry *out)
{
    uint32_t regs[4] = { entry->regs[0], entry->regs[1], entry->regs[2], entry->regs[3] };
    if (slot >= 0 && table->apic_ids_from_slot)
        cpuid_fill_apic_ids(entry->function, regs, (uint32_t)slot);
    *out = (struct hv_cpuid_entry){
        .function = entry->function,
        .index = entry->index,
        .flags = entry->flags & CPUID_ENTRY_INDEXED,
        .eax = regs[CPUID_EAX],
        .ebx = regs[CPUID_EBX],
        .ecx = regs[CPUID_ECX],
        .edx = regs[CPUID_EDX],
    };
}
