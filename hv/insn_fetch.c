#include "hv/insn_fetch.h"

#include "hv/guest_access.h"
#include "hv/guest_memory.h"
#include "hv/insn_length.h"
#include "hv/msr.h"
#include "hv/nested_tables.h"
#include "hv/sregs_check.h"

bool insn_site_mode64(const struct insn_site *site)
{
    return (site->paging.efer & EFER_LMA) && site->cs_l;
}

enum mmio_mode insn_site_mmio_mode(const struct insn_site *site)
{
    return mmio_mode_of(insn_site_mode64(site), site->paging.cr0 & 1, site->cs_db);
}

/* A child without paging: the bytes straight from the guest page, when
 * 15 of them lie in it, remembered for the next exit at the same place. */
static const uint8_t *code_without_paging(struct vcpu *vcpu, uint64_t linear)
{
    const uint8_t *cached = vcpu_cached_code(vcpu, linear);
    if (cached)
        return cached;
    /* Read before the lookup: a slot change after it moves the generation
     * on, and the next exit looks again. */
    uint64_t generation = __atomic_load_n(&vcpu->vm->tlb_generation, __ATOMIC_ACQUIRE);
    uint64_t offset = linear & (FRAME_SIZE - 1);
    const uint8_t *page = vm_guest_page(vcpu->vm, linear);
    if (!page || offset > FRAME_SIZE - INSN_MAX_LENGTH)
        return NULL;
    vcpu->code_bytes = page;
    vcpu->code_page = linear - offset;
    vcpu->code_generation = generation;
    return page + offset;
}

unsigned vcpu_insn_bytes(struct vcpu *vcpu, const struct insn_site *site,
                         uint8_t buffer[15], const uint8_t **bytes)
{
    struct vm *vm = vcpu->vm;
    bool mode64 = insn_site_mode64(site);
    uint64_t linear = mode64 ? site->rip : (site->cs_base + site->rip) & 0xffffffffull;

    if (vm->is_control && mode64) {
        if (linear >= vm->memory_size)
            return 0;
        *bytes = control_pointer(vm, linear);
        return vm->memory_size - linear < INSN_MAX_LENGTH
                   ? (unsigned)(vm->memory_size - linear) : INSN_MAX_LENGTH;
    }
    /* Software walks of the nested tables: inside nested_walk_begin/end
     * (hv/nested_tables.h), so that no table page is freed under them. */
    nested_walk_begin(vcpu);
    if (!vm->is_control && !(site->paging.cr0 & CR0_PG)) {
        const uint8_t *code = code_without_paging(vcpu, linear);
        if (code) {
            nested_walk_end(vcpu);
            *bytes = code;
            return INSN_MAX_LENGTH;
        }
        /* Across the end of a page (or none there): the slow way. */
    } else if (!vm->is_control) {
        uint64_t generation = __atomic_load_n(&vm->tlb_generation, __ATOMIC_ACQUIRE);
        struct code_walk *kept = code_walk_slot(vcpu->code_walks, linear);
        const uint8_t *code = code_walk_bytes(kept, &site->paging, linear, generation);
        if (!code)
            code = vm_code_walk(vm, kept, &site->paging, linear, generation);
        if (code) {
            nested_walk_end(vcpu);
            *bytes = code;
            return INSN_MAX_LENGTH;
        }
    }
    *bytes = buffer;
    unsigned fetched = vm_fetch_linear(vm, &site->paging, linear, buffer);
    nested_walk_end(vcpu);
    return fetched;
}
