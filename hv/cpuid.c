/* CPUID as a guest sees it, the control domain included: the hypervisor's
 * own leaves at 0x40000000 (signature and ABI; abi/hv_abi.h), everything
 * else from the vcpu's table (hv/cpuid.h). A hot path: one range check, a
 * lookup through the table's leaf index, four stores; only the few leaves
 * whose answer depends on the vcpu's state take the slower way. The host's
 * CPUID is read at boot (cpuid_init), never here, except for the XSAVE
 * size of leaf 0xD, which follows the live XCR0. */
#include "hv/cpuid.h"
#include "hv/time.h"

#include "hv/console.h"
#include "hv/cpuid_bits.h"
#include "hv/fpu.h"
#include "hv/vcpu.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include "hv/x86.h"

#define HYPERVISOR_LEAVES 0x100u /* 0x40000000-0x400000ff are ours */

struct cpuid_table cpuid_supported;
static bool offers_xsave; /* leaf 0xD is in the supported table */
static bool offers_tsc_adjust;

static void host_query(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    cpuid_count(leaf, subleaf, &regs[CPUID_EAX], &regs[CPUID_EBX], &regs[CPUID_ECX],
                &regs[CPUID_EDX]);
}

bool cpuid_offers_tsc_adjust(void) { return offers_tsc_adjust; }

int cpuid_init(void)
{
    struct cpuid_host host = {
        .query = host_query,
        .supported_xcr0 = fpu_supported_xcr0(),
        .xsave_size = fpu_xsave_size(),
        .guest_instructions = virt->guest_instructions(),
        .tsc_khz = tsc_khz(),
    };
    int err = cpuid_build_supported(&cpuid_supported, &host);
    if (err) {
        pr_error("cpuid: the supported CPUID does not fit in %u entries",
                 HV_MAX_CPUID_ENTRIES);
        return err;
    }
    offers_xsave = cpuid_table_find(&cpuid_supported, CPUID_LEAF_XSAVE, 0) != NULL;
    const struct cpuid_entry *leaf7 =
        cpuid_table_find(&cpuid_supported, CPUID_LEAF_EXT_FEATURES, 0);
    offers_tsc_adjust = leaf7 && (leaf7->regs[CPUID_EBX] & CPUID_7_EBX_TSC_ADJUST);
    pr_info("cpuid: %u entries offered to guests, XCR0 0x%llx", cpuid_supported.count,
            (unsigned long long)host.supported_xcr0);
    for (unsigned i = 0; i < cpuid_supported.count; i++) {
        const struct cpuid_entry *e = &cpuid_supported.entries[i];
        pr_debug("cpuid: %08x.%u: %08x %08x %08x %08x", e->function, e->index,
                 e->regs[CPUID_EAX], e->regs[CPUID_EBX], e->regs[CPUID_ECX],
                 e->regs[CPUID_EDX]);
    }
    return 0;
}

/* The parts of an answer that are the vcpu's: OSXSAVE and OSPKE mirror its
 * CR4 (SDM 2A, CPUID leaf 1 ECX bit 27, leaf 7 ECX bit 4); leaf 0xD.0 EBX
 * is the XSAVE size for the XCR0 in force, and while a guest exits its
 * own XCR0 is the one live in the CPU (hv/fpu.h), so the CPU's answer is
 * the guest's; the default table gives the vcpu's slot as its APIC ID. */
static __attribute__((noinline)) void fill_dynamic(struct vcpu *vcpu,
                                                   const struct cpuid_table *table,
                                                   const struct cpuid_entry *entry)
{
    uint32_t regs[4] = { entry->regs[0], entry->regs[1], entry->regs[2], entry->regs[3] };
    uint32_t host[4];
    switch (entry->function) {
    case CPUID_LEAF_FEATURES:
        if (virt->guest_cr4(vcpu) & CR4_OSXSAVE_BIT)
            regs[CPUID_ECX] |= CPUID_1_ECX_OSXSAVE;
        if (!vcpu->vm->lapic) {
            regs[CPUID_ECX] &= ~(CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE);
            regs[CPUID_EDX] &= ~CPUID_1_EDX_APIC;
        }
        break;
    case CPUID_LEAF_EXT_FEATURES:
        if (virt->guest_cr4(vcpu) & CR4_PKE_BIT)
            regs[CPUID_ECX] |= CPUID_7_ECX_OSPKE;
        break;
    case CPUID_LEAF_XSAVE:
        if (offers_xsave) {
            host_query(CPUID_LEAF_XSAVE, 0, host);
            regs[CPUID_EBX] = host[CPUID_EBX];
        }
        break;
    }
    if (table->apic_ids_from_slot)
        cpuid_fill_apic_ids(entry->function, regs, vcpu->slot);
    struct guest_gprs *g = &vcpu->gprs;
    g->rax = regs[CPUID_EAX];
    g->rbx = regs[CPUID_EBX];
    g->rcx = regs[CPUID_ECX];
    g->rdx = regs[CPUID_EDX];
}

static __attribute__((noinline)) void hypervisor_leaf(struct guest_gprs *g, uint32_t leaf)
{
    uint32_t a = 0, b = 0, c = 0, d = 0;
    if (leaf == HV_CPUID_SIGNATURE) {
        a = HV_CPUID_FEATURES; /* the highest hypervisor leaf */
        b = HV_SIGNATURE_EBX;
        c = HV_SIGNATURE_ECX;
        d = HV_SIGNATURE_EDX;
    } else if (leaf == HV_CPUID_FEATURES) {
        a = HV_API_VERSION;
        b = virt->abi_backend;
    }
    g->rax = a;
    g->rbx = b;
    g->rcx = c;
    g->rdx = d;
}

void cpuid_emulate(struct vcpu *vcpu)
{
    struct guest_gprs *g = &vcpu->gprs;
    uint32_t leaf = (uint32_t)g->rax;
    if (leaf - HV_CPUID_SIGNATURE < HYPERVISOR_LEAVES) {
        hypervisor_leaf(g, leaf);
        return;
    }
    const struct cpuid_table *table = vcpu->cpuid ? vcpu->cpuid : &cpuid_supported;
    const struct cpuid_entry *entry = cpuid_table_find(table, leaf, (uint32_t)g->rcx);
    if (!entry) {
        g->rax = g->rbx = g->rcx = g->rdx = 0;
        return;
    }
    if (__builtin_expect(entry->flags & CPUID_ENTRY_DYNAMIC, 0)) {
        fill_dynamic(vcpu, table, entry);
        return;
    }
    g->rax = entry->regs[CPUID_EAX];
    g->rbx = entry->regs[CPUID_EBX];
    g->rcx = entry->regs[CPUID_ECX];
    g->rdx = entry->regs[CPUID_EDX];
}
