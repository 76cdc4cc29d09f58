/* What SET_CPUID accepts. Each leaf the hypervisor offers has a rule
 * saying which of its registers are feature bits and which are values:
 *   - feature registers may hold only bits of the supported table's same
 *     register (its mask): a bit outside it is -HV_EINVAL, since the guest
 *     would be promised an instruction or MSR the hypervisor does not
 *     virtualise (KVM lets such bits through; abi/README.md says why we
 *     do not);
 *   - value registers (vendor, family and model, brand string, cache
 *     descriptions, address sizes, APIC IDs and topology) are the VMM's to
 *     choose: they describe the virtual machine, and no value of theirs
 *     lets a guest reach anything it could not reach anyway.
 * A leaf with no rule is not offered and must be all zeros. OSXSAVE and
 * OSPKE follow the guest's CR4 whatever the VMM says: accepted, dropped.
 * Host-testable. */
#include "hv/cpuid.h"

#include "hv/cpuid_bits.h"

#define ANY_INDEX  0xffffffffu
#define VALUE(reg) (1u << (reg))
#define ALL_VALUES 0xfu

struct leaf_rule {
    uint32_t function;
    uint32_t index;        /* ANY_INDEX: every subleaf not listed before */
    uint8_t indexed;       /* has subleaves: entries need CPUID_ENTRY_INDEXED */
    uint8_t value_regs;    /* VALUE(reg) for each register that is a value */
};

/* Most specific first: a leaf's particular subleaves before its ANY_INDEX. */
static const struct leaf_rule rules[] = {
    { CPUID_LEAF_VENDOR, ANY_INDEX, 0, ALL_VALUES },
    { CPUID_LEAF_FEATURES, ANY_INDEX, 0, VALUE(CPUID_EAX) | VALUE(CPUID_EBX) },
    { CPUID_LEAF_CACHE_DESC, ANY_INDEX, 0, ALL_VALUES },
    { CPUID_LEAF_CACHE_PARAMS, ANY_INDEX, 1, ALL_VALUES },
    { CPUID_LEAF_EXT_FEATURES, 0, 1, VALUE(CPUID_EAX) },     /* EAX: last subleaf */
    { CPUID_LEAF_EXT_FEATURES, ANY_INDEX, 1, 0 },
    { CPUID_LEAF_TOPOLOGY, ANY_INDEX, 1, ALL_VALUES },
    /* 0xD.0: EAX/EDX the XCR0 bits; EBX (size for the live XCR0) is
     * recomputed at each CPUID; ECX the size for all of EAX/EDX. */
    { CPUID_LEAF_XSAVE, 0, 1, VALUE(CPUID_EBX) | VALUE(CPUID_ECX) },
    { CPUID_LEAF_XSAVE, 1, 1, VALUE(CPUID_EBX) },             /* ECX/EDX: XSS bits */
    { CPUID_LEAF_XSAVE, ANY_INDEX, 1, ALL_VALUES },           /* sizes, offsets */
    { CPUID_LEAF_TSC_CRYSTAL, ANY_INDEX, 0, ALL_VALUES },
    { CPUID_LEAF_FREQUENCY, ANY_INDEX, 0, ALL_VALUES },
    { CPUID_LEAF_TOPOLOGY_V2, ANY_INDEX, 1, ALL_VALUES },
    { CPUID_LEAF_EXT_MAX, ANY_INDEX, 0, ALL_VALUES },
    { CPUID_LEAF_EXT_SIGNATURE, ANY_INDEX, 0, VALUE(CPUID_EAX) | VALUE(CPUID_EBX) },
    { CPUID_LEAF_BRAND_FIRST, ANY_INDEX, 0, ALL_VALUES },
    { CPUID_LEAF_BRAND_FIRST + 1, ANY_INDEX, 0, ALL_VALUES },
    { CPUID_LEAF_BRAND_LAST, ANY_INDEX, 0, ALL_VALUES },
    { CPUID_LEAF_L1_CACHE, ANY_INDEX, 0, ALL_VALUES },
    { CPUID_LEAF_L2_CACHE, ANY_INDEX, 0, ALL_VALUES },
    { CPUID_LEAF_POWER, ANY_INDEX, 0, 0 },
    { CPUID_LEAF_ADDRESS_SIZES, ANY_INDEX, 0, VALUE(CPUID_EAX) | VALUE(CPUID_ECX) },
    { CPUID_LEAF_AMD_CACHE_TOPO, ANY_INDEX, 1, ALL_VALUES },
    { CPUID_LEAF_AMD_TOPOLOGY, ANY_INDEX, 0, ALL_VALUES },
    { CPUID_LEAF_AMD_EXT_FEAT2, ANY_INDEX, 0, 0 },
};

static const struct leaf_rule *find_rule(uint32_t function, uint32_t index)
{
    for (unsigned i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (rules[i].function == function &&
            (rules[i].index == ANY_INDEX || rules[i].index == index))
            return &rules[i];
    return NULL;
}

/* Bits that are the guest's (from its CR4), not the VMM's: accepted in
 * any state and stored clear. */
static uint32_t guest_owned_bits(uint32_t function, uint32_t index, unsigned reg)
{
    if (function == CPUID_LEAF_FEATURES && reg == CPUID_ECX)
        return CPUID_1_ECX_OSXSAVE;
    if (function == CPUID_LEAF_EXT_FEATURES && index == 0 && reg == CPUID_ECX)
        return CPUID_7_ECX_OSPKE;
    return 0;
}

int cpuid_check_entry(const struct hv_cpuid_entry *in, const struct cpuid_table *supported,
                      struct cpuid_entry *out)
{
    if (in->flags & ~HV_CPUID_FLAG_SIGNIFICANT_INDEX)
        return -HV_EINVAL;
    bool indexed = in->flags & HV_CPUID_FLAG_SIGNIFICANT_INDEX;
    uint32_t regs[4] = { in->eax, in->ebx, in->ecx, in->edx };
    const struct leaf_rule *rule = find_rule(in->function, indexed ? in->index : 0);
    if (!rule) {
        /* Not offered: zeros are what the guest reads anyway, so a VMM that
         * lists the leaf as zeros is not refused. */
        if (regs[0] | regs[1] | regs[2] | regs[3])
            return -HV_EINVAL;
    } else if (rule->indexed && !indexed) {
        return -HV_EINVAL; /* would answer every subleaf with one entry */
    } else {
        indexed = rule->indexed; /* a leaf without subleaves ignores index */
        uint32_t index = indexed ? in->index : 0;
        const struct cpuid_entry *mask = cpuid_table_find(supported, in->function, index);
        for (unsigned reg = 0; reg < 4; reg++) {
            if (rule->value_regs & VALUE(reg))
                continue;
            uint32_t ignored = guest_owned_bits(in->function, index, reg);
            uint32_t allowed = (mask ? mask->regs[reg] : 0) | ignored;
            if (regs[reg] & ~allowed)
                return -HV_EINVAL;
            regs[reg] &= ~ignored;
        }
    }
    *out = (struct cpuid_entry){
        .function = in->function,
        .index = indexed ? in->index : 0,
        .flags = indexed ? CPUID_ENTRY_INDEXED : 0,
        .regs = { regs[0], regs[1], regs[2], regs[3] },
    };
    return 0;
}
