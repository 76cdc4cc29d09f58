#include "hv/guest_memory.h"

#include "hv/insn_fetch.h"
#include "hv/insn_length.h"
#include "hv/memory.h"
#include "hv/nested_tables.h"
#include "hv/vcpu.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include "mmu/code_walk.h"
#include "mmu/guest_walk.h"
#include "mmu/page_table.h"

static bool guest_to_host(struct vm *vm, uint64_t gpa, uint64_t *hpa)
{
    enum page_level level;
    uint64_t entry = page_table_lookup(&vm->npt, gpa, &level);
    if (!entry)
        return false;
    uint64_t page_mask = (1ull << (12 + 9 * level)) - 1;
    *hpa = (entry & PTE_ADDR_MASK & ~page_mask) | (gpa & page_mask);
    return true;
}

bool vm_read_guest(struct vm *vm, uint64_t gpa, void *buffer, uint64_t size)
{
    uint8_t *out = buffer;
    while (size) {
        uint64_t hpa;
        if (!guest_to_host(vm, gpa, &hpa))
            return false;
        uint64_t chunk = FRAME_SIZE - (gpa & (FRAME_SIZE - 1));
        if (chunk > size)
            chunk = size;
        memory_copy(out, phys_to_virt(hpa), chunk);
        out += chunk;
        gpa += chunk;
        size -= chunk;
    }
    return true;
}

void vcpu_read_pdptes(struct vcpu *vcpu, uint64_t cr3, uint64_t pdpte[4])
{
    /* 32 bytes at a 32-byte boundary never cross a page. */
    nested_walk_begin(vcpu);
    bool read = vm_read_guest(vcpu->vm, cr3 & 0xffffffe0ull, pdpte, 4 * sizeof(uint64_t));
    nested_walk_end(vcpu);
    if (!read)
        for (int i = 0; i < 4; i++)
            pdpte[i] = 0;
}

static bool read_for_walk(uint64_t gpa, unsigned size, uint64_t *value, void *ctx)
{
    *value = 0;
    return vm_read_guest(ctx, gpa, value, size);
}

static const uint8_t *page_for_walk(uint64_t gpa, void *ctx)
{
    return vm_guest_page(ctx, gpa);
}

const uint8_t *vm_code_walk(struct vm *vm, struct code_walk *kept,
                            const struct guest_paging *paging, uint64_t linear,
                            uint64_t generation)
{
    return code_walk_take(kept, paging, linear, generation, page_for_walk, vm);
}

static void paging_of(const struct hv_sregs *sregs, struct guest_paging *paging)
{
    *paging = (struct guest_paging){ sregs->cr0, sregs->cr3, sregs->cr4, sregs->efer };
}

int vcpu_translate(struct vcpu *vcpu, uint64_t linear, struct guest_translation *out)
{
    struct hv_sregs sregs;
    struct guest_paging paging;
    virt->get_sregs(vcpu, &sregs);
    paging_of(&sregs, &paging);
    nested_walk_begin(vcpu);
    int err = guest_walk(&paging, linear, read_for_walk, vcpu->vm, out);
    nested_walk_end(vcpu);
    return err;
}

/* Up to `size` bytes at `linear`, page by page through the walk (they
 * may cross a page): how many could be read, stopping at the first byte
 * without a translation or memory. */
static unsigned read_linear(struct vm *vm, const struct guest_paging *paging, uint64_t linear,
                            uint8_t *bytes, unsigned size)
{
    unsigned read = 0;
    while (read < size) {
        struct guest_translation t;
        if (guest_walk(paging, linear + read, read_for_walk, vm, &t))
            break;
        uint64_t in_page = FRAME_SIZE - (t.guest_phys & (FRAME_SIZE - 1));
        unsigned want = size - read < in_page ? size - read : (unsigned)in_page;
        if (!vm_read_guest(vm, t.guest_phys, bytes + read, want))
            break;
        read += want;
    }
    return read;
}

bool vcpu_read_linear(struct vcpu *vcpu, uint64_t linear, void *buffer, unsigned size)
{
    struct hv_sregs sregs;
    struct guest_paging paging;
    virt->get_sregs(vcpu, &sregs);
    paging_of(&sregs, &paging);
    nested_walk_begin(vcpu);
    unsigned read = read_linear(vcpu->vm, &paging, linear, buffer, size);
    nested_walk_end(vcpu);
    return read == size;
}

unsigned vm_fetch_linear(struct vm *vm, const struct guest_paging *paging,
                         uint64_t linear, uint8_t bytes[15])
{
    return read_linear(vm, paging, linear, bytes, 15);
}

/* The instruction's place from the backend's fields alone (no whole
 * GET_SREGS), and its bytes the cheapest way vcpu_insn_bytes knows: a
 * child without paging that exits again and again from one place (an
 * MMIO loop) reads them where it read them last. */
unsigned vcpu_fetch_instruction(struct vcpu *vcpu, uint8_t bytes[15],
                                uint64_t *linear)
{
    struct insn_site site;
    virt->insn_site(vcpu, &site);
    *linear = insn_site_mode64(&site) ? site.rip : (site.cs_base + site.rip) & 0xffffffffull;
    return vcpu_fetch_instruction_at(vcpu, &site, bytes);
}

unsigned vcpu_fetch_instruction_at(struct vcpu *vcpu, const struct insn_site *site,
                                   uint8_t bytes[15])
{
    const uint8_t *code;
    unsigned fetched = vcpu_insn_bytes(vcpu, site, bytes, &code);
    if (code == bytes)
        return fetched;
    if (fetched == INSN_MAX_LENGTH) {
        /* Fifteen bytes as two overlapping eight-byte words (0-7, 7-14):
         * never past the fifteenth, which vcpu_insn_bytes vouched for. */
        uint64_t head, tail;
        __builtin_memcpy(&head, code, 8);
        __builtin_memcpy(&tail, code + 7, 8);
        __builtin_memcpy(bytes, &head, 8);
        __builtin_memcpy(bytes + 7, &tail, 8);
    } else {
        for (unsigned i = 0; i < fetched; i++)
            bytes[i] = code[i];
    }
    return fetched;
}

const uint8_t *vm_guest_page(struct vm *vm, uint64_t gpa)
{
    uint64_t hpa;
    if (!guest_to_host(vm, gpa & ~(uint64_t)(FRAME_SIZE - 1), &hpa))
        return NULL;
    return phys_to_virt(hpa);
}
