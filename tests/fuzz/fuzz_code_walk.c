// sources: mmu/code_walk.c mmu/guest_walk.c
/* The kept walk to a paging guest's code page (mmu/code_walk.c) against a
 * fresh walk (mmu/guest_walk.c), on tables the guest may have changed in
 * between. The input gives the paging registers and a linear address, a
 * few 8-byte stores to the guest's memory, new paging registers and
 * another address for the second exit, and the guest's memory itself.
 * Whatever the tables hold: bytes served from a walk kept, at the first
 * exit and at the second, are the bytes at the guest-physical address a
 * fresh walk with that exit's registers finds, and never from an
 * instruction that could run past the page. */
#include "tests/fuzz/fuzz_input.h"

#include "abi/hv_errno.h"
#include "mmu/code_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEM_PAGES 16
#define MEM_SIZE (MEM_PAGES * 4096u)
#define STORES_MAX 8

static uint8_t mem[MEM_SIZE] __attribute__((aligned(4096)));

static const uint8_t *page_of(uint64_t guest_phys_page, void *ctx)
{
    (void)ctx;
    fuzz_check((guest_phys_page & 0xfff) == 0);
    return guest_phys_page < MEM_SIZE ? mem + guest_phys_page : NULL;
}

static bool read_guest(uint64_t guest_phys, unsigned size, uint64_t *value, void *ctx)
{
    (void)ctx;
    if (guest_phys >= MEM_SIZE || size > MEM_SIZE - guest_phys)
        return false;
    *value = 0;
    memcpy(value, mem + guest_phys, size);
    return true;
}

/* Bytes served for `linear` must be where a walk now finds it. */
static void check_served(const uint8_t *bytes, const struct guest_paging *paging, uint64_t linear)
{
    if (!bytes)
        return;
    struct guest_translation out;
    fuzz_check(guest_walk(paging, linear, read_guest, NULL, &out) == 0);
    fuzz_check(out.guest_phys < MEM_SIZE && bytes == mem + out.guest_phys);
    fuzz_check((linear & 0xfff) <= CODE_WALK_LAST_OFFSET);
}

static void take_paging(struct fuzz_input *in, struct guest_paging *p)
{
    p->cr0 = fuzz_take(in, 8);
    p->cr3 = fuzz_take(in, 8);
    p->cr4 = fuzz_take(in, 8);
    p->efer = fuzz_take(in, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct guest_paging first, second;
    struct { uint64_t at, value; } stores[STORES_MAX];
    static struct code_walk kept;

    take_paging(&in, &first);
    uint64_t linear = fuzz_take(&in, 8);
    unsigned count = (unsigned)fuzz_take(&in, 1) % (STORES_MAX + 1);
    for (unsigned i = 0; i < count; i++) {
        stores[i].at = fuzz_take(&in, 2) % MEM_SIZE & ~7ull;
        stores[i].value = fuzz_take(&in, 8);
    }
    /* The second exit: mostly the same registers, or the bits flipped
     * that the input gives; from the same page or another. */
    uint8_t how = (uint8_t)fuzz_take(&in, 1);
    second = first;
    if (how & 1) {
        second.cr0 ^= fuzz_take(&in, 8);
        second.cr3 ^= fuzz_take(&in, 8);
        second.cr4 ^= fuzz_take(&in, 8);
        second.efer ^= fuzz_take(&in, 8);
    }
    uint64_t second_linear = how & 2 ? fuzz_take(&in, 8) : linear + fuzz_take(&in, 2) % 64;
    uint64_t generation = 1, second_generation = how & 4 ? 2 : 1;
    memset(mem, 0, sizeof(mem));
    memcpy(mem, data + in.at, size - in.at < MEM_SIZE ? size - in.at : MEM_SIZE);

    code_walk_forget(&kept);
    fuzz_check(!code_walk_bytes(&kept, &first, linear, generation));
    const uint8_t *bytes = code_walk_take(&kept, &first, linear, generation, page_of, NULL);
    check_served(bytes, &first, linear);
    if (bytes)
        fuzz_check(code_walk_bytes(&kept, &first, linear, generation) == bytes);
    else
        fuzz_check(!code_walk_bytes(&kept, &first, linear, generation));

    for (unsigned i = 0; i < count; i++)
        memcpy(mem + stores[i].at, &stores[i].value, 8);
    bytes = code_walk_bytes(&kept, &second, second_linear, second_generation);
    check_served(bytes, &second, second_linear);
    if (second_generation != generation)
        fuzz_check(!bytes);
    return 0;
}
