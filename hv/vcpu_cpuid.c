/* GET_SUPPORTED_CPUID, GET_CPUID and SET_CPUID (abi/README.md): tables
 * between the caller's memory and the hypervisor's. SET_CPUID builds and
 * checks the new table in a page of its own before it claims the vcpu, so
 * the vcpu is held only for the pointer swap; a vcpu that never had one
 * costs no memory (it answers from the supported table). */
#include "hv/cpuid.h"

#include "hv/guest_access.h"
#include "hv/memory.h"
#include "hv/vcpu.h"

#define HEADER_BYTES sizeof(struct hv_cpuid)
#define ENTRY_BYTES  sizeof(struct hv_cpuid_entry)

/* The vcpu's table: its own, or the default one. */
static const struct cpuid_table *table_of(const struct vcpu *vcpu)
{
    return vcpu->cpuid ? vcpu->cpuid : &cpuid_supported;
}

/* Writes `table` to the caller's struct hv_cpuid at gpa (header already
 * checked), which has room for `room` entries. Too little room: the count
 * needed goes into the header and the result is -HV_E2BIG, so that the
 * caller can retry once with enough. `slot` fills the default table's APIC
 * IDs (-1: left 0). */
static long copy_table_out(struct vm *cd, uint64_t gpa, uint32_t room,
                           const struct cpuid_table *table, int slot)
{
    struct hv_cpuid *out = control_pointer(cd, gpa);
    uint32_t needed = table->count;
    if (room < needed) {
        out->count = needed;
        return -HV_E2BIG;
    }
    long err = control_range_check(cd, gpa, HEADER_BYTES + (uint64_t)needed * ENTRY_BYTES, 8);
    if (err)
        return err;
    for (uint32_t i = 0; i < needed; i++) {
        struct hv_cpuid_entry entry;
        cpuid_entry_to_abi(table, &table->entries[i], slot, &entry);
        memory_copy(&out->entries[i], &entry, ENTRY_BYTES);
    }
    out->count = needed;
    return 0;
}

long cpuid_get_supported(struct vm *cd, uint64_t gpa)
{
    struct hv_cpuid header;
    long err = copy_from_control(cd, &header, gpa, HEADER_BYTES);
    return err ?: copy_table_out(cd, gpa, header.count, &cpuid_supported, -1);
}

long vcpu_get_cpuid(struct vm *cd, struct vcpu *vcpu, uint64_t gpa)
{
    struct hv_cpuid header;
    long err = copy_from_control(cd, &header, gpa, HEADER_BYTES);
    err = err ?: vcpu_claim(vcpu);
    if (err)
        return err;
    err = copy_table_out(cd, gpa, header.count, table_of(vcpu), (int)vcpu->slot);
    vcpu_release(vcpu);
    return err;
}

/* Checks and sorts the caller's entries into `table`; each entry is copied
 * in before it is checked, so a concurrent writer changes nothing checked. */
static long table_from_control(struct vm *cd, uint64_t gpa, uint32_t count,
                               struct cpuid_table *table)
{
    const struct hv_cpuid_entry *in = control_pointer(cd, gpa + HEADER_BYTES);
    cpuid_table_reset(table, false);
    for (uint32_t i = 0; i < count; i++) {
        struct hv_cpuid_entry given;
        struct cpuid_entry checked;
        memory_copy(&given, &in[i], ENTRY_BYTES);
        long err = cpuid_check_entry(&given, &cpuid_supported, &checked);
        err = err ?: cpuid_table_append(table, &checked);
        if (err)
            return err;
    }
    return cpuid_table_seal(table);
}

long vcpu_set_cpuid(struct vm *cd, struct vcpu *vcpu, uint64_t gpa)
{
    struct hv_cpuid header;
    long err = copy_from_control(cd, &header, gpa, HEADER_BYTES);
    if (err)
        return err;
    if (header.count > HV_MAX_CPUID_ENTRIES)
        return -HV_E2BIG;
    err = control_range_check(cd, gpa, HEADER_BYTES + (uint64_t)header.count * ENTRY_BYTES, 8);
    if (err)
        return err;
    /* A vcpu running elsewhere gets -HV_EBUSY at once, not after the
     * table is built; the claim below still decides. */
    if (__atomic_load_n(&vcpu->owner, __ATOMIC_RELAXED))
        return -HV_EBUSY;
    uint64_t page = pages_alloc_zeroed(1, 0);
    if (page == FRAME_NONE)
        return -HV_ENOMEM;
    struct cpuid_table *table = phys_to_virt(page);
    err = table_from_control(cd, gpa, header.count, table);
    err = err ?: vcpu_claim(vcpu);
    if (err) {
        pages_free(page, 1);
        return err;
    }
    const struct cpuid_table *old = vcpu->cpuid;
    vcpu->cpuid = table;
    vcpu_release(vcpu);
    if (old)
        pages_free(virt_to_phys(old), 1);
    return 0;
}

void vcpu_free_cpuid(struct vcpu *vcpu)
{
    if (vcpu->cpuid)
        pages_free(virt_to_phys(vcpu->cpuid), 1);
    vcpu->cpuid = NULL;
}
